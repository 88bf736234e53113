/**
 * Re-exports client-node's KubeConfig type, so pure folders can name it in their signatures
 * without importing the client library themselves.
 */
export type { KubeConfig } from '@kubernetes/client-node'
