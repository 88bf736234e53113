/**
 * The per-cluster deploy engine: prepare (defaults, scope, order, applied hash) → apply stage
 * by stage with server-side apply, writing only objects that are not provably unchanged →
 * wait for health → on failure, restore what ran before. Every message goes through the
 * redactor.
 *
 * Decisions worth knowing:
 * - Live state comes from one list per (apiVersion, kind, namespace) a stage touches (./live.ts),
 *   not a GET per object; objects in a namespace this run creates are absent without asking.
 * - Change detection needs no dry run: an object whose live copy carries the same
 *   `kit.dev/applied-hash` and equals the manifest in every field the manifest sets is
 *   unchanged, with no request at all (../../k8s/change.ts). Anything else is applied for real
 *   and judged by the result: equal to live (an SSA no-op does not write) means unchanged.
 * - A dry run (kit diff) keeps the server-side dry run for what is not provably unchanged, so
 *   its diffs show the server's defaults and its validation.
 * - Only objects this run changed are waited for; an unchanged object is not re-judged (an old
 *   problem is not this deploy's failure, and "unchanged" must stay cheap).
 * - Jobs are waited for until Complete (Argo CD's choice; kstatus does not wait). A Job whose
 *   pod template changed is deleted and created again (its template is immutable); any other
 *   immutable-field change fails with a message saying what to do.
 * - `kit.dev/depends-on`: dependents are applied after their dependencies, and with `wait` only
 *   once those are healthy. CRDs are always waited for (Established) before later stages.
 * - Rollback re-applies the previous live object of everything this run changed (newest
 *   first; a Deployment's old ReplicaSet scales back up), deletes what it created except
 *   Namespaces, CRDs and PersistentVolumeClaims (deleting those takes everything in them or
 *   their data, and a Namespace being deleted blocks the next run for a while), and does not
 *   re-run Jobs. After an abort it rolls back without waiting for health.
 */
import { isUnchanged, withAppliedHash, withoutAppliedHash } from '../../k8s/change.js'
import { comparable, isChanged, renderDiff } from '../../k8s/diff.js'
import { cloneObject, describeRef, groupOf, keyOf, refOf } from '../../k8s/identity.js'
import { resolveNamespaces } from '../../k8s/namespace.js'
import { indexByKindName, planStages, KindRank } from '../../k8s/order.js'
import {
  ClusterUnreachableError,
  KubeApiError,
  type ClusterClient,
  type KubeObject,
  type Manifest
} from '../../k8s/types.js'
import { createClusterClient } from '../../k8s/client/client.js'
import { abortReason, mapLimit, systemClock } from './clock.js'
import { mapEntryText, withDiffWhenRead } from './change-entry.js'
import type {
  ChangeEntry,
  ClusterResult,
  ClusterTarget,
  DeployClusterOptions,
  Failure
} from './types.js'
import { readLiveObjects, type LiveLookup } from './live.js'
import { autoscaledNotice, autoscaledWorkloads, withAutoscaledReplicas } from './autoscaled.js'
import { waitForHealth, type WaitTarget } from './wait.js'
import { plural } from '../../text/plural.js'

/** Objects applied at once within a stage. */
const applyConcurrency = 8
/** No-progress timer for controllers without a failure signal (PEERS.md §5.6 default). */
const noProgressMs = 300_000

/**
 * A manifest ready to apply: `object` (= `desired`) is the manifest with its namespace defaulted
 * and the run's labels and annotations added.
 */
interface Prepared extends Manifest {
  readonly desired: KubeObject
}

/** What the apply did to one object; kept for the wait and for rollback. */
interface Applied {
  readonly prepared: Prepared
  /** The object before this run (undefined: created by this run). */
  readonly previous: KubeObject | undefined
  readonly appliedGeneration?: number
  readonly recreated?: boolean
}

/** Deploys `manifests` to one cluster: apply in safe order, wait for health, roll back on failure. */
export async function deployCluster(
  target: ClusterTarget,
  manifests: Manifest[],
  options: DeployClusterOptions
): Promise<ClusterResult> {
  const client = createClusterClient(target.name, target.kubeConfig, {
    redactor: options.redactor,
    onRetry: (what, attempt, delay, err) =>
      options.log.debug(
        options.redactor.scrub(
          `${target.name}: ${what} failed (${err instanceof Error ? err.message.split('\n')[0] : String(err)}); retry ${attempt} in ${delay} ms`
        )
      )
  })
  try {
    return await deployWithClient(client, manifests, options)
  } finally {
    await client.close()
  }
}

