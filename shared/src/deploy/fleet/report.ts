/**
 * Renders a fleet report: the step-summary markdown, the action outputs, the log lines.
 * Pure functions of the report, so the action, the CLI and the tests show the same thing.
 *
 * The summary is written for a person scanning a run page: one table (failures first, a short
 * reason per row), then each failed cluster's detail once, then every deleted object by name
 * (and what prune left in place, and why), then what changed, collapsed, with clusters whose
 * changes are identical shown together once. Created objects are one line (with a short
 * collapsed preview), changed objects only their changed hunks, and the whole summary stays
 * far below GitHub's 1 MiB step-summary limit, saying so when it had to stop.
 */
import { templateSourceText } from '../../service-templates/link.js'
import { plural } from '../../text/plural.js'
import type { ChangeEntry, ClusterOutcome, Failure } from '../cluster/types.js'
import { evidenceText } from '../cluster/watch.js'
import { degradedText, isGateEvidence } from '../cluster/watch-state.js'
import { driftedClusters } from './drift.js'
import {
  changeKey,
  isSuccess,
  type FleetReport,
  type FleetRow,
  type TemplatesOrigin
} from './types.js'

/** Display order: what needs attention first. */
const outcomeOrder: Record<ClusterOutcome, number> = {
  failed: 0,
  'rolled-back': 1,
  skipped: 2,
  changed: 3,
  unchanged: 4
}

/** Rows sorted failures first, then by cluster name. */
export function sortRows(rows: readonly FleetRow[]): FleetRow[] {
  return [...rows].sort(
    (a, b) =>
      outcomeOrder[a.outcome] - outcomeOrder[b.outcome] || a.cluster.localeCompare(b.cluster)
  )
}

/** How an outcome reads to a person (`rolled back`); a dry run says what would happen. */
export function outcomeLabel(outcome: ClusterOutcome, dryRun = false): string {
  if (dryRun && outcome === 'changed') return 'would change'
  if (dryRun && outcome === 'unchanged') return 'no changes'
  return outcome === 'rolled-back' ? 'rolled back' : outcome
}

/** The icon of an outcome in the summary and the action's log groups. */
export function outcomeIcon(outcome: ClusterOutcome, dryRun = false): string {
  switch (outcome) {
    case 'failed':
      return '❌'
    case 'rolled-back':
      return '↩️'
    case 'skipped':
      return '⏭️'
    case 'changed':
      return dryRun ? '📝' : '✅'
    case 'unchanged':
      return '✅'
  }
}

/** `1.2s`, `3m04s`: short enough for a table cell. */
export function formatDuration(ms: number): string {
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`
  const s = Math.round(ms / 1000)
  return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`
}

/** Actions that change a cluster, in the order their counts are shown. */
const changingActions = ['created', 'configured', 'deleted'] as const

/** The entries that change (or would change) something, in their original order. */
export function changesShown(changes: readonly ChangeEntry[]): ChangeEntry[] {
  return changes.filter((c) => (changingActions as readonly string[]).includes(c.action))
}

/** `2 created, 1 configured`; '' when nothing changes. */
export function countChanges(changes: readonly ChangeEntry[]): string {
  return changingActions
    .map((a) => [a, changes.filter((c) => c.action === a).length] as const)
    .filter(([, n]) => n > 0)
    .map(([a, n]) => `${n} ${a}`)
    .join(', ')
}

/**
 * One line on how the run went, e.g. `1 of 3 clusters rolled back, 1 skipped`, or
 * `3 clusters deployed (2 changed, 1 unchanged)`. A dry run starts with `dry run: `.
 */
export function headline(report: FleetReport): string {
  return `${report.dryRun ? 'dry run: ' : ''}${headlineBody(report)}`
}

