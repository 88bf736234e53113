/**
 * The health wait: poll the applied objects, judge each with computeStatus (plus the pod
 * classifier for workloads' new revisions and a no-progress timer for controllers that never
 * report failure), print a heartbeat, and stop when all are healthy, one is Degraded, the
 * deadline passes or the signal aborts.
 */
import { aggregateHealth, waitDone } from '../../k8s/aggregate.js'
import { describeRef } from '../../k8s/identity.js'
import {
  classifyPod,
  desiredReplicas,
  failureThreshold,
  isPodWorkload,
  newRevisionPods,
  type PodProblem
} from '../../k8s/pods.js'
import { computeStatus, type Health, type StatusResult } from '../../k8s/status.js'
import {
  ClusterUnreachableError,
  type ClusterClient,
  type KubeObject,
  type ObjectRef
} from '../../k8s/types.js'
import { abortReason, mapLimit } from './clock.js'
import type { Clock, DeployLog, Failure } from './types.js'
import { plural } from '../../text/plural.js'

/** One object to wait for. */
export interface WaitTarget {
  readonly ref: ObjectRef
  /** metadata.generation returned by this run's apply. */
  readonly appliedGeneration?: number
}

export interface WaitOptions {
  readonly clock: Clock
  readonly log: DeployLog
  /** Epoch ms at which the wait gives up. */
  readonly deadline: number
  /**
   * Epoch ms the deadline counts from (the cluster's start), so "timed out after 30s" matches
   * the configured timeout rather than the part of it spent in this wait.
   */
  readonly since?: number
  readonly pollMs: number
  readonly heartbeatMs: number
  readonly failFast: { graceMs: number; unschedulableMs: number; threshold: number }
  readonly signal?: AbortSignal
  readonly waitForLoadBalancers?: boolean
  /** STS/DS/custom resources: Degraded when their status has not moved for this long. */
  readonly noProgressMs: number
  /** Prefix of log lines (the cluster name). */
  readonly label: string
  /** Scrubs secrets from every message. */
  readonly scrub: (s: string) => string
  /**
   * The client that reads once the deadline has passed — the last poll, and what describes
   * what did not become healthy — asked for then (the wait's own client may be bounded by that
   * very deadline); default: the wait's client.
   */
  readonly reporter?: () => ClusterClient
}

export interface WaitResult {
  readonly ok: boolean
  readonly timedOut: boolean
  readonly aborted: boolean
  readonly failures: Failure[]
  readonly statuses: Map<string, StatusResult>
}

/** Concurrent reads per poll. */
const readConcurrency = 16

/**
 * Kinds whose controllers never report failure themselves: only the no-progress timer can
 * call them Degraded (see docs/health-rules.md).
 */
const noProgressKinds = new Set(['StatefulSet', 'DaemonSet'])

/** What one wait remembers from poll to poll. */
interface WaitState {
  readonly started: number
  lastBeat: number
  /** The latest judgement of every target read so far, by describeRef. */
  readonly statuses: Map<string, StatusResult>
  /** When a pod's problem was first seen: a waiting reason must persist graceMs to fail. */
  readonly firstSeen: (key: string) => number
  /** When a target was first found missing (deleted by someone, or not created yet). */
  readonly missingSince: Map<string, number>
  /** A status-only controller's last status and since when it has not changed. */
  readonly progress: Map<string, { fingerprint: string; since: number }>
  /**
   * Healthy is final for this wait (it is judged only on a status for the current
   * generation), so settled objects are not read again: a wait over many objects costs reads
   * only for the few still moving.
   */
  readonly settled: Set<string>
}

/** One poll's reading: the objects as read (undefined when settled or missing) and the verdicts. */
interface Poll {
  readonly objects: (KubeObject | undefined)[]
  readonly healths: Health[]
  readonly failures: Failure[]
}

/** Pods and ReplicaSets of a namespace, listed at most once per poll. */
type PodsOf = (ns: string) => Promise<{ pods: KubeObject[]; replicaSets: KubeObject[] }>