/** The same engine over any ClusterClient (an in-memory fake in unit tests). */
export async function deployWithClient(
  client: ClusterClient,
  manifests: Manifest[],
  options: DeployClusterOptions
): Promise<ClusterResult> {
  const clock = options.clock ?? systemClock
  const started = clock.now()
  const deadline = started + options.timeoutMs
  const scrub = (s: string) => options.redactor.scrub(s)
  const label = client.cluster
  const log = {
    info: (m: string) => options.log.info(scrub(m)),
    warning: (m: string) => options.log.warning(scrub(m)),
    debug: (m: string) => options.log.debug(scrub(m))
  }
  for (const m of manifests) registerSecretValues(m.object, options.redactor)

  const changes: ChangeEntry[] = []
  const applied: Applied[] = []
  const finish = (
    outcome: ClusterResult['outcome'],
    failures: Failure[] = [],
    reason?: string,
    rolledBack?: boolean
  ): ClusterResult => ({
    cluster: client.cluster,
    outcome,
    // Every text that leaves the engine is scrubbed once more: API errors may echo values.
    changes: changes.map((c) => mapEntryText(c, scrub)),
    failures: failures.map((f) => ({
      ...f,
      message: scrub(f.message),
      events: f.events.map(scrub)
    })),
    durationMs: clock.now() - started,
    ...(reason ? { reason: scrub(reason) } : {}),
    ...(rolledBack ? { rolledBack } : {})
  })

  if (manifests.length === 0) return finish('unchanged')

  const waitOptions = {
    clock,
    log,
    pollMs: options.pollMs ?? 2_000,
    heartbeatMs: options.heartbeatMs ?? 20_000,
    failFast: options.failFast,
    signal: options.signal,
    waitForLoadBalancers: options.waitForLoadBalancers,
    noProgressMs,
    label,
    scrub
  }

  let failures: Failure[] = []
  let failureReason = ''
  try {
    // 1. Prepare: scope and namespace defaults from discovery, run labels and annotations.
    const prepared = await prepare(client, manifests, options)
    const autoscaled = autoscaledWorkloads(prepared.map((p) => p.desired))
    if (autoscaled.size > 0) log.info(`${label}: ${autoscaledNotice(autoscaled.values())}`)
    // Prepared objects carry their defaulted namespace: no namespace now means cluster-scoped.
    const stages = planStages(prepared, (o) => !o.metadata.namespace)
    if (options.wait) warnAboutProgressDeadlines(prepared, options.timeoutMs, log, label)

    // 2. Apply stage by stage.
    const context: ApplyContext = {
      client,
      all: prepared,
      dryRun: options.dryRun,
      absentNamespaces: new Set<string>(),
      log,
      label,
      clock,
      signal: options.signal,
      autoscaled
    }
    let live = new Map<string, LiveLookup>()
    let liveDepth = -1
    // Live state is read once per dependency depth, for all its stages at once: within a depth
    // nothing one stage applies changes what another reads (objects in a namespace this run
    // creates, and custom resources of a CRD it creates, sit one depth deeper). Without CRDs in
    // the run, every depth is read at once up front, and a deeper depth keeps that reading as
    // long as nothing before it changed — the common redeploy (an unchanged Namespace, then its
    // contents) then costs one round of reads instead of one per depth.
    const speculative =
      stages.length > 1 &&
      stages.at(-1)!.depth > 0 &&
      !prepared.some((p) => p.desired.kind === 'CustomResourceDefinition')
        ? await readLiveObjects(
            client,
            prepared.map((p) => p.desired),
            context.absentNamespaces
          )
        : undefined
    for (const [index, stage] of stages.entries()) {
      if (options.signal?.aborted) throw abortReason(options.signal)
      if (stage.depth !== liveDepth) {
        liveDepth = stage.depth
        const unchangedSoFar = changes.every((c) => c.action === 'unchanged')
        live =
          speculative && unchangedSoFar
            ? speculative
            : await readLiveObjects(
                client,
                stages
                  .filter((s) => s.depth === stage.depth)
                  .flatMap((s) => s.manifests.map((p) => p.desired)),
                context.absentNamespaces
              )
      }
      if (index === 0) {
        // The caller's checks ran beside the reads above; nothing is written unless they pass.
        if (options.writeGate && !(await options.writeGate()))
          return finish('skipped', [], 'stopped before writing anything')
        log.info(
          `${label}: ${options.dryRun ? 'dry run of' : 'applying'} ${plural(prepared.length, 'object')} in ${plural(stages.length, 'stage')}`
        )
      }
      const results = await mapLimit(stage.manifests, applyConcurrency, (p) =>
        applyOne(p, live.get(keyOf(p.desired)) ?? { live: undefined }, context)
      )
      for (const [i, r] of results.entries()) {
        changes.push(r.entry)
        if (r.applied) applied.push(r.applied)
        if (r.failure) failures.push(r.failure)
        // Whatever goes into a namespace that was not there before is absent: no need to ask.
        const desired = stage.manifests[i].desired
        if (desired.kind === 'Namespace' && r.entry.action === 'created')
          context.absentNamespaces.add(desired.metadata.name)
      }
      if (failures.length > 0) {
        failureReason = `${failures[0].object}: ${failures[0].message}`
        break
      }
      if (options.dryRun) continue
      const stageApplied = results.flatMap((r) => (r.applied ? [r.applied] : []))
      // CRDs must be established before their custom resources can be applied, even without wait.
      const crds = stageApplied.filter(
        (a) => a.prepared.desired.kind === 'CustomResourceDefinition'
      )
      if (stage.rank === KindRank.NamespacesAndCrds && crds.length > 0) {
        const w = await waitForHealth(client, crds.map(waitTarget), {
          ...waitOptions,
          deadline,
          since: started
        })
        client.resetDiscovery()
        if (!w.ok) {
          failures = w.failures
          failureReason = `CustomResourceDefinition not established: ${w.failures[0]?.message ?? ''}`
          break
        }
      }
      // Objects others depend on must be healthy before their dependents are applied.
      const next = stages[index + 1]
      if (options.wait && next && next.depth > stage.depth) {
        const sameDepth = applied.filter((a) =>
          stages.some((s) => s.depth === stage.depth && s.manifests.includes(a.prepared))
        )
        const w = await waitForHealth(client, sameDepth.map(waitTarget), {
          ...waitOptions,
          deadline,
          since: started
        })
        if (!w.ok) {
          failures = w.failures
          failureReason = summarize(w.failures, w.timedOut)
          break
        }
      }
    }

    if (failures.length === 0 && options.dryRun) {
      const changed = changes.some((c) => c.action !== 'unchanged')
      log.info(`${label}: dry run: ${countActions(changes)}; nothing was changed`)
      return finish(changed ? 'changed' : 'unchanged')
    }

    // 3. Wait for everything this run changed.
    if (failures.length === 0 && options.wait && applied.length > 0) {
      log.info(
        `${label}: waiting for ${plural(applied.length, 'changed object')} to become healthy`
      )
      const w = await waitForHealth(client, applied.map(waitTarget), {
        ...waitOptions,
        deadline,
        since: started
      })
      if (!w.ok) {
        failures = w.failures
        failureReason = summarize(w.failures, w.timedOut)
      }
    }
  } catch (err) {
    const message = err instanceof Error ? err.message.split('\n')[0] : String(err)
    const aborted = options.signal?.aborted ?? false
    failureReason =
      err instanceof ClusterUnreachableError
        ? message
        : aborted
          ? `aborted: ${message}`
          : `deploy failed: ${message}`
    if (failures.length === 0)
      failures = [
        {
          object: `cluster/${client.cluster}`,
          reason: aborted ? 'Aborted' : errorReason(err),
          message: scrub(message),
          events: []
        }
      ]
  }

  if (failures.length === 0) {
    const changed = changes.some((c) => c.action !== 'unchanged')
    log.info(`${label}: ${changed ? 'deployed' : 'no changes'}: ${countActions(changes)}`)
    return finish(changed ? 'changed' : 'unchanged')
  }

  for (const f of failures)
    log.warning(
      `${label}: ${f.object}${f.pod ? ` pod ${f.pod}` : ''}${f.container ? ` container ${f.container}` : ''}: ${f.reason}: ${f.message}` +
        (f.events.length ? `\n  ${f.events.join('\n  ')}` : '')
    )
  if (!options.rollbackOnFailure || options.dryRun || applied.length === 0)
    return finish('failed', failures, failureReason)

  // 4. Roll back what this run changed.
  log.warning(`${label}: rolling back ${plural(applied.length, 'object')} changed by this run`)
  try {
    const aborted = options.signal?.aborted ?? false
    // A client bound to the (now aborted) signal would refuse every request.
    const rollbackClient = aborted && client.detached ? client.detached() : client
    const restored = await rollback(rollbackClient, applied, log, label)
    if (!aborted && options.wait && restored.length > 0) {
      const w = await waitForHealth(rollbackClient, restored, {
        ...waitOptions,
        signal: undefined,
        // The rollback gets a budget of its own: what ran before must come back even if the
        // failed rollout used up the cluster's time.
        deadline: clock.now() + options.timeoutMs
      })
      if (!w.ok) {
        log.warning(
          `${label}: rollback did not become healthy: ${summarize(w.failures, w.timedOut)}`
        )
        return finish(
          'failed',
          failures,
          `${failureReason}; rollback did not become healthy: ${summarize(w.failures, w.timedOut)}`
        )
      }
    }
    log.info(`${label}: rolled back${aborted ? ' (not waited for: the deploy was aborted)' : ''}`)
    return finish('rolled-back', failures, `${failureReason}; rolled back`, true)
  } catch (err) {
    const message = err instanceof Error ? err.message.split('\n')[0] : String(err)
    log.warning(`${label}: rollback failed: ${message}`)
    return finish('failed', failures, `${failureReason}; rollback failed: ${message}`)
  }
}

