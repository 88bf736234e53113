/**
 * What the phases of one cluster's deploy share: the client, the options, the clock and
 * deadline, the scrubbing logger, and the two lists every phase adds to — the change entries
 * (the result) and the objects this run wrote (what the wait judges and a rollback restores).
 * The lists live here rather than in a phase's return value because a phase may throw midway
 * (an unreachable cluster), and what it wrote before that must still be rolled back.
 */
import type { ClusterClient } from '../../k8s/types.js'
import type { Applied } from './apply-object.js'
import { systemClock } from './clock.js'
import type {
  ChangeEntry,
  Clock,
  ClusterResult,
  Degradation,
  DeployClusterOptions,
  DeployLog,
  Failure
} from './types.js'
import { waitForHealth, type WaitOptions, type WaitResult, type WaitTarget } from './wait.js'
import { mapEntryText } from './change-entry.js'

/**
 * Controllers that never report failure themselves (StatefulSet, DaemonSet, custom resources)
 * are Degraded after this long without progress (see docs/health-rules.md).
 */
const noProgressMs = 300_000

/** Why a phase stopped the deploy: the failures to report and their one-line summary. */
export interface Stopped {
  readonly failures: Failure[]
  readonly reason: string
}

export interface EngineRun {
  readonly client: ClusterClient
  readonly options: DeployClusterOptions
  readonly clock: Clock
  /** Epoch ms the cluster's deploy started; timeouts are reported from here. */
  readonly started: number
  /**
   * Epoch ms at which apply and wait give up: the cluster's deadline when the caller gives
   * one (counted from the cluster's start), else `timeoutMs` after the engine's start.
   */
  readonly deadline: number
  /** The cluster name, prefixed to every log line. */
  readonly label: string
  readonly scrub: (s: string) => string
  /** `options.log` with every message scrubbed. */
  readonly log: DeployLog
  /** The wait settings every health wait of the run shares (deadline aside). */
  readonly waitSettings: Omit<WaitOptions, 'deadline' | 'since'>
  /** Every object's change entry so far, in apply order. */
  readonly changes: ChangeEntry[]
  /** What this run wrote, in apply order: waited for, and restored on failure. */
  readonly applied: Applied[]
  /** Set by the watch window when it found the cluster degraded after healthy (./watch.ts). */
  degraded?: Degradation
}

export function startRun(client: ClusterClient, options: DeployClusterOptions): EngineRun {
  const clock = options.clock ?? systemClock
  const started = clock.now()
  const scrub = (s: string) => options.redactor.scrub(s)
  const label = client.cluster
  const log: DeployLog = {
    info: (m: string) => options.log.info(scrub(m)),
    warning: (m: string) => options.log.warning(scrub(m)),
    debug: (m: string) => options.log.debug(scrub(m))
  }
  return {
    client,
    options,
    clock,
    started,
    deadline: options.deadlineAt ?? started + options.timeoutMs,
    label,
    scrub,
    log,
    waitSettings: {
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
    },
    changes: [],
    applied: []
  }
}

/**
 * The cluster's result. Every text that leaves the engine is scrubbed once more: API errors
 * may echo values.
 */
export function finishRun(
  run: EngineRun,
  outcome: ClusterResult['outcome'],
  failures: Failure[] = [],
  reason?: string,
  rolledBack?: boolean
): ClusterResult {
  const { scrub } = run
  return {
    cluster: run.client.cluster,
    outcome,
    changes: run.changes.map((c) => mapEntryText(c, scrub)),
    failures: failures.map((f) => ({
      ...f,
      message: scrub(f.message),
      events: f.events.map(scrub)
    })),
    durationMs: run.clock.now() - run.started,
    ...(reason ? { reason: scrub(reason) } : {}),
    ...(rolledBack ? { rolledBack } : {}),
    ...(run.degraded ? { degraded: scrubDegradation(run.degraded, scrub) } : {})
  }
}

/** The evidence's texts scrubbed (an event's message or a gate's error may echo a value). */
function scrubDegradation(d: Degradation, scrub: (s: string) => string): Degradation {
  return {
    afterMs: d.afterMs,
    evidence: d.evidence.map((e) =>
      'gate' in e
        ? { ...e, query: scrub(e.query), ...(e.error ? { error: scrub(e.error) } : {}) }
        : { ...e, detail: scrub(e.detail) }
    )
  }
}

/**
 * A health wait within the cluster's budget, its timeout counted from the cluster's start.
 * Once it has timed out, the failures are described (events, pods) within the clean-up budget.
 * `failFast` replaces the run's (a StatefulSet's first ordinal fails on its one pod).
 */
export function waitWithinBudget(
  run: EngineRun,
  targets: readonly WaitTarget[],
  client: ClusterClient = run.client,
  failFast: WaitOptions['failFast'] = run.waitSettings.failFast
): Promise<WaitResult> {
  return waitForHealth(client, targets, {
    ...run.waitSettings,
    failFast,
    deadline: run.deadline,
    since: run.deadline - run.options.timeoutMs,
    reporter: () => client.detached?.(cleanUpDeadline(run)) ?? client
  })
}

/**
 * When the clean-up after the deploy must be done: rolling back (and waiting for what was
 * restored) gets `timeoutMs` from its start, and everything after the cluster's deadline ends
 * at most one `timeoutMs` after it.
 */
export function cleanUpDeadline(run: EngineRun): number {
  return Math.min(run.clock.now() + run.options.timeoutMs, run.deadline + run.options.timeoutMs)
}

/** What a health wait failed with, as the reason the deploy stopped. */
export function stoppedByWait(w: WaitResult): Stopped {
  return { failures: w.failures, reason: summarize(w.failures, w.timedOut) }
}

/** One line for a list of failures: the first in full, and how many more. */
export function summarize(failures: Failure[], timedOut: boolean): string {
  const f = failures[0]
  if (!f) return timedOut ? 'timed out' : 'failed'
  const where = [f.object, f.pod && `pod ${f.pod}`, f.container && `container ${f.container}`]
    .filter(Boolean)
    .join(' ')
  return `${where}: ${f.reason}: ${f.message}${failures.length > 1 ? ` (and ${failures.length - 1} more)` : ''}`
}

/** "3 unchanged, 1 configured": the run's changes counted by action. */
export function countActions(changes: ChangeEntry[]): string {
  const counts = new Map<string, number>()
  for (const c of changes) counts.set(c.action, (counts.get(c.action) ?? 0) + 1)
  return [...counts.entries()].map(([a, n]) => `${n} ${a}`).join(', ') || 'nothing to do'
}

/** The first line of an error's message: the rest is usually a stack or a server's dump. */
export function firstLine(err: unknown): string {
  return err instanceof Error ? err.message.split('\n')[0] : String(err)
}
