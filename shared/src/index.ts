/**
 * The library the three actions and the CLI share. Pure folders (yaml, secrets, and the
 * cores added per concern) never import @actions/* or a cluster client; `action/` adapts
 * to the runner and is imported only by entry points.
 */
export * from './errors.js'
export * from './secrets/index.js'
export * from './yaml/index.js'
export * from './render/index.js'
export * from './images/index.js'
export * from './yaml-edit/index.js'
export * from './bump/index.js'
export * from './k8s/index.js'
