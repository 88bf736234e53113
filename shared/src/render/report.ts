/** Human-readable reports of a render: the job summary (markdown) and log lines. Pure. */
import type { RenderRunResult } from './pipeline.js'
import { formatProblem, type RenderProblem } from './problems.js'

/** Characters of summary kept under GitHub's 1 MiB step-summary limit, with room to spare. */
export const maxSummaryChars = 900_000

/** Escapes text for a markdown table cell. */
function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ')
}

/**
 * The step summary: a header with counts, then one table row per cluster: services rendered,
 * skipped (with reasons), and the image each service got.
 */
export function renderSummaryMarkdown(result: RenderRunResult): string {
  const { counts } = result
  const verb =
    result.mode === 'write'
      ? 'Rendered'
      : result.mode === 'check'
        ? 'Checked'
        : 'Rendered (dry run)'
  const lines = [
    `### kit deploymentizer`,
    '',
    `${verb} ${counts.services} services on ${counts.clusters} clusters into ${counts.files} files` +
      (counts.skipped ? `; ${counts.skipped} skipped` : '') +
      (result.disabled.length ? `; disabled clusters: ${result.disabled.join(', ')}` : '') +
      '.',
    ''
  ]
  if (result.mode === 'check') {
    lines.push(
      result.differences.length === 0
        ? 'The output folder is up to date.'
        : `The output folder is **not** up to date (${result.differences.length} differences).`,
      ''
    )
  }
  lines.push('| Cluster | Services | Skipped | Images |', '| --- | --- | --- | --- |')
  // GitHub refuses a step summary over 1 MiB: past a budget, the rest are counted, not listed.
  let size = lines.join('\n').length
  let shown = 0
  for (const c of result.clusters) {
    const skipped = c.skipped.map((s) => `${s.name} (${s.reason})`).join('<br>')
    const row = `| ${cell(c.name)} | ${c.services} | ${cell(skipped) || '–'} | ${cell(c.images.join('<br>')) || '–'} |`
    if (size + row.length > maxSummaryChars) break
    lines.push(row)
    size += row.length + 1
    shown++
  }
  if (shown < result.clusters.length) {
    lines.push(
      '',
      `${result.clusters.length - shown} more clusters are not listed here (summary size limit); see the index.`
    )
  }
  return lines.join('\n') + '\n'
}

/** The markdown for a failed render: every problem as a list item. */
export function renderFailureMarkdown(problems: readonly RenderProblem[]): string {
  return [
    '### kit deploymentizer: render failed, nothing was written',
    '',
    ...problems.map((p) => `- ${cell(formatProblem(p))}`),
    ''
  ].join('\n')
}
