import { parseArgs } from 'node:util'
import {
  clusterStatus,
  downClusters,
  upClusters
} from '../../../testinfra/clusters/local-clusters.js'
import { type Command, ExitCode, UsageError } from '../command.js'
import { color, err, errColor, out } from '../term.js'

const help = `kit clusters — real local Kubernetes clusters for tests and the demo

Usage:
  kit clusters up [N] [--names a,b,c] [--nodes 2]   start N clusters (default 3), or reuse a running set
  kit clusters status                                 list the running clusters and their memory
  kit clusters down                                   stop every process and remove the state

Each cluster is a real kube-apiserver, controller manager and scheduler (sharing one etcd)
with kwok fake nodes, all on 127.0.0.1. The binaries are built from the Go modules pinned in
testinfra/controlplane and cached outside the repository.

Images whose registry host ends in .invalid fail with ImagePullBackOff; tags ending in
-crashloop fail with CrashLoopBackOff (a Job's pod fails). See docs/local-clusters.md.

Environment: KIT_CLUSTERS_DIR (state, default $TMPDIR/kit-clusters),
KIT_CLUSTERS_BASE_PORT (default 17000), KIT_TESTBIN_CACHE (binaries).`

export const clustersCommand: Command = {
  name: 'clusters',
  summary: 'start, inspect and stop real local clusters (tests, demo)',
  help,
  async run(args) {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: { names: { type: 'string' }, nodes: { type: 'string' } }
    })
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
          throw new UsageError(
            `cluster count must be a whole number from 1 to 20, got '${countArg}'`
          )
        }
        const nodes = values.nodes === undefined ? undefined : Number(values.nodes)
        const set = await upClusters({ names, count, nodes, log })
        for (const c of set.clusters)
          out(`${color.green('●')} ${c.name}  ${c.server}  ${c.kubeconfigPath}`)
        out(`KUBECONFIG=${set.kubeconfigPath}`)
        return ExitCode.ok
      }
      case 'status': {
        const status = await clusterStatus()
        if (status.clusters.length === 0) {
          out('no clusters are running')
          return ExitCode.ok
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
        return status.clusters.every((c) => c.ready) ? ExitCode.ok : ExitCode.failed
      }
      case 'down':
        await downClusters({ log })
        return ExitCode.ok
      default:
        throw new UsageError(
          action === undefined
            ? 'say up, status or down'
            : `unknown action '${action}': say up, status or down`
        )
    }
  }
}