/**
 * A Deployment's own failure signal is its progress deadline (API default 600 s). When that is
 * longer than the cluster's timeout, a stuck rollout that no pod rule catches ends as a timeout
 * instead of ProgressDeadlineExceeded: say so up front (PEERS.md §5.6). One warning per cluster,
 * naming a few: a fleet of 30 Deployments must not print 30 lines.
 */
function warnAboutProgressDeadlines(
  prepared: Prepared[],
  timeoutMs: number,
  log: { warning(m: string): void },
  label: string
): void {
  const timeoutSeconds = Math.round(timeoutMs / 1000)
  const over: string[] = []
  for (const p of prepared) {
    if (p.desired.kind !== 'Deployment') continue
    const seconds =
      (p.desired.spec as { progressDeadlineSeconds?: number } | undefined)
        ?.progressDeadlineSeconds ?? 600
    if (seconds * 1000 > timeoutMs) over.push(`${describeRef(p.desired)} (${seconds}s)`)
  }
  if (over.length === 0) return
  const named =
    over.length > 3 ? `${over.slice(0, 3).join(', ')} and ${over.length - 3} more` : over.join(', ')
  log.warning(
    `${label}: progressDeadlineSeconds longer than the cluster timeout (${timeoutSeconds}s) on ${plural(over.length, 'Deployment')}: ${named}; a stalled rollout there will be reported as a timeout`
  )
}

