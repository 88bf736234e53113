/**
 * The watch window's judgement, pure (./watch.ts feeds it from the watch streams): what the
 * streams showed of the changed workloads, their pods and the Warning events about them,
 * compared with how each was when first seen in the window, and the evidence once the window
 * is degraded. Time comes in as `now`; docs/deployer.md ("The watch window") lists the rules.
 *
 * - Restarts: summed per pod over its containers since first seen; more than `maxRestarts`
 *   is degraded (a crash loop shows as a restart first, so CrashLoopBackOff is judged here).
 * - OOMKilled: degraded at once, whatever `maxRestarts` says.
 * - A pod that failed (phase Failed: a container terminated with an error and is not
 *   restarted, an eviction), except a Job's pods (the Job's own Failed condition decides).
 * - Readiness lost, a container waiting in a failing reason (ImagePullBackOff, ErrImagePull,
 *   CreateContainerConfigError…), or a workload's available replicas below what it had
 *   reached: each must last `graceMs` (a probe that fails once is not a degraded release).
 * - A Job that fails, a changed workload that is deleted.
 * - Warning events about the changed objects and their pods during the window: more than
 *   `maxWarnings` occurrences is degraded.
 * - A metric gate's verdict that is not ok.
 */
import type { GateVerdict } from './metric-gate.js'
import { describeRef } from '../../k8s/identity.js'
import { isFailingWaitingReason } from '../../k8s/pods.js'
import { conditionsOf, containerStatuses, terminatedText } from '../../k8s/status.js'
import type { KubeObject, ObjectRef, WatchEvent } from '../../k8s/types.js'

/** Why the window is degraded: an object's state, or a metric gate's verdict. */
export type Evidence = ObjectEvidence | GateEvidence

export interface ObjectEvidence {
  /** `Pod/shop/api-7d9-x`, or the workload itself (`Deployment/shop/api`). */
  readonly object: string
  /** The changed object it concerns (`Deployment/shop/api`). */
  readonly workload: string
  readonly container?: string
  readonly reason: string
  /** `restarts 0→3, more than watch-max-restarts (0); last exit: exited with code 1 (Error)` */
  readonly detail: string
}

export interface GateEvidence {
  readonly gate: string
  readonly query: string
  readonly value: number | undefined
  readonly condition: string
  readonly error?: string
}

/** `degraded 47 s after healthy`: how reports name a degraded window. */
export function degradedText(afterMs: number): string {
  return `degraded ${Math.round(afterMs / 1000)} s after healthy`
}

export function isGateEvidence(e: Evidence): e is GateEvidence {
  return 'gate' in e
}

export interface WatchThresholds {
  readonly maxRestarts: number
  readonly maxWarnings: number
  /** How long lost readiness, a failing waiting reason or low availability may last. */
  readonly graceMs: number
}

/** A container as first seen in the window. */
interface ContainerMark {
  readonly restarts: number
  readonly waiting?: string
  readonly terminated?: string
}

interface PodEntry {
  readonly workload: string
  pod: KubeObject
  readonly base: ReadonlyMap<string, ContainerMark>
  readonly baseFailed: boolean
  /** Ready at some point in the window (or when first seen). */
  wasReady: boolean
  notReadySince?: number
  /** `container|reason` → when that failing waiting reason was first seen. */
  readonly waitingSince: Map<string, number>
}

interface WorkloadEntry {
  object?: KubeObject
  deleted: boolean
  /** The most available replicas seen in the window. */
  reached?: number
  lowSince?: number
  baseFailed?: boolean
}

interface EventEntry {
  event: KubeObject
  /** Occurrences before the window. */
  readonly base: number
}

/** What the window has seen so far. */
export interface WindowState {
  readonly startedAt: number
  readonly thresholds: WatchThresholds
  /** describeRef of every object this run changed: their Warning events count. */
  readonly changed: ReadonlySet<string>
  readonly pods: Map<string, PodEntry>
  /** `namespace/name` of every pod seen: their Warning events count. */
  readonly podNames: Set<string>
  readonly workloads: Map<string, WorkloadEntry>
  readonly events: Map<string, EventEntry>
  gates: readonly GateVerdict[]
}

