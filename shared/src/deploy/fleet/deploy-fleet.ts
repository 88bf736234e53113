/**
 * One deploy across the fleet, as the action and `kit deploy` run it: load and validate every
 * manifest (pre-flight), match clusters to credentials, select, plan waves, then run each
 * cluster's pipeline through the fleet runner. Adapters (manifest loading, cluster clients,
 * the engine, loggers) are injected, so this stays testable without a cluster.
 */
import { InputError } from '../../errors.js'
import type { ClusterClient } from '../../k8s/types.js'
import type { Redactor } from '../../secrets/redact.js'
import type { Clock, DeployLog, Manifest } from '../cluster/types.js'
import { checkResolvedDuplicates, fallbackNamespace } from '../../k8s/namespace.js'
import { runClusterPipeline, type Engine, type PipelineSettings } from './cluster-pipeline.js'
import { ClusterDeadline } from './deadline.js'
import { withDriftVerdict } from './drift.js'
import { checkFastRollbackWait, planFastRollback } from './fast-rollback.js'
import { runFleet } from './runner.js'
import { filterBySelector, parseSelector, type Requirement } from './selector.js'
import type { FleetSection } from './settings.js'
import type { FleetReport, FleetRow, Wave } from './types.js'
import { planWaves, selectClusters, type WaveSpec } from './waves.js'

/**
 * What deployFleet runs: the request's fleet section, and its cluster section with who runs it
 * (passed to every cluster's pipeline as it is, with the run's parsed selection added).
 */
export interface FleetSettings {
  readonly fleet: FleetSection
  readonly cluster: Omit<PipelineSettings, 'selector'>
}

export interface FleetDeps {
  /** Cluster → validated manifests (throws InputError on any bad file). */
  readonly manifests: ReadonlyMap<string, Manifest[]>
  /** Clusters that have credentials, with where they came from (for messages). */
  readonly credentialSources: ReadonlyMap<string, string>
  /** Each cluster's context namespace, where manifests without a namespace go (else `default`). */
  readonly defaultNamespaces?: ReadonlyMap<string, string>
  /**
   * Opens a client for a cluster (called once per cluster, when it starts), its requests
   * bounded by the cluster's deadline.
   */
  connect(cluster: string, signal: AbortSignal, deadline: ClusterDeadline): ClusterClient
  readonly engine: Engine
  logFor(cluster: string): DeployLog
  readonly log: DeployLog
  readonly redactor: Redactor
  readonly clock: Clock
  readonly cancel?: AbortSignal
  onClusterStart?(cluster: string, wave: Wave): void | Promise<void>
  onClusterDone?(row: FleetRow): void | Promise<void>
  /** Told the plan once it is made, before any cluster starts (the Slack start message). */
  onPlanned?(plan: FleetPlan): void
}

/** The plan a deploy follows, decided before any cluster is touched. */
export interface FleetPlan {
  readonly waves: Wave[]
  readonly preReported: FleetRow[]
  /** Every manifest of each deployable cluster (the pipeline selects; prune needs them all). */
  readonly manifests: ReadonlyMap<string, Manifest[]>
  readonly selector?: Requirement[]
  /** Clusters with credentials but no manifests that no selection asked for (a warning only). */
  readonly unused: string[]
}

/**
 * Pre-flight (pure): selects clusters, reports mismatches between manifests and credentials,
 * filters by selector, checks the fast-rollback rewrite of every cluster, and plans waves.
 * Throws an InputError for anything wrong in the input, before a cluster is touched.
 */
