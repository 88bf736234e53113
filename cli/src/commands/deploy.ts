import { readFileSync, writeFileSync } from 'node:fs'
import { outputsJson } from '../../../shared/src/outputs/table.js'
import { deployerOutputValues } from '../../../shared/src/outputs/values.js'
import type { DeployLog } from '../../../shared/src/deploy/cluster/types.js'
import { defaultKubeconfigFiles } from '../../../shared/src/deploy/cluster/index.js'
import {
  fleetDefaults,
  gitCommitTime,
  gitHead,
  parseKubeconfigsInput,
  registerCredential,
  renderSummary,
  runDeploy,
  runIdentity,
  sendWebhook,
  shouldFail,
  type DeployRequest
} from '../../../shared/src/deploy/fleet/index.js'
import { parseMetricsToken } from '../../../shared/src/deploy/cluster/metric-gate.js'
import { deployOptions, deployRequest } from '../../../shared/src/options/deploy.js'
import { cliOptions, type Option } from '../../../shared/src/options/table.js'
import { Redactor } from '../../../shared/src/secrets/redact.js'
import { type Command, ExitCode } from '../command.js'
import { helpLines, parseFlags } from '../options.js'
import { color, err, errColor, out } from '../term.js'
import { ClusterProgress, reportLines } from './deploy-output.js'

const o = deployOptions
const credentialOptions = [o.kubeconfig, o.kubeconfigs, o.kubeconfigDir]
const sharedOptions: Option<unknown>[] = [
  o.clusters,
  o.selector,
  o.concurrency,
  o.timeout,
  o.strategy,
  o.prune,
  o.pruneMax,
  o.pruneAllowKinds,
  o.commit,
  o.commitTime,
  o.inventory,
  o.json,
  o.summary
]
/** What only a diff uses: --fail-on-drift (a deploy changes what differs instead). */
const diffOnly: Option<unknown>[] = [o.failOnDrift]
/** Every other flag of the table: only a deploy (not a diff) uses them. */
const deployOnly = cliOptions(deployOptions).filter(
  (x) =>
    !x.cli ||
    (!x.cli.positional && ![...credentialOptions, ...sharedOptions, ...diffOnly].includes(x))
)

const sharedHelp = `Credentials (one or more; default: $KUBECONFIG, else ~/.kube/config):
${helpLines(credentialOptions).join('\n')}

Options (each is the deployer action's input of the same name):
${helpLines(sharedOptions).join('\n')}`

const deployHelp = `kit deploy — apply the manifests of every cluster, wait until healthy, roll back on failure

Usage: kit deploy [manifests-dir] [options]      (manifests-dir default: ${fleetDefaults.manifests})

The same core as the deployer action: server-side apply in a safe order, health wait with
fail-fast, rollback, per-cluster lock (Lease kit-system/kit-deploy-lock) and version guard.

${sharedHelp}

Deploy only:
${helpLines(deployOnly).join('\n')}

Exit codes: 0 every cluster succeeded, 1 a cluster failed / rolled back / was skipped, 2 bad input.`

const diffHelp = `kit diff — show what a deploy would change on every cluster (server-side dry run)

Usage: kit diff [manifests-dir] [options]

Nothing is changed. Secret values are redacted. With --prune, lists what would be deleted.

${sharedHelp}

Diff only:
${helpLines(diffOnly).join('\n')}

Exit codes: 0 the diff ran on every cluster, 1 a cluster could not be diffed (or, with
--fail-on-drift, a cluster differs from the manifests), 2 bad input.`

/** Builds the request from flags; `mask` registers every credential with the redactor. */
export async function requestFromArgs(
  args: string[],
  mode: 'deploy' | 'diff',
  env: Readonly<Record<string, string | undefined>>,
  mask: (v: string) => void
): Promise<{ request: DeployRequest; json: boolean; summary?: string }> {
  const v = parseFlags(deployOptions, args)
  if (v.webhookUrl) mask(v.webhookUrl)
  if (v.slackWebhookUrl) mask(v.slackWebhookUrl)
  // A token is never a flag (flags end up in shell history and process lists).
  if (env.KIT_METRICS_TOKEN) {
    mask(env.KIT_METRICS_TOKEN)
    v.metricsToken = parseMetricsToken(env.KIT_METRICS_TOKEN, 'KIT_METRICS_TOKEN')
  }
  const perCluster = parseKubeconfigsInput(v.kubeconfigs, env, '--kubeconfigs')
  Object.values(perCluster).forEach(mask)
  // --kubeconfig names one file; without any credential flag, kubectl's files: every file of
  // the KUBECONFIG list, merged as kubectl merges them, else ~/.kube/config.
  const files = v.kubeconfig
    ? { paths: [v.kubeconfig], from: '--kubeconfig' }
    : v.kubeconfigs || v.kubeconfigDir
      ? undefined
      : defaultKubeconfigFiles(env)
  // Masked before anything can fail and print; a file that cannot be read is reported by the loader.
  for (const path of files?.paths ?? []) {
    try {
      mask(readFileSync(path, 'utf8'))
    } catch {
      // Reported, with its path, when the credentials are loaded.
    }
  }
  const head = v.commit ? undefined : await gitHead(v.manifests)
  const commit = v.commit ?? head?.commit
  const commitTime =
    v.commitTime ??
    (head ? head.commitTime : commit ? await gitCommitTime(v.manifests, commit) : undefined)
  const request = deployRequest(v, {
    credentials: {
      ...(files ? { files: { paths: files.paths, from: files.from } } : {}),
      ...(Object.keys(perCluster).length ? { perCluster } : {}),
      ...(v.kubeconfigDir ? { directory: v.kubeconfigDir } : {})
    },
    commit,
    commitTime,
    dryRun: mode === 'diff'
  })
  return { request, json: v.json, summary: v.summary }
}

async function runCommand(args: string[], mode: 'deploy' | 'diff'): Promise<number> {
  const redactor = new Redactor()
  const mask = (v: string): void => {
    registerCredential(redactor, v)
  }
  const { request, json, summary } = await requestFromArgs(args, mode, process.env, mask)
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
      onClusterDone: (row) => progress.done(row, request.cluster.dryRun),
      redactor,
      cancel: cancel.signal
    })
    if (json)
      out(clean(JSON.stringify(outputsJson('deployer', deployerOutputValues(report)), null, 2)))
    else {
      if (report.rows.length > 0) err()
      for (const line of reportLines(report, mode, color, clean)) out(line)
    }
    if (summary) writeFileSync(summary, clean(renderSummary(report, `kit ${mode}`)))
    if (request.notify.webhookUrl) {
      await sendWebhook(
        request.notify.webhookUrl,
        report,
        { commit: request.cluster.version.commit },
        { redactor }
      ).catch((e: unknown) => log.warning(e instanceof Error ? e.message : String(e)))
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
