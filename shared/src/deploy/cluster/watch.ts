/**
 * The watch window after healthy (docs/deployer.md, "The watch window"): once everything this
 * run changed is healthy, the cluster is followed for `watch` more, through the API's watch
 * streams rather than polling — the pods of the changed workloads (by their selectors), the
 * workloads themselves, and the Warning events in their namespaces — with the metric gates
 * asked every metric-interval and once at the end. The judgement is ./watch-state.ts; a
 * degraded window stops the deploy like a failed rollout, so the same rollback follows
 * (./deploy.ts), and the report says "degraded 47 s after healthy" with the evidence.
 *
 * Cost: a few streams per namespace of a changed workload, however many workloads it holds
 * (its pods, each kind of changed workload, its Warning events), each one watch request,
 * opened again only when the server ends it or the connection breaks; nothing is listed or
 * polled. Every stream holds a connection for the whole window (the client keeps them apart
 * from the requests' pool, so a lock renewal never waits behind one); per namespace rather
 * than per workload keeps those connections, and the API server's watchers, few.
 */
import { describeRef, refOf } from '../../k8s/identity.js'
import { follow } from '../../k8s/follow.js'
import { isPodWorkload } from '../../k8s/pods.js'
import { matchesSelector, parseSelector, type Requirement } from '../../k8s/selector.js'
import type { ClusterClient, KubeObject, ObjectRef, WatchEvent } from '../../k8s/types.js'
import { formatDuration } from '../../options/table.js'
import { plural } from '../../text/plural.js'
import { abortReason } from './clock.js'
import {
  createGateEvaluator,
  formatValue,
  type GateEvaluator,
  type MetricGateSettings
} from './metric-gate.js'
import type { EngineRun, Stopped } from './run.js'
import type { Clock, DeployLog, Failure } from './types.js'
import {
  judgeWindow,
  newWindowState,
  nextDue,
  observeEvent,
  observeGates,
  observePod,
  observeWorkload,
  degradedText,
  isGateEvidence,
  warningLines,
  windowCounts,
  type Evidence,
  type WindowState
} from './watch-state.js'

/** The window's settings (the deploy options watch, watch-max-restarts, watch-max-warnings). */
export interface WatchSettings {
  /** How long to watch after healthy; 0 turns the window off. */
  readonly windowMs: number
  /** Container restarts tolerated per pod during the window. */
  readonly maxRestarts: number
  /** Warning events tolerated during the window. */
  readonly maxWarnings: number
  /** The metric gates evaluated during the window, when any. */
  readonly metrics?: MetricGateSettings
}

export type WatchResult =
  | { readonly kind: 'held' }
  | {
      readonly kind: 'degraded'
      /** From healthy (the window's start) to when the evidence was seen. */
      readonly afterMs: number
      readonly evidence: Evidence[]
      /** Warning events during the window, by the evidence's object. */
      readonly events: Readonly<Record<string, string[]>>
    }

export interface WatchWindowOptions {
  readonly windowMs: number
  readonly maxRestarts: number
  readonly maxWarnings: number
  /** How long lost readiness, a failing wait or low availability may last (fail-fast-grace). */
  readonly graceMs: number
  readonly clock: Clock
  readonly log: DeployLog
  /** Prefix of log lines (the cluster name). */
  readonly label: string
  /** A progress line at least this often. */
  readonly heartbeatMs: number
  readonly signal?: AbortSignal
  /** The metric gates of this cluster, and how often to ask them. */
  readonly gates?: { readonly evaluator: GateEvaluator; readonly intervalMs: number }
  /** When the cluster's time is up: the final gate evaluation ends there. */
  readonly deadline?: number
}

/**
 * Follows `changed` (the objects this run changed, as applied) for the window: held when
 * nothing went wrong until its end, degraded as soon as something did. Throws when a stream
 * cannot be followed (the cluster is unreachable, the deadline passed) or the signal aborts.
 */
