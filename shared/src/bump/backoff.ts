/** How retries wait after a lost race. */
export interface BackoffPolicy {
  /** The first wait's upper bound. */
  readonly baseMs: number
  /** No single wait exceeds this. */
  readonly capMs: number
}

export const defaultBackoff: BackoffPolicy = { baseMs: 200, capMs: 10_000 }

/**
 * "Full jitter" exponential backoff: a uniform wait in [0, min(cap, unit·2^(retry-1))), where
 * the unit is the larger of the base and how long the lost attempt took. Racing pipelines that
 * lost to the same push spread out over a window as wide as the race itself (a slow server or
 * a large repository widens it), instead of colliding again in lockstep. `random` is injected
 * so tests are deterministic.
 */
export function backoffDelay(
  retry: number,
  policy: BackoffPolicy,
  random: () => number,
  attemptMs = 0
): number {
  const unit = Math.max(policy.baseMs, attemptMs)
  const ceiling = Math.min(policy.capMs, unit * 2 ** Math.max(0, retry - 1))
  return Math.floor(random() * ceiling)
}