function waitTarget(a: Applied): WaitTarget {
  return { ref: refOf(a.prepared.desired), appliedGeneration: a.appliedGeneration }
}

/** Resolves every namespace (../../k8s/namespace.ts) and adds the run's labels and annotations. */
async function prepare(
  client: ClusterClient,
  manifests: Manifest[],
  options: DeployClusterOptions
): Promise<Prepared[]> {
  const resolved = await resolveNamespaces(client, manifests)
  return resolved.map((m) => {
    const desired = cloneObject(m.object)
    const meta = desired.metadata
    if (options.labels) meta.labels = { ...meta.labels, ...options.labels }
    if (options.annotations) meta.annotations = { ...meta.annotations, ...options.annotations }
    // The hash of exactly what is applied, so the next run can tell "unchanged" without asking.
    const stamped = withAppliedHash(desired)
    return { object: stamped, desired: stamped, source: m.source }
  })
}

interface ApplyOutcome {
  entry: ChangeEntry
  applied?: Applied
  failure?: Failure
}

/** What every applyOne of a run shares. */
interface ApplyContext {
  readonly client: ClusterClient
  readonly all: Prepared[]
  readonly dryRun: boolean
  /** Namespaces this run creates (or, in a dry run, would create): nothing is live in them. */
  readonly absentNamespaces: Set<string>
  readonly log: { info(m: string): void; debug(m: string): void }
  readonly label: string
  readonly clock: { now(): number; sleep(ms: number, signal?: AbortSignal): Promise<void> }
  readonly signal: AbortSignal | undefined
  /** Workloads whose replica count an HPA of this run owns: the live count is applied. */
  readonly autoscaled: ReadonlyMap<string, KubeObject>
}

