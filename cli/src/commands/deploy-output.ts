/**
 * What `kit deploy` and `kit diff` print: live progress per cluster on stderr (silenced once a
 * cluster has its result) and, at the end, the result on stdout: one table (failures first),
 * each failure's detail once, for a diff what would change and for a deploy what was deleted,
 * clusters with identical changes together. Pure apart from the `write` function it is given,
 * so tests drive it.
 */
import type { DeployLog } from '../../../shared/src/deploy/cluster/types.js'
import {
  countChanges,
  describeFailureGroup,
  failureDetail,
  formatDuration,
  groupChanges,
  deletionCounts,
  groupDeletions,
  headline,
  objectName,
  outcomeLabel,
  shortReason,
  sortRows,
  templatesOf,
  templatesText,
  withoutClusterPrefix,
  type FleetReport,
  type FleetRow
} from '../../../shared/src/deploy/fleet/index.js'
import type { ClusterOutcome } from '../../../shared/src/deploy/cluster/types.js'
import type { Paint } from '../term.js'

const outcomeMark: Record<ClusterOutcome, string> = {
  changed: '✔',
  unchanged: '✔',
  failed: '✘',
  'rolled-back': '↩',
  skipped: '–'
}

function paintOutcome(paint: Paint, outcome: ClusterOutcome): (s: string) => string {
  switch (outcome) {
    case 'changed':
      return paint.green
    case 'unchanged':
      return paint.dim
    case 'failed':
      return paint.red
    default:
      return paint.yellow
  }
}

/**
 * Per-cluster progress loggers. Once `done` is called for a cluster, its logger goes quiet
 * (lines still arriving, e.g. from a deploy given up on at its deadline, are shown only with
 * `debug`), so nothing follows a cluster's result line.
 */
export class ClusterProgress {
  private readonly finished = new Set<string>()

  constructor(
    private readonly write: (line: string) => void,
    private readonly paint: Paint,
    private readonly options: { debug?: boolean; clean?: (s: string) => string } = {}
  ) {}

  private clean(s: string): string {
    return this.options.clean ? this.options.clean(s) : s
  }

  private text(cluster: string, m: string): string {
    return withoutClusterPrefix(cluster, this.clean(m))
  }

  /** The logger for one cluster's engine: `[cluster] …` lines until the cluster is done. */
  logFor(cluster: string): DeployLog {
    const emit = (line: () => string): void => {
      if (this.finished.has(cluster) && !this.options.debug) return
      this.write(line())
    }
    return {
      info: (m) => emit(() => this.paint.dim(`[${cluster}] ${this.text(cluster, m)}`)),
      warning: (m) =>
        emit(() => this.paint.yellow(`[${cluster}] warning: ${this.text(cluster, m)}`)),
      debug: (m) => {
        if (this.options.debug) this.write(this.paint.dim(`[${cluster}] ${this.text(cluster, m)}`))
      }
    }
  }

  /** Marks a cluster done and prints its one result line. */
  done(row: FleetRow, dryRun: boolean): void {
    this.finished.add(row.cluster)
    const paint = paintOutcome(this.paint, row.outcome)
    this.write(
      `${paint(outcomeMark[row.outcome])} [${row.cluster}] ${paint(outcomeLabel(row.outcome, dryRun))} ${this.paint.dim(`(${formatDuration(row.durationMs)})`)}`
    )
  }
}

/** Pads plain text to a width (before any colour is added, so columns line up). */
function pad(text: string, width: number): string {
  return text + ' '.repeat(Math.max(0, width - [...text].length))
}

/** Objects named per group of clusters in a deploy's deletions; the rest are counted. */
export const maxDeletionsListed = 50

/** Prune says why it left an object in place (a protected kind, an adopted object) this way. */
const notPrunedPrefix = /^not pruned\b:?\s*/

/** A deploy's deletions by name: the table only counts them. */
function deletionLines(
  rows: readonly FleetRow[],
  dryRun: boolean,
  paint: Paint,
  clean: (s: string) => string
): string[] {
  const deletedLabel = dryRun ? 'would be deleted' : 'deleted'
  const lines: string[] = []
  for (const g of groupDeletions(rows)) {
    lines.push('', paint.bold(clean(`${g.clusters.join(', ')}: ${deletionCounts(g, dryRun)}`)))
    const labelled = g.entries.slice(0, maxDeletionsListed).map((c) =>
      c.action === 'deleted'
        ? { c, label: `- ${deletedLabel}`, paint: paint.red, message: c.message }
        : {
            c,
            label: '! not pruned',
            paint: paint.yellow,
            message: c.message?.replace(notPrunedPrefix, '')
          }
    )
    const width = Math.max(12, ...labelled.map((l) => l.label.length))
    for (const l of labelled) {
      const message = l.message ? paint.dim(` — ${clean(l.message)}`) : ''
      lines.push(`  ${l.paint(pad(l.label, width))} ${clean(objectName(l.c))}${message}`)
    }
    if (g.entries.length > maxDeletionsListed)
      lines.push(paint.dim(`  … and ${g.entries.length - maxDeletionsListed} more`))
  }
  return lines
}