export async function watchAfterHealthy(
  client: ClusterClient,
  changed: readonly KubeObject[],
  o: WatchWindowOptions
): Promise<WatchResult> {
  const started = o.clock.now()
  const end = started + o.windowMs
  const state = newWindowState(
    started,
    { maxRestarts: o.maxRestarts, maxWarnings: o.maxWarnings, graceMs: o.graceMs },
    changed.map(refOf)
  )
  const stop = new AbortController()
  const waker = newWaker(o.clock)
  const onAbort = () => waker.wake()
  o.signal?.addEventListener('abort', onAbort, { once: true })
  let broken: unknown
  const streams = startStreams(client, changed, state, {
    until: stop.signal,
    timeoutSeconds: Math.ceil(o.windowMs / 1000) + 30,
    clock: o.clock,
    changed: () => waker.wake(),
    failed: (err) => {
      broken ??= err
      waker.wake()
    }
  })
  try {
    const gates = o.gates ? gateRunner(o.gates, state, waker, started, stop.signal) : undefined
    let lastBeat = started
    for (;;) {
      waker.clear()
      const now = o.clock.now()
      if (broken !== undefined) throw broken
      if (o.signal?.aborted) throw abortReason(o.signal)
      const evidence = judgeWindow(state, now)
      if (evidence.length > 0) return degraded(state, now - started, evidence)
      if (now >= end) break
      gates?.maybeStart(now)
      if (now - lastBeat >= o.heartbeatMs) {
        lastBeat = now
        heartbeat(o, state, end - now)
      }
      const due = Math.min(
        end,
        nextDue(state, now) ?? end,
        gates?.nextAt() ?? end,
        lastBeat + o.heartbeatMs
      )
      await waker.sleep(Math.max(1, due - now))
    }
    return await finalJudgement(o, state, started, gates)
  } finally {
    stop.abort()
    o.signal?.removeEventListener('abort', onAbort)
    await Promise.allSettled(streams)
  }
}

/** At the window's end: the metric gates once more, then the last judgement. */
async function finalJudgement(
  o: WatchWindowOptions,
  state: WindowState,
  started: number,
  gates: GateRunner | undefined
): Promise<WatchResult> {
  if (gates) {
    const ends = [o.signal].filter((s): s is AbortSignal => s !== undefined)
    if (o.deadline !== undefined)
      ends.push(AbortSignal.timeout(Math.max(0, o.deadline - o.clock.now())))
    try {
      await gates.final(ends.length > 0 ? AbortSignal.any(ends) : undefined)
    } catch (err) {
      if (o.signal?.aborted) throw abortReason(o.signal)
      throw new Error(
        `the metric gates' evaluation at the end of the watch window did not finish before the cluster's deadline (${err instanceof Error ? err.message : String(err)})`,
        { cause: err }
      )
    }
  }
  const now = o.clock.now()
  const evidence = judgeWindow(state, now)
  if (evidence.length > 0) return degraded(state, now - started, evidence)
  return { kind: 'held' }
}

function degraded(state: WindowState, afterMs: number, evidence: Evidence[]): WatchResult {
  const events: Record<string, string[]> = {}
  for (const e of evidence)
    if (!isGateEvidence(e) && !(e.object in events))
      events[e.object] = warningLines(state, e.object)
  return { kind: 'degraded', afterMs, evidence, events }
}

/** What the streams report to the window. */
interface StreamHooks {
  readonly until: AbortSignal
  readonly timeoutSeconds: number
  readonly clock: Clock
  /** Something was observed: judge again. */
  readonly changed: () => void
  /** A stream could not be followed. */
  readonly failed: (err: unknown) => void
}

/**
 * Opens the streams, per namespace of a changed object: each kind of changed workload in it
 * (routed to the workloads by name), its pods (routed to each changed workload whose selector
 * matches them; a Job's were judged by the health wait and its own Failed condition says the
 * rest), and its Warning events.
 */