export function newWindowState(
  startedAt: number,
  thresholds: WatchThresholds,
  changed: readonly ObjectRef[]
): WindowState {
  return {
    startedAt,
    thresholds,
    changed: new Set(changed.map(describeRef)),
    pods: new Map(),
    podNames: new Set(),
    workloads: new Map(),
    events: new Map(),
    gates: []
  }
}

/** A pod of `workload` (its describeRef) changed, appeared or went away. */
export function observePod(s: WindowState, workload: string, e: WatchEvent, now: number): void {
  const pod = e.object
  const key = pod.metadata.uid ?? `${pod.metadata.namespace}/${pod.metadata.name}`
  if (e.type === 'DELETED') {
    s.pods.delete(key)
    return
  }
  s.podNames.add(`${pod.metadata.namespace ?? ''}/${pod.metadata.name}`)
  let entry = s.pods.get(key)
  if (!entry) {
    entry = firstSight(s, workload, pod)
    s.pods.set(key, entry)
  }
  entry.pod = pod
  const ready = isReady(pod)
  if (ready) {
    entry.wasReady = true
    entry.notReadySince = undefined
  } else if (entry.wasReady) entry.notReadySince ??= now
  const waiting = new Set<string>()
  for (const c of containerStatuses(statusOf(pod))) {
    const reason = c.state?.waiting?.reason
    if (reason && isFailingWaitingReason(reason)) waiting.add(`${c.name}|${reason}`)
  }
  for (const k of entry.waitingSince.keys()) if (!waiting.has(k)) entry.waitingSince.delete(k)
  for (const k of waiting) if (!entry.waitingSince.has(k)) entry.waitingSince.set(k, now)
}

/**
 * A pod first seen: created before the window, as it is now; created during it (a
 * replacement, a scale-up), from scratch — its first restart is the window's.
 */
function firstSight(s: WindowState, workload: string, pod: KubeObject): PodEntry {
  const created = Date.parse(pod.metadata.creationTimestamp ?? '')
  const fresh = !Number.isNaN(created) && created >= secondOf(s.startedAt)
  const base = new Map<string, ContainerMark>()
  if (!fresh)
    for (const c of containerStatuses(statusOf(pod)))
      base.set(c.name, {
        restarts: c.restartCount ?? 0,
        waiting: c.state?.waiting?.reason,
        terminated: c.state?.terminated?.reason ?? c.lastState?.terminated?.reason
      })
  return {
    workload,
    pod,
    base,
    baseFailed: !fresh && statusOf(pod).phase === 'Failed',
    wasReady: isReady(pod),
    waitingSince: new Map()
  }
}

/** A changed workload changed or went away. */
export function observeWorkload(s: WindowState, id: string, e: WatchEvent, now: number): void {
  let entry = s.workloads.get(id)
  if (!entry) {
    entry = { deleted: false }
    s.workloads.set(id, entry)
  }
  if (e.type === 'DELETED') {
    entry.deleted = true
    return
  }
  const o = e.object
  entry.deleted = false
  entry.object = o
  const failed = jobFailure(o) !== undefined
  entry.baseFailed ??= failed
  const r = replicasOf(o)
  if (!r) return
  entry.reached = Math.max(entry.reached ?? r.available, r.available)
  const low = r.available < Math.min(entry.reached, r.desired)
  if (!low) entry.lowSince = undefined
  else entry.lowSince ??= now
}

/** A Warning event in one of the changed objects' namespaces. */
export function observeEvent(s: WindowState, e: WatchEvent): void {
  if (e.type === 'DELETED') return
  const key = e.object.metadata.uid ?? `${e.object.metadata.namespace}/${e.object.metadata.name}`
  const entry = s.events.get(key)
  if (entry) entry.event = e.object
  else s.events.set(key, { event: e.object, base: occurrencesBefore(e.object, s.startedAt) })
}

/** The latest verdicts of the metric gates. */
export function observeGates(s: WindowState, verdicts: readonly GateVerdict[]): void {
  s.gates = verdicts
}

/** Everything that makes the window degraded now; empty while it holds. */
export function judgeWindow(s: WindowState, now: number): Evidence[] {
  const out: Evidence[] = []
  const pods = [...s.pods.values()].sort((a, b) =>
    a.pod.metadata.name.localeCompare(b.pod.metadata.name)
  )
  for (const p of pods) out.push(...judgePod(p, s.thresholds, now))
  for (const [id, w] of [...s.workloads.entries()].sort(([a], [b]) => a.localeCompare(b)))
    out.push(...judgeWorkload(id, w, s.thresholds, now))
  const warnings = judgeWarnings(s)
  if (warnings) out.push(warnings)
  for (const v of s.gates)
    if (!v.ok)
      out.push({
        gate: v.gate,
        query: v.query,
        value: v.value,
        condition: v.condition,
        ...(v.error ? { error: v.error } : {})
      })
  return out
}

