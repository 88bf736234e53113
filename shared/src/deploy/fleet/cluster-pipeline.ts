/**
 * Everything the fleet does around the engine for one cluster, in order: resolve where every
 * object lives, take the lock, check the version guard, widen the ApplySet parent, deploy (with
 * the fast-rollback switch or a strategy transition when asked), prune, record the deployed
 * commit and the inventory, release the lock. After a failed deploy nothing is pruned and no
 * commit is recorded; the inventory is settled to what exists.
 */
import { InputError } from '../../errors.js'
import { keyOf } from '../../k8s/identity.js'
import { defaultNamespaceOf, resolveNamespaces } from '../../k8s/namespace.js'
import { KubeApiError, type ClusterClient } from '../../k8s/types.js'
import type { Redactor } from '../../secrets/redact.js'
import type { ClusterSection } from './settings.js'
import type {
  ChangeEntry,
  Clock,
  ClusterResult,
  DeployClusterOptions,
  DeployLog,
  Manifest
} from '../cluster/types.js'
import {
  applySetIdFor,
  applySetPartOfLabel,
  entryKey,
  executePrune,
  existingEntries,
  inventoryOf,
  normalizeInventory,
  planPrune,
  pruneCandidates,
  readApplySetParent,
  unionInventory,
  writeApplySetParent,
  type ApplySetParent,
  type InventoryEntry,
  type PruneOutcome
} from './applyset.js'
import {
  checkFastRollbackWait,
  cleanUpFastRollback,
  findLeavingFastRollback,
  fastRollbackOfLabel,
  holdBackLeavingServices,
  isFastRollbackDeployment,
  leavingCandidates,
  planFastRollback,
  removeLeftVersions,
  type FastRollbackPlan,
  type LeavingCandidate,
  type LeavingFastRollback
} from './fast-rollback.js'
import type { ClusterDeadline } from './deadline.js'
import { acquireLock, type LockHandle } from './lock.js'
import { filterBySelector, type Requirement } from './selector.js'
import { countChanged } from './types.js'
import { checkVersion, readDeployState, recordDeployState } from './version-guard.js'
import { plural } from '../../text/plural.js'

/** The engine entry point the pipeline calls (deployWithClient, or a fake in tests). */
export type Engine = (
  client: ClusterClient,
  manifests: Manifest[],
  options: DeployClusterOptions
) => Promise<ClusterResult>

/**
 * What one cluster's pipeline runs: the request's cluster section as it is, with who runs it
 * (the lock identity, the run's URL) and the run's parsed label selection added.
 */
export type PipelineSettings = ClusterSection & {
  readonly heartbeatMs?: number
  /**
   * The run's label selection: only matching manifests are deployed, and prune only ever
   * deletes live objects whose labels match. The pipeline is given every manifest of the
   * cluster, so nothing the manifests hold is ever a prune candidate, selected or not.
   */
  readonly selector?: readonly Requirement[]
  readonly lock: {
    readonly identity: string
    readonly description: string
    readonly leaseSeconds?: number
  }
  readonly version: { readonly runUrl?: string }
}

export interface PipelineDeps {
  readonly engine: Engine
  readonly log: DeployLog
  readonly redactor: Redactor
  readonly clock: Clock
  readonly signal?: AbortSignal
  /**
   * The cluster's deadline (the client's requests are bounded by it too): the engine's apply
   * and wait end there, and the clean-up after it (rollback, settling the inventory,
   * releasing the lock) has until `cleanUpAt()`.
   */
  readonly deadline?: ClusterDeadline
}

type Finish = (r: Omit<ClusterResult, 'cluster' | 'durationMs'>) => ClusterResult

