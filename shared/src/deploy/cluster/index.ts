/**
 * The per-cluster deploy engine and what it needs: manifest loading, credentials, the cluster
 * client. The fleet runner, the deployer action and `kit deploy` import from here.
 */
export * from './types.js'
export * from './deploy.js'
export { loadManifestsDir } from '../../k8s/manifests.js'
export {
  kubeConfigsFromInputs,
  matchClusters,
  createClusterClient
} from '../../k8s/client/index.js'
export type { RetryOptions } from '../../k8s/client/index.js'
