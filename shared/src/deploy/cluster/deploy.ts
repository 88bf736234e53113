import type { ClusterClient } from '../../k8s/types.js'
import type { ClusterResult, ClusterTarget, DeployClusterOptions, Manifest } from './types.js'

/** Deploys `manifests` to one cluster: apply in safe order, wait for health, roll back on failure. */
export async function deployCluster(
  target: ClusterTarget,
  manifests: Manifest[],
  options: DeployClusterOptions
): Promise<ClusterResult> {
  void target
  void manifests
  void options
  throw new Error('deployCluster: not implemented yet')
}

/** The same engine over any ClusterClient (an in-memory fake in unit tests). */
export async function deployWithClient(
  client: ClusterClient,
  manifests: Manifest[],
  options: DeployClusterOptions
): Promise<ClusterResult> {
  void client
  void manifests
  void options
  throw new Error('deployWithClient: not implemented yet')
}