/** Deploys one cluster with everything the fleet adds around the engine. */
export async function runClusterPipeline(
  client: ClusterClient,
  manifests: readonly Manifest[],
  settings: PipelineSettings,
  deps: PipelineDeps
): Promise<ClusterResult> {
  const started = deps.clock.now()
  const finish: Finish = (r) => ({
    cluster: client.cluster,
    durationMs: deps.clock.now() - started,
    ...r,
    ...(r.reason ? { reason: deps.redactor.scrub(r.reason) } : {})
  })
  if (settings.prune.enabled && manifests.length === 0)
    return finish({
      outcome: 'failed',
      changes: [],
      failures: [],
      reason:
        'refusing to prune: the manifest set for this cluster is empty (that would delete everything kit deployed)'
    })
  const selected = settings.selector ? filterBySelector(manifests, settings.selector) : manifests
  checkFastRollbackWait(planFastRollback(selected, settings.strategy), settings)

  // Where every object lives, from discovery, while the lock is taken: identities, the
  // inventory and prune all compare resolved objects.
  const resolving = resolveNamespaces(client, selected)
  resolving.catch(() => undefined)
  let lock: LockHandle | undefined
  if (!settings.dryRun) {
    // Creates kit-system too when it is missing.
    lock = await acquireLock(client, {
      ...settings.lock,
      clock: deps.clock,
      log: deps.log,
      signal: deps.signal,
      deadline: deps.deadline
    })
  }
  try {
    let resolved: Manifest[]
    try {
      resolved = await resolving
    } catch (err) {
      if (!(err instanceof InputError || isUnknownKind(err))) throw err
      // Refused before anything was written: the inventory is left as it was.
      return finish({ outcome: 'failed', changes: [], failures: [], reason: errorText(err) })
    }
    return await deployLocked(client, manifests, resolved, settings, deps, lock, finish)
  } finally {
    await lock
      ?.release(cleanUpClient(client, deps.deadline))
      .catch((err: unknown) =>
        deps.log.warning(`could not release the deploy lock: ${errorText(err)}`)
      )
  }
}

/**
 * What this cluster's deploy will do, as far as the manifests alone decide it, computed before
 * any request: the rollout the strategy asks for, the Deployments that may be leaving
 * fast-rollback, and the inventory of this run's objects (what the ApplySet parent is widened
 * by before the first apply).
 */
interface DeployPlan {
  /** Inventory name (ApplySet parent and version record); undefined for kit's default. */
  readonly inv: string | undefined
  readonly rollout: FastRollbackPlan
  readonly leaving: LeavingCandidate[]
  /** The inventory of this run's manifests, namespaces resolved. */
  readonly current: InventoryEntry[]
}

/** The checks that run beside the engine's first reads. */
interface Checks {
  /** The version guard and the widened parent (or why the deploy is refused). */
  readonly checked: Promise<Checked | { refusal: string }>
  /** Deployments leaving fast-rollback, confirmed from the inventory. */
  readonly transitions: Promise<LeavingFastRollback[]>
  /** The engine's write gate: true when the checks passed and no transition was found. */
  readonly passed: Promise<boolean>
}

/** The first engine run, once the checks are known to have passed. */
interface FirstDeploy {
  readonly first: ClusterResult
  readonly checked: Checked
  readonly transitions: LeavingFastRollback[]
  /** The rollout with the Services of leaving Deployments held back for the second run. */
  readonly staged: Pick<FastRollbackPlan, 'first' | 'switched'>
}

/**
 * The deploy under the lock, once every selected object's namespace is known: plan, check and
 * widen beside the first apply, switch Services of a strategy transition, clean up old
 * fast-rollback versions, prune, record.
 */