/**
 * The next time after `now` at which a condition that must last `graceMs` makes the window
 * degraded (lost readiness, a failing wait, low availability); undefined: none pending.
 */
export function nextDue(s: WindowState, now: number): number | undefined {
  const since: number[] = []
  for (const p of s.pods.values()) {
    if (p.pod.metadata.deletionTimestamp) continue
    if (p.notReadySince !== undefined) since.push(p.notReadySince)
    for (const [key, t] of p.waitingSince) if (countsAsWaiting(p, key)) since.push(t)
  }
  for (const w of s.workloads.values()) if (w.lowSince !== undefined) since.push(w.lowSince)
  const due = since.map((t) => t + s.thresholds.graceMs).filter((t) => t > now)
  return due.length ? Math.min(...due) : undefined
}

/**
 * Whether a failing waiting reason (`container|reason`) is the window's: a crash loop is
 * judged by its restarts, and a reason the pod had when first seen is old.
 */
function countsAsWaiting(p: PodEntry, key: string): boolean {
  const [name, reason] = key.split('|')
  return reason !== 'CrashLoopBackOff' && p.base.get(name)?.waiting !== reason
}

/** Counts for the progress line: pods followed, restarts and Warning events in the window. */
export function windowCounts(s: WindowState): { pods: number; restarts: number; warnings: number } {
  let restarts = 0
  for (const p of s.pods.values())
    for (const c of containerStatuses(statusOf(p.pod)))
      restarts += Math.max(0, (c.restartCount ?? 0) - (p.base.get(c.name)?.restarts ?? 0))
  return { pods: s.pods.size, restarts, warnings: relevantWarnings(s).total }
}

/**
 * The Warning events about `object` (a describeRef) that happened during the window, one line
 * each (`Pod/web-1: BackOff: Back-off restarting failed container (x3)`), the latest last.
 */
export function warningLines(s: WindowState, object: string, max = 5): string[] {
  const lines: { at: string; line: string }[] = []
  for (const { event, base } of s.events.values()) {
    const e = event as unknown as EventFields & { message?: string }
    const io = e.involvedObject ?? {}
    const ns = io.namespace ?? event.metadata.namespace ?? ''
    if (e.type !== 'Warning' || `${io.kind ?? ''}/${ns}/${io.name ?? ''}` !== object) continue
    const n = countOf(e) - base
    if (n <= 0) continue
    lines.push({
      at: e.series?.lastObservedTime ?? e.lastTimestamp ?? e.eventTime ?? '',
      line: `${io.kind}/${io.name}: ${e.reason ?? 'Warning'}: ${(e.message ?? '').trim()}${n > 1 ? ` (x${n})` : ''}`
    })
  }
  return lines
    .sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0))
    .slice(-max)
    .map((l) => l.line)
}

/** A pod's evidence: OOMKilled, restarts, failure, a failing wait, lost readiness. */
function judgePod(p: PodEntry, t: WatchThresholds, now: number): ObjectEvidence[] {
  const pod = p.pod
  if (pod.metadata.deletionTimestamp) return []
  const object = describeRef(pod)
  const at = (container: string | undefined, reason: string, detail: string): ObjectEvidence => ({
    object,
    workload: p.workload,
    ...(container ? { container } : {}),
    reason,
    detail
  })
  const out: ObjectEvidence[] = []
  let total = 0
  let worst: { name: string; from: number; to: number; reason?: string; last?: string } | undefined
  for (const c of containerStatuses(statusOf(pod))) {
    const mark = p.base.get(c.name)
    const from = mark?.restarts ?? 0
    const to = c.restartCount ?? 0
    const last = c.lastState?.terminated ?? c.state?.terminated
    const oom =
      (to > from && c.lastState?.terminated?.reason === 'OOMKilled') ||
      (c.state?.terminated?.reason === 'OOMKilled' && mark?.terminated !== 'OOMKilled')
    if (oom) out.push(at(c.name, 'OOMKilled', `was OOMKilled (restarts ${from}→${to})`))
    if (to <= from) continue
    total += to - from
    if (!worst || to - from > worst.to - worst.from)
      worst = {
        name: c.name,
        from,
        to,
        reason: c.state?.waiting?.reason ?? last?.reason,
        last: last ? terminatedText(last) : undefined
      }
  }
  if (worst && total > t.maxRestarts && out.length === 0)
    out.push(
      at(
        worst.name,
        worst.reason ?? 'Restarted',
        `restarts ${worst.from}→${worst.to}${total > worst.to - worst.from ? ` (${total} in the pod)` : ''}, more than watch-max-restarts (${t.maxRestarts})${worst.last ? `; last run ${worst.last}` : ''}`
      )
    )
  out.push(...judgePodState(p, t, now, at))
  return out
}

