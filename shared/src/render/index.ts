/**
 * The deploymentizer core: a manifests repository (kit.yaml, services, groups, clusters,
 * images) rendered into one folder per cluster. The action and `kit render` are thin shells
 * over runRender; the pieces are exported for tests, the image-deployer (imageFilePath, and
 * serviceTemplateUsers: which clusters render a service's own templates for a branch) and
 * tools.
 */
export * from './git-tracked.js'
export * from './images.js'
export * from './index-file.js'
export * from './layers.js'
export * from './merge.js'
export * from './output.js'
export * from './pipeline.js'
export * from './placeholders.js'
export * from './problems.js'
export * from './render.js'
export * from './report.js'
export * from './repository.js'
export * from './schema.js'
export * from './select.js'
export * from './spill.js'
export * from './template-sets.js'
export * from './write-pool.js'
