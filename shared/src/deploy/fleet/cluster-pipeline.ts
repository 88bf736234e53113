/**
 * Everything the fleet does around the engine for one cluster, in order: take the lock,
 * check the version guard, mark ownership (ApplySet), deploy (with the fast-rollback switch
 * when asked), prune, record the deployed commit, release the lock. Nothing after a failed
 * deploy runs: no prune, no state record.
 */
import { InputError } from '../../errors.js'
import type { ClusterClient } from '../../k8s/types.js'
import type { Redactor } from '../../secrets/redact.js'
import type {
  ChangeEntry,
  Clock,
  ClusterResult,
  DeployClusterOptions,
  DeployLog,
  Manifest
} from '../cluster/types.js'
import {
  applySetPartOfLabel,
  executePrune,
  inventoryOf,
  applySetIdFor,
  planPrune,
  readApplySetParent,
  unionInventory,
  writeApplySetParent,
  entryKey,
  type ApplySetParent,
  type InventoryEntry
} from './applyset.js'
import { cleanUpFastRollback, planFastRollback, type Strategy } from './fast-rollback.js'
import { acquireLock, type LockHandle } from './lock.js'
import { countChanged } from './types.js'
import {
  checkVersion,
  readDeployState,
  recordDeployState,
  type VersionIntent
} from './version-guard.js'
import { plural } from '../../text/plural.js'

/** The engine entry point the pipeline calls (deployWithClient, or a fake in tests). */
export type Engine = (
  client: ClusterClient,
  manifests: Manifest[],
  options: DeployClusterOptions
) => Promise<ClusterResult>

export interface PipelineSettings {
  readonly dryRun: boolean
  readonly wait: boolean
  readonly timeoutMs: number
  readonly failFast: DeployClusterOptions['failFast']
  readonly rollbackOnFailure: boolean
  readonly waitForLoadBalancers?: boolean
  readonly heartbeatMs?: number
  readonly prune: {
    readonly enabled: boolean
    readonly max: number
    readonly allowKinds: readonly string[]
  }
  readonly strategy: Strategy
  /** Previous fast-rollback versions kept per Deployment. */
  readonly fastRollbackKeep: number
  readonly lock: {
    readonly identity: string
    readonly description: string
    readonly waitMs: number
    readonly leaseSeconds?: number
  }
  readonly version: VersionIntent & { readonly runUrl?: string }
  /** Inventory name (ApplySet parent and version record); '' or undefined for kit's default. */
  readonly inventory?: string
  /** Extra labels / annotations on every applied object. */
  readonly labels?: Readonly<Record<string, string>>
  readonly annotations?: Readonly<Record<string, string>>
}

export interface PipelineDeps {
  readonly engine: Engine
  readonly log: DeployLog
  readonly redactor: Redactor
  readonly clock: Clock
  readonly signal?: AbortSignal
}