/** A pod's failure, failing waits and lost readiness (the last two once they lasted graceMs). */
function judgePodState(
  p: PodEntry,
  t: WatchThresholds,
  now: number,
  at: (container: string | undefined, reason: string, detail: string) => ObjectEvidence
): ObjectEvidence[] {
  const out: ObjectEvidence[] = []
  const status = statusOf(p.pod)
  const containers = containerStatuses(status)
  if (status.phase === 'Failed' && !p.baseFailed && !p.workload.startsWith('Job/')) {
    const c = containers.find((x) => (x.state?.terminated?.exitCode ?? 0) !== 0)
    const reason = String(status.reason ?? c?.state?.terminated?.reason ?? 'Failed')
    const detail = c
      ? `container ${c.name} ${terminatedText(c.state?.terminated)}`
      : String(status.message ?? 'the pod failed')
    out.push(at(c?.name, reason, detail))
  }
  for (const [key, since] of p.waitingSince) {
    if (!countsAsWaiting(p, key) || now - since < t.graceMs) continue
    const [name, reason] = key.split('|')
    const waiting = containers.find((c) => c.name === name)?.state?.waiting
    out.push(at(name, reason, `${waiting?.message ?? reason} (for ${secondsText(now - since)})`))
  }
  if (p.notReadySince !== undefined && now - p.notReadySince >= t.graceMs && out.length === 0) {
    const ready = conditionsOf(p.pod).find((c) => c.type === 'Ready')
    const why = [ready?.reason, ready?.message].filter(Boolean).join(': ')
    out.push(
      at(
        undefined,
        'ReadinessLost',
        `not ready for ${secondsText(now - p.notReadySince)}${why ? `: ${why}` : ''}`
      )
    )
  }
  return out
}

/** A workload's evidence: deleted, a failed Job, available replicas below what it reached. */
function judgeWorkload(
  id: string,
  w: WorkloadEntry,
  t: WatchThresholds,
  now: number
): ObjectEvidence[] {
  const at = (reason: string, detail: string): ObjectEvidence => ({
    object: id,
    workload: id,
    reason,
    detail
  })
  if (w.deleted) return [at('Deleted', 'deleted during the watch window')]
  if (!w.object) return []
  const failed = jobFailure(w.object)
  if (failed && !w.baseFailed) return [at(failed.reason, failed.message)]
  const r = replicasOf(w.object)
  if (r && w.lowSince !== undefined && now - w.lowSince >= t.graceMs && w.reached !== undefined)
    return [
      at(
        'Unavailable',
        `available replicas ${w.reached}→${r.available} of ${r.desired} (for ${secondsText(now - w.lowSince)})`
      )
    ]
  return []
}

/** More Warning events than allowed: the count, by reason and object, most frequent first. */
function judgeWarnings(s: WindowState): ObjectEvidence | undefined {
  const { total, byWhat } = relevantWarnings(s)
  if (total <= s.thresholds.maxWarnings) return undefined
  const top = [...byWhat.entries()].sort(([, a], [, b]) => b.n - a.n)
  const [, first] = top[0]
  const listed = top
    .slice(0, 3)
    .map(([, w]) => `${w.reason} ×${w.n} on ${w.object}`)
    .join(', ')
  return {
    object: first.object,
    workload: first.workload,
    reason: first.reason,
    detail: `${total} Warning events during the window, more than watch-max-warnings (${s.thresholds.maxWarnings}): ${listed}${top.length > 3 ? `, and ${top.length - 3} more` : ''}`
  }
}

