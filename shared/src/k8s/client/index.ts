/** The client-node adapter: credentials and the ClusterClient implementation. */
export * from './client.js'
export * from './credentials.js'
export type * from './kubeconfig-type.js'
