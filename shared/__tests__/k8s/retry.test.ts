/** Which failures are retried, and the backoff. */
import { describe, expect, it } from '@jest/globals'
import { classifyFailure, parseRetryAfter, retryDelay } from '../../src/k8s/client/retry.js'
import { KubeApiError } from '../../src/k8s/types.js'
import { aggregateHealth, waitDone } from '../../src/k8s/aggregate.js'

const netError = (code: string) =>
  Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error(code), { code }) })

describe('classifyFailure', () => {
  it.each([
    ['429', new KubeApiError('slow down', 429, 'TooManyRequests'), 'throttled'],
    ['503', new KubeApiError('unavailable', 503), 'throttled'],
    ['500', new KubeApiError('internal', 500), 'throttled'],
    ['404', new KubeApiError('not found', 404, 'NotFound'), 'final'],
    ['422', new KubeApiError('invalid', 422, 'Invalid'), 'final'],
    ['409', new KubeApiError('conflict', 409, 'Conflict'), 'final'],
    ['ECONNRESET', netError('ECONNRESET'), 'interrupted'],
    ['UND_ERR_SOCKET', netError('UND_ERR_SOCKET'), 'interrupted'],
    [
      'request timeout',
      Object.assign(new Error('timed out'), { name: 'TimeoutError' }),
      'interrupted'
    ],
    ['ECONNREFUSED', netError('ECONNREFUSED'), 'unreachable'],
    ['ENOTFOUND', netError('ENOTFOUND'), 'unreachable'],
    ['a bad certificate', netError('UNABLE_TO_VERIFY_LEAF_SIGNATURE'), 'fatal-connection'],
    ['a programming error', new RangeError('x'), 'final']
  ])('%s → %s', (_name, err, expected) => {
    expect(classifyFailure(err)).toBe(expected)
  })
})

describe('retryDelay', () => {
  const o = { baseDelayMs: 200, maxDelayMs: 5_000 }
  it('grows exponentially with jitter in [ceiling/2, ceiling]', () => {
    expect([1, 2, 3].map((a) => retryDelay(a, o, undefined, () => 0))).toEqual([100, 200, 400])
    expect([1, 2, 3].map((a) => retryDelay(a, o, undefined, () => 1))).toEqual([200, 400, 800])
  })
  it('is capped', () => {
    expect(retryDelay(20, o, undefined, () => 1)).toBe(5_000)
  })
  it('waits at least Retry-After, within the cap', () => {
    expect(retryDelay(1, o, 2, () => 0)).toBe(2_000)
    expect(retryDelay(1, o, 60, () => 0)).toBe(5_000)
  })
  it('parses Retry-After seconds and dates', () => {
    expect(parseRetryAfter('3')).toBe(3)
    expect(
      parseRetryAfter('Thu, 01 Jan 2026 00:00:10 GMT', Date.parse('2026-01-01T00:00:00Z'))
    ).toBe(10)
    expect(parseRetryAfter(undefined)).toBeUndefined()
  })
})

describe('aggregate', () => {
  it('takes the worst status (Healthy < Suspended < Progressing < Missing < Degraded < Unknown)', () => {
    expect(aggregateHealth(['Healthy', 'Progressing', 'Suspended'])).toBe('Progressing')
    expect(aggregateHealth(['Missing', 'Degraded'])).toBe('Degraded')
    expect(aggregateHealth(['Degraded', 'Unknown'])).toBe('Unknown')
    expect(aggregateHealth([])).toBe('Healthy')
  })
  it('ends a wait on all Healthy, on any Degraded, and on a Suspended object unless allowed', () => {
    expect(waitDone(['Healthy', 'Healthy'])).toEqual({ done: true, failed: false })
    expect(waitDone(['Healthy', 'Progressing'])).toEqual({ done: false, failed: false })
    expect(waitDone(['Progressing', 'Degraded'])).toEqual({ done: true, failed: true })
    expect(waitDone(['Suspended'])).toEqual({ done: true, failed: true })
    expect(waitDone(['Suspended'], true)).toEqual({ done: true, failed: false })
  })
})