function startStreams(
  client: ClusterClient,
  changed: readonly KubeObject[],
  state: WindowState,
  h: StreamHooks
): Promise<void>[] {
  const streams: Promise<void>[] = []
  const open = (
    what: { apiVersion: string; kind: string; namespace: string; fieldSelector?: string },
    onEvent: (e: WatchEvent, now: number) => void
  ) =>
    streams.push(
      follow(client, {
        ...what,
        timeoutSeconds: h.timeoutSeconds,
        until: h.until,
        now: () => h.clock.now(),
        sleep: (ms, signal) => h.clock.sleep(ms, signal),
        onEvent: (e) => {
          onEvent(e, h.clock.now())
          h.changed()
        }
      }).catch(h.failed)
    )
  for (const [namespace, followed] of followedByNamespace(changed)) {
    for (const { apiVersion, kind, ids } of followed.kinds.values())
      open({ apiVersion, kind, namespace }, (e, now) => {
        const id = ids.get(e.object.metadata.name)
        if (id) observeWorkload(state, id, e, now)
      })
    if (followed.pods.length > 0)
      open({ apiVersion: 'v1', kind: 'Pod', namespace }, (e, now) =>
        routePod(state, followed.pods, e, now)
      )
    open({ apiVersion: 'v1', kind: 'Event', namespace, fieldSelector: 'type=Warning' }, (e) =>
      observeEvent(state, e)
    )
  }
  return streams
}

/** A changed workload whose pods are followed: which pods are its own. */
interface PodFollower {
  readonly id: string
  /** A changed Pod: the workload is the pod itself. */
  readonly isPod: boolean
  readonly owns: (pod: KubeObject) => boolean
}

/** What one namespace's streams follow. */
interface Followed {
  /** By `apiVersion kind`: the changed workloads of that kind (not Pods), name → describeRef. */
  readonly kinds: Map<string, { apiVersion: string; kind: string; ids: Map<string, string> }>
  readonly pods: PodFollower[]
}

function followedByNamespace(changed: readonly KubeObject[]): Map<string, Followed> {
  const out = new Map<string, Followed>()
  for (const o of changed) {
    const ns = o.metadata.namespace
    if (!ns) continue
    let f = out.get(ns)
    if (!f) out.set(ns, (f = { kinds: new Map(), pods: [] }))
    if (!isPodWorkload(o.kind)) continue
    const id = describeRef(o)
    if (o.kind !== 'Pod') {
      const key = `${o.apiVersion} ${o.kind}`
      let of = f.kinds.get(key)
      if (!of) f.kinds.set(key, (of = { apiVersion: o.apiVersion, kind: o.kind, ids: new Map() }))
      of.ids.set(o.metadata.name, id)
    }
    const owns = podsOf(o)
    if (owns) f.pods.push({ id, isPod: o.kind === 'Pod', owns })
  }
  return out
}

/**
 * A pod event of the namespace, to each changed workload that owns the pod. A pod that no
 * workload owns (any more: relabelled out of a selector) has left, as a watch by that
 * selector would say.
 */
function routePod(state: WindowState, followers: PodFollower[], e: WatchEvent, now: number): void {
  const owners = followers.filter((f) => f.owns(e.object))
  for (const f of owners) {
    observePod(state, f.id, e, now)
    if (f.isPod) observeWorkload(state, f.id, e, now)
  }
  if (owners.length === 0 && e.type !== 'DELETED')
    observePod(state, followers[0].id, { ...e, type: 'DELETED' }, now)
}

/** Which pods are a workload's: its selector's, or a Pod by name; none for a Job. */
function podsOf(o: KubeObject): ((pod: KubeObject) => boolean) | undefined {
  if (o.kind === 'Pod') return (pod) => pod.metadata.name === o.metadata.name
  if (o.kind === 'Job') return undefined
  const selector = (o.spec as { selector?: LabelSelector } | undefined)?.selector
  const text = selector ? labelSelectorText(selector) : ''
  // A selector that selects everything is not the workload's pods: follow none.
  if (!text) return undefined
  const requirements: Requirement[] = parseSelector(text, `the selector of ${describeRef(o)}`)
  return (pod) => matchesSelector(pod.metadata.labels ?? {}, requirements)
}