/** Waits until every target is healthy, or one fails, or time runs out. */
export async function waitForHealth(
  client: ClusterClient,
  targets: readonly WaitTarget[],
  o: WaitOptions
): Promise<WaitResult> {
  const statuses = new Map<string, StatusResult>()
  if (targets.length === 0)
    return { ok: true, timedOut: false, aborted: false, failures: [], statuses }
  const state = newWaitState(o.clock, statuses)
  let last: Poll | undefined
  for (;;) {
    let poll: Poll
    try {
      // The last poll, at the deadline, reads through the reporter: the wait's own client may
      // be bounded by that very deadline.
      const reader = o.clock.now() >= o.deadline ? (o.reporter?.() ?? client) : client
      poll = await pollOnce(reader, targets, o, state)
    } catch (err) {
      // The cluster's time ran out while a poll was on the wire: that is this wait's timeout.
      if (!last || !isDeadline(err)) throw err
      return giveUp(client, targets, last.objects, o, state, o.clock.now())
    }
    last = poll
    const { done, failed } = waitDone(poll.healths)
    if (done)
      return { ok: !failed, timedOut: false, aborted: false, failures: poll.failures, statuses }
    const after = o.clock.now()
    heartbeat(o, state, targets.length, poll.healths, after)
    if (o.signal?.aborted || after >= o.deadline)
      return giveUp(client, targets, poll.objects, o, state, after)
    try {
      await o.clock.sleep(Math.min(o.pollMs, Math.max(0, o.deadline - after)), o.signal)
    } catch {
      // Aborted: the next round reports it.
    }
  }
}

function isDeadline(err: unknown): boolean {
  return err instanceof ClusterUnreachableError && err.reason === 'DeadlineExceeded'
}

function newWaitState(clock: Clock, statuses: Map<string, StatusResult>): WaitState {
  const started = clock.now()
  const firstSeenTimes = new Map<string, number>()
  return {
    started,
    lastBeat: started,
    statuses,
    firstSeen: (key) => {
      const t = firstSeenTimes.get(key)
      if (t !== undefined) return t
      firstSeenTimes.set(key, clock.now())
      return clock.now()
    },
    missingSince: new Map(),
    progress: new Map(),
    settled: new Set()
  }
}

/** Reads every target not yet settled and judges it. */
async function pollOnce(
  client: ClusterClient,
  targets: readonly WaitTarget[],
  o: WaitOptions,
  state: WaitState
): Promise<Poll> {
  const now = o.clock.now()
  const objects = await mapLimit(targets, readConcurrency, (t) =>
    state.settled.has(describeRef(t.ref)) ? Promise.resolve(undefined) : client.get(t.ref)
  )
  const podsOf = podLister(client)
  const failures: Failure[] = []
  const healths: Health[] = []
  await Promise.all(
    targets.map(async (t, i) => {
      const object = objects[i]
      const id = describeRef(t.ref)
      if (state.settled.has(id)) {
        healths.push('Healthy')
        return
      }
      const { result, problems } = await judge(t, object, now, o, state, podsOf)
      state.statuses.set(id, result)
      healths.push(result.status)
      if (result.status === 'Healthy') state.settled.add(id)
      // A Suspended object (paused Deployment, suspended Job) fails the wait: say which.
      if (result.status === 'Degraded' || result.status === 'Suspended')
        failures.push(...(await describeFailure(client, t.ref, object, result, problems, o)))
    })
  )
  return { objects, healths, failures }
}

/** Pods and ReplicaSets once per namespace per poll, only where a workload is still moving. */
function podLister(client: ClusterClient): PodsOf {
  const podsByNs = new Map<string, ReturnType<PodsOf>>()
  return (ns) => {
    let p = podsByNs.get(ns)
    if (!p) {
      p = Promise.all([
        client.list('v1', 'Pod', { namespace: ns }),
        client.list('apps/v1', 'ReplicaSet', { namespace: ns })
      ]).then(([pods, replicaSets]) => ({ pods, replicaSets }))
      podsByNs.set(ns, p)
    }
    return p
  }
}

