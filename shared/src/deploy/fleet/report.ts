/**
 * Renders a fleet report: the step-summary markdown, the action outputs, the log lines.
 * Pure functions of the report, so the action, the CLI and the tests show the same thing.
 */
import type { ChangeEntry, ClusterOutcome, Failure } from '../cluster/types.js'
import { isSuccess, type FleetReport, type FleetRow } from './types.js'

/** Display order: what needs attention first. */
const outcomeOrder: Record<ClusterOutcome, number> = {
  failed: 0,
  'rolled-back': 1,
  skipped: 2,
  changed: 3,
  unchanged: 4
}

const outcomeIcon: Record<ClusterOutcome, string> = {
  failed: '❌',
  'rolled-back': '↩️',
  skipped: '⏭️',
  changed: '✅',
  unchanged: '✅'
}

/** Rows sorted failures first, then by cluster name. */
export function sortRows(rows: readonly FleetRow[]): FleetRow[] {
  return [...rows].sort(
    (a, b) =>
      outcomeOrder[a.outcome] - outcomeOrder[b.outcome] || a.cluster.localeCompare(b.cluster)
  )
}

/** `1.2s`, `3m04s`: short enough for a table cell. */
export function formatDuration(ms: number): string {
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`
  const s = Math.round(ms / 1000)
  return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`
}

/** One line saying how the run went, e.g. `1 of 3 clusters failed`. */
export function headline(report: FleetReport): string {
  const total = report.rows.length
  const count = (o: ClusterOutcome): number => report.rows.filter((r) => r.outcome === o).length
  const prefix = report.dryRun ? 'dry run: ' : ''
  if (total === 0) return `${prefix}no clusters selected`
  if (report.result === 'success') {
    const changed = count('changed')
    return report.dryRun
      ? `${prefix}${changed} of ${total} clusters would change`
      : `${total} cluster${total === 1 ? '' : 's'} deployed (${changed} changed, ${count('unchanged')} unchanged)`
  }
  const parts = (['failed', 'rolled-back', 'skipped'] as const)
    .filter((o) => count(o) > 0)
    .map((o) => `${count(o)} ${o}`)
  return `${prefix}${parts.join(', ')} of ${total} clusters`
}

function cell(text: string | undefined): string {
  return (text ?? '').replace(/\r?\n/g, ' ').replace(/\|/g, '\\|')
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
}

function describeFailure(f: Failure): string {
  const where = [f.object, f.pod && `pod ${f.pod}`, f.container && `container ${f.container}`]
    .filter(Boolean)
    .join(', ')
  return `${where}: ${f.reason}${f.message ? ` — ${f.message}` : ''}`
}

/** Budget for diffs in a summary: GitHub caps a step summary at 1 MiB. */
const diffBudgetChars = 200_000

/**
 * The job summary: a short table (failures first), then a collapsible section per cluster
 * that failed (object, pod, container, reason, message, events) and, in a dry run, the diffs.
 */
