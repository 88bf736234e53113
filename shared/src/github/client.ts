/**
 * kit's one GitHub client: Octokit as `@actions/github` builds it (its proxy-aware fetch, the
 * `rest` endpoint methods), with one plugin of kit's own for retries and rate limits. The
 * image-deployer's API transport and pull requests and the deployer's GitHub Deployments all
 * use it.
 *
 * Retries follow one rule: a request is repeated only when repeating it cannot do something
 * twice.
 * - A rate-limit refusal (403/429 with `retry-after` or `x-ratelimit-remaining: 0`) was not
 *   carried out, so any request is sent again after the wait GitHub names, within a bound
 *   (60 s by default); a longer wait is reported instead.
 * - A 5xx or a lost connection may come after the server acted. Only requests that are safe
 *   to replay are sent again: GET and HEAD, and requests the caller marks `replaySafe`
 *   (creating a tree or a commit is content-addressed: a second one changes nothing visible;
 *   setting a pull request's title sets the same title). Creating a ref, moving a ref and
 *   opening a pull request are never replayed here: the caller checks whether they happened
 *   (the bump loop re-reads the branch, a pull request is looked up) instead.
 * The waits come from kit's one backoff policy (../retry/backoff.ts); each is announced in the
 * log. Every request is bounded in time: its own limit (30 s), shortened to what is left of the
 * caller's deadline; a request that gets no answer in time counts as a lost connection.
 *
 * Why not @octokit/plugin-retry and plugin-throttling: plugin-retry replays any method on a
 * 5xx, a ref create included, and plugin-throttling adds Bottleneck and a queue kit does not
 * need for a handful of calls per run (README, "Design notes").
 */
import { getOctokit } from '@actions/github'
import { InputError } from '../errors.js'
import { backoffDelay, sleep as realSleep, type BackoffPolicy } from '../retry/backoff.js'
import { callLimit, formatWait, timeLeft, type Deadline } from '../retry/deadline.js'
import { Redactor } from '../secrets/index.js'

/** A GitHub REST error that kit does not handle itself (the message says what and where). */
export class GitHubApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly path: string
  ) {
    super(message)
    this.name = 'GitHubApiError'
  }
}

export interface GitHubResponse<T> {
  readonly status: number
  readonly data: T
  readonly headers: Readonly<Record<string, string | number | undefined>>
}

export interface GitHubClientOptions {
  /** https://api.github.com, or GHES's https://host/api/v3 (GITHUB_API_URL). */
  readonly apiUrl: string
  readonly token: string
  /** Replaces the proxy-aware fetch of @actions/github (tests). */
  readonly fetch?: typeof fetch
  readonly sleep?: (ms: number) => Promise<void>
  readonly random?: () => number
  readonly log?: (line: string) => void
  /** Longest wait for a rate-limit reset before giving up; 60 s by default. */
  readonly maxRateLimitWaitMs?: number
  readonly redactor?: Redactor
  /** Sent as User-Agent. */
  readonly userAgent?: string
  /** The longest one request may wait for its answer; 30 s by default. */
  readonly requestTimeoutMs?: number
  /** The caller's time budget: no request or wait goes past it. */
  readonly deadline?: Deadline
}

/** How long one request may wait for its answer when the options do not say. */
export const defaultRequestTimeoutMs = 30_000

/** Waits between replays of a request after a 5xx or a lost connection (equal jitter). */
export const githubRetryBackoff: BackoffPolicy = { baseMs: 500, capMs: 4_000, jitter: 'equal' }
/** Attempts in all for a replay-safe request that meets a 5xx or a lost connection. */
const serverErrorAttempts = 3
/** Attempts in all for a request refused by the rate limit. */
const rateLimitAttempts = 4

type Octokit = ReturnType<typeof getOctokit>
type OctokitPlugin = NonNullable<Parameters<typeof getOctokit>[2]>
type PluginOctokit = Parameters<OctokitPlugin>[0]
type RequestOptions = { method: string; url: string; request?: Record<string, unknown> }

/** What an Octokit request failure carries (RequestError, matched by shape: no extra import). */
interface HttpFailure {
  readonly status: number
  readonly message: string
  readonly response?: { status: number; data: unknown; headers: Record<string, unknown> }
}

function httpFailure(e: unknown): HttpFailure | undefined {
  if (e === null || typeof e !== 'object') return undefined
  const f = e as Partial<HttpFailure> & { name?: unknown }
  return typeof f.status === 'number' && typeof f.message === 'string'
    ? (f as HttpFailure)
    : undefined
}