/** One target's verdict: its own status, then its new revision's pods, then no progress. */
async function judge(
  t: WaitTarget,
  object: KubeObject | undefined,
  now: number,
  o: WaitOptions,
  state: WaitState,
  podsOf: PodsOf
): Promise<{ result: StatusResult; problems: PodProblem[] }> {
  const id = describeRef(t.ref)
  if (!object && !state.missingSince.has(id)) state.missingSince.set(id, now)
  const status = computeStatus(object, {
    now,
    appliedGeneration: t.appliedGeneration,
    missingSince: state.missingSince.get(id),
    waitForLoadBalancers: o.waitForLoadBalancers
  })
  const { result, problems } = await judgePods(t, object, status, now, o, state, podsOf)
  return { result: judgeProgress(id, object, result, now, o, state), problems }
}

/**
 * A workload still moving is Degraded once at least the failure threshold of its new
 * revision's pods are failing (the pod classifier, ../../k8s/pods.ts), without waiting for
 * its controller to give up.
 */
async function judgePods(
  t: WaitTarget,
  object: KubeObject | undefined,
  result: StatusResult,
  now: number,
  o: WaitOptions,
  state: WaitState,
  podsOf: PodsOf
): Promise<{ result: StatusResult; problems: PodProblem[] }> {
  if (
    !object ||
    !isPodWorkload(object.kind) ||
    result.status === 'Healthy' ||
    !observedCurrent(object, t.appliedGeneration) ||
    !object.metadata.namespace
  )
    return { result, problems: [] }
  const { pods, replicaSets } = await podsOf(object.metadata.namespace)
  const problems = newRevisionPods(object, replicaSets, pods)
    .map((p) =>
      classifyPod(p, {
        now,
        graceMs: o.failFast.graceMs,
        unschedulableMs: o.failFast.unschedulableMs,
        firstSeen: state.firstSeen,
        // A Job retries failed pods up to its backoffLimit; its Failed condition decides.
        failedPhaseIsFailure: object.kind !== 'Job'
      })
    )
    .filter((p): p is PodProblem => p !== undefined)
  const failing = problems.filter((p) => p.failing)
  const threshold = failureThreshold(o.failFast.threshold, desiredReplicas(object))
  if (result.status !== 'Degraded' && failing.length >= threshold)
    return {
      result: {
        status: 'Degraded',
        message: `${plural(failing.length, 'pod')} of the new revision failing: ${failing[0].reason}`
      },
      problems
    }
  return { result, problems }
}

/** A status-only controller whose status has not moved for noProgressMs is Degraded. */
function judgeProgress(
  id: string,
  object: KubeObject | undefined,
  result: StatusResult,
  now: number,
  o: WaitOptions,
  state: WaitState
): StatusResult {
  if (
    !object ||
    result.status !== 'Progressing' ||
    !(noProgressKinds.has(object.kind) || isCustom(object))
  )
    return result
  const fingerprint = JSON.stringify(object.status ?? {})
  const seen = state.progress.get(id)
  if (!seen || seen.fingerprint !== fingerprint) {
    state.progress.set(id, { fingerprint, since: now })
    return result
  }
  if (now - seen.since >= o.noProgressMs)
    return {
      status: 'Degraded',
      message: `no progress for ${Math.round((now - seen.since) / 1000)}s: ${result.message}`
    }
  return result
}

/** A progress line at least every heartbeatMs: what is still pending, the first five by name. */
function heartbeat(
  o: WaitOptions,
  state: WaitState,
  total: number,
  healths: Health[],
  after: number
): void {
  if (after - state.lastBeat < o.heartbeatMs) return
  state.lastBeat = after
  const pending = [...state.statuses.entries()].filter(([, s]) => s.status !== 'Healthy')
  o.log.info(
    o.scrub(
      `${o.label}: waiting for ${pending.length} of ${plural(total, 'object')} (${Math.round((after - state.started) / 1000)}s, worst: ${aggregateHealth(healths)}): ` +
        pending
          .slice(0, 5)
          .map(([id, s]) => `${id} ${s.message}`)
          .join('; ') +
        (pending.length > 5 ? `; and ${pending.length - 5} more` : '')
    )
  )
}

