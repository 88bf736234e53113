/**
 * Human-readable reports of a render: the job summary (markdown). Pure.
 *
 * A fleet mostly runs the same images everywhere, so images are not listed per cluster: one
 * table lists each service's image once with the clusters that get it, and the same for
 * skipped services; the cluster table only counts.
 */
import { plural } from '../text/plural.js'
import type { ClusterSummary, ImageChoice, RenderRunResult, TemplateChoice } from './pipeline.js'
import { formatProblem, type RenderProblem } from './problems.js'

/** Characters of summary kept under GitHub's 1 MiB step-summary limit, with room to spare. */
export const maxSummaryChars = 900_000

/** Cluster names listed in one cell before `and N more`. */
const maxNamesInCell = 8

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
}

/** Escapes text for a markdown table cell. */
function cell(text: string): string {
  return escapeHtml(text).replace(/\|/g, '\\|').replace(/\r?\n/g, ' ')
}

/** Settings listed in one "chosen by" cell before `and N more`. */
const maxChoicesInCell = 3

/** An image reference for reading: a digest shortened to its first 12 hex digits. */
function displayRef(ref: string): string {
  return ref.replace(/@sha256:([0-9a-f]{12})[0-9a-f]{52}$/, '@sha256:$1…')
}

/**
 * `all 3 clusters` when every rendered cluster is in the list, else the names (`a, b and 4
 * more`).
 */
function clustersCell(names: readonly string[], total: number): string {
  if (names.length === total && total > 1) return `all ${total} clusters`
  const shown = names.slice(0, maxNamesInCell).map(cell)
  return names.length > maxNamesInCell
    ? `${shown.join(', ')} and ${names.length - maxNamesInCell} more`
    : shown.join(', ')
}

/** Rows of `what → clusters`, each distinct `what` once, in first-seen order. */
function groupBy<T>(
  clusters: readonly ClusterSummary[],
  items: (c: ClusterSummary) => readonly T[],
  key: (item: T) => string
): { item: T; clusters: string[] }[] {
  const groups = new Map<string, { item: T; clusters: string[] }>()
  for (const c of clusters) {
    for (const item of items(c)) {
      const k = key(item)
      const g = groups.get(k)
      if (g) {
        if (!g.clusters.includes(c.name)) g.clusters.push(c.name)
      } else groups.set(k, { item, clusters: [c.name] })
    }
  }
  return [...groups.values()]
}

/** The summary's headline and what the mode adds to it. */
function headLines(result: RenderRunResult): string[] {
  const { counts } = result
  const stale = result.mode === 'check' && result.differences.length > 0
  const verb =
    result.mode === 'write'
      ? 'rendered'
      : result.mode === 'check'
        ? 'checked'
        : 'rendered (dry run)'
  const lines = [
    `### ${stale ? '❌' : '✅'} kit deploymentizer: ${plural(counts.services, 'service')} ${verb} on ${plural(counts.clusters, 'cluster')} (${plural(counts.files, 'file')})`,
    ''
  ]
  if (result.mode === 'dry-run') lines.push('Nothing was written.', '')
  if (result.mode === 'check') {
    lines.push(
      stale
        ? `The output folder is **not** up to date (${plural(result.differences.length, 'difference')}); render and commit it.`
        : 'The output folder is up to date.',
      ''
    )
  }
  if (result.disabled.length > 0)
    lines.push(`Disabled (no output): ${result.disabled.map(cell).join(', ')}.`, '')
  return lines
}

/**
 * The step summary: a headline with counts; one row per cluster (services, files); one row
 * per distinct image (service, image, the clusters that get it); when a service renders its
 * own templates somewhere, one row per distinct templates source likewise; skipped services
 * likewise. Past a size budget the rest of a table is counted, not listed.
 */
