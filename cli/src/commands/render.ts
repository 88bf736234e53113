import { resolve } from 'node:path'
import { parseArgs } from 'node:util'
import {
  buildMatrix,
  formatProblem,
  isTrackedByGit,
  RenderFailedError,
  runRender,
  skippedServices,
  type RenderMode
} from '../../../shared/src/index.js'
import { type Command, ExitCode, UsageError } from '../command.js'
import { plural } from '../../../shared/src/text/plural.js'
import { color, err, errColor, out } from '../term.js'

const help = `kit render — render a manifests repository into one folder per cluster

Usage:
  kit render [dir] [options]

  dir                   the manifests repository (default: .)

Options:
  --out <dir>           output folder, relative to the current directory
                        (default: kit.yaml paths.output inside dir, else dir/generated)
  --cluster <a,b>       only these clusters (repeatable)
  --group <g>           only clusters in any of these groups (repeatable, comma-separated)
  --label <k=v>         only clusters whose labels match (repeatable; k=v, k!=v, k, !k)
  --service <s>         only these services (repeatable, comma-separated)
  --dry-run             render and validate everything, write nothing
  --check               render and compare with the output folder; exit 1 when it differs
  --shard-size <n>      with --json: group clusters into matrix shards of n
  --json                print the result (clusters, matrix, index, counts) as JSON
  -h, --help            this help

Writes <out>/<cluster>/<service>/<kind>-<namespace>-<name>.yaml and <out>/index.json.
A full render replaces the whole output folder; with --cluster/--group/--label only those
clusters' folders are replaced, and with --service only those services' folders. Nothing is
written when any cluster fails to render. env.* placeholders read this process's environment.
See docs/manifests-format.md.

Exit codes: 0 rendered (or up to date), 1 render failed or --check found differences,
2 bad usage or input.`

const list = (values: string[] | undefined): string[] =>
  (values ?? [])
    .flatMap((v) => v.split(','))
    .map((s) => s.trim())
    .filter(Boolean)

export const renderCommand: Command = {
  name: 'render',
  summary: 'render manifests for every cluster (generated/<cluster>/...)',
  help,
  async run(args) {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: {
        out: { type: 'string' },
        cluster: { type: 'string', multiple: true },
        group: { type: 'string', multiple: true },
        label: { type: 'string', multiple: true },
        service: { type: 'string', multiple: true },
        'dry-run': { type: 'boolean' },
        check: { type: 'boolean' },
        'shard-size': { type: 'string' },
        json: { type: 'boolean' }
      }
    })
    if (positionals.length > 1)
      throw new UsageError(`expected at most one directory, got ${positionals.join(' ')}`)
    if (values['dry-run'] && values.check)
      throw new UsageError('--dry-run and --check cannot be combined')
    const shardSize = values['shard-size'] === undefined ? 0 : Number(values['shard-size'])
    if (!Number.isInteger(shardSize) || shardSize < 0) {
      throw new UsageError(`--shard-size must be a whole number, got '${values['shard-size']}'`)
    }
    const mode: RenderMode = values['dry-run'] ? 'dry-run' : values.check ? 'check' : 'write'
    const root = resolve(positionals[0] ?? '.')
    let result
    try {
      result = await runRender({
        root,
        output: values.out === undefined ? undefined : resolve(values.out),
        selection: {
          clusters: list(values.cluster),
          groups: list(values.group),
          labels: values.label ?? [],
          services: list(values.service)
        },
        mode,
        env: process.env
        // No per-cluster progress: the render takes seconds and the result below lists every
        // cluster once; progress lines would print each cluster twice.
      })
    } catch (e) {
      if (e instanceof RenderFailedError) {
        for (const p of e.problems) err(`${errColor.red('error:')} ${formatProblem(p)}`)
        err(errColor.red(`render failed (${plural(e.total, 'problem')}); nothing was written`))
        return ExitCode.failed
      }
      throw e
    }
    if (mode === 'write' && result.secrets.length > 0 && (await isTrackedByGit(result.outputDir))) {
      err(
        errColor.yellow(
          `warning: ${result.outputDir} is tracked by git and the render used env.* values (Secrets); do not commit it`
        )
      )
    }
    const names = result.clusters.map((c) => c.name)
    if (values.json) {
      out(
        JSON.stringify(
          {
            clusters: names,
            matrix: buildMatrix(names, shardSize),
            index: result.indexPath,
            rendered: result.counts,
            hash: result.hash,
            disabled: result.disabled,
            differences: result.differences
          },
          null,
          2
        )
      )
    } else {
      for (const c of result.clusters) {
        const skipped = c.skipped.length
          ? color.dim(`, skipped: ${c.skipped.map((s) => s.name).join(', ')}`)
          : ''
        out(
          `${color.green('●')} ${c.name}  ${plural(c.services, 'service')}, ${plural(c.files, 'file')}${skipped}`
        )
      }
      for (const d of result.disabled) out(`${color.dim('○')} ${d}  disabled`)
      // Why services were skipped, once per service and reason (not once per cluster).
      for (const s of skippedServices(result.clusters))
        out(
          `${s.warning ? color.yellow('skipped') : color.dim('skipped')} ${s.service} on ${s.clusters.join(', ')}: ${s.reason}`
        )
      const { counts } = result
      const what = `${plural(counts.services, 'service')} on ${plural(counts.clusters, 'cluster')}, ${plural(counts.files, 'file')}`
      if (mode === 'dry-run') out(`dry run: rendered ${what}; nothing written`)
      else if (mode === 'write') out(`rendered ${what} into ${result.outputDir}`)
    }
    if (mode === 'check') {
      if (result.differences.length > 0) {
        for (const d of result.differences) err(`  ${d}`)
        err(
          errColor.red(
            `${result.outputDir} is not up to date (${plural(result.differences.length, 'difference')}); run kit render`
          )
        )
        return ExitCode.failed
      }
      if (!values.json) out(`${result.outputDir} is up to date`)
    }
    return ExitCode.ok
  }
}