const hashOnlyMessage =
  "no field changed but kit's change-detection annotation (kit.dev/applied-hash): the manifest changed in form, or was last applied by an older kit"

/**
 * Applies one object, given its live state: nothing when the live object provably is what the
 * manifest says (same applied hash, every field equal); otherwise a real server-side apply,
 * judged by comparing its result with what was live. In a dry run the apply is a server-side
 * dry run instead.
 */
async function applyOne(p: Prepared, lookup: LiveLookup, ctx: ApplyContext): Promise<ApplyOutcome> {
  const { client, log, label } = ctx
  const desired = withAutoscaledReplicas(p.desired, lookup.live, ctx.autoscaled)
  const id = describeRef(desired)
  const base = {
    kind: desired.kind,
    name: desired.metadata.name,
    ...(desired.metadata.namespace ? { namespace: desired.metadata.namespace } : {})
  }
  if (lookup.error !== undefined) {
    if (ctx.dryRun && comesWithThisRun(lookup.error, desired, ctx.all))
      return comesLater(base, desired)
    return failed(base, id, lookup.error)
  }
  const live = lookup.live
  if (isUnchanged(desired, live)) return { entry: { ...base, action: 'unchanged' } }
  if (ctx.dryRun) return dryRunOne(p, live, ctx, base, id)

  // Nothing live: the write is a create.
  if (!live) {
    try {
      const result = await client.apply(desired)
      log.debug(`${label}: ${id} created`)
      return {
        // Read only by the step summary: rendered if it is.
        entry: withDiffWhenRead({ ...base, action: 'created' }, () =>
          renderDiff(undefined, desired)
        ),
        applied: { prepared: p, previous: undefined, appliedGeneration: result.metadata.generation }
      }
    } catch (err) {
      return failed(base, id, err)
    }
  }

  let result: KubeObject
  try {
    result = await client.apply(desired)
  } catch (err) {
    if (isImmutableError(err) && desired.kind === 'Job') return recreateJob(p, live, ctx, base, id)
    if (isImmutableError(err)) return immutableFailure(base, id, err, desired.kind)
    return failed(base, id, err)
  }
  // A server-side apply that changes nothing does not write: the result equals what was live.
  if (!isChanged(live, result)) {
    log.debug(`${label}: ${id} unchanged (applied; the server found nothing to change)`)
    return { entry: { ...base, action: 'unchanged' } }
  }
  if (!isChanged(withoutAppliedHash(live), withoutAppliedHash(result))) {
    log.debug(`${label}: ${id}: ${hashOnlyMessage}`)
    // Nothing the workload runs changed: nothing to wait for, nothing to roll back.
    return { entry: { ...base, action: 'configured', message: hashOnlyMessage } }
  }
  log.debug(`${label}: ${id} configured`)
  return {
    entry: { ...base, action: 'configured', diff: renderDiff(live, result) },
    applied: { prepared: p, previous: live, appliedGeneration: result.metadata.generation }
  }
}

/** A dry run of one object that is not provably unchanged: what the server says it would do. */
async function dryRunOne(
  p: Prepared,
  live: KubeObject | undefined,
  ctx: ApplyContext,
  base: Omit<ChangeEntry, 'action'>,
  id: string
): Promise<ApplyOutcome> {
  const desired = withAutoscaledReplicas(p.desired, live, ctx.autoscaled)
  const ns = desired.metadata.namespace
  if (!live && ns !== undefined && ctx.absentNamespaces.has(ns)) return comesLater(base, desired)
  let predicted: KubeObject
  try {
    predicted = await ctx.client.apply(desired, { dryRun: true })
  } catch (err) {
    if (comesWithThisRun(err, desired, ctx.all)) return comesLater(base, desired)
    if (isImmutableError(err) && desired.kind === 'Job' && live)
      return {
        entry: {
          ...base,
          action: 'configured',
          diff: renderDiff(live, desired),
          message: "would delete and recreate the Job (a Job's pod template is immutable)"
        }
      }
    if (isImmutableError(err)) return immutableFailure(base, id, err, desired.kind)
    return failed(base, id, err)
  }
  if (!isChanged(live, predicted)) return { entry: { ...base, action: 'unchanged' } }
  if (live && !isChanged(withoutAppliedHash(live), withoutAppliedHash(predicted)))
    return { entry: { ...base, action: 'configured', message: `would write ${hashOnlyMessage}` } }
  return {
    entry: {
      ...base,
      action: live ? 'configured' : 'created',
      diff: renderDiff(live && comparable(live), predicted)
    }
  }
}

