/**
 * Image deploy, the image-deployer's use case: record a new image in the manifests
 * repository through one of the transports of transports.ts, by commit or pull request.
 * Shared by the image-deployer action and `kit bump`.
 */
export * from './types.js'
export * from './transports.js'
export * from './deploy.js'
export * from './working-copy.js'
