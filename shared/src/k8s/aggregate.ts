/**
 * Combining object health into a cluster's (Argo CD `IsWorse` order; kstatus aggregator rules).
 */
import type { Health } from './status.js'

/** Healthy < Suspended < Progressing < Missing < Degraded < Unknown. */
const severity: Record<Health, number> = {
  Healthy: 0,
  Suspended: 1,
  Progressing: 2,
  Missing: 3,
  Degraded: 4,
  Unknown: 5
}

/** Whether `a` is worse than `b`. */
export function isWorse(a: Health, b: Health): boolean {
  return severity[a] > severity[b]
}

/** The worst of several statuses (Healthy for none). */
export function aggregateHealth(statuses: Iterable<Health>): Health {
  let worst: Health = 'Healthy'
  for (const s of statuses) if (isWorse(s, worst)) worst = s
  return worst
}

/**
 * Whether a wait is over: every status Healthy (or Suspended when allowed), or any Degraded
 * (terminal: a failed object does not become healthy by waiting). A Suspended object (a paused
 * Deployment) that is not allowed fails at once, as kit did: waiting cannot un-pause it.
 */
export function waitDone(
  statuses: Iterable<Health>,
  allowSuspended = false
): { done: boolean; failed: boolean } {
  let allGood = true
  for (const s of statuses) {
    if (s === 'Degraded' || (s === 'Suspended' && !allowSuspended))
      return { done: true, failed: true }
    if (!(s === 'Healthy' || (allowSuspended && s === 'Suspended'))) allGood = false
  }
  return { done: allGood, failed: false }
}
