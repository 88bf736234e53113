/**
 * Applying one object, given its live state. Nothing is sent when the live object provably is
 * what the manifest says (same `kit.dev/applied-hash`, every field the manifest sets equal:
 * ../../k8s/change.ts); anything else is a real server-side apply judged by its result — equal
 * to live (an SSA no-op does not write) means unchanged. A dry run keeps the server-side dry
 * run for what is not provably unchanged, so its diffs show the server's defaults and its
 * validation. A Job whose pod template changed is deleted and created again (its template is
 * immutable); any other immutable-field change fails with a message saying what to do.
 */
import { isUnchanged, withoutAppliedHash } from '../../k8s/change.js'
import { comparable, isChanged, renderDiff } from '../../k8s/diff.js'
import { describeRef, groupOf, refOf } from '../../k8s/identity.js'
import { indexByKindName } from '../../k8s/order.js'
import {
  ClusterUnreachableError,
  KubeApiError,
  type ClusterClient,
  type KubeObject
} from '../../k8s/types.js'
import { withAutoscaledReplicas } from './autoscaled.js'
import { withDiffWhenRead } from './change-entry.js'
import type { LiveLookup } from './live.js'
import type { Prepared } from './prepare.js'
import type { ChangeEntry, Failure } from './types.js'
import { stepPartition, withStepPartition, type StepStart } from './stateful-step.js'
import type { WaitTarget } from './wait.js'

/** What the apply did to one object; kept for the wait and for rollback. */
export interface Applied {
  readonly prepared: Prepared
  /** The object before this run (undefined: created by this run). */
  readonly previous: KubeObject | undefined
  readonly appliedGeneration?: number
  readonly recreated?: boolean
}

/** What to wait for after writing `a`: the object, at the generation this run's write produced. */
export function waitTarget(a: Applied): WaitTarget {
  return { ref: refOf(a.prepared.desired), appliedGeneration: a.appliedGeneration }
}

export interface ApplyOutcome {
  entry: ChangeEntry
  applied?: Applied
  failure?: Failure
  /** A StatefulSet written with a partition: the step the apply phase still has to finish. */
  step?: StepStart
}

/** What every applyOne of a run shares. */
export interface ApplyContext {
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
  /** Whether a changed StatefulSet may roll its highest ordinal first (./stateful-step.ts). */
  readonly statefulStep?: boolean
}

const hashOnlyMessage =
  "no field changed but kit's change-detection annotation (kit.dev/applied-hash): the manifest changed in form, or was last applied by an older kit"

/**
 * Applies one object, given its live state: nothing when the live object provably is what the
 * manifest says (same applied hash, every field equal); otherwise a real server-side apply,
 * judged by comparing its result with what was live. In a dry run the apply is a server-side
 * dry run instead.
 */
export async function applyOne(
  p: Prepared,
  lookup: LiveLookup,
  ctx: ApplyContext
): Promise<ApplyOutcome> {
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

  // A changed StatefulSet may roll its highest ordinal first: the partition goes with the
  // first write, and the apply phase finishes the step (./stateful-step.ts).
  const partition = ctx.statefulStep ? stepPartition(desired, live) : undefined
  let result: KubeObject
  try {
    result = await client.apply(
      partition === undefined ? desired : withStepPartition(desired, partition)
    )
  } catch (err) {
    if (isImmutableError(err) && desired.kind === 'Job') return recreateJob(p, live, ctx, base, id)
    if (isImmutableError(err)) return immutableFailure(base, id, err, desired.kind)
    return failed(base, id, err)
  }
  if (partition !== undefined) {
    log.debug(`${label}: ${id} applied with partition ${partition}`)
    return {
      entry: { ...base, action: 'configured', diff: renderDiff(live, result) },
      applied: { prepared: p, previous: live, appliedGeneration: result.metadata.generation },
      step: { desired, live, partition, result }
    }
  }
  return writeOutcome(p, live, result, ctx)
}

/**
 * What a write to an existing object did, judged by comparing the server's result with what
 * was live: nothing, only kit's change-detection annotation, or a change to wait for and to
 * roll back on failure.
 */
export function writeOutcome(
  p: Prepared,
  live: KubeObject,
  result: KubeObject,
  ctx: Pick<ApplyContext, 'log' | 'label'>
): ApplyOutcome {
  const { log, label } = ctx
  const id = describeRef(result)
  const base = {
    kind: result.kind,
    name: result.metadata.name,
    ...(result.metadata.namespace ? { namespace: result.metadata.namespace } : {})
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

export function errorReason(err: unknown): string {
  if (err instanceof KubeApiError) return err.reason || `HTTP${err.statusCode}`
  if (err instanceof ClusterUnreachableError) return err.reason
  if (err instanceof Error && (err.name === 'AbortError' || err.name === 'TimeoutError'))
    return 'Aborted'
  return 'Error'
}
