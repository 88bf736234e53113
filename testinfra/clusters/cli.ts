/**
 * `npm run clusters -- up | status | down`: start, inspect and stop real local clusters for the
 * tests and the demo. Test infrastructure, not part of the kit CLI: it needs Go and builds
 * Kubernetes from source (testinfra/controlplane). Run from TypeScript by bench/run-ts.mjs, so a
 * fresh clone needs only `npm ci`, no bundle step.
 */
import { parseArgs } from 'node:util'
import { color, err, errColor, out } from '../../cli/src/term.js'
import { clusterStatus, downClusters, upClusters } from './local-clusters.js'

const help = `npm run clusters -- <action>: real local Kubernetes clusters for tests and the demo

Usage:
  npm run clusters -- up [N] [--names a,b,c] [--nodes 2]   start N clusters (default 3), or reuse a running set
  npm run clusters -- status                               list the running clusters and their memory
  npm run clusters -- down                                 stop every process and remove the state

Each cluster is a real kube-apiserver, controller manager and scheduler (sharing one etcd)
with kwok fake nodes, all on 127.0.0.1. The binaries are built from the Go modules pinned in
testinfra/controlplane and cached outside the repository.

Images whose registry host ends in .invalid fail with ImagePullBackOff; tags ending in
-crashloop fail with CrashLoopBackOff (a Job's pod fails). See docs/local-clusters.md.

Environment: KIT_CLUSTERS_DIR (state, default $TMPDIR/kit-clusters),
KIT_CLUSTERS_BASE_PORT (default 17000), KIT_TESTBIN_CACHE (binaries).

Exit codes: 0 success (status: every cluster ready), 1 failed, 2 bad usage.`

/** Bad arguments: printed with a hint to --help, exit code 2. */
class UsageError extends Error {}

async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      names: { type: 'string' },
      nodes: { type: 'string' },
      help: { type: 'boolean', short: 'h' }
    }
  })
  if (values.help) {
    out(help)
    return 0
  }
  const [action, countArg] = positionals
  const log = (line: string): void => err(errColor.dim(line))
  switch (action) {
    case 'up': {
      const names = values.names
        ?.split(',')
        .map((s) => s.trim())
        .filter(Boolean)
      const count = countArg === undefined ? undefined : Number(countArg)
      if (count !== undefined && (!Number.isInteger(count) || count < 1 || count > 20)) {
        throw new UsageError(`cluster count must be a whole number from 1 to 20, got '${countArg}'`)
      }
      const nodes = values.nodes === undefined ? undefined : Number(values.nodes)
      const set = await upClusters({ names, count, nodes, log })
      for (const c of set.clusters)
        out(`${color.green('●')} ${c.name}  ${c.server}  ${c.kubeconfigPath}`)
      out(`KUBECONFIG=${set.kubeconfigPath}`)
      return 0
    }
    case 'status': {
      const status = await clusterStatus()
      if (status.clusters.length === 0) {
        out('no clusters are running')
        return 0
      }
      for (const c of status.clusters) {
        const rss = c.processes.reduce((sum, p) => sum + p.rssKiB, 0)
        const down = c.processes.filter((p) => !p.alive).map((p) => p.component)
        const mark =
          c.ready && down.length === 0 ? color.green('● ready') : color.red('● not ready')
        out(
          `${mark}  ${c.name}  ${c.server}  ${(rss / 1024).toFixed(0)} MiB${down.length ? `  stopped: ${down.join(', ')}` : ''}`
        )
      }
      if (status.etcd)
        out(
          `${color.dim('shared etcd')}  pid ${status.etcd.pid}  ${(status.etcd.rssKiB / 1024).toFixed(0)} MiB`
        )
      return status.clusters.every((c) => c.ready) ? 0 : 1
    }
    case 'down':
      await downClusters({ log })
      return 0
    default:
      throw new UsageError(
        action === undefined
          ? 'say up, status or down'
          : `unknown action '${action}': say up, status or down`
      )
  }
}

/** Runs the command line `args` (without node and the script); resolves to the exit code. */
export async function main(args: string[]): Promise<number> {
  try {
    return await run(args)
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e)
    const usage =
      e instanceof UsageError ||
      (e instanceof Error &&
        'code' in e &&
        String((e as { code: unknown }).code).startsWith('ERR_PARSE_ARGS'))
    if (usage) {
      err(`clusters: ${message}\nRun 'npm run clusters -- --help' for usage.`)
      return 2
    }
    err(`${errColor.red('error:')} ${message}`)
    return 1
  }
}

process.exitCode = await main(process.argv.slice(2))
