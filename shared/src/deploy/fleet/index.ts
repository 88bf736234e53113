/**
 * The fleet layer around the per-cluster engine: waves and concurrency, the deploy lock,
 * the version guard, ApplySet ownership and prune, fast-rollback, reporting and the webhook.
 */
export * from './applyset.js'
export * from './cluster-pipeline.js'
export * from './deploy-fleet.js'
export * from './drift.js'
export * from './fast-rollback.js'
export * from './lock.js'
export * from './report.js'
export * from './runner.js'
export * from './selector.js'
export * from './types.js'
export * from './version-guard.js'
export * from './waves.js'
export * from './webhook.js'
export * from './slack.js'
export * from './settings.js'
export * from './commit.js'
export * from './run-deploy.js'
