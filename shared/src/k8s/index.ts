/** The pure Kubernetes cores: identity, manifests, ordering, health rules, diffs. */
export * from './types.js'
export * from './identity.js'
export * from './manifests.js'
export * from './order.js'
export * from './status.js'
export * from './pods.js'
export * from './aggregate.js'
export * from './diff.js'