/**
 * The final report: a table (failures first), each failed cluster's detail, in a diff the
 * changes (configured objects with their diff, created and deleted ones by name), in a deploy
 * every deleted object by name (and what prune left in place, and why), and the headline.
 * `clean` scrubs every line (the redactor).
 */
export function reportLines(
  report: FleetReport,
  mode: 'deploy' | 'diff',
  paint: Paint,
  clean: (s: string) => string = (s) => s
): string[] {
  const rows = sortRows(report.rows)
  const dry = report.dryRun
  const lines: string[] = []
  if (rows.length > 0) {
    const cells = rows.map((r) => {
      const counts = r.outcome === 'skipped' ? '' : countChanges(r.changes)
      return {
        row: r,
        cluster: r.cluster,
        result: `${outcomeMark[r.outcome]} ${outcomeLabel(r.outcome, dry)}`,
        changes: counts === '' ? '–' : r.outcome === 'rolled-back' ? `${counts} (undone)` : counts,
        time: r.outcome === 'skipped' ? '–' : formatDuration(r.durationMs),
        reason: clean(shortReason(r) ?? '')
      }
    })
    const width = (key: 'cluster' | 'result' | 'changes' | 'time', title: string): number =>
      Math.max(title.length, ...cells.map((c) => [...c[key]].length))
    const w = {
      cluster: width('cluster', 'CLUSTER'),
      result: width('result', 'RESULT'),
      changes: width('changes', 'CHANGES'),
      time: width('time', 'TIME')
    }
    const withReason = cells.some((c) => c.reason !== '')
    lines.push(
      paint.dim(
        `${pad('CLUSTER', w.cluster)}  ${pad('RESULT', w.result)}  ${pad('CHANGES', w.changes)}  ${'TIME'.padStart(w.time)}${withReason ? '  REASON' : ''}`
      )
    )
    for (const c of cells) {
      const outcomePaint = paintOutcome(paint, c.row.outcome)
      lines.push(
        `${paint.bold(pad(c.cluster, w.cluster))}  ${outcomePaint(pad(c.result, w.result))}  ${pad(c.changes, w.changes)}  ${c.time.padStart(w.time)}${c.reason ? `  ${c.reason}` : ''}`.trimEnd()
      )
    }
  }
  for (const r of rows) {
    const detail = failureDetail(r)
    if (!detail) continue
    lines.push('', paintOutcome(paint, r.outcome)(`${r.cluster} ${outcomeLabel(r.outcome)}:`))
    for (const g of detail.groups) {
      lines.push(`  ${paint.red(clean(describeFailureGroup(g)))}`)
      for (const e of g.events) lines.push(paint.dim(`    ${clean(e)}`))
    }
    if (detail.more > 0) lines.push(paint.dim(`  … and ${detail.more} more`))
    if (detail.note) lines.push(`  ${clean(detail.note)}`)
  }
  if (mode === 'deploy') lines.push(...deletionLines(rows, dry, paint, clean))
  if (mode === 'diff') {
    const shownOn = new Map<string, readonly string[]>()
    for (const g of groupChanges(rows, dry)) {
      lines.push('', paint.bold(`${g.clusters.join(', ')}: ${countChanges(g.changes)}`))
      for (const c of g.changes) {
        const mark = c.action === 'created' ? '+' : c.action === 'deleted' ? '-' : '~'
        const actionPaint =
          c.action === 'created' ? paint.green : c.action === 'deleted' ? paint.red : paint.yellow
        const key = JSON.stringify([c.action, c.kind, c.namespace, c.name, c.diff])
        const earlier = c.action === 'configured' && c.diff ? shownOn.get(key) : undefined
        const note = earlier ? paint.dim(` (same diff as on ${earlier.join(', ')})`) : ''
        const message = c.message ? paint.dim(` — ${clean(c.message)}`) : ''
        const origin = templatesOf(g, c)
        const from = origin ? paint.dim(` · templates from ${clean(templatesText(origin))}`) : ''
        // Nothing is deleted by a dry run: say what would be, as the deploy report does.
        const action = c.action === 'deleted' && dry ? 'would be deleted' : c.action
        lines.push(
          `  ${actionPaint(pad(`${mark} ${action}`, 12))} ${clean(objectName(c))}${from}${message}${note}`
        )
        if (c.action !== 'configured' || !c.diff || earlier) continue
        shownOn.set(key, g.clusters)
        clean(c.diff)
          .split('\n')
          .forEach((l, i) => {
            // The first hunk marker says nothing; later ones mark skipped unchanged lines.
            if (l === '@@') {
              if (i > 0) lines.push(paint.dim('      …'))
              return
            }
            lines.push(
              `      ${l.startsWith('+') ? paint.green(l) : l.startsWith('-') ? paint.red(l) : paint.dim(l)}`
            )
          })
      }
    }
  }
  lines.push(
    '',
    `${report.result === 'success' ? paint.green('✔') : paint.red('✘')} ${clean(headline(report))}`
  )
  return lines
}