export function renderSummaryMarkdown(result: RenderRunResult): string {
  const lines = headLines(result)

  // GitHub refuses a step summary over 1 MiB: past a budget, the rest are counted, not listed.
  let size = lines.join('\n').length
  const fits = (row: string): boolean => {
    if (size + row.length + 1 > maxSummaryChars) return false
    size += row.length + 1
    return true
  }
  /** A table; header names ending in `:` are right-aligned (counts). */
  const table = (header: string[], rows: string[], noun: string): void => {
    const head = [
      `| ${header.map((h) => h.replace(/:$/, '')).join(' | ')} |`,
      `| ${header.map((h) => (h.endsWith(':') ? '---:' : '---')).join(' | ')} |`
    ]
    size += head.join('\n').length + 1
    lines.push(...head)
    let shown = 0
    for (const row of rows) {
      if (!fits(row)) break
      lines.push(row)
      shown++
    }
    if (shown < rows.length)
      lines.push(
        '',
        `${plural(rows.length - shown, `more ${noun}`)} not listed here (summary size limit); see the index.`
      )
    lines.push('')
  }

  const total = result.clusters.length
  table(
    ['Cluster', 'Services:', 'Files:'],
    result.clusters.map((c) => {
      const skipped = c.skipped.length > 0 ? ` (${c.skipped.length} skipped)` : ''
      return `| ${cell(c.name)} | ${c.services}${skipped} | ${c.files} |`
    }),
    'cluster'
  )

  const images = choiceRows(
    result.clusters,
    (c) => c.images,
    (i) => [i.service, i.ref, i.pinned]
  )
  if (images.length > 0) {
    lines.push('#### Images', '')
    table(
      ['Service', 'Image', 'Clusters', 'Chosen by'],
      images.map(
        ({ item, clusters, chosenBy }) =>
          `| ${cell(item.service)} | ${item.ref ? `\`${displayRef(item.ref)}\`` : '–'}${item.pinned ? ' (pinned)' : ''} | ${clustersCell(clusters, total)} | ${choicesCell(chosenBy)} |`
      ),
      'image'
    )
  }

  // Only a fleet where some service renders its own templates gets the table: elsewhere every
  // service's templates are its services/<service>/ folder.
  if (result.clusters.some((c) => c.templates.some((t) => t.origin === 'service'))) {
    const templates = choiceRows(
      result.clusters,
      (c) => c.templates,
      (t) => [t.service, t.label, t.url]
    )
    lines.push('#### Templates', '')
    table(
      ['Service', 'Templates', 'Clusters', 'Chosen by'],
      templates.map(
        ({ item, clusters, chosenBy }) =>
          `| ${cell(item.service)} | ${templatesCell(item)} | ${clustersCell(clusters, total)} | ${choicesCell(chosenBy)} |`
      ),
      'templates source'
    )
  }

  const skipped = skippedServices(result.clusters)
  if (skipped.length > 0) {
    lines.push('#### Skipped services', '')
    table(
      ['Service', 'Why', 'Clusters'],
      skipped.map(
        (s) =>
          `| ${cell(s.service)} | ${s.warning ? '⚠️ ' : ''}${cell(s.reason)} | ${clustersCell(s.clusters, total)} |`
      ),
      'skipped service'
    )
  }
  return lines.join('\n')
}

/** `[acme/api@3f2a1c9 · deploy/kit (develop)](<link>)`, or the folder in the repository. */
function templatesCell(choice: TemplateChoice): string {
  const text = cell(choice.label)
  return choice.url ? `[${text.replace(/[[\]]/g, '\\$&')}](${choice.url})` : text
}

/**
 * One row per service and image (or templates), with every cluster that got it and every
 * distinct setting that chose it there (so a cluster whose `branch:` overrides its group's
 * shows as a second setting on the same image, or as a row of its own when the image differs).
 */
function choiceRows<T extends ImageChoice | TemplateChoice>(
  clusters: readonly ClusterSummary[],
  items: (c: ClusterSummary) => readonly T[],
  identity: (item: T) => unknown[]
): { item: T; clusters: string[]; chosenBy: string[] }[] {
  const rows = new Map<string, { item: T; clusters: string[]; chosenBy: string[] }>()
  for (const c of clusters) {
    for (const choice of items(c)) {
      const key = JSON.stringify(identity(choice))
      let row = rows.get(key)
      if (!row) rows.set(key, (row = { item: choice, clusters: [], chosenBy: [] }))
      if (!row.clusters.includes(c.name)) row.clusters.push(c.name)
      if (!row.chosenBy.includes(choice.chosenBy)) row.chosenBy.push(choice.chosenBy)
    }
  }
  return [...rows.values()].sort(
    (a, b) =>
      (a.item.service < b.item.service ? -1 : a.item.service > b.item.service ? 1 : 0) ||
      b.clusters.length - a.clusters.length
  )
}

function choicesCell(choices: readonly string[]): string {
  const shown = choices.slice(0, maxChoicesInCell).map(cell).join('; ')
  return choices.length > maxChoicesInCell
    ? `${shown} and ${choices.length - maxChoicesInCell} more`
    : shown
}

/** A skipped service with every cluster it was skipped on for the same reason. */
export interface SkippedGroup {
  readonly service: string
  readonly reason: string
  /** True when the skip is a warning (an image missing), false for a plain disable. */
  readonly warning: boolean
  readonly clusters: readonly string[]
}

/** Skipped services, one entry per service and reason, in first-seen order. */
export function skippedServices(clusters: readonly ClusterSummary[]): SkippedGroup[] {
  return groupBy(
    clusters,
    (c) => c.skipped,
    (s) => JSON.stringify([s.name, s.reason])
  ).map(({ item, clusters: names }) => ({
    service: item.name,
    reason: item.reason,
    warning: item.warning,
    clusters: names
  }))
}

/** Warning lines for skipped services (the action's annotations), one per service and reason. */
export function skipWarnings(clusters: readonly ClusterSummary[]): string[] {
  return skippedServices(clusters)
    .filter((s) => s.warning)
    .map(
      (s) =>
        `service ${s.service} skipped on ${s.clusters.length === 1 ? 'cluster' : 'clusters'} ${s.clusters.join(', ')}: ${s.reason}`
    )
}

/** The markdown for a failed render: every problem as a list item, under `heading`. */
export function renderFailureMarkdown(
  problems: readonly RenderProblem[],
  heading = 'kit deploymentizer: render failed, nothing was written'
): string {
  return [`### ❌ ${heading}`, '', ...problems.map((p) => `- ${cell(formatProblem(p))}`), ''].join(
    '\n'
  )
}
