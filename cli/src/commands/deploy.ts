import { readFileSync, writeFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { delimiter, join } from 'node:path'
import { parseArgs } from 'node:util'
import type { DeployLog } from '../../../shared/src/deploy/cluster/types.js'
import {
  fleetDefaults,
  gitCommitTime,
  gitHead,
  parseClusterLabels,
  parseCommitTime,
  parseKeyValues,
  parseKubeconfigsInput,
  inventoryNameProblem,
  registerCredential,
  renderOutputs,
  renderSummary,
  runDeploy,
  runIdentity,
  sendWebhook,
  shouldFail,
  type DeployRequest
} from '../../../shared/src/deploy/fleet/index.js'
import { parseDuration } from '../../../shared/src/action/inputs.js'
import { Redactor } from '../../../shared/src/secrets/redact.js'
import { type Command, ExitCode, UsageError } from '../command.js'
import { color, err, errColor, out } from '../term.js'
import { ClusterProgress, reportLines } from './deploy-output.js'

const sharedOptions = `Credentials (one or more; default: $KUBECONFIG, else ~/.kube/config):
  --kubeconfig <file>        one kubeconfig with a context per cluster
  --kubeconfigs <spec>       cluster=ENV_NAME lines (or JSON) — the kubeconfig is in that env var
  --kubeconfig-dir <dir>     a kubeconfig file per cluster (kit layout)

Selection:
  --clusters <a,b,glob*>     clusters to deploy (default: every cluster with manifests)
  --selector <sel>           only manifests whose labels match (kubectl -l grammar);
                             prune deletes only live objects that match
  --concurrency <n>          clusters at once (default ${fleetDefaults.concurrency})
  --timeout <dur>            per-cluster apply+wait limit (default 10m)
  --strategy <s>             rolling-update (default) or fast-rollback
  --prune                    also list (diff) / delete (deploy) what left the manifests
  --prune-max <n>            most deletions per cluster (default ${fleetDefaults.pruneMax})
  --prune-allow-kinds <k,..> protected kinds prune may delete
  --commit <sha>             manifests commit (default: git HEAD of the manifests folder)
  --commit-time <iso>        its time (default: from git)
  --inventory <name>         inventory name (separate pipelines on the same clusters)
  --json                     print the outputs (result, clusters, changed, failed) as JSON
  --summary <file>           also write the markdown summary to a file`

const deployHelp = `kit deploy — apply the manifests of every cluster, wait until healthy, roll back on failure

Usage: kit deploy [manifests-dir] [options]      (manifests-dir default: ${fleetDefaults.manifests})

The same core as the deployer action: server-side apply in a safe order, health wait with
fail-fast, rollback, per-cluster lock (Lease kit-system/kit-deploy-lock) and version guard.

${sharedOptions}

Deploy only:
  --no-wait                  apply without waiting for health
  --no-rollback              keep a failed rollout as it is
  --waves <w1;w2;...>        ordered waves of names/globs (';' between waves, ',' within)
  --wave-label <label>       order waves by a cluster label (render index / --cluster-labels)
  --cluster-labels <spec>    JSON or 'cluster: k=v' lines
  --fast-rollback-keep <n>   previous versions kept (default ${fleetDefaults.fastRollbackKeep})
  --lock-timeout <dur>       wait for another run's lock (default 5m)
  --rollback, --redeploy     allow an older commit than the cluster runs
  --fail-fast-grace <dur>    (default 30s)   --fail-fast-threshold <n> (default 0 = 25%)
  --labels <k=v,..>          --annotations <k=v,..>   added to every object
  --webhook-url <url>        POST the result as JSON when done

Exit codes: 0 every cluster succeeded, 1 a cluster failed / rolled back / was skipped, 2 bad input.`

const diffHelp = `kit diff — show what a deploy would change on every cluster (server-side dry run)

Usage: kit diff [manifests-dir] [options]

Nothing is changed. Secret values are redacted. With --prune, lists what would be deleted.

${sharedOptions}

Exit codes: 0 the diff ran on every cluster, 1 a cluster could not be diffed, 2 bad input.`

const options = {
  kubeconfig: { type: 'string' },
  kubeconfigs: { type: 'string' },
  'kubeconfig-dir': { type: 'string' },
  clusters: { type: 'string' },
  selector: { type: 'string' },
  concurrency: { type: 'string' },
  timeout: { type: 'string' },
  strategy: { type: 'string' },
  prune: { type: 'boolean' },
  'prune-max': { type: 'string' },
  'prune-allow-kinds': { type: 'string' },
  commit: { type: 'string' },
  'commit-time': { type: 'string' },
  json: { type: 'boolean' },
  summary: { type: 'string' },
  'no-wait': { type: 'boolean' },
  'no-rollback': { type: 'boolean' },
  waves: { type: 'string' },
  'wave-label': { type: 'string' },
  'cluster-labels': { type: 'string' },
  'fast-rollback-keep': { type: 'string' },
  'lock-timeout': { type: 'string' },
  rollback: { type: 'boolean' },
  redeploy: { type: 'boolean' },
  'fail-fast-grace': { type: 'string' },
  'fail-fast-threshold': { type: 'string' },
  'unschedulable-timeout': { type: 'string' },
  inventory: { type: 'string' },
  labels: { type: 'string' },
  annotations: { type: 'string' },
  'webhook-url': { type: 'string' }
} as const

type Values = ReturnType<typeof parse>['values']

function parse(args: string[]) {
  return parseArgs({ args, allowPositionals: true, options })
}

function duration(values: Values, name: keyof Values, fallback: number): number {
  const raw = values[name]
  if (raw === undefined) return fallback
  const ms = parseDuration(String(raw))
  if (ms === undefined)
    throw new UsageError(`--${name} must be a duration like 90s or 10m, got '${raw}'`)
  return ms
}

function integer(values: Values, name: keyof Values, fallback: number, min = 0): number {
  const raw = values[name]
  if (raw === undefined) return fallback
  if (!/^\d+$/.test(String(raw)) || Number(raw) < min)
    throw new UsageError(`--${name} must be a whole number of at least ${min}, got '${raw}'`)
  return Number(raw)
}

const list = (s: string | undefined): string[] =>
  (s ?? '')
    .split(/[\n,]/)
    .map((x) => x.trim())
    .filter(Boolean)

/** Builds the request from flags; `mask` registers every credential with the redactor. */
export function requestFromArgs(
  args: string[],
  mode: 'deploy' | 'diff',
  env: Readonly<Record<string, string | undefined>>,
  mask: (v: string) => void
): { request: DeployRequest; json: boolean; summary?: string } {
  const { values, positionals } = parse(args)
  if (positionals.length > 1)
    throw new UsageError(`expected one manifests directory, got ${positionals.join(' ')}`)
  const manifests = positionals[0] ?? fleetDefaults.manifests
  const perCluster = parseKubeconfigsInput(values.kubeconfigs ?? '', env, '--kubeconfigs')
  Object.values(perCluster).forEach(mask)
  let kubeconfig: string | undefined
  const kubeconfigPath =
    values.kubeconfig ??
    (values.kubeconfigs || values['kubeconfig-dir']
      ? undefined
      : (env.KUBECONFIG?.split(delimiter).find(Boolean) ?? join(homedir(), '.kube', 'config')))
  if (kubeconfigPath) {
    try {
      kubeconfig = readFileSync(kubeconfigPath, 'utf8')
    } catch {
      throw new UsageError(`cannot read the kubeconfig ${kubeconfigPath}`)
    }
    mask(kubeconfig)
  }
  const strategy = values.strategy ?? 'rolling-update'
  if (strategy !== 'rolling-update' && strategy !== 'fast-rollback')
    throw new UsageError(`--strategy must be rolling-update or fast-rollback, got '${strategy}'`)
  const head = values.commit ? undefined : gitHead(manifests)
  const commit = values.commit ?? head?.commit
  const commitTime = values['commit-time']
    ? parseCommitTime(values['commit-time'], '--commit-time')
    : head
      ? head.commitTime
      : commit
        ? gitCommitTime(manifests, commit)
        : undefined
  if (values['webhook-url']) mask(values['webhook-url'])
  const inventoryProblem = values.inventory ? inventoryNameProblem(values.inventory) : undefined
  if (inventoryProblem) throw new UsageError(`--inventory ${inventoryProblem}`)
  const request: DeployRequest = {
    manifests,
    credentials: {
      ...(kubeconfig ? { kubeconfig } : {}),
      ...(Object.keys(perCluster).length ? { perCluster } : {}),
      ...(values['kubeconfig-dir'] ? { directory: values['kubeconfig-dir'] } : {})
    },
    clusters: list(values.clusters),
    selector: values.selector,
    dryRun: mode === 'diff',
    wait: !values['no-wait'],
    timeoutMs: duration(values, 'timeout', fleetDefaults.timeoutMs),
    concurrency: integer(values, 'concurrency', fleetDefaults.concurrency, 1),
    waves: (values.waves ?? '')
      .split(';')
      .map((s) => s.trim())
      .filter(Boolean),
    waveLabel: values['wave-label'],
    clusterLabels: parseClusterLabels(values['cluster-labels'] ?? '', '--cluster-labels'),
    prune: {
      enabled: values.prune ?? false,
      max: integer(values, 'prune-max', fleetDefaults.pruneMax),
      allowKinds: list(values['prune-allow-kinds'])
    },
    rollbackOnFailure: !values['no-rollback'],
    strategy,
    fastRollbackKeep: integer(values, 'fast-rollback-keep', fleetDefaults.fastRollbackKeep),
    lockTimeoutMs: duration(values, 'lock-timeout', fleetDefaults.lockTimeoutMs),
    commit,
    commitTime,
    rollback: values.rollback ?? false,
    redeploy: values.redeploy ?? false,
    failFast: {
      graceMs: duration(values, 'fail-fast-grace', fleetDefaults.failFastGraceMs),
      unschedulableMs: duration(values, 'unschedulable-timeout', fleetDefaults.unschedulableMs),
      threshold: integer(values, 'fail-fast-threshold', fleetDefaults.failFastThreshold)
    },
    waitForLoadBalancers: false,
    inventory: values.inventory ?? '',
    labels: parseKeyValues(values.labels ?? '', '--labels'),
    annotations: parseKeyValues(values.annotations ?? '', '--annotations'),
    githubDeployments: false,
    environmentPrefix: '',
    webhookUrl: values['webhook-url']
  }
  return { request, json: values.json ?? false, summary: values.summary }
}

async function runCommand(args: string[], mode: 'deploy' | 'diff'): Promise<number> {
  const redactor = new Redactor()
  const mask = (v: string): void => {
    registerCredential(redactor, v)
  }
  const { request, json, summary } = requestFromArgs(args, mode, process.env, mask)
  const clean = (m: string): string => redactor.scrub(m)
  const debug = process.env.KIT_DEBUG !== undefined && process.env.KIT_DEBUG !== ''
  const log: DeployLog = {
    info: (m) => err(errColor.dim(clean(m))),
    warning: (m) => err(errColor.yellow(`warning: ${clean(m)}`)),
    debug: (m) => {
      if (debug) err(errColor.dim(clean(m)))
    }
  }
  const progress = new ClusterProgress(err, errColor, { debug, clean })
  const cancel = new AbortController()
  const onSignal = (): void => cancel.abort(new Error('interrupted'))
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  try {
    const identity = runIdentity(process.env)
    const report = await runDeploy(request, identity, {
      log,
      logFor: (cluster) => progress.logFor(cluster),
      onClusterDone: (row) => progress.done(row, request.dryRun),
      redactor,
      cancel: cancel.signal
    })
    if (json) out(clean(JSON.stringify(renderOutputs(report), null, 2)))
    else {
      if (report.rows.length > 0) err()
      for (const line of reportLines(report, mode, color, clean)) out(line)
    }
    if (summary) writeFileSync(summary, clean(renderSummary(report, `kit ${mode}`)))
    if (request.webhookUrl) {
      await sendWebhook(request.webhookUrl, report, { commit: request.commit }, { redactor }).catch(
        (e: unknown) => log.warning(e instanceof Error ? e.message : String(e))
      )
    }
    return shouldFail(report) ? ExitCode.failed : ExitCode.ok
  } catch (e) {
    // kit.ts prints the message: scrub it first (a parse error may quote a credential).
    if (e instanceof Error) e.message = clean(e.message)
    throw e
  } finally {
    process.removeListener('SIGINT', onSignal)
    process.removeListener('SIGTERM', onSignal)
  }
}

export const deployCommand: Command = {
  name: 'deploy',
  summary: 'apply manifests to every cluster, wait until healthy, roll back on failure',
  help: deployHelp,
  run: (args) => runCommand(args, 'deploy')
}

export const diffCommand: Command = {
  name: 'diff',
  summary: 'show what a deploy would change on every cluster (server-side dry run)',
  help: diffHelp,
  run: (args) => runCommand(args, 'diff')
}