function headlineBody(report: FleetReport): string {
  const total = report.rows.length
  const count = (o: ClusterOutcome): number => report.rows.filter((r) => r.outcome === o).length
  if (total === 0) return 'no clusters selected'
  const clusters = plural(total, 'cluster')
  if (report.result === 'success') {
    if (report.failOnDrift) return `no drift on ${clusters}`
    return report.dryRun
      ? `${count('changed')} of ${clusters} would change`
      : `${clusters} deployed (${count('changed')} changed, ${count('unchanged')} unchanged)`
  }
  const parts: [number, string][] = (['failed', 'rolled-back', 'skipped'] as const).map((o) => [
    count(o),
    outcomeLabel(o)
  ])
  if (report.failOnDrift) parts.push([driftedClusters(report).length, 'drifted'])
  return parts
    .filter(([n]) => n > 0)
    .map(([n, label], i) => `${n}${i === 0 ? ` of ${clusters}` : ''} ${label}`)
    .join(', ')
}

/** Longest reason shown in a table cell; the full text is in the cluster's failure section. */
const maxCellReason = 120

function firstLine(text: string): string {
  return text.split('\n')[0].trim()
}

function ellipsize(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1).trimEnd()}…` : text
}

/** The rollback's own trouble, from the engine's reason (`…; rollback failed: …`). */
function rollbackTrouble(row: FleetRow): string | undefined {
  const m = /; (rollback (?:did not become healthy|failed)\b[\s\S]*)$/.exec(row.reason ?? '')
  return m ? m[1] : undefined
}

/**
 * One short line on why a cluster did not succeed, for a table cell: the first failing object
 * and its reason (`Deployment shop/web: ImagePullBackOff`), or the run's own reason (a lock
 * timeout, a skipped wave). The detail (pod, container, message, events) is elsewhere, once.
 * A failed metric gate is its verdict (`metric gate error-ratio: 0.031, not < 0.01`): its
 * name and a reason code alone would say nothing.
 */
export function shortReason(row: FleetRow): string | undefined {
  const f = row.failures[0]
  let text = row.reason ?? ''
  if (f) {
    const objects = new Set(row.failures.map((x) => `${x.object}\u0000${x.reason}`)).size
    // A degraded window's failures are its evidence, in the same order.
    const gate = row.degraded?.evidence[0]
    const first = gate && isGateEvidence(gate) ? evidenceText(gate) : `${f.object}: ${f.reason}`
    text = `${first}${objects > 1 ? ` (+${objects - 1} more)` : ''}`
    if (row.degraded) text = `${degradedText(row.degraded.afterMs)}: ${text}`
    const trouble = rollbackTrouble(row)
    if (trouble)
      text += `; ${/^rollback failed/.test(trouble) ? 'rollback failed' : 'rollback unhealthy'}`
  }
  const line = ellipsize(firstLine(text), maxCellReason)
  return line === '' ? undefined : line
}

/** Failures that differ only by pod (the pods of one ReplicaSet failing alike), as one entry. */
export interface FailureGroup {
  readonly object: string
  readonly container?: string
  readonly reason: string
  readonly message: string
  readonly pods: readonly string[]
  /** The most recent distinct Warning events of the group, oldest first. */
  readonly events: readonly string[]
}

/** Events shown per failure group. */
const maxEvents = 5

/** Groups failures that say the same thing about the same object and container. */
export function groupFailures(failures: readonly Failure[]): FailureGroup[] {
  const groups = new Map<string, { g: FailureGroup; pods: string[]; events: string[] }>()
  for (const f of failures) {
    const key = JSON.stringify([f.object, f.container ?? '', f.reason, f.message])
    let entry = groups.get(key)
    if (!entry) {
      entry = {
        g: {
          object: f.object,
          container: f.container,
          reason: f.reason,
          message: f.message,
          pods: [],
          events: []
        },
        pods: [],
        events: []
      }
      groups.set(key, entry)
    }
    if (f.pod && !entry.pods.includes(f.pod)) entry.pods.push(f.pod)
    for (const e of f.events) {
      // Pods of one ReplicaSet log the same events; an event that only repeats the failure's
      // own message adds nothing.
      if (f.message && e.includes(f.message)) continue
      const key = eventKey(e)
      if (!entry.events.some((x) => eventKey(x) === key)) entry.events.push(e)
    }
  }
  return [...groups.values()].map(({ g, pods, events }) => ({
    ...g,
    pods,
    events: events.slice(-maxEvents)
  }))
}

/** An event without its pod and repeat count, to tell alike events of sibling pods apart. */
function eventKey(event: string): string {
  return event.replace(/^Pod\/[^:]+: /, '').replace(/ \(x\d+\)$/, '')
}

/** `Deployment shop/web, pods web-1, web-2, container web: ImagePullBackOff — Back-off …` */
export function describeFailureGroup(g: FailureGroup): string {
  return `${where(g, (s) => s)}: ${g.reason}${g.message ? ` — ${g.message}` : ''}`
}

function where(g: FailureGroup, code: (s: string) => string): string {
  const pods =
    g.pods.length === 0
      ? ''
      : `, ${g.pods.length === 1 ? 'pod' : 'pods'} ${g.pods.map(code).join(', ')}`
  return `${g.object}${pods}${g.container ? `, container ${code(g.container)}` : ''}`
}

/** Failure groups shown per cluster; the rest are counted (the log has them all). */
const maxFailureGroups = 10

/** What a failed cluster's section shows beyond its table row; undefined when nothing more. */
export interface FailureDetail {
  readonly groups: readonly FailureGroup[]
  /** Groups not shown (over maxFailureGroups). */
  readonly more: number
  /** The rollback's trouble, or the whole reason when the table cell had to shorten it. */
  readonly note?: string
}

/** The detail of a failed or rolled-back cluster, or undefined when the table row says it all. */
export function failureDetail(row: FleetRow): FailureDetail | undefined {
  if (row.outcome !== 'failed' && row.outcome !== 'rolled-back') return undefined
  const groups = groupFailures(row.failures)
  const reason = row.reason ?? ''
  const note =
    groups.length > 0
      ? rollbackTrouble(row)
      : reason.trim() !== '' && reason.trim() !== shortReason(row)
        ? reason.trim()
        : undefined
  if (groups.length === 0 && note === undefined) return undefined
  return {
    groups: groups.slice(0, maxFailureGroups),
    more: Math.max(0, groups.length - maxFailureGroups),
    ...(note ? { note } : {})
  }
}

/** Clusters whose changes are identical, shown once. */
export interface ChangeGroup {
  readonly clusters: readonly string[]
  /** The changing entries (created, configured, deleted). */
  readonly changes: readonly ChangeEntry[]
  /** Where the templates of changed objects came from (FleetRow.templates), when any. */
  readonly templates?: Readonly<Record<string, TemplatesOrigin>>
}

/**
 * Where a changed object's templates came from when its service owns them:
 * `acme/api@3f2a1c9 · deploy/kit`, or the copy's folder when the record names no repository.
 */
export function templatesText(origin: TemplatesOrigin): string {
  return templateSourceText(origin.source) ?? origin.dir
}

/** The origin of an entry's templates in a row or group, when its service owns them. */
export function templatesOf(
  holder: Pick<ChangeGroup, 'templates'>,
  c: ChangeEntry
): TemplatesOrigin | undefined {
  return holder.templates?.[changeKey(c)]
}

/**
 * What changed (or would change), grouped: clusters with identical entries (same objects,
 * actions and diffs) form one group, in table order. Only changed clusters count, and in a
 * dry run also failed ones (what the server accepted before the failure); a real deploy that
 * failed has its changes undone or left half-done, which its table row and failure say.
 */
export function groupChanges(rows: readonly FleetRow[], dryRun = false): ChangeGroup[] {
  const groups = new Map<string, ChangeGroup & { clusters: string[] }>()
  for (const r of sortRows(rows)) {
    if (r.outcome !== 'changed' && !(dryRun && r.outcome === 'failed')) continue
    const changes = changesShown(r.changes)
    if (changes.length === 0) continue
    // Clusters that rendered an object from different template sets are not alike, even
    // when the diffs happen to be.
    const key = JSON.stringify(
      changes.map((c) => [
        c.action,
        c.kind,
        c.namespace ?? '',
        c.name,
        c.message ?? '',
        c.diff ?? '',
        ...originKey(templatesOf(r, c))
      ])
    )
    const g = groups.get(key)
    if (g) g.clusters.push(r.cluster)
    else
      groups.set(key, {
        clusters: [r.cluster],
        changes,
        ...(r.templates ? { templates: r.templates } : {})
      })
  }
  return [...groups.values()]
}

/** What tells two template origins apart, or nothing for an object without one. */
function originKey(origin: TemplatesOrigin | undefined): string[] {
  if (!origin) return []
  return [origin.dir, origin.url ?? '', JSON.stringify(origin.source)]
}

/** Prune says why it left an object in place (a protected kind, an adopted object) this way. */
const notPrunedPrefix = /^not pruned\b:?\s*/

/** Whether an entry is an object prune left in place (a `skipped` entry saying why). */
function isNotPruned(c: ChangeEntry): boolean {
  return c.action === 'skipped' && notPrunedPrefix.test(c.message ?? '')
}

/** Why prune left an object in place, without the `not pruned: ` its label already says. */
function notPrunedReason(c: ChangeEntry): string {
  return (c.message ?? '').replace(notPrunedPrefix, '')
}

/** Clusters whose deletions (and objects prune left in place) are identical, shown once. */
export interface DeletionGroup {
  readonly clusters: readonly string[]
  /** Deleted entries first, then those prune left in place. */
  readonly entries: readonly ChangeEntry[]
}

/**
 * Every cluster's deletions, grouped like groupChanges but whatever the outcome: a deploy that
 * failed after pruning (or after deleting old fast-rollback versions) has still deleted, and
 * clusters that deleted alike group even when their other changes differ.
 */
export function groupDeletions(rows: readonly FleetRow[]): DeletionGroup[] {
  const groups = new Map<string, { clusters: string[]; entries: ChangeEntry[] }>()
  for (const r of sortRows(rows)) {
    const entries = [
      ...r.changes.filter((c) => c.action === 'deleted'),
      ...r.changes.filter(isNotPruned)
    ]
    if (entries.length === 0) continue
    const key = JSON.stringify(
      entries.map((c) => [c.action, c.kind, c.namespace ?? '', c.name, c.message ?? ''])
    )
    const g = groups.get(key)
    if (g) g.clusters.push(r.cluster)
    else groups.set(key, { clusters: [r.cluster], entries })
  }
  return [...groups.values()]
}

/**
 * A line of a cluster's own log without the engine's `<cluster>: ` prefix, for loggers that
 * already name the cluster (`[prod-eu-1] …`, or a group titled with it).
 */
export function withoutClusterPrefix(cluster: string, line: string): string {
  return line.startsWith(`${cluster}: `) ? line.slice(cluster.length + 2) : line
}

/**
 * Warnings of several clusters, each distinct text once with the clusters that gave it:
 * `Deployment/shop/web: progressDeadlineSeconds is 600s, … (prod-eu-1, staging)`.
 */
export function groupWarnings(byCluster: Iterable<readonly [string, readonly string[]]>): string[] {
  const clusters = new Map<string, string[]>()
  for (const [cluster, texts] of byCluster)
    for (const t of texts) {
      const list = clusters.get(t) ?? []
      if (!list.includes(cluster)) list.push(cluster)
      clusters.set(t, list)
    }
  return [...clusters].map(([t, names]) => `${t} (${[...names].sort().join(', ')})`)
}

/** `Deployment ns/name` or `Namespace name`. */
export function objectName(c: Pick<ChangeEntry, 'kind' | 'namespace' | 'name'>): string {
  return `${c.kind} ${c.namespace ? `${c.namespace}/` : ''}${c.name}`
}

// ---------------------------------------------------------------------------------------------
// Markdown

/** The most a summary may take, in bytes: half GitHub's 1 MiB step-summary limit. */
export const maxSummaryBytes = 512 * 1024

/** Lines of a new object shown in its collapsed preview. */
const previewLines = 25
/** Lines of one changed object's diff shown; the log has the whole diff. */
const diffLines = 40
/** Objects listed per change group. */
const maxObjectsPerGroup = 60
/** Objects named per deletion group; the log names them all. */
const maxDeletionsPerGroup = 200
/** Cluster names in a change group's heading before `and N more`. */
const maxGroupNames = 6

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
}

/** Text for a table cell: one line, no pipes, no HTML. */
function cell(text: string | undefined): string {
  return escapeHtml(text ?? '')
    .replace(/\r?\n/g, ' ')
    .replace(/\|/g, '\\|')
}

/** Inline code that survives any content (backticks inside are fenced with more of them). */
function code(text: string): string {
  const longest = Math.max(0, ...(text.match(/`+/g) ?? []).map((m) => m.length))
  const fence = '`'.repeat(longest + 1)
  return longest > 0 ? `${fence} ${text} ${fence}` : `${fence}${text}${fence}`
}