async function deployLocked(
  client: ClusterClient,
  all: readonly Manifest[],
  resolved: Manifest[],
  settings: PipelineSettings,
  deps: PipelineDeps,
  lock: LockHandle | undefined,
  finish: Finish
): Promise<ClusterResult> {
  const { log } = deps
  const plan = planDeploy(resolved, settings)
  const options = engineOptions(settings, deps, lock, plan.inv)
  const deployed = await deployFirst(client, plan, startChecks(client, plan, settings, log), {
    engine: deps.engine,
    options,
    log
  })
  if ('refusal' in deployed)
    return finish({ outcome: 'skipped', changes: [], failures: [], reason: deployed.refusal })
  const { first, checked } = deployed
  const cleanUp = () => cleanUpClient(client, deps.deadline) ?? client.detached?.() ?? client
  if (!succeeded(first)) {
    await settleInventory(cleanUp(), checked, settings.dryRun, plan.inv, log)
    return finish({ ...first, reason: first.reason ?? `${first.outcome}` })
  }
  const changes: ChangeEntry[] = [...first.changes]
  const removed: ChangeEntry[] = []

  const switched = await switchServices(client, plan, deployed, settings, deps.engine, options, log)
  changes.push(...switched.changes)
  removed.push(...switched.removed)
  if (switched.failed) {
    await settleInventory(cleanUp(), checked, settings.dryRun, plan.inv, log, removed)
    const reason = switched.failed.reason ?? 'switching Services failed'
    return finish({ ...switched.failed, changes, reason })
  }
  const cleanup = await cleanUpFastRollback(
    client,
    plan.rollout.deployments,
    settings.fastRollbackKeep,
    settings.dryRun,
    plan.inv,
    deps.clock
  )
  changes.push(...cleanup.changes)
  removed.push(...cleanup.changes.filter((c) => c.action === 'deleted'))
  const desired = unionInventory(checked.current, cleanup.retained)
  const { inventory, pruned, refusal } = await pruneAndList(
    client,
    all,
    checked,
    desired,
    removed,
    settings,
    log
  )
  changes.push(...pruned.map((o) => ({ ...o.entry, action: o.action, message: o.message })))
  if (!settings.dryRun)
    await recordDeploy(client, checked, inventory, settings, deps.clock, plan.inv)
  if (refusal) return finish({ outcome: 'failed', changes, failures: [], reason: refusal })
  const outcome = countChanged(changes) > 0 ? 'changed' : 'unchanged'
  return finish({ outcome, changes, failures: [] })
}

/** The plan of the manifests alone: no request. */
function planDeploy(resolved: Manifest[], settings: PipelineSettings): DeployPlan {
  const rollout = planFastRollback(resolved, settings.strategy)
  return {
    inv: settings.inventory || undefined,
    rollout,
    leaving: leavingCandidates(resolved, settings.strategy),
    current: inventoryOf([...rollout.first, ...rollout.switched].map((m) => m.object))
  }
}

/** The engine's options for every run of this cluster; aborted by the caller or a lost lock. */
function engineOptions(
  settings: PipelineSettings,
  deps: PipelineDeps,
  lock: LockHandle | undefined,
  inv: string | undefined
): DeployClusterOptions {
  const signals = [deps.signal, lock?.lost].filter((s): s is AbortSignal => s !== undefined)
  return {
    dryRun: settings.dryRun,
    wait: settings.wait,
    timeoutMs: settings.timeoutMs,
    failFast: settings.failFast,
    rollbackOnFailure: settings.rollbackOnFailure,
    watch: settings.watch,
    statefulStep: settings.statefulStep,
    labels: { ...(settings.labels ?? {}), [applySetPartOfLabel]: applySetIdFor(inv) },
    annotations: settings.annotations ? { ...settings.annotations } : undefined,
    log: deps.log,
    redactor: deps.redactor,
    signal: signals.length ? AbortSignal.any(signals) : undefined,
    heartbeatMs: settings.heartbeatMs,
    waitForLoadBalancers: settings.waitForLoadBalancers,
    clock: deps.clock,
    // Fixed by now: only the lock wait moves the deadline, and the lock is held.
    deadlineAt: deps.deadline?.at()
  }
}

