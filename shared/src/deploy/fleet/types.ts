/**
 * The fleet runner's data: what it is asked to do across clusters and what it reports.
 * Rendering (summary, outputs, webhook bodies) is a pure function of these.
 */
import type { TemplateSource } from '../../service-templates/record.js'
import type { ChangeEntry, ClusterOutcome, Degradation, Failure } from '../cluster/types.js'

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
  /**
   * Where the templates of changed objects came from, by changeKey, for objects of services
   * that own their templates (the render index says so); absent when there are none.
   */
  readonly templates?: Readonly<Record<string, TemplatesOrigin>>
  /** Set when the watch window after healthy found the cluster degraded (and it was rolled back). */
  readonly degraded?: Degradation
}

/** A service's own templates an object was rendered from, as the render index records them. */
export interface TemplatesOrigin {
  readonly service: string
  /** The branch whose set was rendered. */
  readonly branch: string
  /** The copy in the manifests repository, e.g. `service-templates/api/develop`. */
  readonly dir: string
  /** The service repository's build that recorded the set, and the folder there. */
  readonly source: TemplateSource
  /** The folder at that commit on the GitHub server, when the repository is on it. */
  readonly url?: string
}

/** `Deployment\0shop\0api`: a change's object, as FleetRow.templates keys it. */
export function changeKey(c: Pick<ChangeEntry, 'kind' | 'namespace' | 'name'>): string {
  return `${c.kind}\u0000${c.namespace ?? ''}\u0000${c.name}`
}

/** The overall result: success only when every selected cluster changed or was unchanged. */
export type FleetResultKind = 'success' | 'failure'

export interface FleetReport {
  readonly result: FleetResultKind
  readonly dryRun: boolean
  readonly rows: readonly FleetRow[]
  readonly durationMs: number
  /**
   * A dry run asked to fail on drift (./drift.ts): `result` is failure when a cluster would
   * change, and the summary lists the drifted objects per cluster.
   */
  readonly failOnDrift?: boolean
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
