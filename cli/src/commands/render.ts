import { outputsJson } from '../../../shared/src/outputs/table.js'
import { deploymentizerOutputValues } from '../../../shared/src/outputs/values.js'
import {
  formatProblem,
  isTrackedByGit,
  RenderFailedError,
  runRender,
  skippedServices,
  type RenderRunResult
} from '../../../shared/src/index.js'
import { renderOptions, renderSettings } from '../../../shared/src/options/render.js'
import { cliLabel, cliOptions } from '../../../shared/src/options/table.js'
import { plural } from '../../../shared/src/text/plural.js'
import { type Command, ExitCode } from '../command.js'
import { helpLines, parseFlags } from '../options.js'
import { color, err, errColor, errorLine, out } from '../term.js'

const help = `kit render — render a manifests repository into one folder per cluster

Usage:
  kit render [dir] [options]

Options (each is the deploymentizer action's input of the same name):
${helpLines(cliOptions(renderOptions)).join('\n')}
  -h, --help                  this help

Writes <output>/<cluster>/<service>/<kind>-<namespace>-<name>.yaml and <output>/index.json.
A full render replaces the whole output folder; with --clusters/--groups/--labels only those
clusters' folders are replaced, and with --services only those services' folders. Nothing is
written when any cluster fails to render. env.* placeholders read this process's environment.
See docs/manifests-format.md.

Exit codes: 0 rendered (or up to date), 1 render failed or --check found differences,
2 bad usage or input.`

export const renderCommand: Command = {
  name: 'render',
  summary: 'render manifests for every cluster (generated/<cluster>/...)',
  help,
  async run(args) {
    const settings = renderSettings(parseFlags(renderOptions, args), process.cwd(), cliLabel)
    const { mode } = settings
    let result: RenderRunResult
    try {
      result = await runRender({
        root: settings.root,
        output: settings.output,
        selection: settings.selection,
        mode,
        env: process.env
        // No per-cluster progress: the render takes seconds and the result below lists every
        // cluster once; progress lines would print each cluster twice.
      })
    } catch (e) {
      if (!(e instanceof RenderFailedError)) throw e
      const problems = e.problems.map((p) => formatProblem(p))
      for (const p of problems) err(errorLine('kit render', p))
      const failed = `render failed (${plural(e.total, 'problem')}); nothing was written`
      err(errorLine('kit render', failed))
      if (settings.json)
        out(JSON.stringify({ result: 'failure', error: failed, problems, total: e.total }, null, 2))
      return ExitCode.failed
    }
    if (mode === 'write' && result.secrets.length > 0 && (await isTrackedByGit(result.outputDir))) {
      err(
        errColor.yellow(
          `warning: ${result.outputDir} is tracked by git and the render used env.* values (Secrets); do not commit it`
        )
      )
    }
    if (settings.json) out(JSON.stringify(jsonResult(result, settings.shardSize), null, 2))
    else for (const line of resultLines(result, mode)) out(line)
    if (mode !== 'check') return ExitCode.ok
    if (result.differences.length > 0) {
      for (const d of result.differences) err(`  ${d}`)
      err(
        errorLine(
          'kit render',
          `${result.outputDir} is not up to date (${plural(result.differences.length, 'difference')}); run kit render`
        )
      )
      return ExitCode.failed
    }
    if (!settings.json) out(`${result.outputDir} is up to date`)
    return ExitCode.ok
  }
}

/** `--json`: the deploymentizer's outputs, then what only the CLI prints, for scripts. */
function jsonResult(result: RenderRunResult, shardSize: number) {
  return {
    ...outputsJson(
      'deploymentizer',
      deploymentizerOutputValues(result, { shardSize, index: result.indexPath })
    ),
    disabled: result.disabled,
    differences: result.differences
  }
}

/** One line per cluster, disabled cluster and skipped service, then the totals. */
function resultLines(result: RenderRunResult, mode: string): string[] {
  const lines: string[] = []
  for (const c of result.clusters) {
    const skipped = c.skipped.length
      ? color.dim(`, skipped: ${c.skipped.map((s) => s.name).join(', ')}`)
      : ''
    lines.push(
      `${color.green('●')} ${c.name}  ${plural(c.services, 'service')}, ${plural(c.files, 'file')}${skipped}`
    )
  }
  for (const d of result.disabled) lines.push(`${color.dim('○')} ${d}  disabled`)
  // Why services were skipped, once per service and reason (not once per cluster).
  for (const s of skippedServices(result.clusters))
    lines.push(
      `${s.warning ? color.yellow('skipped') : color.dim('skipped')} ${s.service} on ${s.clusters.join(', ')}: ${s.reason}`
    )
  const { counts } = result
  const what = `${plural(counts.services, 'service')} on ${plural(counts.clusters, 'cluster')}, ${plural(counts.files, 'file')}`
  if (mode === 'dry-run') lines.push(`dry run: rendered ${what}; nothing written`)
  else if (mode === 'write') lines.push(`rendered ${what} into ${result.outputDir}`)
  return lines
}