/**
 * The client for what runs after the deploy's outcome (settling the inventory, releasing the
 * lock): without the run's signal, and bounded by the clean-up budget instead of the cluster's
 * deadline, which may have passed. Undefined when the pipeline runs without a deadline.
 */
function cleanUpClient(
  client: ClusterClient,
  deadline: ClusterDeadline | undefined
): ClusterClient | undefined {
  return deadline ? client.detached?.(deadline.cleanUpAt()) : undefined
}

/**
 * Starts the records' read, the version guard with the parent's widening, and the search for
 * Deployments leaving fast-rollback (no request unless the inventory lists their versions).
 * They run while the engine reads live state (one round trip less per cluster); the engine
 * writes nothing until they are done (its write gate).
 */
function startChecks(
  client: ClusterClient,
  plan: DeployPlan,
  settings: PipelineSettings,
  log: DeployLog
): Checks {
  const records = readRecords(client, plan.inv)
  const transitions = records.then((r) =>
    plan.leaving.length > 0
      ? findLeavingFastRollback(client, plan.leaving, r.parent.inventory, plan.inv)
      : []
  )
  transitions.catch(() => undefined)
  const checked = checkAndWiden(client, records, plan, settings, log)
  const passed = Promise.all([checked, transitions]).then(
    ([c, t]) => !('refusal' in c) && t.length === 0,
    () => false
  )
  return { checked, transitions, passed }
}

/**
 * The engine's first run, gated on the checks. A failed check is this cluster's error (thrown),
 * a refusal its skip, whatever the engine did meanwhile: it wrote nothing without them. A
 * transition found then restages the deploy with the leaving Deployments' Services held back.
 */
async function deployFirst(
  client: ClusterClient,
  plan: DeployPlan,
  checks: Checks,
  run: { engine: Engine; options: DeployClusterOptions; log: DeployLog }
): Promise<FirstDeploy | { refusal: string }> {
  let first = await run.engine(client, plan.rollout.first, {
    ...run.options,
    writeGate: () => checks.passed
  })
  const checked = await checks.checked
  if ('refusal' in checked) return checked
  const transitions = await checks.transitions
  const staged = holdBackLeavingServices(plan.rollout, transitions)
  if (transitions.length > 0) {
    run.log.info(
      `leaving fast-rollback: ${transitions.map((t) => t.name).join(', ')}; their Services switch once the new Deployments are ready`
    )
    first = await run.engine(client, staged.first, run.options)
  }
  return { first, checked, transitions, staged }
}

/**
 * The second half of a strategy transition: once the new Deployments are ready, the standby
 * versions go, the held-back Services switch to the new Deployments, then the versions that
 * served until now go. `failed` is the engine's result when switching failed.
 */
async function switchServices(
  client: ClusterClient,
  plan: DeployPlan,
  deployed: FirstDeploy,
  settings: PipelineSettings,
  engine: Engine,
  options: DeployClusterOptions,
  log: DeployLog
): Promise<{ changes: ChangeEntry[]; removed: ChangeEntry[]; failed?: ClusterResult }> {
  const { staged, transitions } = deployed
  const changes: ChangeEntry[] = []
  const removed: ChangeEntry[] = []
  if (staged.switched.length === 0) return { changes, removed }
  const standby = await removeLeftVersions(client, transitions, 'standby', settings.dryRun)
  removed.push(...standby)
  changes.push(...standby)
  const to = [...plan.rollout.deployments.map((d) => d.name), ...transitions.map((t) => t.name)]
  log.info(`switching ${plural(staged.switched.length, 'Service')} to ${to.join(', ')}`)
  const second = await engine(client, staged.switched, options)
  changes.push(...second.changes)
  if (!succeeded(second)) return { changes, removed, failed: second }
  const serving = await removeLeftVersions(client, transitions, 'serving', settings.dryRun)
  removed.push(...serving)
  changes.push(...serving)
  return { changes, removed }
}

/**
 * Records the inventory and the deployed commit: two independent objects, written at once;
 * both settle before the lock is released.
 */
