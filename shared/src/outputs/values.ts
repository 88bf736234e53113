/**
 * Each action's output values from its core's result, keyed by output name
 * (shared/src/outputs/table.ts): what the action writes and what the CLI's `--json` prints.
 * No @actions/core here: the CLI bundles this file.
 */
import { driftedClusters } from '../deploy/fleet/drift.js'
import { renderOutputs } from '../deploy/fleet/report.js'
import type { FleetReport } from '../deploy/fleet/types.js'
import type { ImageDeployResult } from '../image-deploy/types.js'
import { buildMatrix } from '../render/index-file.js'
import type { RenderRunResult } from '../render/pipeline.js'

/** The deployer's outputs of a finished deploy (or diff). */
export function deployerOutputValues(report: FleetReport): Record<string, unknown> {
  const o = renderOutputs(report)
  return {
    result: o.result,
    changed: o.changed.length > 0,
    clusters: o.clusters.map((c) => c.cluster),
    'changed-clusters': o.changed,
    'failed-clusters': o.failed,
    'skipped-clusters': o.skipped,
    'cluster-results': o.clusters,
    drifted: driftedClusters(report).length > 0,
    'drifted-clusters': driftedClusters(report),
    'degraded-clusters': o.degraded
  }
}

/** The image-deployer's outputs of a finished bump. */
export function imageDeployerOutputValues(result: ImageDeployResult): Record<string, unknown> {
  return {
    result: result.outcome,
    // A dry run's outcome is `dry-run` only when there is something to commit.
    changed: result.outcome === 'committed' || result.outcome === 'dry-run',
    'commit-sha': result.commit ?? '',
    'pull-request-url': result.pullRequestUrl ?? '',
    files: result.files
  }
}

/**
 * The deploymentizer's outputs of a finished render; `index` is the index file's path as the
 * caller shows it. `up-to-date` only with check (undefined: not set).
 */
export function deploymentizerOutputValues(
  result: RenderRunResult,
  options: { readonly shardSize: number; readonly index: string }
): Record<string, unknown> {
  const names = result.clusters.map((c) => c.name)
  const check = result.mode === 'check'
  return {
    result: check && result.differences.length > 0 ? 'failure' : 'success',
    clusters: names,
    matrix: buildMatrix(names, options.shardSize),
    index: options.index,
    rendered: result.counts,
    hash: result.hash,
    'up-to-date': check ? result.differences.length === 0 : undefined
  }
}