export function renderSummary(report: FleetReport, title = 'kit deploy'): string {
  const rows = sortRows(report.rows)
  const lines: string[] = [
    `### ${report.result === 'success' ? '✅' : '❌'} ${title}: ${headline(report)}`,
    '',
    '| Cluster | Result | Objects changed | Duration | Reason |',
    '| --- | --- | ---: | ---: | --- |'
  ]
  for (const r of rows) {
    lines.push(
      `| ${cell(r.cluster)} | ${outcomeIcon[r.outcome]} ${r.outcome} | ${r.objectsChanged} | ${formatDuration(r.durationMs)} | ${cell(r.reason)} |`
    )
  }
  lines.push('')
  for (const r of rows.filter((x) => x.failures.length > 0 || x.outcome === 'failed')) {
    lines.push(
      `<details><summary>${escapeHtml(r.cluster)}: ${r.outcome}${r.reason ? ` — ${escapeHtml(r.reason)}` : ''}</summary>`,
      ''
    )
    if (r.failures.length === 0) lines.push(`- ${escapeHtml(r.reason ?? 'no details')}`)
    for (const f of r.failures) {
      lines.push(`- ${escapeHtml(describeFailure(f))}`)
      for (const e of f.events.slice(-5)) lines.push(`  - event: ${escapeHtml(e)}`)
    }
    lines.push('', '</details>', '')
  }
  let budget = diffBudgetChars
  const showChanges = (r: FleetRow): boolean => report.dryRun || r.outcome === 'changed'
  for (const r of rows.filter((x) => showChanges(x) && x.objectsChanged > 0)) {
    lines.push(
      `<details><summary>${escapeHtml(r.cluster)}: ${r.objectsChanged} changes</summary>`,
      ''
    )
    for (const c of r.changes.filter((x) => x.action !== 'unchanged')) {
      lines.push(
        `- ${c.action} ${escapeHtml(objectName(c))}${c.message ? ` — ${escapeHtml(c.message)}` : ''}`
      )
      if (report.dryRun && c.diff) {
        if (budget <= 0) continue
        const diff = c.diff.length > budget ? `${c.diff.slice(0, budget)}\n… (truncated)` : c.diff
        budget -= diff.length
        lines.push('', '```diff', diff.replace(/```/g, '`‵`'), '```', '')
      }
    }
    lines.push('', '</details>', '')
  }
  return lines.join('\n')
}

/** `Deployment ns/name` or `Namespace name`. */
export function objectName(c: Pick<ChangeEntry, 'kind' | 'namespace' | 'name'>): string {
  return `${c.kind} ${c.namespace ? `${c.namespace}/` : ''}${c.name}`
}

/** The per-cluster JSON of the `clusters` output: no diffs (outputs are not for bulk data). */
export interface ClusterOutput {
  cluster: string
  result: ClusterOutcome
  objectsChanged: number
  durationMs: number
  reason?: string
  wave?: string
  counts: Record<string, number>
  failures: Failure[]
}

/** Action outputs: overall result, per-cluster JSON, and the changed / failed / skipped lists. */
export function renderOutputs(report: FleetReport): {
  result: string
  clusters: ClusterOutput[]
  changed: string[]
  failed: string[]
  skipped: string[]
} {
  const rows = [...report.rows].sort((a, b) => a.cluster.localeCompare(b.cluster))
  return {
    result: report.result,
    clusters: rows.map((r) => {
      const counts: Record<string, number> = {}
      for (const c of r.changes) counts[c.action] = (counts[c.action] ?? 0) + 1
      return {
        cluster: r.cluster,
        result: r.outcome,
        objectsChanged: r.objectsChanged,
        durationMs: Math.round(r.durationMs),
        ...(r.reason ? { reason: r.reason } : {}),
        ...(r.wave ? { wave: r.wave } : {}),
        counts,
        failures: [...r.failures]
      }
    }),
    changed: rows.filter((r) => r.outcome === 'changed').map((r) => r.cluster),
    failed: rows
      .filter((r) => r.outcome === 'failed' || r.outcome === 'rolled-back')
      .map((r) => r.cluster),
    skipped: rows.filter((r) => r.outcome === 'skipped').map((r) => r.cluster)
  }
}

/** Log lines for one finished cluster (inside its log group). */
export function renderClusterLog(row: FleetRow): string[] {
  const lines = [
    `${row.cluster}: ${row.outcome} (${row.objectsChanged} changed, ${formatDuration(row.durationMs)})${row.reason ? ` — ${row.reason}` : ''}`
  ]
  for (const c of row.changes.filter((x) => x.action !== 'unchanged'))
    lines.push(`  ${c.action.padEnd(10)} ${objectName(c)}${c.message ? ` — ${c.message}` : ''}`)
  for (const f of row.failures) {
    lines.push(`  FAILED ${describeFailure(f)}`)
    for (const e of f.events.slice(-5)) lines.push(`    event: ${e}`)
  }
  return lines
}

/** Whether the process should exit non-zero. */
export function shouldFail(report: FleetReport): boolean {
  return !report.rows.every((r) => isSuccess(r.outcome)) || report.rows.length === 0
}
