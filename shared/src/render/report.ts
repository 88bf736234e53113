/** Human-readable reports of a render: the job summary (markdown) and log lines. Pure. */
import type { RenderRunResult } from './pipeline.js'
import { formatProblem, type RenderProblem } from './problems.js'

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
  for (const c of result.clusters) {
    const images = c.services
      .flatMap((s) =>
        Object.entries(s.images).map(
          ([key, use]) =>
            `${s.name}${key === 'image' ? '' : `/${key}`}: \`${use.ref}\`${use.pinned ? ' (pinned)' : ''}`
        )
      )
      .join('<br>')
    const skipped = c.skipped.map((s) => `${s.name} (${s.reason})`).join('<br>')
    lines.push(
      `| ${cell(c.name)} | ${c.services.length} | ${cell(skipped) || '–'} | ${cell(images) || '–'} |`
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