/** Deploys one cluster with everything the fleet adds around the engine. */
export async function runClusterPipeline(
  client: ClusterClient,
  manifests: readonly Manifest[],
  settings: PipelineSettings,
  deps: PipelineDeps
): Promise<ClusterResult> {
  const { clock, log } = deps
  const started = clock.now()
  const cluster = client.cluster
  const finish = (r: Omit<ClusterResult, 'cluster' | 'durationMs'>): ClusterResult => ({
    cluster,
    durationMs: clock.now() - started,
    ...r,
    ...(r.reason ? { reason: deps.redactor.scrub(r.reason) } : {})
  })
  if (settings.prune.enabled && manifests.length === 0) {
    return finish({
      outcome: 'failed',
      changes: [],
      failures: [],
      reason:
        'refusing to prune: the manifest set for this cluster is empty (that would delete everything kit deployed)'
    })
  }
  if (settings.strategy === 'fast-rollback' && !settings.wait && !settings.dryRun)
    throw new InputError(
      'the fast-rollback strategy needs wait: traffic switches only to a healthy Deployment'
    )
  const plan = planFastRollback(manifests, settings.strategy)
  if (plan.deployments.length > 0 && !settings.wait && !settings.dryRun)
    throw new InputError(
      `fast-rollback Deployments (${plan.deployments.map((d) => d.baseName).join(', ')}) need wait: traffic switches only to a healthy Deployment`
    )

  // Every discovery document the engine will need, fetched at once rather than one by one as it
  // first asks (failures surface where they matter). The lock's Lease and the records'
  // ConfigMaps are stable built-ins that need none (k8s/client/builtin-resources.ts).
  const kinds = new Map<string, string>()
  for (const m of manifests)
    if (!kinds.has(m.object.apiVersion)) kinds.set(m.object.apiVersion, m.object.kind)
  for (const [apiVersion, kind] of kinds)
    void client.isNamespaced(apiVersion, kind).catch(() => undefined)

  let lock: LockHandle | undefined
  if (!settings.dryRun) {
    // Creates kit-system too when it is missing.
    lock = await acquireLock(client, {
      identity: settings.lock.identity,
      description: settings.lock.description,
      waitMs: settings.lock.waitMs,
      leaseSeconds: settings.lock.leaseSeconds,
      clock,
      log,
      signal: deps.signal
    })
  }
  try {
    const inv = settings.inventory || undefined
    // The fleet's checks run while the engine reads live state: one round trip less per
    // cluster. The engine writes nothing until they pass (its write gate).
    const checks = checkAndWiden(client, plan, settings, inv, log)
    const passed = checks.then(
      (c) => !('refusal' in c),
      () => false
    )

    const signals = [deps.signal, lock?.lost].filter((s): s is AbortSignal => s !== undefined)
    const options: DeployClusterOptions = {
      dryRun: settings.dryRun,
      wait: settings.wait,
      timeoutMs: settings.timeoutMs,
      failFast: settings.failFast,
      rollbackOnFailure: settings.rollbackOnFailure,
      labels: { ...(settings.labels ?? {}), [applySetPartOfLabel]: applySetIdFor(inv) },
      annotations: settings.annotations ? { ...settings.annotations } : undefined,
      log,
      redactor: deps.redactor,
      signal: signals.length ? AbortSignal.any(signals) : undefined,
      heartbeatMs: settings.heartbeatMs,
      waitForLoadBalancers: settings.waitForLoadBalancers,
      clock
    }
    const first = await deps.engine(client, plan.first, { ...options, writeGate: () => passed })
    // A failed check is this cluster's error (thrown), a refusal its skip, whatever the engine did
    // meanwhile: it wrote nothing without them.
    const checked = await checks
    if ('refusal' in checked)
      return finish({ outcome: 'skipped', changes: [], failures: [], reason: checked.refusal })
    const { recorded, parent, parentNow, current } = checked
    if (first.outcome !== 'changed' && first.outcome !== 'unchanged')
      return finish({ ...first, reason: first.reason ?? `${first.outcome}` })
    const changes: ChangeEntry[] = [...first.changes]

    if (plan.switched.length > 0) {
      log.info(
        `switching ${plural(plan.switched.length, 'Service')} to ${plan.deployments.map((d) => d.name).join(', ')}`
      )
      const second = await deps.engine(client, plan.switched, options)
      changes.push(...second.changes)
      if (second.outcome !== 'changed' && second.outcome !== 'unchanged')
        return finish({ ...second, changes, reason: second.reason ?? 'switching Services failed' })
    }
    const cleanup = await cleanUpFastRollback(
      client,
      plan.deployments,
      settings.fastRollbackKeep,
      settings.dryRun,
      inv
    )
    changes.push(...cleanup.changes)
    const removed = new Set(
      cleanup.changes
        .filter((c) => c.action === 'deleted')
        .map((c) =>
          entryKey({ apiVersion: 'apps/v1', kind: c.kind, namespace: c.namespace, name: c.name })
        )
    )
    const desired = unionInventory(current, cleanup.retained)

    let inventory: InventoryEntry[]
    let pruneRefusal: string | undefined
    if (settings.prune.enabled) {
      const prunePlan = planPrune(
        parent.inventory.filter((e) => !removed.has(entryKey(e))),
        desired,
        settings.prune
      )
      pruneRefusal = prunePlan.refusal
      const outcomes = prunePlan.refusal
        ? []
        : await executePrune(client, prunePlan, settings.dryRun, inv)
      for (const o of outcomes) changes.push({ ...o.entry, action: o.action, message: o.message })
      const forgotten = new Set(outcomes.filter((o) => o.forget).map((o) => entryKey(o.entry)))
      // Kept in the inventory: what is deployed now, and what prune left in place on purpose
      // (protected kinds, or everything when the cap refused), so a later run can still prune it.
      inventory = unionInventory(
        parent.inventory.filter((e) => !forgotten.has(entryKey(e)) && !removed.has(entryKey(e))),
        desired
      )
    } else {
      // Without prune nothing is deleted, so everything kit ever applied stays in the inventory
      // and a later run with prune enabled can remove what left the manifests meanwhile.
      inventory = unionInventory(
        parent.inventory.filter((e) => !removed.has(entryKey(e))),
        desired
      )
    }
    if (!settings.dryRun) {
      const commit = settings.version.commit
      // Two independent objects, written at once; both settle before the lock is released.
      const written = await Promise.allSettled([
        writeApplySetParent(client, parentNow, inventory, inv),
        commit &&
          recordDeployState(
            client,
            recorded,
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
    const changed = countChanged(changes) > 0
    if (pruneRefusal)
      return finish({ outcome: 'failed', changes, failures: [], reason: pruneRefusal })
    return finish({ outcome: changed ? 'changed' : 'unchanged', changes, failures: [] })
  } finally {
    await lock
      ?.release()
      .catch((err: unknown) =>
        log.warning(
          `could not release the deploy lock: ${err instanceof Error ? err.message : String(err)}`
        )
      )
  }
}

/** What the checks before the first write found: the records as read, and the parent now. */
interface Checked {
  readonly recorded: Awaited<ReturnType<typeof readDeployState>>
  /** The parent as read (with `exists` set once this run wrote it). */
  readonly parent: ApplySetParent
  /** What the parent holds now (under the lock, nobody else writes it): no need to read it again. */
  readonly parentNow: ApplySetParent
  /** The inventory of this run's manifests. */
  readonly current: InventoryEntry[]
}

/**
 * The version guard, then the ApplySet parent widened to cover every member before any member is
 * applied (the spec: a crash mid-apply never leaves an object labelled part-of a set that does
 * not list it).
 */
async function checkAndWiden(
  client: ClusterClient,
  plan: ReturnType<typeof planFastRollback>,
  settings: PipelineSettings,
  inv: string | undefined,
  log: DeployLog
): Promise<Checked | { refusal: string }> {
  // Both records at once: one round trip instead of two.
  const [recorded, parentRead] = await Promise.all([
    readDeployState(client, inv),
    readApplySetParent(client, inv)
  ])
  const decision = checkVersion(recorded, settings.version)
  if (!decision.allowed) return { refusal: decision.reason }
  if (decision.note) log.info(decision.note)

  const current = inventoryOf([...plan.first, ...plan.switched].map((m) => m.object))
  const widened = unionInventory(parentRead.inventory, current)
  let parent = parentRead
  if (!settings.dryRun && (await writeApplySetParent(client, parentRead, widened, inv)))
    parent = { ...parentRead, exists: true }
  const parentNow = settings.dryRun ? parentRead : { ...parent, inventory: widened }
  return { recorded, parent, parentNow, current }
}
