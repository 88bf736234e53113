import type { Redactor } from '../../secrets/redact.js'
import type { ClusterCredentials, ClusterMatch, CredentialInputs } from '../types.js'

/**
 * Builds one KubeConfig per cluster from kubeconfig texts (a context per cluster, a text per
 * cluster, or a directory of files). Registers every token, certificate and key with the redactor.
 */
export async function kubeConfigsFromInputs(
  inputs: CredentialInputs,
  redactor: Redactor
): Promise<ClusterCredentials> {
  void inputs
  void redactor
  throw new Error('kubeConfigsFromInputs: not implemented yet')
}

/** Compares the clusters that have manifests with those that have credentials. */
export function matchClusters(
  manifestClusters: Iterable<string>,
  credentialClusters: Iterable<string>
): ClusterMatch {
  const m = new Set(manifestClusters)
  const c = new Set(credentialClusters)
  return {
    deployable: [...m].filter((x) => c.has(x)).sort(),
    missingCredentials: [...m].filter((x) => !c.has(x)).sort(),
    missingManifests: [...c].filter((x) => !m.has(x)).sort()
  }
}
