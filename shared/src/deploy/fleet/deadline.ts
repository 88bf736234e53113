/**
 * A cluster's deadline: `timeout` after the cluster starts, for everything it does before its
 * outcome is known (lock, discovery, records, apply, health wait, prune). The only time added
 * is the time spent waiting for another run's deploy lock, at most `lock-timeout`. Restoring
 * the cluster after a failure (rollback), settling its records and releasing the lock get one
 * more `timeout` at most, until `cleanUpAt()`.
 */
import type { Deadline } from '../../k8s/types.js'
import { formatDuration } from '../../options/table.js'

export class ClusterDeadline implements Deadline {
  private end: number
  readonly what: string

  constructor(
    private readonly now: () => number,
    readonly timeoutMs: number
  ) {
    this.end = now() + timeoutMs
    this.what = `the cluster's timeout of ${formatDuration(timeoutMs)}`
  }

  at(): number {
    return this.end
  }

  /**
   * Another run holds the lock and this one waits for it, `maxMs` at most: the deadline moves
   * by `maxMs` now, so the wait's own requests keep a bound, and back to the time actually
   * waited when the returned function is called (the lock was taken, or the wait gave up).
   */
  waiting(maxMs: number): () => void {
    const started = this.now()
    const left = this.end - started
    this.end = started + Math.max(0, maxMs) + left
    return () => {
      this.end = this.now() + left
    }
  }

  /** When the clean-up after the deploy must be done: one more timeout after the deadline. */
  cleanUpAt(): number {
    return this.end + this.timeoutMs
  }
}
