import type { KubeConfig } from '@kubernetes/client-node'
import type { ClusterClient } from '../types.js'

/** Retry policy for transient API errors. */
export interface RetryOptions {
  readonly attempts?: number
  readonly baseDelayMs?: number
  readonly maxDelayMs?: number
}

/** A ClusterClient over client-node for the current context of `kubeConfig`. */
export function createClusterClient(
  cluster: string,
  kubeConfig: KubeConfig,
  options: { retry?: RetryOptions; signal?: AbortSignal } = {}
): ClusterClient {
  void cluster
  void kubeConfig
  void options
  throw new Error('createClusterClient: not implemented yet')
}
