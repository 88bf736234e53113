/** kit's one backoff policy (shared/src/retry/backoff.ts), as every retry loop uses it. */
import { describe, expect, it } from '@jest/globals'
import { backoffDelay, withRetryAfter } from '../../src/retry/index.js'
import { retryDelay } from '../../src/k8s/client/retry.js'

describe('backoff policy', () => {
  it('full jitter: uniform in [0, ceiling), the ceiling doubling to the cap', () => {
    const policy = { baseMs: 100, capMs: 1000, jitter: 'full' } as const
    expect([1, 2, 3, 4, 5].map((r) => backoffDelay(r, policy, () => 0))).toEqual([0, 0, 0, 0, 0])
    expect([1, 2, 3, 4, 5].map((r) => backoffDelay(r, policy, () => 0.999))).toEqual([
      99, 199, 399, 799, 999
    ])
  })

  it('equal jitter: uniform in [ceiling/2, ceiling]', () => {
    const policy = { baseMs: 100, capMs: 1000, jitter: 'equal' } as const
    expect([1, 2, 3, 4, 5].map((r) => backoffDelay(r, policy, () => 0))).toEqual([
      50, 100, 200, 400, 500
    ])
    expect([1, 2, 3, 4, 5].map((r) => backoffDelay(r, policy, () => 1))).toEqual([
      100, 200, 400, 800, 1000
    ])
  })

  it('is full jitter unless a policy says otherwise', () => {
    expect(backoffDelay(2, { baseMs: 100, capMs: 1000 }, () => 0)).toBe(0)
  })

  it('raises a wait to Retry-After, within max(cap, 1 s)', () => {
    expect(withRetryAfter(100, undefined, 5000)).toBe(100)
    expect(withRetryAfter(100, 2000, 5000)).toBe(2000)
    expect(withRetryAfter(100, 60_000, 5000)).toBe(5000)
    expect(withRetryAfter(100, 3000, 200)).toBe(1000)
  })

  it('is what the Kubernetes client waits (equal jitter, Retry-After floor)', () => {
    const o = { baseDelayMs: 200, maxDelayMs: 5_000 }
    for (const r of [0, 0.3, 0.999])
      for (const attempt of [1, 2, 5])
        expect(retryDelay(attempt, o, undefined, () => r)).toBe(
          backoffDelay(attempt, { baseMs: 200, capMs: 5000, jitter: 'equal' }, () => r)
        )
  })
})