export function planFleet(
  settings: FleetSettings,
  manifests: ReadonlyMap<string, Manifest[]>,
  credentialSources: ReadonlyMap<string, string>,
  defaultNamespaces: ReadonlyMap<string, string> = new Map()
): FleetPlan {
  const withManifests = [...manifests.keys()]
  const withCredentials = [...credentialSources.keys()]
  const explicit = settings.fleet.clusters.length > 0
  const universe = [...new Set([...withManifests, ...withCredentials])]
  const selected = explicit
    ? selectClusters(universe, settings.fleet.clusters)
    : [...withManifests].sort()
  const preReported: FleetRow[] = []
  const empty = { objectsChanged: 0, durationMs: 0, failures: [], changes: [] }
  const deployable: string[] = []
  for (const c of selected) {
    if (!manifests.has(c)) {
      preReported.push({
        cluster: c,
        outcome: 'skipped',
        reason: 'has credentials but no manifests',
        ...empty
      })
    } else if (!credentialSources.has(c)) {
      preReported.push({
        cluster: c,
        outcome: 'failed',
        reason:
          'has manifests but no credentials (no kubeconfig context, kubeconfigs entry or kubeconfig-dir file for it)',
        ...empty
      })
    } else deployable.push(c)
  }
  const selector = settings.fleet.selector ? parseSelector(settings.fleet.selector) : undefined
  const deploying = new Map<string, Manifest[]>()
  for (const c of deployable) {
    const list = manifests.get(c) ?? []
    checkResolvedDuplicates(list, defaultNamespaces.get(c) ?? fallbackNamespace, c)
    const kept = selector ? filterBySelector(list, selector) : list
    try {
      checkFastRollbackWait(planFastRollback(kept, settings.cluster.strategy), settings.cluster)
    } catch (err) {
      if (err instanceof InputError) throw new InputError(`cluster ${c}: ${err.message}`)
      throw err
    }
    deploying.set(c, list)
  }
  let spec: WaveSpec = { kind: 'none' }
  if (settings.fleet.waves.length > 0) spec = { kind: 'list', entries: settings.fleet.waves }
  else if (settings.fleet.waveLabel)
    spec = { kind: 'label', label: settings.fleet.waveLabel, labels: settings.fleet.clusterLabels }
  return {
    waves: planWaves(deployable, spec),
    preReported,
    manifests: deploying,
    selector,
    unused: explicit ? [] : withCredentials.filter((c) => !manifests.has(c)).sort()
  }
}

/** Deploys (or dry-runs) the fleet and returns the report. */
export async function deployFleet(settings: FleetSettings, deps: FleetDeps): Promise<FleetReport> {
  const plan = planFleet(settings, deps.manifests, deps.credentialSources, deps.defaultNamespaces)
  if (plan.unused.length > 0)
    deps.log.warning(`credentials but no manifests (not deployed): ${plan.unused.join(', ')}`)
  if (plan.waves.length > 1)
    deps.log.info(
      `waves: ${plan.waves.map((w) => `${w.name}: ${w.clusters.join(', ')}`).join(' → ')}`
    )
  deps.onPlanned?.(plan)
  const p: PipelineSettings = { ...settings.cluster, selector: plan.selector }
  const report = await runFleet({
    waves: plan.waves,
    concurrency: settings.fleet.concurrency,
    // Each cluster's own deadline (its timeout, plus the time it waited for another run's
    // lock) bounds every request and the health wait; the clean-up after it (rollback, records,
    // lock release) has one more timeout. This backstop only catches work that ignores both.
    clusterDeadlineMs: p.lock.waitMs + 2 * p.timeoutMs + 60_000,
    dryRun: p.dryRun,
    redactor: deps.redactor,
    cancel: deps.cancel,
    preReported: plan.preReported,
    onClusterStart: deps.onClusterStart,
    onClusterDone: deps.onClusterDone,
    now: () => deps.clock.now(),
    deployOne: (cluster, signal) => {
      const deadline = new ClusterDeadline(() => deps.clock.now(), p.timeoutMs)
      const client = deps.connect(cluster, signal, deadline)
      return runClusterPipeline(client, plan.manifests.get(cluster) ?? [], p, {
        engine: deps.engine,
        log: deps.logFor(cluster),
        redactor: deps.redactor,
        clock: deps.clock,
        signal,
        deadline
      })
    }
  })
  return withDriftVerdict(report, settings.fleet.failOnDrift ?? false)
}