/** Warning occurrences in the window about the changed objects and their pods. */
function relevantWarnings(s: WindowState): {
  total: number
  byWhat: Map<string, { object: string; workload: string; reason: string; n: number }>
} {
  const byWhat = new Map<string, { object: string; workload: string; reason: string; n: number }>()
  let total = 0
  const podWorkload = new Map<string, string>()
  for (const p of s.pods.values())
    podWorkload.set(`${p.pod.metadata.namespace ?? ''}/${p.pod.metadata.name}`, p.workload)
  for (const { event, base } of s.events.values()) {
    const e = event as unknown as EventFields
    if ((e.type ?? 'Normal') !== 'Warning') continue
    const io = e.involvedObject ?? {}
    const ns = io.namespace ?? event.metadata.namespace ?? ''
    const object = `${io.kind ?? ''}/${ns}/${io.name ?? ''}`
    const onPod = io.kind === 'Pod' && s.podNames.has(`${ns}/${io.name ?? ''}`)
    if (!onPod && !s.changed.has(object)) continue
    const n = countOf(e) - base
    if (n <= 0) continue
    total += n
    const key = `${object}\u0000${e.reason ?? ''}`
    const workload = onPod ? (podWorkload.get(`${ns}/${io.name ?? ''}`) ?? object) : object
    const seen = byWhat.get(key) ?? { object, workload, reason: e.reason ?? 'Warning', n: 0 }
    seen.n += n
    byWhat.set(key, seen)
  }
  return { total, byWhat }
}

/** The fields of a core/v1 Event the window reads. */
interface EventFields {
  type?: string
  reason?: string
  count?: number
  firstTimestamp?: string
  lastTimestamp?: string
  eventTime?: string
  series?: { count?: number; lastObservedTime?: string }
  involvedObject?: { kind?: string; name?: string; namespace?: string }
}

function countOf(e: EventFields): number {
  return e.series?.count ?? e.count ?? 1
}

/**
 * How many of an event's occurrences, first seen now, came before the window: all of them
 * when it last happened before, none when it first happened within, else all but the latest.
 * Event times have whole seconds: the window's start is rounded down to its second.
 */
function occurrencesBefore(event: KubeObject, startedAt: number): number {
  const e = event as unknown as EventFields
  const start = secondOf(startedAt)
  const last = Date.parse(e.series?.lastObservedTime ?? e.lastTimestamp ?? e.eventTime ?? '')
  const first = Date.parse(e.firstTimestamp ?? e.eventTime ?? '')
  const count = countOf(e)
  if (!Number.isNaN(last) && last < start) return count
  if (!Number.isNaN(first) && first >= start) return 0
  return Math.max(0, count - 1)
}

/** Available and wanted replicas of a Deployment, ReplicaSet, StatefulSet or DaemonSet. */
function replicasOf(o: KubeObject): { available: number; desired: number } | undefined {
  const status = statusOf(o) as Record<string, number | undefined>
  const spec = (o.spec ?? {}) as { replicas?: number }
  switch (o.kind) {
    case 'Deployment':
    case 'ReplicaSet':
    case 'StatefulSet':
      return {
        available: status.availableReplicas ?? status.readyReplicas ?? 0,
        desired: spec.replicas ?? 1
      }
    case 'DaemonSet':
      return {
        available: status.numberAvailable ?? 0,
        desired: status.desiredNumberScheduled ?? 0
      }
    default:
      return undefined
  }
}

/** A Job's Failed condition, when it has one. */
function jobFailure(o: KubeObject): { reason: string; message: string } | undefined {
  if (o.kind !== 'Job') return undefined
  const c = conditionsOf(o).find((x) => x.type === 'Failed' && x.status === 'True')
  return c ? { reason: c.reason ?? 'Failed', message: c.message ?? 'the Job failed' } : undefined
}

/** Whether a pod's Ready condition is True. */
export function isReady(pod: KubeObject): boolean {
  return conditionsOf(pod).some((c) => c.type === 'Ready' && c.status === 'True')
}

function statusOf(o: KubeObject): Record<string, unknown> {
  return (o.status ?? {}) as Record<string, unknown>
}

/** Epoch ms rounded down to the second (the resolution of the API's timestamps). */
function secondOf(ms: number): number {
  return Math.floor(ms / 1000) * 1000
}

function secondsText(ms: number): string {
  return `${Math.round(ms / 1000)} s`
}