async function recordDeploy(
  client: ClusterClient,
  checked: Checked,
  inventory: InventoryEntry[],
  settings: PipelineSettings,
  clock: Clock,
  inv: string | undefined
): Promise<void> {
  const commit = settings.version.commit
  const written = await Promise.allSettled([
    writeApplySetParent(client, checked.parentNow, inventory, inv),
    commit &&
      recordDeployState(
        client,
        checked.recorded,
        {
          commit,
          commitTime: settings.version.commitTime,
          runUrl: settings.version.runUrl,
          deployedAt: new Date(clock.now()).toISOString()
        },
        inv
      )
  ])
  for (const w of written) if (w.status === 'rejected') throw w.reason
}

function succeeded(result: ClusterResult): boolean {
  return result.outcome === 'changed' || result.outcome === 'unchanged'
}

/** The records a deploy reads first: the deployed-commit record and the ApplySet parent. */
interface Records {
  readonly recorded: Awaited<ReturnType<typeof readDeployState>>
  readonly parent: ApplySetParent
}

/** Both records at once: one round trip instead of two. */
async function readRecords(client: ClusterClient, inv: string | undefined): Promise<Records> {
  const [recorded, parent] = await Promise.all([
    readDeployState(client, inv),
    readApplySetParent(client, inv)
  ])
  return { recorded, parent }
}

/** What the checks before the first write found: the records as read, and the parent now. */
interface Checked {
  readonly recorded: Records['recorded']
  /** The inventory as read, normalized (namespaces resolved), without kinds no longer served. */
  readonly previous: InventoryEntry[]
  /** What the parent holds now (under the lock, nobody else writes it): no need to read it again. */
  readonly parentNow: ApplySetParent
  /** The inventory of this run's manifests, namespaces resolved. */
  readonly current: InventoryEntry[]
}

/**
 * The version guard, then the ApplySet parent widened to cover every member before any member is
 * applied (the ApplySet rule: a crash mid-apply never leaves an object labelled part-of a set
 * that does not list it). Members of kinds the cluster no longer serves are dropped here: there
 * is nothing of them left to delete.
 */
async function checkAndWiden(
  client: ClusterClient,
  records: Promise<Records>,
  plan: DeployPlan,
  settings: PipelineSettings,
  log: DeployLog
): Promise<Checked | { refusal: string }> {
  const { recorded, parent } = await records
  const decision = checkVersion(recorded, settings.version)
  if (!decision.allowed) return { refusal: decision.reason }
  if (decision.note) log.info(decision.note)

  const normalized = await normalizeInventory(client, parent.inventory)
  for (const e of normalized.unserved)
    log.warning(
      `the inventory lists ${e.kind} ${e.namespace ? `${e.namespace}/` : ''}${e.name}, but the cluster no longer serves ${e.kind} (${e.apiVersion}): nothing of it is left to delete; it leaves the inventory`
    )
  const widened = unionInventory(normalized.entries, plan.current)
  let parentNow = parent
  if (!settings.dryRun && (await writeApplySetParent(client, parent, widened, plan.inv)))
    parentNow = { ...parent, inventory: widened, exists: true }
  return { recorded, previous: normalized.entries, parentNow, current: plan.current }
}

/**
 * After a failed deploy, the parent lists what it held before plus what this run wrote and
 * still exists (a rollback deletes what it created): never an object that was not created.
 * A failure here is logged, not thrown: the deploy's own failure is the one to report. `client`
 * is the clean-up's (the run's signal may have aborted, its deadline passed).
 */