/** A fenced code block whose fence is longer than any backtick run in the content. */
function fenced(language: string, lines: readonly string[]): string[] {
  const longest = Math.max(
    2,
    ...(lines
      .join('\n')
      .match(/`+/g)
      ?.map((m) => m.length) ?? [0])
  )
  const fence = '`'.repeat(longest + 1)
  return [`${fence}${language}`, ...lines, fence]
}

/** Markdown text that must not turn into HTML or markup by accident (messages, reasons). */
function text(s: string): string {
  return escapeHtml(s).replace(/([*_[\]])/g, '\\$1')
}

function tableMarkdown(report: FleetReport, rows: readonly FleetRow[]): string[] {
  const reasons = rows.map(shortReason)
  const withReason = reasons.some((r) => r !== undefined)
  const waves = new Set(rows.map((r) => r.wave).filter(Boolean))
  const withWave = waves.size > 1
  const header = ['Cluster', ...(withWave ? ['Wave'] : []), 'Result', 'Changes', 'Time']
  if (withReason) header.push('Reason')
  const align = header.map((h) => (h === 'Time' ? '---:' : '---'))
  const lines = [`| ${header.join(' | ')} |`, `| ${align.join(' | ')} |`]
  rows.forEach((r, i) => {
    const cells = [
      cell(r.cluster),
      ...(withWave ? [cell(r.wave ?? '')] : []),
      `${outcomeIcon(r.outcome, report.dryRun)} ${outcomeLabel(r.outcome, report.dryRun)}`,
      changesCell(r),
      r.outcome === 'skipped' ? '–' : formatDuration(r.durationMs)
    ]
    if (withReason) cells.push(cell(reasons[i]))
    lines.push(`| ${cells.join(' | ')} |`)
  })
  return lines
}

/** A rolled-back cluster's changes are struck through: they were undone. */
function changesCell(r: FleetRow): string {
  const counts = r.outcome === 'skipped' ? '' : cell(countChanges(r.changes))
  if (counts === '') return '–'
  return r.outcome === 'rolled-back' ? `~~${counts}~~ (undone)` : counts
}

function failureMarkdown(row: FleetRow, detail: FailureDetail): string[] {
  const lines = [
    `#### ${outcomeIcon(row.outcome)} ${escapeHtml(row.cluster)}: ${outcomeLabel(row.outcome)}`,
    ''
  ]
  for (const g of detail.groups) {
    lines.push(
      `- **${text(g.object)}**${where({ ...g, object: '' }, code)}: **${text(g.reason)}**${g.message ? ` — ${text(g.message)}` : ''}`
    )
    for (const e of g.events) lines.push(`  - ${text(e)}`)
  }
  if (detail.more > 0)
    lines.push(`- … and ${plural(detail.more, 'more failure')} (in the step log)`)
  if (detail.note)
    lines.push(`- ${text(detail.note.charAt(0).toUpperCase() + detail.note.slice(1))}`)
  lines.push('')
  return lines
}

/** Names of clusters, as many as fit a heading: `a, b and 3 more`. */
function clusterNames(clusters: readonly string[], wrap: (name: string) => string): string {
  const names = clusters.slice(0, maxGroupNames).map(wrap)
  if (clusters.length > maxGroupNames) names.push(`and ${clusters.length - maxGroupNames} more`)
  return names.join(', ')
}

/** ` · templates from [acme/api@3f2a1c9 · deploy/kit](…)`, linked when the server has the page. */
function templatesMarkdown(origin: TemplatesOrigin | undefined): string {
  if (!origin) return ''
  const label = templateSourceText(origin.source)
  if (!label) return ` · templates from ${code(origin.dir)}`
  return ` · templates from ${origin.url ? `[${text(label)}](${origin.url})` : text(label)}`
}

/** An object's change, with where its body or diff was first shown (so it is shown once). */
function objectMarkdown(
  c: ChangeEntry,
  shownOn: Map<string, readonly string[]>,
  on: readonly string[],
  origin?: TemplatesOrigin
): string[] {
  const icon = c.action === 'created' ? '➕' : c.action === 'deleted' ? '➖' : '✏️'
  const message = c.message ? ` — _${text(c.message)}_` : ''
  const head = `${icon} ${c.action} ${code(objectName(c))}${templatesMarkdown(origin)}${message}`
  if (!c.diff || c.action === 'deleted') return [head, '']
  const key = JSON.stringify([c.action, c.kind, c.namespace ?? '', c.name, c.diff])
  const earlier = shownOn.get(key)
  if (earlier)
    return [
      `${head} — the same ${c.action === 'created' ? 'object' : 'diff'} as on ${clusterNames(earlier, (n) => n)} above`,
      ''
    ]
  shownOn.set(key, on)
  // The engine's diff opens with a hunk marker; the first one says nothing.
  const diff = c.diff.split('\n')
  if (diff[0] === '@@') diff.shift()
  if (c.action === 'created') {
    const body = diff.filter((l) => l !== '@@').map((l) => (l.startsWith('+ ') ? l.slice(2) : l))
    const shown = body.slice(0, previewLines)
    if (body.length > shown.length)
      shown.push(`# … ${plural(body.length - shown.length, 'more line')}`)
    return [
      head,
      '',
      `<details><summary>the new object (${plural(body.length, 'line')})</summary>`,
      '',
      ...fenced('yaml', shown),
      '',
      '</details>',
      ''
    ]
  }
  const shown = diff.slice(0, diffLines)
  if (diff.length > shown.length)
    shown.push(
      `… ${plural(diff.length - shown.length, 'more line')} (the whole diff is in the log)`
    )
  return [head, '', ...fenced('diff', shown), '']
}

function changeGroupMarkdown(g: ChangeGroup, shownOn: Map<string, readonly string[]>): string[] {
  const lines = [
    `<details><summary>${clusterNames(g.clusters, (c) => `<b>${escapeHtml(c)}</b>`)}: ${escapeHtml(countChanges(g.changes))}</summary>`,
    ''
  ]
  for (const c of g.changes.slice(0, maxObjectsPerGroup))
    lines.push(...objectMarkdown(c, shownOn, g.clusters, templatesOf(g, c)))
  if (g.changes.length > maxObjectsPerGroup)
    lines.push(
      `… and ${plural(g.changes.length - maxObjectsPerGroup, 'more object')} (in the log)`,
      ''
    )
  lines.push('</details>', '')
  return lines
}

/** `2 deleted, 1 not pruned` (or `would be deleted` in a dry run): a deletion group's counts. */
export function deletionCounts(g: DeletionGroup, dryRun: boolean): string {
  const deleted = g.entries.filter((c) => c.action === 'deleted').length
  const kept = g.entries.length - deleted
  return [
    deleted > 0 ? `${deleted} ${dryRun ? 'would be deleted' : 'deleted'}` : '',
    kept > 0 ? `${kept} not pruned` : ''
  ]
    .filter(Boolean)
    .join(', ')
}

/** A group's deleted objects and those prune left in place (with why), each by name. */
function deletionGroupMarkdown(g: DeletionGroup, dryRun: boolean): string[] {
  const deletedLabel = dryRun ? 'would be deleted' : 'deleted'
  const lines = [
    `<details><summary>${clusterNames(g.clusters, (c) => `<b>${escapeHtml(c)}</b>`)}: ${deletionCounts(g, dryRun)}</summary>`,
    ''
  ]
  for (const c of g.entries.slice(0, maxDeletionsPerGroup)) {
    const label = c.action === 'deleted' ? `➖ ${deletedLabel}` : '⚠️ not pruned'
    const why = c.action === 'deleted' ? (c.message ?? '') : notPrunedReason(c)
    lines.push(`${label} ${code(objectName(c))}${why ? ` — _${text(why)}_` : ''}`, '')
  }
  if (g.entries.length > maxDeletionsPerGroup)
    lines.push(`… and ${g.entries.length - maxDeletionsPerGroup} more (in the log)`, '')
  lines.push('</details>', '')
  return lines
}

/** How a drifted object differs, by what a deploy would do to it. */
const driftWords: Partial<Record<ChangeEntry['action'], string>> = {
  created: '➕ missing on the cluster:',
  configured: '✏️ differs from the manifests:',
  deleted: '➖ on the cluster, gone from the manifests (prune would delete it):'
}

/**
 * The drift check's section (a dry run with fail-on-drift): one block per drifted cluster naming
 * every object that differs from the manifests; the diffs follow under what would change. Returns
 * how many drifted clusters did not fit.
 */
function addDrift(md: SizedMarkdown, report: FleetReport, rows: readonly FleetRow[]): number {
  const drifted = new Set(driftedClusters(report))
  const unknown = rows.filter((r) => r.outcome === 'failed').map((r) => r.cluster)
  md.add([
    '#### Drift',
    '',
    drifted.size > 0
      ? `${drifted.size} of ${plural(rows.length, 'cluster')} ${drifted.size === 1 ? 'differs' : 'differ'} from the manifests: a deploy would change the objects below (their diffs follow).`
      : 'No cluster differs from the manifests.',
    ...(unknown.length > 0
      ? [`Not known for ${unknown.map(code).join(', ')}: the dry run did not finish there.`]
      : []),
    ''
  ])
  let left = 0
  for (const r of rows.filter((x) => drifted.has(x.cluster))) {
    const changes = changesShown(r.changes)
    const lines = [`**${escapeHtml(r.cluster)}**: ${plural(changes.length, 'object')}`, '']
    for (const c of changes.slice(0, maxObjectsPerGroup)) {
      const message = c.message ? ` — _${text(c.message)}_` : ''
      lines.push(`- ${driftWords[c.action] ?? c.action} ${code(objectName(c))}${message}`)
    }
    if (changes.length > maxObjectsPerGroup)
      lines.push(
        `- … and ${plural(changes.length - maxObjectsPerGroup, 'more object')} (in the log)`
      )
    if (!md.add([...lines, ''])) left++
  }
  return left
}

/** Adds blocks while they fit in a byte budget; once one does not, every later one is left out. */
class SizedMarkdown {
  private readonly lines: string[] = []
  private bytes = 0
  private full = false

  constructor(private readonly limit: number) {}

  /** Adds the block if it fits; reports whether it did. */
  add(block: readonly string[]): boolean {
    const size = Buffer.byteLength(block.join('\n') + '\n', 'utf8')
    if (this.full || this.bytes + size > this.limit) {
      this.full = true
      return false
    }
    this.lines.push(...block)
    this.bytes += size
    return true
  }

  text(): string {
    return this.lines.join('\n')
  }
}

/** Adds a section's heading and then its groups while they fit; returns the clusters left out. */
function addGroups<G extends { readonly clusters: readonly string[] }>(
  md: SizedMarkdown,
  heading: string,
  groups: readonly G[],
  render: (g: G) => string[]
): number {
  if (groups.length === 0) return 0
  md.add([heading, ''])
  let left = 0
  for (const g of groups) if (!md.add(render(g))) left += g.clusters.length
  return left
}

/** Room kept for the truncation note. */
const noteReserve = 1024

/**
 * The job summary: a headline, one table (failures first), each failed cluster's detail once,
 * every deleted object (and what prune left in place), then what changed (collapsed, identical
 * clusters together). At most `limitBytes`; past that, a note says what was left out and that
 * the step log has it.
 */
export function renderSummary(
  report: FleetReport,
  title = 'kit deploy',
  limitBytes = maxSummaryBytes
): string {
  const rows = sortRows(report.rows)
  const ok = report.result === 'success'
  const md = new SizedMarkdown(limitBytes - noteReserve)
  md.add([
    `### ${ok ? '✅' : '❌'} ${escapeHtml(title)}${report.dryRun ? ' (dry run)' : ''}: ${escapeHtml(headlineBody(report))}`,
    '',
    ...(report.dryRun
      ? ['Nothing was changed on any cluster. Secret values are never shown.', '']
      : [])
  ])
  const table = tableMarkdown(report, rows)
  md.add(table.slice(0, 2))
  let rowsLeft = 0
  for (const line of table.slice(2)) if (!md.add([line])) rowsLeft++
  md.add([''])
  let failuresLeft = 0
  for (const r of rows) {
    const detail = failureDetail(r)
    if (detail && !md.add(failureMarkdown(r, detail))) failuresLeft++
  }
  const driftLeft = report.failOnDrift ? addDrift(md, report, rows) : 0
  const deletionsLeft = addGroups(
    md,
    report.dryRun ? '#### What would be deleted' : '#### What was deleted',
    groupDeletions(rows),
    (g) => deletionGroupMarkdown(g, report.dryRun)
  )
  const shownOn = new Map<string, readonly string[]>()
  const changesLeft = addGroups(
    md,
    report.dryRun ? '#### What would change' : '#### What changed',
    groupChanges(rows, report.dryRun),
    (g) => changeGroupMarkdown(g, shownOn)
  )
  let out = md.text()
  const left = [
    rowsLeft > 0 ? `the table rows of ${plural(rowsLeft, 'cluster')}` : '',
    failuresLeft > 0 ? `the failure detail of ${plural(failuresLeft, 'cluster')}` : '',
    driftLeft > 0 ? `the drifted objects of ${plural(driftLeft, 'cluster')}` : '',
    deletionsLeft > 0 ? `the deleted objects of ${plural(deletionsLeft, 'cluster')}` : '',
    changesLeft > 0 ? `the changes of ${plural(changesLeft, 'cluster')}` : ''
  ].filter(Boolean)
  if (left.length > 0) {
    out +=
      `\n> ⚠️ **Summary truncated** to stay well under GitHub's 1 MiB step-summary limit. ` +
      `Not shown here: ${left.join(', ')}. ` +
      `Every cluster's full result is in the step log, in its own group.\n`
  }
  return out.endsWith('\n') ? out : `${out}\n`
}

// ---------------------------------------------------------------------------------------------
// Outputs and log

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
  degraded: string[]
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
    skipped: rows.filter((r) => r.outcome === 'skipped').map((r) => r.cluster),
    degraded: rows.filter((r) => r.degraded).map((r) => r.cluster)
  }
}

/** One line per cluster result: `prod-eu-1: rolled back (42.1s) — Deployment shop/web: …` */
export function clusterResultLine(row: FleetRow, dryRun = false): string {
  const counts = countChanges(row.changes)
  const reason = shortReason(row)
  return `${row.cluster}: ${outcomeLabel(row.outcome, dryRun)}${counts ? `, ${counts}` : ''} (${formatDuration(row.durationMs)})${reason ? ` — ${reason}` : ''}`
}

/**
 * Log lines for one finished cluster (inside its log group, under its result line): every
 * changed object, every configured object's whole diff (the summary shows only the start),
 * every object prune left in place and why, and, unless `failures` is false, each failure's
 * detail with its recent events.
 */
export function renderClusterLog(row: FleetRow, options: { failures?: boolean } = {}): string[] {
  const lines: string[] = []
  for (const c of changesShown(row.changes)) {
    lines.push(`  ${c.action.padEnd(10)} ${objectName(c)}${c.message ? ` — ${c.message}` : ''}`)
    if (c.action === 'configured' && c.diff)
      for (const l of c.diff.split('\n')) lines.push(`      ${l}`)
  }
  for (const c of row.changes.filter(isNotPruned)) {
    const why = notPrunedReason(c)
    lines.push(`  not pruned ${objectName(c)}${why ? ` — ${why}` : ''}`)
  }
  if (options.failures !== false) {
    const detail = failureDetail(row)
    for (const g of groupFailures(row.failures)) {
      lines.push(`  failed     ${describeFailureGroup(g)}`)
      for (const e of g.events) lines.push(`      event: ${e}`)
    }
    if (detail?.note) lines.push(`  ${detail.note}`)
  }
  return lines
}

/** Whether the process should exit non-zero. */
export function shouldFail(report: FleetReport): boolean {
  // A drift check's failure (./drift.ts) is in `result` alone: every cluster's dry run succeeded.
  return (
    report.result === 'failure' ||
    !report.rows.every((r) => isSuccess(r.outcome)) ||
    report.rows.length === 0
  )
}