/** A dry-run entry for an object whose namespace or CRD this same run creates. */
function comesLater(base: Omit<ChangeEntry, 'action'>, desired: KubeObject): ApplyOutcome {
  return {
    entry: {
      ...base,
      action: 'created',
      diff: renderDiff(undefined, desired),
      message: 'its namespace or CRD is created by this deploy; diff computed from the manifest'
    }
  }
}

/** Deletes a Job whose pod template changed (immutable) and creates it again. */
async function recreateJob(
  p: Prepared,
  live: KubeObject,
  ctx: ApplyContext,
  base: Omit<ChangeEntry, 'action'>,
  id: string
): Promise<ApplyOutcome> {
  const { client, clock, signal, log, label } = ctx
  const desired = p.desired
  const ref = refOf(desired)
  log.info(
    `${label}: ${id}: the Job's pod template changed and is immutable: deleting the Job and its pods, then creating it again`
  )
  try {
    await client.delete(ref, { propagationPolicy: 'Foreground' })
    for (let i = 0; i < 120 && (await client.get(ref)); i++) await clock.sleep(500, signal)
    const created = await client.apply(desired)
    return {
      entry: {
        ...base,
        action: 'configured',
        diff: renderDiff(live, desired),
        message: 'deleted and recreated (Job template is immutable)'
      },
      applied: {
        prepared: p,
        previous: live,
        appliedGeneration: created.metadata.generation,
        recreated: true
      }
    }
  } catch (e) {
    return failed(base, id, e)
  }
}

function immutableFailure(
  base: Omit<ChangeEntry, 'action'>,
  id: string,
  err: KubeApiError,
  kind: string
): ApplyOutcome {
  return failed(
    base,
    id,
    err,
    `${immutableText(err)}; kit does not delete and recreate a ${kind} on its own: change the field back, rename the object, or delete it by hand`
  )
}

/** In a dry run, a 404 for a namespace or an unknown kind is expected when this run creates them. */
function comesWithThisRun(err: unknown, desired: KubeObject, all: Prepared[]): boolean {
  if (!(err instanceof KubeApiError) || err.statusCode !== 404) return false
  const lookup = indexByKindName(all)
  if (err.reason === 'UnknownKind')
    return lookup.crdFor(groupOf(desired.apiVersion), desired.kind) !== undefined
  const ns = desired.metadata.namespace
  return ns !== undefined && lookup.find('Namespace', undefined, ns) !== undefined
}

function isImmutableError(err: unknown): err is KubeApiError {
  return err instanceof KubeApiError && err.statusCode === 422 && /immutable/i.test(err.message)
}

function immutableText(err: KubeApiError): string {
  const fields = err.causes
    .filter((c) => /immutable/i.test(c.message ?? ''))
    .map((c) => c.field)
    .filter(Boolean)
  return fields.length > 0
    ? `immutable field${fields.length === 1 ? '' : 's'} changed: ${fields.join(', ')}`
    : `an immutable field changed (${err.message})`
}

function failed(
  base: Omit<ChangeEntry, 'action'>,
  id: string,
  err: unknown,
  message?: string
): ApplyOutcome {
  const text = message ?? (err instanceof Error ? err.message.split('\n')[0] : String(err))
  if (err instanceof ClusterUnreachableError) throw err
  return {
    entry: { ...base, action: 'failed', message: text },
    failure: { object: id, reason: errorReason(err), message: text, events: [] }
  }
}

