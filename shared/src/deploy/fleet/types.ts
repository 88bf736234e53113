/**
 * The fleet runner's data: what it is asked to do across clusters and what it reports.
 * Rendering (summary, outputs, webhook bodies) is a pure function of these.
 */
import type { ChangeEntry, ClusterOutcome, Failure } from '../cluster/types.js'

/** One wave: clusters deployed together (within the concurrency limit) before the next wave starts. */
export interface Wave {
  /** Shown in logs and skip reasons, e.g. `1` or `staging`. */
  readonly name: string
  readonly clusters: readonly string[]
}

/** The result of one cluster in the fleet report (one summary table row). */
export interface FleetRow {
  readonly cluster: string
  readonly outcome: ClusterOutcome
  /** Objects created, configured or deleted (would be, in a dry run). */
  readonly objectsChanged: number
  readonly durationMs: number
  /** One line, redacted: why the cluster failed, rolled back or was skipped. */
  readonly reason?: string
  readonly failures: readonly Failure[]
  readonly changes: readonly ChangeEntry[]
  /** Name of the wave the cluster belonged to, when waves were used. */
  readonly wave?: string
}

/** The overall result: success only when every selected cluster changed or was unchanged. */
export type FleetResultKind = 'success' | 'failure'

export interface FleetReport {
  readonly result: FleetResultKind
  readonly dryRun: boolean
  readonly rows: readonly FleetRow[]
  readonly durationMs: number
}

/** Outcomes that count as a successful cluster. */
export const successfulOutcomes: readonly ClusterOutcome[] = ['changed', 'unchanged']

/** Whether a cluster outcome counts as success (changed or unchanged). */
export function isSuccess(outcome: ClusterOutcome): boolean {
  return successfulOutcomes.includes(outcome)
}

/** Counts the entries that changed (or would change) something on the cluster. */
export function countChanged(changes: readonly ChangeEntry[]): number {
  return changes.filter(
    (c) => c.action === 'created' || c.action === 'configured' || c.action === 'deleted'
  ).length
}
