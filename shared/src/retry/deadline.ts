/**
 * A run's time budget as one deadline that every network call and every wait of the run fits
 * in: a call gets the time that is left, up to its own limit, so no single hung request can
 * hold the run past its budget, and no retry starts a wait it cannot finish.
 */

/** How long one network call may take when the run's budget leaves more. */
export const defaultCallTimeoutMs = 60_000

export interface Deadline {
  /** Epoch milliseconds at which the budget runs out. */
  readonly at: number
  /** The whole budget, for messages ("within 5m"). */
  readonly budgetMs: number
  readonly now: () => number
}

/** The deadline `budgetMs` from now. */
export function deadlineIn(budgetMs: number, now: () => number = Date.now): Deadline {
  return { at: now() + budgetMs, budgetMs, now }
}

/** Milliseconds left (0 once passed); Infinity without a deadline. */
export function timeLeft(deadline: Deadline | undefined): number {
  return deadline ? Math.max(0, deadline.at - deadline.now()) : Infinity
}

/**
 * The limit for one network call: its own limit, shortened to what is left of the budget.
 * Zero when the budget is spent (the caller then does not send it).
 */
export function callLimit(
  deadline: Deadline | undefined,
  ownLimitMs: number = defaultCallTimeoutMs
): number {
  return Math.min(ownLimitMs, timeLeft(deadline))
}

/** `95000` → `1m35s`, `4000` → `4s`, `800` → `0.8s`: a duration for a progress line. */
export function formatWait(ms: number): string {
  if (ms < 10_000) return `${Math.round(ms / 100) / 10}s`
  const s = Math.round(ms / 1000)
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m${s % 60 === 0 ? '' : `${s % 60}s`}`
}