/** The deadline passed or the signal aborted: every target not healthy yet is a failure. */
async function giveUp(
  client: ClusterClient,
  targets: readonly WaitTarget[],
  objects: (KubeObject | undefined)[],
  o: WaitOptions,
  state: WaitState,
  after: number
): Promise<WaitResult> {
  const timedOut = !o.signal?.aborted
  const reader = o.reporter?.() ?? client
  const why = timedOut
    ? `timed out after ${Math.round((after - (o.since ?? state.started)) / 1000)}s`
    : abortReason(o.signal).message
  const out: Failure[] = []
  for (const [i, t] of targets.entries()) {
    const s = state.statuses.get(describeRef(t.ref))
    if (!s || s.status === 'Healthy') continue
    const f = await describeFailure(reader, t.ref, objects[i], s, [], o)
    out.push(
      ...f.map((x) => ({
        ...x,
        reason: timedOut ? 'Timeout' : 'Aborted',
        message: o.scrub(`${why}: ${x.message}`)
      }))
    )
  }
  return { ok: false, timedOut, aborted: !timedOut, failures: out, statuses: state.statuses }
}

/**
 * Whether the controller has seen the current spec. Until it has, "the new revision" (e.g. a
 * Deployment's revision annotation) may still name the previous one — right after a rollback,
 * that is the failing revision — so pods are not judged yet.
 */
function observedCurrent(o: KubeObject, appliedGeneration: number | undefined): boolean {
  const observed = (o.status as { observedGeneration?: unknown } | undefined)?.observedGeneration
  if (o.kind === 'Pod' || o.kind === 'Job') return true
  if (typeof observed !== 'number') return false
  return observed >= Math.max(appliedGeneration ?? 0, o.metadata.generation ?? 0)
}

function isCustom(o: KubeObject): boolean {
  return o.apiVersion.includes('.') && !o.apiVersion.includes('.k8s.io/')
}

/** Failure entries for a non-healthy object: its failing pods (or its own status), with Warning events. */
async function describeFailure(
  client: ClusterClient,
  ref: ObjectRef,
  object: KubeObject | undefined,
  status: StatusResult,
  problems: PodProblem[],
  o: WaitOptions
): Promise<Failure[]> {
  const id = describeRef(ref)
  const ns = ref.namespace
  const objectEvents = ns && object ? await warningEvents(client, ns, ref.kind, ref.name, o) : []
  const shown =
    problems.filter((p) => p.failing).length > 0 ? problems.filter((p) => p.failing) : problems
  if (shown.length === 0)
    return [
      {
        object: id,
        reason: reasonOf(status),
        message: o.scrub(status.message),
        events: objectEvents
      }
    ]
  const out: Failure[] = []
  for (const p of shown.slice(0, 3)) {
    const podEvents = ns ? await warningEvents(client, ns, 'Pod', p.pod, o) : []
    out.push({
      object: id,
      pod: p.pod,
      container: p.container,
      reason: p.reason,
      message: o.scrub(p.message),
      events: [...objectEvents, ...podEvents].slice(-8)
    })
  }
  return out
}

/** "ProgressDeadlineExceeded: ..." → "ProgressDeadlineExceeded"; otherwise the status name. */
function reasonOf(status: StatusResult): string {
  const m = /^([A-Z][A-Za-z]+):/.exec(status.message)
  return m ? m[1] : status.status
}

async function warningEvents(
  client: ClusterClient,
  ns: string,
  kind: string,
  name: string,
  o: WaitOptions
): Promise<string[]> {
  try {
    const events = await client.listEvents(ns, { kind, name })
    return events
      .filter((e) => e.type === 'Warning')
      .sort((a, b) => (a.lastTime < b.lastTime ? -1 : 1))
      .slice(-5)
      .map((e) =>
        o.scrub(`${kind}/${name}: ${e.reason}: ${e.message}${e.count > 1 ? ` (x${e.count})` : ''}`)
      )
  } catch {
    return []
  }
}
