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
  newRevisionPods,
  type PodProblem
} from '../../k8s/pods.js'
import { computeStatus, type Health, type StatusResult } from '../../k8s/status.js'
import type { ClusterClient, KubeObject, ObjectRef } from '../../k8s/types.js'
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

const workloadKinds = new Set([
  'Deployment',
  'StatefulSet',
  'DaemonSet',
  'ReplicaSet',
  'Job',
  'Pod'
])
/** Kinds whose controllers never report failure themselves (PEERS.md §5.3, §5.6). */
const noProgressKinds = new Set(['StatefulSet', 'DaemonSet'])

/** Waits until every target is healthy, or one fails, or time runs out. */
export async function waitForHealth(
  client: ClusterClient,
  targets: readonly WaitTarget[],
  o: WaitOptions
): Promise<WaitResult> {
  const statuses = new Map<string, StatusResult>()
  if (targets.length === 0)
    return { ok: true, timedOut: false, aborted: false, failures: [], statuses }
  const started = o.clock.now()
  let lastBeat = started
  const firstSeenTimes = new Map<string, number>()
  const missingSince = new Map<string, number>()
  const progress = new Map<string, { fingerprint: string; since: number }>()
  const firstSeen = (key: string) => {
    const t = firstSeenTimes.get(key)
    if (t !== undefined) return t
    firstSeenTimes.set(key, o.clock.now())
    return o.clock.now()
  }

  // Healthy is final for this wait (it is judged only on a status for the current generation),
  // so settled objects are not read again: a wait over many objects costs reads only for the
  // few still moving.
  const settled = new Set<string>()

  for (;;) {
    const now = o.clock.now()
    const objects = await mapLimit(targets, readConcurrency, (t) =>
      settled.has(describeRef(t.ref)) ? Promise.resolve(undefined) : client.get(t.ref)
    )
    // Pods and ReplicaSets once per namespace per poll, only where a workload is still moving.
    const podsByNs = new Map<string, Promise<{ pods: KubeObject[]; replicaSets: KubeObject[] }>>()
    const podsOf = (ns: string) => {
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

    const failures: Failure[] = []
    const healths: Health[] = []
    await Promise.all(
      targets.map(async (t, i) => {
        const object = objects[i]
        const id = describeRef(t.ref)
        if (settled.has(id)) {
          healths.push('Healthy')
          return
        }
        if (!object && !missingSince.has(id)) missingSince.set(id, now)
        let result = computeStatus(object, {
          now,
          appliedGeneration: t.appliedGeneration,
          missingSince: missingSince.get(id),
          waitForLoadBalancers: o.waitForLoadBalancers
        })
        let problems: PodProblem[] = []
        if (
          object &&
          workloadKinds.has(object.kind) &&
          result.status !== 'Healthy' &&
          observedCurrent(object, t.appliedGeneration) &&
          object.metadata.namespace
        ) {
          const { pods, replicaSets } = await podsOf(object.metadata.namespace)
          problems = newRevisionPods(object, replicaSets, pods)
            .map((p) =>
              classifyPod(p, {
                now,
                graceMs: o.failFast.graceMs,
                unschedulableMs: o.failFast.unschedulableMs,
                firstSeen,
                // A Job retries failed pods up to its backoffLimit; its Failed condition decides.
                failedPhaseIsFailure: object.kind !== 'Job'
              })
            )
            .filter((p): p is PodProblem => p !== undefined)
          const failing = problems.filter((p) => p.failing)
          const threshold = failureThreshold(o.failFast.threshold, desiredReplicas(object))
          if (result.status !== 'Degraded' && failing.length >= threshold)
            result = {
              status: 'Degraded',
              message: `${plural(failing.length, 'pod')} of the new revision failing: ${failing[0].reason}`
            }
        }
        if (
          object &&
          result.status === 'Progressing' &&
          (noProgressKinds.has(object.kind) || isCustom(object))
        ) {
          const fingerprint = JSON.stringify(object.status ?? {})
          const seen = progress.get(id)
          if (!seen || seen.fingerprint !== fingerprint)
            progress.set(id, { fingerprint, since: now })
          else if (now - seen.since >= o.noProgressMs)
            result = {
              status: 'Degraded',
              message: `no progress for ${Math.round((now - seen.since) / 1000)}s: ${result.message}`
            }
        }
        statuses.set(id, result)
        healths.push(result.status)
        if (result.status === 'Healthy') settled.add(id)
        // A Suspended object (paused Deployment, suspended Job) fails the wait: say which.
        if (result.status === 'Degraded' || result.status === 'Suspended')
          failures.push(...(await describeFailure(client, t.ref, object, result, problems, o)))
      })
    )

    const { done, failed } = waitDone(healths)
    if (done) return { ok: !failed, timedOut: false, aborted: false, failures, statuses }

    const after = o.clock.now()
    if (after - lastBeat >= o.heartbeatMs) {
      lastBeat = after
      const pending = [...statuses.entries()].filter(([, s]) => s.status !== 'Healthy')
      o.log.info(
        o.scrub(
          `${o.label}: waiting for ${pending.length} of ${plural(targets.length, 'object')} (${Math.round((after - started) / 1000)}s, worst: ${aggregateHealth(healths)}): ` +
            pending
              .slice(0, 5)
              .map(([id, s]) => `${id} ${s.message}`)
              .join('; ') +
            (pending.length > 5 ? `; and ${pending.length - 5} more` : '')
        )
      )
    }
    if (o.signal?.aborted || after >= o.deadline) {
      const timedOut = !o.signal?.aborted
      const why = timedOut
        ? `timed out after ${Math.round((after - (o.since ?? started)) / 1000)}s`
        : abortReason(o.signal).message
      const out: Failure[] = []
      for (const [i, t] of targets.entries()) {
        const s = statuses.get(describeRef(t.ref))
        if (!s || s.status === 'Healthy') continue
        const f = await describeFailure(client, t.ref, objects[i], s, [], o)
        out.push(
          ...f.map((x) => ({
            ...x,
            reason: timedOut ? 'Timeout' : 'Aborted',
            message: o.scrub(`${why}: ${x.message}`)
          }))
        )
      }
      return { ok: false, timedOut, aborted: !timedOut, failures: out, statuses }
    }
    try {
      await o.clock.sleep(Math.min(o.pollMs, Math.max(0, o.deadline - after)), o.signal)
    } catch {
      // Aborted: the next round reports it.
    }
  }
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
