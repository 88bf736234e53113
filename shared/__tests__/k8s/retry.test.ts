/** Which failures are retried, and the backoff. */
import { describe, expect, it } from '@jest/globals'
import {
  classifyFailure,
  describeNetworkError,
  parseRetryAfter,
  retryDelay
} from '../../src/k8s/client/retry.js'
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

/** A fetch failure as undici reports it: a TypeError whose cause is the socket error. */
const wireError = (fields: Record<string, unknown>, message = 'connect failed') =>
  Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error(message), fields) })

describe('describeNetworkError', () => {
  const server = 'https://api.example.test:6443'
  it.each([
    [
      'a refused port: code and address',
      wireError({ code: 'ECONNREFUSED', address: '127.0.0.1', port: 19999 }),
      'ECONNREFUSED 127.0.0.1:19999'
    ],
    [
      'an IPv6 address in brackets',
      wireError({ code: 'ECONNREFUSED', address: '::1', port: 6443 }),
      'ECONNREFUSED [::1]:6443'
    ],
    [
      'a bad host name: the name that did not resolve',
      wireError({ code: 'ENOTFOUND', hostname: 'api.typo.example' }),
      'ENOTFOUND api.typo.example'
    ],
    [
      'a connect timeout (a firewall dropping packets): the server address',
      wireError({ code: 'UND_ERR_CONNECT_TIMEOUT' }),
      'UND_ERR_CONNECT_TIMEOUT api.example.test:6443'
    ],
    [
      'an OS-level timeout with an address',
      wireError({ code: 'ETIMEDOUT', address: '203.0.113.9', port: 443 }),
      'ETIMEDOUT 203.0.113.9:443'
    ],
    [
      'a TLS failure: code, address and what TLS said',
      wireError(
        { code: 'SELF_SIGNED_CERT_IN_CHAIN' },
        'self-signed certificate in certificate chain'
      ),
      'SELF_SIGNED_CERT_IN_CHAIN api.example.test:6443: self-signed certificate in certificate chain'
    ],
    [
      'a host name mismatch',
      wireError(
        { code: 'ERR_TLS_CERT_ALTNAME_INVALID' },
        "Hostname/IP does not match certificate's altnames"
      ),
      "ERR_TLS_CERT_ALTNAME_INVALID api.example.test:6443: Hostname/IP does not match certificate's altnames"
    ],
    [
      'a request timeout',
      Object.assign(new Error('The operation was aborted due to timeout'), {
        name: 'TimeoutError'
      }),
      'request timed out after 30s (api.example.test:6443)'
    ],
    [
      'an error without a code',
      new Error('socket hang up'),
      'socket hang up (api.example.test:6443)'
    ]
  ])('%s', (_name, err, expected) => {
    expect(describeNetworkError(err, server, 30_000)).toBe(expected)
  })

  it('never shows credentials a server URL might carry', () => {
    expect(
      describeNetworkError(wireError({ code: 'ECONNRESET' }), 'https://user:pw@h.example:443')
    ).toBe('ECONNRESET h.example')
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