async function settleInventory(
  client: ClusterClient,
  checked: Checked,
  dryRun: boolean,
  inv: string | undefined,
  log: DeployLog,
  removed: readonly ChangeEntry[] = []
): Promise<void> {
  if (dryRun) return
  try {
    const before = new Set(checked.previous.map(entryKey))
    const gone = removedKeys(removed)
    const added = checked.current.filter((e) => !before.has(entryKey(e)))
    const kept = await existingEntries(client, added)
    const inventory = unionInventory(
      checked.previous.filter((e) => !gone.has(entryKey(e))),
      kept
    )
    await writeApplySetParent(client, checked.parentNow, inventory, inv)
  } catch (err) {
    log.warning(`could not settle the inventory after the failed deploy: ${errorText(err)}`)
  }
}

/**
 * Prunes (when enabled) and computes the inventory to record: what is deployed now, plus what
 * prune left in place on purpose (outside the selection, protected kinds, or everything when
 * the cap refused), so a later run can still prune it. Without prune nothing is deleted and
 * everything kit applied stays listed, so a later run with prune removes what left meanwhile.
 */
async function pruneAndList(
  client: ClusterClient,
  all: readonly Manifest[],
  checked: Checked,
  desired: readonly InventoryEntry[],
  removed: readonly ChangeEntry[],
  settings: PipelineSettings,
  log: DeployLog
): Promise<{ inventory: InventoryEntry[]; pruned: PruneOutcome[]; refusal?: string }> {
  const gone = removedKeys(removed)
  const previous = checked.previous.filter((e) => !gone.has(entryKey(e)))
  if (!settings.prune.enabled) return { inventory: unionInventory(previous, desired), pruned: [] }
  const wanted = wantedKeys(all, desired, defaultNamespaceOf(client))
  const fastRollbackBases = new Set(
    all
      .filter((m) => isFastRollbackDeployment(m.object, settings.strategy))
      .map((m) => m.object.metadata.name)
  )
  const plan = await planPrune(client, pruneCandidates(previous, wanted), {
    ...settings.prune,
    selector: settings.selector,
    inventoryName: settings.inventory || undefined,
    // Kept fast-rollback versions belong to their Deployment's clean-up, not to prune.
    managedElsewhere: (live) =>
      live.kind === 'Deployment' &&
      fastRollbackBases.has(live.metadata.labels?.[fastRollbackOfLabel] ?? '')
  })
  if (plan.refusal) log.warning(plan.refusal)
  const pruned = plan.refusal ? plan.skipped : await executePrune(client, plan, settings.dryRun)
  const forgotten = new Set(pruned.filter((o) => o.forget).map((o) => entryKey(o.entry)))
  return {
    inventory: unionInventory(
      previous.filter((e) => !forgotten.has(entryKey(e))),
      desired
    ),
    pruned,
    refusal: plan.refusal
  }
}

/**
 * Every object the cluster's manifests hold, selected or not, by identity. A manifest outside
 * the selection has not been resolved against discovery, so one without a namespace stands for
 * both readings (namespaced in the default namespace, or cluster-scoped): neither is pruned.
 */
function wantedKeys(
  all: readonly Manifest[],
  desired: readonly InventoryEntry[],
  defaultNamespace: string
): Set<string> {
  const keys = new Set(desired.map(entryKey))
  for (const { object } of all) {
    const ref = { apiVersion: object.apiVersion, kind: object.kind, name: object.metadata.name }
    const ns = object.metadata.namespace
    keys.add(keyOf({ ...ref, namespace: ns ?? defaultNamespace }))
    if (ns === undefined) keys.add(keyOf(ref))
  }
  return keys
}

/** Identities of Deployments a strategy clean-up or transition removed. */
function removedKeys(removed: readonly ChangeEntry[]): Set<string> {
  return new Set(
    removed
      .filter((c) => c.action === 'deleted')
      .map((c) =>
        entryKey({ apiVersion: 'apps/v1', kind: c.kind, namespace: c.namespace, name: c.name })
      )
  )
}

function isUnknownKind(err: unknown): boolean {
  return err instanceof KubeApiError && err.reason === 'UnknownKind'
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message.split('\n')[0] : String(err)
}
