/**
 * The wiring of one deploy run, shared by the deployer action and `kit deploy` / `kit diff`:
 * real adapters (manifest loader, credentials, client-node cluster clients, the engine) plugged
 * into the fleet core. This module is the adapter layer — it is the one place in fleet/ that
 * reaches the cluster client (through the engine's barrel); everything it calls is tested pure.
 */
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import type { Redactor } from '../../secrets/redact.js'
import {
  createClusterClient,
  deployWithClient,
  kubeConfigsFromInputs,
  loadManifestsDir
} from '../cluster/index.js'
import type { Clock, DeployLog } from '../cluster/types.js'
import { contextNamespaceOf } from '../../k8s/namespace.js'
import { deployFleet, type FleetPlan, type FleetSettings } from './deploy-fleet.js'
import type { DeployRequest, RunIdentity } from './settings.js'
import { createSlackNotifier } from './slack.js'
import {
  emptyIndexFacts,
  objectTemplates,
  parseIndexFacts,
  withTemplates,
  type IndexFacts
} from './templates-origin.js'
import type { FleetReport, FleetRow, Wave } from './types.js'

/** Real time, with an abortable sleep. */
export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: async (ms, signal) => {
    await sleep(ms, undefined, { signal })
  }
}

export interface DeployRunIo {
  readonly log: DeployLog
  logFor(cluster: string): DeployLog
  onClusterStart?(cluster: string, wave: Wave): void | Promise<void>
  onClusterDone?(row: FleetRow): void | Promise<void>
  readonly redactor: Redactor
  readonly cancel?: AbortSignal
  readonly clock?: Clock
  /** Heartbeat interval for the engine (default 20 s). */
  readonly heartbeatMs?: number
  /** Told of every HTTP request sent to a cluster (the benchmark counts them per phase). */
  onRequest?(cluster: string, method: string, path: string): void
  /**
   * The GitHub server that links to a service repository point at; default GITHUB_SERVER_URL,
   * else https://github.com.
   */
  readonly serverUrl?: string
}

/**
 * What the deploymentizer's render index (`<manifests>/index.json`) says, when the folder has
 * one: cluster labels (for label-based waves) and which service each output file belongs to,
 * with where a service's own templates came from (for the summary). The one reader of the index.
 */
export async function readIndex(dir: string): Promise<IndexFacts> {
  let text: string
  try {
    text = await readFile(join(dir, 'index.json'), 'utf8')
  } catch {
    return emptyIndexFacts()
  }
  return parseIndexFacts(text)
}

/**
 * The request's sections as deployFleet runs them (pure): the fleet section with the render
 * index's cluster labels under the request's own, and the cluster section with who runs it.
 */
export function fleetSettingsOf(
  request: Pick<DeployRequest, 'fleet' | 'cluster'>,
  identity: RunIdentity,
  indexLabels: ReadonlyMap<string, Record<string, string>>,
  heartbeatMs?: number
): FleetSettings {
  const clusterLabels = new Map(indexLabels)
  for (const [c, labels] of request.fleet.clusterLabels)
    clusterLabels.set(c, { ...(clusterLabels.get(c) ?? {}), ...labels })
  // No per-object commit annotation: it would rewrite every object on every commit, so an
  // unchanged object could never be skipped. The commit is recorded once per cluster instead
  // (kit-system/kit-deploy-state, data and annotations).
  return {
    fleet: { ...request.fleet, clusterLabels },
    cluster: {
      ...request.cluster,
      heartbeatMs,
      lock: {
        ...request.cluster.lock,
        identity: identity.identity,
        description: identity.description
      },
      version: { ...request.cluster.version, runUrl: identity.runUrl }
    }
  }
}

/**
 * Runs one deploy: loads and validates every manifest and credential first (any problem
 * throws before a cluster is touched), then deploys the fleet. With a Slack webhook, Slack is
 * told as `slack-notify` asks (./slack.ts): the start once the plan is made, the end with the
 * report, or the error that stopped the run; a notification never changes the outcome.
 */
export async function runDeploy(
  request: DeployRequest,
  identity: RunIdentity,
  io: DeployRunIo
): Promise<FleetReport> {
  const url = request.notify.slackWebhookUrl
  if (!url) return deployRun(request, identity, io)
  const slack = createSlackNotifier(
    {
      url,
      notify: request.notify.slackNotify ?? 'end',
      dryRun: request.cluster.dryRun,
      context: {
        repository: identity.repository,
        commit: request.cluster.version.commit,
        runUrl: identity.runUrl,
        description: identity.description
      }
    },
    { redactor: io.redactor, log: io.log }
  )
  let report: FleetReport
  try {
    report = await deployRun(request, identity, io, (plan) => slack.started(plan))
  } catch (err) {
    await slack.stopped(err)
    throw err
  }
  await slack.finished(report)
  return report
}

async function deployRun(
  request: DeployRequest,
  identity: RunIdentity,
  io: DeployRunIo,
  onPlanned?: (plan: FleetPlan) => void
): Promise<FleetReport> {
  const manifests = await loadManifestsDir(request.manifests)
  const credentials = await kubeConfigsFromInputs(request.credentials, io.redactor)
  const files = request.credentials.files
  if (files && files.from !== '--kubeconfig') {
    // Not a flag the user typed: say which files were read, and what they hold.
    const contexts = [...credentials.clusters.keys()]
    const shown =
      contexts.length > 10 ? [...contexts.slice(0, 10), `${contexts.length - 10} more`] : contexts
    io.log.info(
      `credentials from ${files.from}: ${files.paths.join(', ')} (contexts: ${shown.join(', ')})`
    )
  }
  for (const w of credentials.warnings) io.log.warning(w)
  const index = await readIndex(request.manifests)
  const settings = fleetSettingsOf(request, identity, index.labels, io.heartbeatMs)
  const templates = objectTemplates(
    manifests,
    index,
    request.manifests,
    io.serverUrl ?? (process.env.GITHUB_SERVER_URL || 'https://github.com')
  )
  const onClusterDone = io.onClusterDone
  const report = await deployFleet(settings, {
    manifests,
    credentialSources: credentials.sources,
    defaultNamespaces: new Map(
      [...credentials.clusters].map(([c, kubeConfig]) => [c, contextNamespaceOf(kubeConfig)])
    ),
    connect: (cluster, signal, deadline) => {
      const kubeConfig = credentials.clusters.get(cluster)
      if (!kubeConfig) throw new Error(`no credentials for cluster ${cluster}`)
      const onRequest = io.onRequest
      const log = io.logFor(cluster)
      return createClusterClient(cluster, kubeConfig, {
        signal,
        deadline,
        redactor: io.redactor,
        // A slow retry is progress the user sees; every retry is in the debug log.
        progress: (m) => log.info(m),
        onRetry: (what, attempt, delay, err) =>
          log.debug(
            `${what} failed (${err instanceof Error ? err.message.split('\n')[0] : String(err)}); retry ${attempt} in ${delay} ms`
          ),
        ...(onRequest ? { onRequest: (method, path) => onRequest(cluster, method, path) } : {})
      })
    },
    engine: deployWithClient,
    log: io.log,
    logFor: (c) => io.logFor(c),
    redactor: io.redactor,
    clock: io.clock ?? systemClock,
    cancel: io.cancel,
    onClusterStart: io.onClusterStart,
    onClusterDone: onClusterDone && ((row) => onClusterDone(withTemplates(row, templates))),
    onPlanned
  })
  return { ...report, rows: report.rows.map((r) => withTemplates(r, templates)) }
}