function errorReason(err: unknown): string {
  if (err instanceof KubeApiError) return err.reason || `HTTP${err.statusCode}`
  if (err instanceof ClusterUnreachableError) return 'Unreachable'
  if (err instanceof Error && (err.name === 'AbortError' || err.name === 'TimeoutError'))
    return 'Aborted'
  return 'Error'
}

/** Kinds a rollback leaves in place even when this run created them, and why. */
const keptOnRollback = new Set(['Namespace', 'CustomResourceDefinition', 'PersistentVolumeClaim'])
const keptOnRollbackWhy: Record<string, string> = {
  Namespace:
    'deleting it would take everything in it, and a re-run would fail while it is terminating',
  CustomResourceDefinition: 'deleting it would delete every resource of its kind',
  PersistentVolumeClaim: 'deleting it may delete its volume and the data on it'
}

/**
 * Restores what ran before: objects this run created are deleted (newest first) except
 * Namespaces, CRDs and PersistentVolumeClaims, which are left and logged; objects it
 * changed get their previous spec back by server-side apply (for a Deployment that brings the
 * old ReplicaSet back up). Jobs are not re-run. Returns what to wait for.
 */
async function rollback(
  client: ClusterClient,
  applied: Applied[],
  log: { info(m: string): void; warning(m: string): void },
  label: string
): Promise<WaitTarget[]> {
  const restored: WaitTarget[] = []
  for (const a of [...applied].reverse()) {
    const desired = a.prepared.desired
    const id = describeRef(desired)
    if (!a.previous) {
      if (keptOnRollback.has(desired.kind)) {
        log.info(
          `${label}: rollback: left ${id} in place (created by this run): a rollback never deletes a ${desired.kind}, ${keptOnRollbackWhy[desired.kind]}; delete it by hand if it is not wanted`
        )
        continue
      }
      const deleted = await client.delete(refOf(desired), { propagationPolicy: 'Background' })
      log.info(
        `${label}: rollback: deleted ${id} (created by this run)${deleted ? '' : ' — already gone'}`
      )
      continue
    }
    if (desired.kind === 'Job') {
      log.info(
        `${label}: rollback: ${id} left as is (a Job runs once; its previous run is not repeated)`
      )
      continue
    }
    const result = await client.apply(restorable(a.previous))
    log.info(`${label}: rollback: restored the previous ${id}`)
    restored.push({ ref: refOf(desired), appliedGeneration: result.metadata.generation })
  }
  return restored
}

/** The previous live object as an apply body: no server-managed metadata, no status. */
function restorable(previous: KubeObject): KubeObject {
  const o = comparable(previous)
  const meta = o.metadata
  for (const k of ['deletionTimestamp', 'deletionGracePeriodSeconds']) delete meta[k]
  if (meta.annotations) {
    delete meta.annotations['deployment.kubernetes.io/revision']
    if (Object.keys(meta.annotations).length === 0) delete meta.annotations
  }
  return o
}

function summarize(failures: Failure[], timedOut: boolean): string {
  const f = failures[0]
  if (!f) return timedOut ? 'timed out' : 'failed'
  const where = [f.object, f.pod && `pod ${f.pod}`, f.container && `container ${f.container}`]
    .filter(Boolean)
    .join(' ')
  return `${where}: ${f.reason}: ${f.message}${failures.length > 1 ? ` (and ${failures.length - 1} more)` : ''}`
}

function countActions(changes: ChangeEntry[]): string {
  const counts = new Map<string, number>()
  for (const c of changes) counts.set(c.action, (counts.get(c.action) ?? 0) + 1)
  return [...counts.entries()].map(([a, n]) => `${n} ${a}`).join(', ') || 'nothing to do'
}

/** Secret values (base64 and decoded) are registered so no log, diff or error can show them. */
function registerSecretValues(
  object: KubeObject,
  redactor: { add(v: string | undefined): void }
): void {
  if (object.kind !== 'Secret') return
  const data = (object.data ?? {}) as Record<string, unknown>
  for (const v of Object.values(data))
    if (typeof v === 'string') {
      redactor.add(v)
      redactor.add(Buffer.from(v, 'base64').toString('utf8'))
    }
  const stringData = (object.stringData ?? {}) as Record<string, unknown>
  for (const v of Object.values(stringData))
    if (typeof v === 'string') {
      redactor.add(v)
      redactor.add(Buffer.from(v, 'utf8').toString('base64'))
    }
}
