/**
 * The one backoff policy of kit: every retry loop (the bump's compare-and-swap loop, the GitHub
 * client, the Kubernetes client) computes its wait here, so they cannot drift apart.
 *
 * The wait before retry number `n` (1-based) is drawn below an exponential ceiling,
 * `min(cap, unit · 2^(n-1))`, where the unit is the policy's base (or, when larger, how long the
 * failed attempt itself took). Both grow with what the loop observes: every retry in a row
 * doubles the ceiling (each lost race is one more contender seen), and a slow attempt widens
 * the unit and, with `capAttempts`, the cap (a race whose attempts take seconds needs a window
 * of many attempts' length, or its contenders keep colliding). The jitter decides where in that
 * range:
 *
 * - `full` (the default): uniform in [0, ceiling). For contenders that lost the same race
 *   (twenty pipelines pushing to one branch): spreading them over the whole window is what
 *   stops them from colliding again in lockstep.
 * - `equal`: uniform in [ceiling/2, ceiling]. For a server that asked us to slow down (HTTP
 *   429/5xx): half the ceiling is always waited, so a struggling server gets a guaranteed pause.
 *
 * A server's Retry-After is a floor on top of either (see `withRetryAfter`). `random` is
 * injected so tests are deterministic. Why each loop uses which: README, "Design notes".
 */

export type Jitter = 'full' | 'equal'

/** How a retry loop waits. */
export interface BackoffPolicy {
  /** The first ceiling (and the unit the ceiling doubles from). */
  readonly baseMs: number
  /** No ceiling exceeds this (or `capAttempts` attempt durations, when that is larger). */
  readonly capMs: number
  /** The cap widens to this many times the failed attempt's duration; unset: `capMs` only. */
  readonly capAttempts?: number
  /** `full` unless set; see the module comment. */
  readonly jitter?: Jitter
}

/**
 * The bump loop's policy after a lost race. With attempts of a fraction of a second, the 10 s cap
 * holds dozens of attempts and thirty racers spread out; with attempts of 2 s (a busy server, or
 * the API's six requests over the internet) the window widens to 16 s, so the same race costs
 * fewer attempts (every API attempt creates a tree and a commit, which GitHub's secondary rate
 * limits count).
 */
export const defaultBackoff: BackoffPolicy = {
  baseMs: 200,
  capMs: 10_000,
  capAttempts: 8,
  jitter: 'full'
}

/**
 * The wait before retry number `retry` (1-based). `attemptMs` widens the unit to the failed
 * attempt's duration (a slow server or a large repository makes a wider race window).
 */
export function backoffDelay(
  retry: number,
  policy: BackoffPolicy,
  random: () => number = Math.random,
  attemptMs = 0
): number {
  const unit = Math.max(policy.baseMs, attemptMs)
  const cap = Math.max(policy.capMs, (policy.capAttempts ?? 0) * attemptMs)
  const ceiling = Math.min(cap, unit * 2 ** Math.max(0, retry - 1))
  const floor = policy.jitter === 'equal' ? ceiling / 2 : 0
  return Math.floor(floor + random() * (ceiling - floor))
}

/**
 * A computed wait raised to the server's Retry-After (when it sent one), but never beyond
 * `max(capMs, 1 s)`: a server asking for minutes is reported, not waited for, by the caller.
 */
export function withRetryAfter(
  delayMs: number,
  retryAfterMs: number | undefined,
  capMs: number
): number {
  if (retryAfterMs === undefined || retryAfterMs <= 0) return delayMs
  return Math.min(Math.max(delayMs, retryAfterMs), Math.max(capMs, 1000))
}

/** A sleep that tests replace. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}
