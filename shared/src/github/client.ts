import { InputError } from '../errors.js'
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
  readonly headers: Headers
}

export interface GitHubClientOptions {
  /** https://api.github.com, or GHES's https://host/api/v3 (GITHUB_API_URL). */
  readonly apiUrl: string
  readonly token: string
  readonly fetch?: typeof fetch
  readonly sleep?: (ms: number) => Promise<void>
  readonly log?: (line: string) => void
  /** Longest wait for a rate-limit reset before giving up; 60 s by default. */
  readonly maxRateLimitWaitMs?: number
  readonly redactor?: Redactor
}

/**
 * A small GitHub REST client over fetch: the token in the Authorization header only, the
 * documented API version header, and rate limits honoured (a 403/429 with
 * `x-ratelimit-remaining: 0` waits for `x-ratelimit-reset`, a `retry-after` is obeyed) within a
 * bounded wait. It counts calls, so benchmarks can report API calls per bump.
 */
export class GitHubClient {
  /** Requests sent, retries included. */
  calls = 0
  private readonly fetch: typeof fetch
  private readonly sleep: (ms: number) => Promise<void>
  private readonly redactor: Redactor

  constructor(private readonly options: GitHubClientOptions) {
    this.fetch = options.fetch ?? globalThis.fetch
    this.sleep = options.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)))
    this.redactor = options.redactor ?? new Redactor()
    this.redactor.add(options.token)
  }

  /**
   * Sends a request. Statuses in `accept` (besides 2xx) are returned for the caller to
   * interpret (404 for "missing", 409/422 for conflicts); anything else throws.
   */
  async request<T>(
    method: string,
    path: string,
    body?: unknown,
    accept: readonly number[] = []
  ): Promise<GitHubResponse<T>> {
    const url = this.options.apiUrl.replace(/\/+$/, '') + path
    for (let attempt = 1; ; attempt++) {
      this.calls++
      let response: Response
      try {
        response = await this.fetch(url, {
          method,
          headers: {
            Authorization: `Bearer ${this.options.token}`,
            Accept: 'application/vnd.github+json',
            'X-GitHub-Api-Version': '2022-11-28',
            'User-Agent': 'kit-image-deployer',
            ...(body === undefined ? {} : { 'Content-Type': 'application/json' })
          },
          body: body === undefined ? undefined : JSON.stringify(body)
        })
      } catch (e) {
        if (attempt < 3) {
          await this.sleep(500 * attempt)
          continue
        }
        throw new GitHubApiError(
          `${method} ${path}: cannot reach ${this.options.apiUrl}: ${this.redactor.scrub(e instanceof Error ? e.message : String(e))}`,
          0,
          path
        )
      }
      const text = await response.text()
      const data = (text === '' ? undefined : safeJson(text)) as T
      const status = response.status
      if ((status >= 200 && status < 300) || accept.includes(status))
        return { status, data, headers: response.headers }
      const message = this.redactor.scrub(messageOf(data) ?? response.statusText)
      const wait = this.rateLimitWait(response)
      if (wait !== undefined && attempt < 4) {
        if (wait > (this.options.maxRateLimitWaitMs ?? 60_000)) {
          throw new GitHubApiError(
            `GitHub rate limit exhausted until ${new Date(Date.now() + wait).toISOString()} (${method} ${path}); retry later`,
            status,
            path
          )
        }
        this.options.log?.(
          `GitHub rate limit hit on ${method} ${path}; waiting ${Math.ceil(wait / 1000)} s`
        )
        await this.sleep(wait)
        continue
      }
      if (status >= 500 && attempt < 3) {
        await this.sleep(500 * attempt)
        continue
      }
      if (status === 401)
        throw new InputError(`GitHub refused the token (401 ${message}); check the token input`)
      if (status === 403)
        throw new InputError(
          `GitHub denied ${method} ${path} (403 ${message}); the token needs contents: write (and pull-requests: write for pull-request mode)`
        )
      throw new GitHubApiError(
        `GitHub ${method} ${path} failed: ${status} ${message}`,
        status,
        path
      )
    }
  }

  /** Milliseconds to wait when the response is a rate-limit refusal; undefined otherwise. */
  private rateLimitWait(response: Response): number | undefined {
    if (response.status !== 403 && response.status !== 429) return undefined
    const retryAfter = response.headers.get('retry-after')
    if (retryAfter !== null && /^\d+$/.test(retryAfter)) return Number(retryAfter) * 1000
    if (response.headers.get('x-ratelimit-remaining') === '0') {
      const reset = Number(response.headers.get('x-ratelimit-reset'))
      return Number.isFinite(reset) ? Math.max(0, reset * 1000 - Date.now()) + 1000 : 60_000
    }
    return undefined
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return { message: text.slice(0, 200) }
  }
}

function messageOf(data: unknown): string | undefined {
  if (data !== null && typeof data === 'object' && 'message' in data)
    return String((data as { message: unknown }).message)
  return undefined
}

/** Encodes a repository path for a URL, keeping its `/` separators. */
export function encodePath(path: string): string {
  return path.split('/').map(encodeURIComponent).join('/')
}
