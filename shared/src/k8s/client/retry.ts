/**
 * Which API failures are worth retrying, and how long to wait: bounded, jittered exponential
 * backoff that honours Retry-After. Kept apart from the client so it is table-testable.
 */
import { backoffDelay, withRetryAfter } from '../../retry/backoff.js'
import { KubeApiError } from '../types.js'

export interface RetryOptions {
  /** Attempts in total for throttling, 5xx and resets (default 5). */
  readonly attempts?: number
  /** Attempts in total when the connection is refused or the host unknown (default 3): a
   * cluster that is down should be reported soon, not after a minute of backoff. */
  readonly unreachableAttempts?: number
  readonly baseDelayMs?: number
  readonly maxDelayMs?: number
  /** Per request (default 30 s). */
  readonly requestTimeoutMs?: number
  /**
   * A retry this slow (the failed attempt and the pause before the next one together, default
   * 5 s) is told to the user as progress, not only to the debug log.
   */
  readonly slowRetryMs?: number
}

export const defaultRetry = {
  attempts: 5,
  unreachableAttempts: 3,
  baseDelayMs: 250,
  maxDelayMs: 8_000,
  requestTimeoutMs: 30_000,
  slowRetryMs: 5_000
} as const

/** What kind of failure an error is, for the retry decision. */
export type FailureClass =
  /** 429, 5xx: the server asked us to come back. */
  | 'throttled'
  /** The connection broke mid-request or timed out: the request may or may not have been processed. */
  | 'interrupted'
  /** Nothing was sent: refused, DNS, unreachable network. */
  | 'unreachable'
  /** TLS or authentication set-up failed: retrying will not help. */
  | 'fatal-connection'
  /** Any other answer (4xx): final. */
  | 'final'

const unreachableCodes = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_CONNECT_TIMEOUT'
])
const interruptedCodes = new Set([
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'ECONNABORTED',
  'UND_ERR_SOCKET',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CLOSED'
])

/**
 * An error's name without `instanceof`: an aborted fetch rejects with a DOMException, which
 * may come from another realm (or not extend Error at all).
 */
function errorName(err: unknown): string | undefined {
  const name = err && typeof err === 'object' ? (err as { name?: unknown }).name : undefined
  return typeof name === 'string' ? name : undefined
}

/** The first `code` found along an error's cause chain (undici wraps socket errors in `cause`). */
export function errorCode(err: unknown): string | undefined {
  let e: unknown = err
  for (let i = 0; i < 5 && e && typeof e === 'object'; i++) {
    const code = (e as { code?: unknown }).code
    if (typeof code === 'string') return code
    e = (e as { cause?: unknown }).cause
  }
  return undefined
}

export function classifyFailure(err: unknown): FailureClass {
  if (err instanceof KubeApiError) {
    if (err.statusCode === 429) return 'throttled'
    if ([500, 502, 503, 504].includes(err.statusCode)) return 'throttled'
    return 'final'
  }
  const name = errorName(err)
  if (name === 'TimeoutError' || name === 'RequestTimeoutError') return 'interrupted'
  const code = errorCode(err)
  if (code && unreachableCodes.has(code)) return 'unreachable'
  if (code && interruptedCodes.has(code)) return 'interrupted'
  if (code && /CERT|SIGNATURE|SELF_SIGNED|^ERR_TLS|^ERR_SSL/.test(code)) return 'fatal-connection'
  if (err instanceof TypeError && /fetch failed/.test(err.message)) return 'interrupted'
  return 'final'
}

/**
 * The delay before retry number `attempt` (1-based): kit's one backoff policy
 * (shared/src/retry/backoff.ts) with equal jitter, uniform in [ceiling/2, ceiling] under an
 * exponential ceiling, so a cluster that answered 429 or 5xx always gets at least half the
 * ceiling's pause; never less than Retry-After, within the cap.
 */
export function retryDelay(
  attempt: number,
  options: { baseDelayMs: number; maxDelayMs: number },
  retryAfterSeconds?: number,
  random: () => number = Math.random
): number {
  const policy = {
    baseMs: options.baseDelayMs,
    capMs: options.maxDelayMs,
    jitter: 'equal'
  } as const
  return withRetryAfter(
    backoffDelay(attempt, policy, random),
    retryAfterSeconds === undefined ? undefined : retryAfterSeconds * 1000,
    options.maxDelayMs
  )
}

/** Parses a Retry-After header (seconds; HTTP dates are converted against `now`). */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined
  const n = Number(value)
  if (Number.isFinite(n)) return Math.max(0, n)
  const t = Date.parse(value)
  return Number.isNaN(t) ? undefined : Math.max(0, Math.ceil((t - now) / 1000))
}

/**
 * What went wrong on the wire, precise enough to tell a firewall from a bad host name: the
 * error code and the address it concerns (`ECONNREFUSED 127.0.0.1:6443`, `ENOTFOUND
 * api.example`), plus the text for TLS failures, whose codes alone say little. `server` (the
 * kubeconfig's URL) supplies the address when the error carries none.
 */
export function describeNetworkError(err: unknown, server?: string, timeoutMs?: number): string {
  const where = serverAddress(server)
  if (errorName(err) === 'TimeoutError' || errorName(err) === 'AbortError')
    return `request timed out${timeoutMs ? ` after ${timeoutMs < 1000 ? `${timeoutMs} ms` : `${Math.round(timeoutMs / 1000)}s`}` : ''}${where ? ` (${where})` : ''}`
  const detail = causeWithCode(err)
  if (!detail) {
    const text = err instanceof Error ? err.message.split('\n')[0] : String(err)
    return where ? `${text} (${where})` : text
  }
  const code = detail.code
  const address =
    typeof detail.address === 'string'
      ? `${detail.address.includes(':') ? `[${detail.address}]` : detail.address}${detail.port !== undefined ? `:${String(detail.port)}` : ''}`
      : typeof detail.hostname === 'string'
        ? detail.hostname
        : where
  const tls = /CERT|SIGNATURE|SELF_SIGNED|^ERR_TLS|^ERR_SSL|TLS|SSL/.test(code)
  const message = typeof detail.message === 'string' ? detail.message.split('\n')[0] : ''
  return `${code}${address ? ` ${address}` : ''}${tls && message ? `: ${message}` : ''}`
}

interface CodedError {
  code: string
  message?: unknown
  address?: unknown
  port?: unknown
  hostname?: unknown
}

/** The first error along the cause chain that has a string `code`. */
function causeWithCode(err: unknown): CodedError | undefined {
  let e: unknown = err
  for (let i = 0; i < 5 && e && typeof e === 'object'; i++) {
    if (typeof (e as { code?: unknown }).code === 'string') return e as CodedError
    e = (e as { cause?: unknown }).cause
  }
  return undefined
}

/** `host:port` of a server URL, without any credentials it might carry. */
function serverAddress(server: string | undefined): string | undefined {
  if (!server) return undefined
  try {
    const url = new URL(server)
    return url.port ? `${url.hostname}:${url.port}` : url.hostname
  } catch {
    return undefined
  }
}
