/**
 * The rest of the StatefulSet step, once its first write went out with a partition
 * (./stateful-step.ts), in the apply phase, before anything that depends on the set:
 *
 * 1. once the controller has seen that write: no new revision (only labels, replicas or the
 *    like changed) — nothing moves, so straight to 3;
 * 2. the one ordinal above the partition must become Ready on the new revision (the health
 *    wait, failing fast on that one pod's crash loop or pull failure), then, with a watch
 *    window, hold for the window (./watch.ts);
 * 3. the manifest as written is applied: the partition goes back to the manifest's (none: 0)
 *    and the rest of the set rolls; the health wait and the window after it cover the whole set.
 *
 * A failure in 2 stops the deploy with the other ordinals untouched, and the usual rollback
 * follows (./rollback.ts, which also releases the pod the controller would wait for forever).
 */
import { describeRef, refOf } from '../../k8s/identity.js'
import { ClusterUnreachableError, type KubeObject, type ObjectRef } from '../../k8s/types.js'
import { errorReason, writeOutcome, type ApplyOutcome } from './apply-object.js'
import { firstLine, waitWithinBudget, type EngineRun, type Stopped } from './run.js'
import { sparedText, type StepStart } from './stateful-step.js'
import { watchChanged } from './watch.js'
import type { Failure } from './types.js'
import { degradedText, isGateEvidence } from './watch-state.js'

/**
 * Finishes the steps of one stage's StatefulSets side by side; what stopped any of them.
 * Each outcome's change entry and applied record in `run` are replaced by the last write's.
 */
export async function finishSteps(
  run: EngineRun,
  outcomes: readonly ApplyOutcome[]
): Promise<Stopped | undefined> {
  const stepped = outcomes.filter((o) => o.step !== undefined)
  const stopped = (await Promise.all(stepped.map((o) => finishStep(run, o)))).filter(
    (s): s is Stopped => s !== undefined
  )
  if (stopped.length === 0) return undefined
  return {
    failures: stopped.flatMap((s) => s.failures),
    reason: stopped.map((s) => s.reason).join('; ')
  }
}

async function finishStep(run: EngineRun, o: ApplyOutcome): Promise<Stopped | undefined> {
  const step = o.step as StepStart
  const { label, log } = run
  const id = describeRef(step.desired)
  const ref = refOf(step.desired)
  const p = step.partition
  const generation = step.result.metadata.generation
  const moves = await newRevision(run, ref, generation)
  if (moves) {
    log.info(`${label}: ${id}: updating ordinal ${p} first (partition ${p})`)
    const stopped = await firstOrdinal(run, step, ref, generation)
    if (stopped) {
      replaceEntry(run, o.entry, {
        ...o.entry,
        message: `stopped at the partition step: ${sparedText(p)}`
      })
      return stopped
    }
    log.info(`${label}: ${id}: ordinal ${p} healthy; updating the rest`)
  } else
    log.debug(
      `${label}: ${id}: no new revision (the pod template did not change): applying it as written`
    )

  let result: KubeObject
  try {
    result = await run.client.apply(step.desired)
  } catch (err) {
    if (err instanceof ClusterUnreachableError) throw err
    const message = `the write after the partition step failed: ${firstLine(err)}; ${moves ? `only ordinal ${p} updated` : 'no pod updated'}`
    replaceEntry(run, o.entry, { ...o.entry, message })
    return {
      failures: [{ object: id, reason: errorReason(err), message, events: [] }],
      reason: `${id}: ${message}`
    }
  }
  const last = writeOutcome(o.applied!.prepared, step.live, result, run)
  replaceEntry(
    run,
    o.entry,
    moves
      ? { ...last.entry, message: `ordinal ${p} first (partition ${p}), then the rest` }
      : last.entry
  )
  const i = run.applied.indexOf(o.applied!)
  if (i >= 0) {
    // Nothing changed after all (the partition was written and taken back): nothing to restore.
    if (last.applied) run.applied[i] = last.applied
    else run.applied.splice(i, 1)
  }
  return undefined
}

/**
 * Whether the controller made a new revision of the first write (read once it has seen that
 * write). A set that went away, or a controller that does not answer before the deadline, is
 * left to the health wait, which says what is wrong.
 */
async function newRevision(
  run: EngineRun,
  ref: ObjectRef,
  generation: number | undefined
): Promise<boolean> {
  for (;;) {
    const o = await run.client.get(ref)
    const s = (o?.status ?? {}) as {
      observedGeneration?: number
      updateRevision?: string
      currentRevision?: string
    }
    if (o && (s.observedGeneration ?? 0) >= (generation ?? 0) && s.updateRevision)
      return s.updateRevision !== s.currentRevision
    if (!o || run.clock.now() >= run.deadline) return true
    await run.clock.sleep(run.waitSettings.pollMs, run.options.signal)
  }
}

/**
 * The ordinal above the partition: Ready on the new revision, then held for the watch window.
 * Its one pod is the whole new revision, so one failing pod fails it, whatever the threshold.
 */
async function firstOrdinal(
  run: EngineRun,
  step: StepStart,
  ref: ObjectRef,
  generation: number | undefined
): Promise<Stopped | undefined> {
  const id = describeRef(ref)
  const p = step.partition
  const w = await waitWithinBudget(run, [{ ref, appliedGeneration: generation }], run.client, {
    ...run.waitSettings.failFast,
    threshold: 1
  })
  // The detail of each failure says where the rollout stopped, for the summary's failure list.
  const atStep = (failures: readonly Failure[]) =>
    failures.map((f) => ({
      ...f,
      message: `at the partition step, ${sparedText(p)}: ${f.message}`
    }))
  if (!w.ok) {
    const why = w.failures[0]?.reason ?? (w.timedOut ? 'Timeout' : 'failed')
    return {
      failures: atStep(w.failures),
      reason: `${id}: ordinal ${p} failed at the partition step (${why}); ${sparedText(p)}`
    }
  }
  const watched = await watchChanged(run, [step.desired])
  if (!watched) return undefined
  const evidence = run.degraded?.evidence[0]
  if (!run.degraded || !evidence)
    return {
      failures: atStep(watched.failures),
      reason: `${id}: stopped at the partition step: ${watched.reason}; ${sparedText(p)}`
    }
  const why = isGateEvidence(evidence) ? `metric gate ${evidence.gate}` : evidence.reason
  return {
    failures: atStep(watched.failures),
    reason: `${id}: ordinal ${p} ${degradedText(run.degraded.afterMs)} at the partition step (${why}); ${sparedText(p)}`
  }
}

/** Puts `next` where `entry` is in the run's change entries. */
function replaceEntry(
  run: EngineRun,
  entry: ApplyOutcome['entry'],
  next: ApplyOutcome['entry']
): void {
  const i = run.changes.indexOf(entry)
  if (i >= 0) run.changes[i] = next
}