/**
 * The Octokit plugin: time limits, rate limits, replays of replay-safe requests, and a request
 * count. It throws GitHubApiError when a rate limit lasts longer than allowed, and when a
 * request gets no answer within its limit (status 0: the outcome is unknown).
 */
function kitRequestPolicy(options: GitHubClientOptions, counter: { calls: number }): OctokitPlugin {
  const sleep = options.sleep ?? realSleep
  const random = options.random ?? Math.random
  const maxWait = options.maxRateLimitWaitMs ?? 60_000
  return (octokit: PluginOctokit) => {
    octokit.hook.wrap('request', async (request, requestOptions) => {
      const { method, url } = requestOptions as unknown as RequestOptions
      const replaySafe =
        method === 'GET' ||
        method === 'HEAD' ||
        (requestOptions as unknown as RequestOptions).request?.replaySafe === true
      const path = url.replace(/^https?:\/\/[^/]+/, '')
      for (let attempt = 1; ; attempt++) {
        const limit = callLimit(
          options.deadline,
          options.requestTimeoutMs ?? defaultRequestTimeoutMs
        )
        if (limit <= 0)
          throw new GitHubApiError(
            `${method} ${path}: not sent, the time limit is used up`,
            0,
            path
          )
        const signal = AbortSignal.timeout(limit)
        counter.calls++
        try {
          // The hooks inside this one are bound to this options object (arguments passed to
          // `request` are not seen by them), so the signal goes on it, in a new `request`
          // object: the one it holds may be the client's defaults, shared by every request.
          const outgoing = requestOptions as unknown as RequestOptions
          outgoing.request = { ...outgoing.request, signal }
          return await request(requestOptions)
        } catch (e) {
          const timedOut = signal.aborted
          const failure = timedOut ? undefined : httpFailure(e)
          if (!timedOut && !failure) throw e
          const wait = failure?.response ? rateLimitWait(failure.response) : undefined
          if (failure && wait !== undefined && attempt < rateLimitAttempts) {
            if (wait > Math.min(maxWait, timeLeft(options.deadline)))
              throw new GitHubApiError(
                `GitHub rate limit exhausted until ${new Date(Date.now() + wait).toISOString()} (${method} ${path}); retry later`,
                failure.status,
                path
              )
            options.log?.(`GitHub rate limit hit on ${method} ${path}; waiting ${formatWait(wait)}`)
            await sleep(wait)
            continue
          }
          // No answer (the connection failed or timed out) or a 5xx: the server may have acted.
          const serverSide = timedOut || !failure?.response || (failure?.status ?? 0) >= 500
          const why = timedOut
            ? `no answer within ${formatWait(limit)}`
            : failure?.response
              ? `HTTP ${failure.status}`
              : 'the connection failed'
          if (serverSide && replaySafe && attempt < serverErrorAttempts) {
            const delay = backoffDelay(attempt, githubRetryBackoff, random)
            if (delay + limit / 2 < timeLeft(options.deadline)) {
              options.log?.(
                `GitHub ${method} ${path}: ${why}; sending it again in ${formatWait(delay)} (attempt ${attempt + 1} of ${serverErrorAttempts})`
              )
              await sleep(delay)
              continue
            }
          }
          if (timedOut)
            throw new GitHubApiError(
              `${method} ${path}: no answer from ${options.apiUrl} within ${formatWait(limit)}`,
              0,
              path
            )
          throw e
        }
      }
    })
    return {}
  }
}

/** Milliseconds to wait when a response is a rate-limit refusal; undefined otherwise. */
function rateLimitWait(response: { status: number; headers: Record<string, unknown> }) {
  if (response.status !== 403 && response.status !== 429) return undefined
  const header = (name: string): string | undefined => {
    const v = response.headers[name]
    return v === undefined || v === null ? undefined : String(v)
  }
  const retryAfter = header('retry-after')
  if (retryAfter !== undefined && /^\d+$/.test(retryAfter)) return Number(retryAfter) * 1000
  if (header('x-ratelimit-remaining') === '0') {
    const reset = Number(header('x-ratelimit-reset'))
    return Number.isFinite(reset) ? Math.max(0, reset * 1000 - Date.now()) + 1000 : 60_000
  }
  return undefined
}

/**
 * A GitHub connection: `octokit` for endpoint methods, and `request` for kit's transport,
 * which reads some failure statuses as answers. It counts requests sent (retries included),
 * so benchmarks can report API calls per bump.
 */
