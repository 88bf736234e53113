/**
 * The per-cluster deploy engine and what it needs: manifest loading, credentials, the cluster
 * client. The fleet runner, the deployer action and `kit deploy` import from here.
 */
export * from './types.js'
export * from './deploy.js'
export { systemClock } from './clock.js'
export { watchAfterHealthy, type WatchSettings, type WatchResult } from './watch.js'
export type { ObjectEvidence, GateEvidence } from './watch-state.js'
export { loadManifestsDir, parseManifests, clusterNameProblem } from '../../k8s/manifests.js'
export { describeRef, keyOf, refOf } from '../../k8s/identity.js'
export {
  defaultKubeconfigFiles,
  kubeConfigsFromInputs,
  matchClusters,
  notKubeconfigText,
  createClusterClient,
  fieldManager
} from '../../k8s/client/index.js'
export type { RetryOptions, ClusterClientOptions } from '../../k8s/client/index.js'