interface LabelSelector {
  matchLabels?: Record<string, string>
  matchExpressions?: { key: string; operator: string; values?: string[] }[]
}

/** A LabelSelector object as the API's labelSelector text. */
export function labelSelectorText(s: LabelSelector): string {
  const parts = Object.entries(s.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`)
  for (const e of s.matchExpressions ?? []) {
    const values = (e.values ?? []).join(',')
    if (e.operator === 'In') parts.push(`${e.key} in (${values})`)
    else if (e.operator === 'NotIn') parts.push(`${e.key} notin (${values})`)
    else if (e.operator === 'Exists') parts.push(e.key)
    else if (e.operator === 'DoesNotExist') parts.push(`!${e.key}`)
  }
  return parts.join(',')
}

/** The metric gates during the window: one evaluation at a time, every interval. */
interface GateRunner {
  maybeStart(now: number): void
  nextAt(): number
  /** The evaluation at the window's end (after any still running). */
  final(signal: AbortSignal | undefined): Promise<void>
}

function gateRunner(
  g: NonNullable<WatchWindowOptions['gates']>,
  state: WindowState,
  waker: Waker,
  started: number,
  until: AbortSignal
): GateRunner {
  let next = started + g.intervalMs
  let running: Promise<void> | undefined
  const run = (signal: AbortSignal | undefined) =>
    g.evaluator.evaluate(signal).then((verdicts) => {
      observeGates(state, verdicts)
      waker.wake()
    })
  return {
    maybeStart(now) {
      if (running || now < next) return
      next = now + g.intervalMs
      running = run(until)
        .catch(() => undefined)
        .finally(() => (running = undefined))
    },
    nextAt: () => (running ? Infinity : next),
    async final(signal) {
      await running
      await run(signal)
    }
  }
}

/** A sleep that an observation ends early, without missing one that came just before it. */
interface Waker {
  wake(): void
  clear(): void
  sleep(ms: number): Promise<void>
}

function newWaker(clock: Clock): Waker {
  let dirty = false
  let current: AbortController | undefined
  return {
    wake() {
      dirty = true
      current?.abort()
    },
    clear() {
      dirty = false
    },
    async sleep(ms) {
      if (dirty || ms <= 0) return
      current = new AbortController()
      try {
        await clock.sleep(ms, current.signal)
      } catch {
        // Woken up.
      } finally {
        current = undefined
      }
    }
  }
}

function heartbeat(o: WatchWindowOptions, state: WindowState, leftMs: number): void {
  const c = windowCounts(state)
  o.log.info(
    `${o.label}: watching ${plural(c.pods, 'pod')}: ${plural(c.restarts, 'restart')}, ${plural(c.warnings, 'Warning event')} so far; ${Math.ceil(leftMs / 1000)} s left`
  )
}

/** The first line of the window's log: what is followed, for how long, with which limits. */
export function windowStartLine(
  label: string,
  workloads: readonly ObjectRef[],
  o: Pick<WatchWindowOptions, 'windowMs' | 'maxRestarts' | 'maxWarnings' | 'gates'>
): string {
  const names = workloads.map(describeRef)
  const shown =
    names.slice(0, 5).join(', ') + (names.length > 5 ? `, and ${names.length - 5} more` : '')
  const gates = o.gates ? `, ${plural(o.gates.evaluator.gates.length, 'metric gate')}` : ''
  return `${label}: healthy; watching ${shown} for ${formatDuration(o.windowMs)} (restarts allowed per pod: ${o.maxRestarts}, Warning events allowed: ${o.maxWarnings}${gates})`
}

/**
 * The engine's phase after the health wait: with a window set, the workloads this run changed
 * are watched; a degraded window stops the deploy (the caller rolls back, as after a failed
 * rollout) with the evidence as its failures. No window for a dry run, without `wait`, or when
 * the run changed no workload. `changed` narrows what is watched (a StatefulSet's first
 * ordinal, ./stateful-step-run.ts); default: everything this run changed.
 */
export async function watchChanged(
  run: EngineRun,
  changed: readonly KubeObject[] = run.applied.map((a) => a.prepared.desired)
): Promise<Stopped | undefined> {
  const { options, label } = run
  const settings = options.watch
  if (!settings || settings.windowMs <= 0 || !options.wait || options.dryRun) return undefined
  const workloads = changed.filter((o) => isPodWorkload(o.kind) && o.metadata.namespace)
  if (workloads.length === 0) return undefined
  const left = run.deadline - run.clock.now()
  if (left < settings.windowMs) return windowDoesNotFit(run, settings.windowMs, left)
  const gates = settings.metrics
    ? {
        evaluator: createGateEvaluator({ ...settings.metrics, cluster: run.client.cluster }),
        intervalMs: settings.metrics.intervalMs
      }
    : undefined
  const window: WatchWindowOptions = {
    windowMs: settings.windowMs,
    maxRestarts: settings.maxRestarts,
    maxWarnings: settings.maxWarnings,
    graceMs: options.failFast.graceMs,
    clock: run.clock,
    log: run.log,
    label,
    heartbeatMs: run.waitSettings.heartbeatMs,
    signal: options.signal,
    gates,
    deadline: run.deadline
  }
  run.log.info(windowStartLine(label, workloads.map(refOf), window))
  const result = await watchAfterHealthy(run.client, changed, window)
  if (result.kind === 'held') {
    run.log.info(`${label}: the watch window of ${formatDuration(settings.windowMs)} passed`)
    return undefined
  }
  run.degraded = { afterMs: result.afterMs, evidence: result.evidence }
  const reason = `${degradedText(result.afterMs)}: ${evidenceText(result.evidence[0])}${result.evidence.length > 1 ? ` (and ${result.evidence.length - 1} more)` : ''}`
  run.log.warning(`${label}: ${reason}`)
  return {
    failures: result.evidence.map((e) => evidenceFailure(e, result.events)),
    reason
  }
}

/** The window cannot end before the cluster's time is up: say so rather than cut it short. */
function windowDoesNotFit(run: EngineRun, windowMs: number, leftMs: number): Stopped {
  const message = `the watch window of ${formatDuration(windowMs)} does not fit in the ${Math.max(0, Math.floor(leftMs / 1000))} s left of the cluster's timeout of ${formatDuration(run.options.timeoutMs)} (the rollout took ${Math.round((run.clock.now() - run.started) / 1000)} s): raise timeout or shorten watch`
  return {
    failures: [{ object: `cluster/${run.client.cluster}`, reason: 'Timeout', message, events: [] }],
    reason: message
  }
}

/** One line for a piece of evidence: `Pod/shop/web-1 container web: OOMKilled (was OOMKilled …)`. */
export function evidenceText(e: Evidence): string {
  if (isGateEvidence(e))
    return `metric gate ${e.gate}: ${e.error ?? `${formatValue(e.value)}, not ${e.condition}`}`
  return `${e.object}${e.container ? ` container ${e.container}` : ''}: ${e.reason} (${e.detail})`
}

/** A piece of evidence as a failure of the cluster's report. */
function evidenceFailure(e: Evidence, events: Readonly<Record<string, string[]>>): Failure {
  if (isGateEvidence(e))
    return {
      object: `metric gate ${e.gate}`,
      reason: e.error ? 'MetricGateUnanswered' : 'MetricGateFailed',
      message: `${e.error ?? `${formatValue(e.value)}, not ${e.condition}`} — query ${e.query}`,
      events: []
    }
  const pod = e.object.startsWith('Pod/') && e.object !== e.workload
  return {
    object: e.workload,
    ...(pod ? { pod: e.object.split('/').slice(2).join('/') } : {}),
    ...(e.container ? { container: e.container } : {}),
    reason: e.reason,
    message: e.detail,
    events: events[e.object] ?? []
  }
}