export class GitHubClient {
  readonly octokit: Octokit
  private readonly counter = { calls: 0 }
  private readonly redactor: Redactor

  constructor(private readonly options: GitHubClientOptions) {
    this.redactor = options.redactor ?? new Redactor()
    this.redactor.add(options.token)
    this.octokit = getOctokit(
      options.token,
      {
        baseUrl: options.apiUrl.replace(/\/+$/, ''),
        userAgent: options.userAgent ?? 'kit',
        // Only when given: `request` replaces @actions/github's proxy-aware fetch as a whole.
        ...(options.fetch ? { request: { fetch: options.fetch } } : {})
      },
      kitRequestPolicy(options, this.counter)
    )
  }

  /** Requests sent, retries included. */
  get calls(): number {
    return this.counter.calls
  }

  /**
   * Sends `METHOD path` (path already encoded). Statuses in `accept` (besides 2xx) are
   * returned for the caller to interpret (404 for "missing", 409/422 for conflicts); anything
   * else throws: 401 and 403 as input errors (the token), others as GitHubApiError.
   * `replaySafe` allows a non-GET to be sent again after a 5xx or a lost connection.
   */
  async request<T>(
    method: string,
    path: string,
    body?: Record<string, unknown>,
    accept: readonly number[] = [],
    replaySafe = false
  ): Promise<GitHubResponse<T>> {
    try {
      const r = await this.octokit.request(`${method} ${path}`, {
        ...(body === undefined ? {} : { data: body }),
        headers: { 'x-github-api-version': '2022-11-28' },
        request: { replaySafe }
      })
      return { status: r.status, data: r.data as T, headers: r.headers }
    } catch (e) {
      if (e instanceof GitHubApiError) throw e
      const failure = httpFailure(e)
      if (failure?.response && accept.includes(failure.status))
        return {
          status: failure.status,
          data: failure.response.data as T,
          headers: failure.response.headers as GitHubResponse<T>['headers']
        }
      throw this.explain(method, path, e)
    }
  }

  /**
   * Sends a GraphQL query: read-only, so replayed like a GET after a 5xx or a lost connection.
   * Errors in the answer throw GitHubApiError (status 200, with GitHub's first message).
   */
  async graphql<T>(query: string, variables: Record<string, string>): Promise<T> {
    try {
      return await this.octokit.graphql<T>(query, {
        ...variables,
        headers: { 'x-github-api-version': '2022-11-28' },
        request: { replaySafe: true }
      })
    } catch (e) {
      if (e instanceof GitHubApiError) throw e
      const errors = (e as { errors?: { message?: unknown }[] }).errors
      if (Array.isArray(errors))
        throw new GitHubApiError(
          `GitHub GraphQL query failed: ${this.redactor.scrub(String(errors[0]?.message ?? 'no message'))}`,
          200,
          '/graphql'
        )
      throw this.explain('POST', '/graphql', e)
    }
  }

  /** The error a caller sees: what failed, where, and what to check; secrets scrubbed. */
  private explain(method: string, path: string, e: unknown): Error {
    const failure = httpFailure(e)
    if (!failure || !failure.response)
      return new GitHubApiError(
        `${method} ${path}: cannot reach ${this.options.apiUrl}: ${this.redactor.scrub(failure?.message ?? (e instanceof Error ? e.message : String(e)))}`,
        0,
        path
      )
    const data = failure.response.data
    const message = this.redactor.scrub(
      data !== null && typeof data === 'object' && 'message' in data
        ? String((data as { message: unknown }).message)
        : typeof data === 'string' && data !== ''
          ? data.slice(0, 200)
          : failure.message
    )
    const status = failure.status
    if (status === 401)
      return new InputError(`GitHub refused the token (401 ${message}); check the token input`)
    if (status === 403)
      return new InputError(
        `GitHub denied ${method} ${path} (403 ${message}); the token needs contents: write (and pull-requests: write for pull-request mode)`
      )
    return new GitHubApiError(`GitHub ${method} ${path} failed: ${status} ${message}`, status, path)
  }
}

/** True when an error from GitHubClient.request means the request may or may not have landed. */
export function outcomeUnknown(e: unknown): boolean {
  return e instanceof GitHubApiError && (e.status === 0 || e.status >= 500)
}

/** Encodes a repository path for a URL, keeping its `/` separators. */
export function encodePath(path: string): string {
  return path.split('/').map(encodeURIComponent).join('/')
}
