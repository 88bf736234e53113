/**
 * Drift: a cluster that differs from the manifests, found by a dry run. What differs is exactly
 * what a deploy of the same manifests would change there: an object it would create (missing on
 * the cluster), configure (changed by hand, or by anything but kit) or, with prune, delete (on
 * the cluster, gone from the manifests). A dry run writes nothing (no deploy lock, no inventory,
 * no deployed-commit record, server-side dry runs only), so it can ask every cluster on a
 * schedule; with fail-on-drift a drifted cluster fails the run.
 */
import type { FleetReport } from './types.js'

/**
 * The clusters a dry run found drifted, by name: those whose dry run finished and would change
 * something. A cluster the dry run could not finish is failed, not drifted (its drift is not
 * known). Empty outside a dry run: a deploy changes what differs instead.
 */
export function driftedClusters(report: Pick<FleetReport, 'dryRun' | 'rows'>): string[] {
  if (!report.dryRun) return []
  return report.rows
    .filter((r) => r.outcome === 'changed')
    .map((r) => r.cluster)
    .sort((a, b) => a.localeCompare(b))
}

/**
 * The report of a dry run asked to fail on drift: marked so (the summary then lists the drifted
 * objects per cluster), and failed when any cluster drifted. Any other report is returned as is.
 */
export function withDriftVerdict(report: FleetReport, failOnDrift: boolean): FleetReport {
  if (!failOnDrift || !report.dryRun) return report
  const drifted = driftedClusters(report).length > 0
  return { ...report, failOnDrift: true, result: drifted ? 'failure' : report.result }
}
