/**
 * The metric gate: PromQL queries against a Prometheus-compatible HTTP API (Prometheus, Thanos,
 * Mimir, VictoriaMetrics, Grafana Cloud…), each with a condition, evaluated per cluster during the
 * watch window after a rollout is healthy (./watch.ts calls evaluate() every metric-interval and
 * once at the window's end). A gate passes only on an answer that satisfies its condition: an
 * unreachable API, an error, no data or NaN fail it, so a broken gate never waves a bad release
 * through.
 *
 * Gates are written one per line, `<name>: <promql> <op> <number>` (op is < <= > >= ==). In the
 * query, `{cluster}` stands for the cluster's name; it may only stand inside a string literal (a
 * label value), where it is escaped for that string, and for a regex matcher (=~, !~) also as a
 * regex, so a name always matches itself and nothing else. In metrics-url it is URL-encoded.
 *
 * Each gate is one instant query (GET <metrics-url>/api/v1/query) with a time limit of its own.
 * A query the network or the server failed (refused, reset, timed out, HTTP 5xx) is asked once
 * more after a short pause before it counts as unanswered: a Prometheus restarting or a proxy
 * blinking should not roll back a healthy release. An answer is never asked again: bad PromQL
 * (4xx), no data or a failed condition is the verdict.
 * The answer is read as Prometheus documents it: a scalar is its value; an instant vector must
 * hold at least one series and every series must satisfy the condition (the verdict's value is
 * the worst one); a range vector, a string or a histogram sample is not a number and fails.
 *
 * The bearer token is only ever put in the Authorization header: it is never part of a URL, a
 * verdict or an error (any text that comes back is scrubbed of it too).
 */
import { InputError, escapeControl, quoteValue } from '../../errors.js'
import { backoffDelay, type BackoffPolicy } from '../../retry/backoff.js'
import { systemClock } from './clock.js'

export type GateOperator = '<' | '<=' | '>' | '>=' | '=='

export interface MetricGate {
  readonly name: string
  /** The PromQL as written, `{cluster}` not replaced yet. */
  readonly query: string
  readonly operator: GateOperator
  readonly threshold: number
  /** The condition as reports show it: `< 0.01`. */
  readonly condition: string
}

/** One gate's answer for one cluster at one evaluation. */
export interface GateVerdict {
  /** The gate's name. */
  readonly gate: string
  /** The query sent (`{cluster}` replaced). */
  readonly query: string
  /** `< 0.01` */
  readonly condition: string
  /** The value judged: the one number, or the worst series; undefined when there is none. */
  readonly value: number | undefined
  readonly ok: boolean
  /** Why the gate could not be judged (unreachable, HTTP error, no data, not a number). */
  readonly error?: string
  /** With several series: how many fail, and which. */
  readonly detail?: string
}

/** Settings a gated deploy runs with, from the deploy options (see metricGateSettings). */
export interface MetricGateSettings {
  /** metrics-url, `{cluster}` not replaced yet. */
  readonly url: string
  readonly token?: string
  readonly gates: readonly MetricGate[]
  readonly intervalMs: number
}

export const metricGateLimits = {
  /** Gates per deploy: each is one request per cluster per interval. */
  maxGates: 20,
  /** Characters in a gate's name. */
  maxNameChars: 63,
  /** Default time limit of one query. */
  queryTimeoutMs: 10_000,
  /** Largest answer read: a gate's query should aggregate down to a few series. */
  maxAnswerBytes: 4 * 1024 * 1024,
  /** Shortest metric-interval. */
  minIntervalMs: 1000
} as const

/** The placeholder for the cluster's name in metrics-url and in a gate's query. */
export const clusterPlaceholder = '{cluster}'

const form =
  '`<name>: <promql> <op> <number>`, e.g. `error-ratio: sum(rate(http_requests_total{code=~"5.."}[5m])) / sum(rate(http_requests_total[5m])) < 0.01`'

/**
 * Parses the metric-gates setting: one gate per line; blank lines and lines starting with `#`
 * are skipped. Throws an InputError naming `label`, the line and what is wrong.
 */
export function parseMetricGates(lines: string | readonly string[], label: string): MetricGate[] {
  const all = typeof lines === 'string' ? lines.split(/\r?\n/) : lines
  const gates: MetricGate[] = []
  all.forEach((raw, i) => {
    const line = raw.trim()
    if (line === '' || line.startsWith('#')) return
    const gate = parseGateLine(line, `${label} line ${i + 1}`, raw.length - raw.trimStart().length)
    const twin = gates.find((g) => g.name === gate.name)
    if (twin)
      throw new InputError(
        `${label} line ${i + 1}: gate name ${quoteValue(gate.name)} is used twice; give each gate its own name`
      )
    gates.push(gate)
  })
  if (gates.length > metricGateLimits.maxGates)
    throw new InputError(
      `${label} has ${gates.length} gates; at most ${metricGateLimits.maxGates} are accepted`
    )
  return gates
}

/** One gate; `indent` (the line's leading blanks) makes columns count from the line's start. */
function parseGateLine(line: string, where: string, indent: number): MetricGate {
  const named = /^([A-Za-z0-9][\w .-]*?)\s*:(?:\s+|$)/.exec(line)
  if (!named)
    throw new InputError(
      `${where} does not start with a gate name: expected ${form}, got ${quoteValue(line)}`
    )
  const name = named[1]
  if (name.length > metricGateLimits.maxNameChars)
    throw new InputError(
      `${where}: the gate name is ${name.length} characters; at most ${metricGateLimits.maxNameChars} are accepted`
    )
  const at = `${where} (gate ${quoteValue(name)})`
  const rest = line.slice(named[0].length)
  if (rest === '') throw new InputError(`${at} has no query: expected ${form}`)
  const cond = /(<=|>=|==|!=|<|>)\s*([^\s<>=!]+)\s*$/.exec(rest)
  if (!cond)
    throw new InputError(
      `${at} must end with a condition: one of < <= > >= == and a number, like \`< 0.01\`; got ${quoteValue(rest)}`
    )
  const [, op, number] = cond
  if (op === '!=')
    throw new InputError(`${at}: the condition's operator must be one of < <= > >= ==, got !=`)
  const threshold = parseThreshold(number, at)
  const query = rest.slice(0, cond.index).trim()
  if (query === '') throw new InputError(`${at} has a condition but no query: expected ${form}`)
  const problem = scanPromql(query, undefined, indent + named[0].length).problem
  if (problem) throw new InputError(`${at}: ${problem}`)
  const operator = op as GateOperator
  return { name, query, operator, threshold, condition: `${operator} ${number}` }
}

function parseThreshold(text: string, at: string): number {
  if (/^[-+]?(\d+\.?\d*|\.\d+)%$/.test(text))
    throw new InputError(
      `${at}: write the threshold as a number, not a percentage (${text} is ${Number(text.slice(0, -1)) / 100})`
    )
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text))
    throw new InputError(
      `${at}: the condition's threshold must be a number, got ${quoteValue(text)}`
    )
  const n = Number(text)
  if (!Number.isFinite(n))
    throw new InputError(
      `${at}: the condition's threshold must be a finite number, got ${quoteValue(text)}`
    )
  return n
}

/**
 * Walks a PromQL expression far enough to find its string literals, its brackets and comments:
 * returns the query with `{cluster}` replaced by `cluster` (escaped for the string it stands
 * in), or the first problem. With `cluster` undefined it only checks.
 */
function scanPromql(
  query: string,
  cluster: string | undefined,
  column0 = 0
): { text: string; problem?: string } {
  const column = (i: number) => `column ${column0 + i + 1}`
  const open: { char: string; at: number }[] = []
  const closing: Record<string, string> = { ')': '(', ']': '[', '}': '{' }
  let out = ''
  for (let i = 0; i < query.length;) {
    const c = query[i]
    if (c === '"' || c === "'" || c === '`') {
      const end = stringEnd(query, i)
      if (end < 0)
        return { text: out, problem: `the string starting at ${column(i)} is not closed` }
      const regex = /[=!]~\s*$/.test(query.slice(0, i))
      const body = query.slice(i + 1, end)
      out += c + (cluster === undefined ? body : substitute(body, c, regex, cluster)) + c
      i = end + 1
      continue
    }
    if (query.startsWith(clusterPlaceholder, i))
      return {
        text: out,
        problem: `${clusterPlaceholder} stands for a label value and must be inside its quotes, e.g. up{cluster="${clusterPlaceholder}"}`
      }
    if (c === '#') return { text: out, problem: 'a gate line cannot hold a comment (#)' }
    if (c === '(' || c === '[' || c === '{') open.push({ char: c, at: i })
    else if (c in closing) {
      const last = open.pop()
      if (!last || last.char !== closing[c])
        return { text: out, problem: `unbalanced ${quoteValue(c)} at ${column(i)}` }
    }
    out += c
    i++
  }
  const unclosed = open.pop()
  if (unclosed)
    return {
      text: out,
      problem: `${quoteValue(unclosed.char)} at ${column(unclosed.at)} is not closed`
    }
  return { text: out }
}

/** The index of the quote closing the string that opens at `start`; -1 when there is none. */
function stringEnd(query: string, start: number): number {
  const quote = query[start]
  for (let i = start + 1; i < query.length; i++) {
    if (query[i] === '\\' && quote !== '`') i++
    else if (query[i] === quote) return i
  }
  return -1
}

/** A string literal's body with `{cluster}` replaced, escaped as a regex and for its quotes. */
function substitute(body: string, quote: string, regex: boolean, cluster: string): string {
  if (!body.includes(clusterPlaceholder)) return body
  const value = regex ? cluster.replace(/[\\.+*?()|[\]{}^$]/g, '\\$&') : cluster
  let escaped: string
  if (quote === '`') {
    // A raw string has no escapes: a value holding a backtick cannot be written in one.
    if (value.includes('`'))
      throw new InputError(
        `cluster name ${quoteValue(cluster)} holds a backtick and cannot stand in a raw (\`) string of a gate's query`
      )
    escaped = value
  } else
    escaped = value.replace(/[\\\n\r\t]|"|'/g, (ch) => {
      if (ch === '\n') return '\\n'
      if (ch === '\r') return '\\r'
      if (ch === '\t') return '\\t'
      return ch === '\\' || ch === quote ? `\\${ch}` : ch
    })
  return body.split(clusterPlaceholder).join(escaped)
}

/** A gate's query for `cluster` (`{cluster}` replaced and escaped). */
export function gateQuery(gate: Pick<MetricGate, 'query'>, cluster: string): string {
  return scanPromql(gate.query, cluster).text
}

/**
 * Validates metrics-url: an http(s) URL, the API's base (what comes before /api/v1/query),
 * without credentials, whose only placeholder is {cluster}. Returns it unchanged.
 */
export function parseMetricsUrl(raw: string, label: string): string {
  const unknown = /\{(?!cluster\})[^}]*\}/.exec(raw)
  if (unknown)
    throw new InputError(
      `${label} knows only the placeholder ${clusterPlaceholder}, got ${quoteValue(unknown[0])}`
    )
  let url: URL
  try {
    url = new URL(raw.split(clusterPlaceholder).join('cluster'))
  } catch {
    throw new InputError(`${label} must be an http(s) URL, got ${quoteValue(raw)}`)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new InputError(`${label} must be an http(s) URL, got ${quoteValue(raw)}`)
  // Never echoed: it holds a password.
  if (url.username || url.password)
    throw new InputError(
      `${label} holds credentials; give the API's base URL without them, and the bearer token as metrics-token`
    )
  if (url.hash) throw new InputError(`${label} must not have a #fragment, got ${quoteValue(raw)}`)
  if (/\/api\/v1(\/query)?\/?$/.test(url.pathname))
    throw new InputError(
      `${label} is the API's base URL, without /api/v1/query (e.g. https://prometheus.example.com or https://example.com/prometheus), got ${quoteValue(raw)}`
    )
  return raw
}

/** Validates metrics-token: one bearer token (visible ASCII); the value is never repeated. */
export function parseMetricsToken(raw: string, label: string): string {
  const token = raw.trim()
  if (!/^[\x21-\x7e]+$/.test(token))
    throw new InputError(
      `${label} must be one bearer token: visible ASCII characters, no spaces or line breaks (the value is not shown)`
    )
  return token
}

/**
 * The gate settings of a deploy from its option values, or undefined without gates. Refuses
 * gates without an API to ask, an API or token without gates, and, when `watchMs` is given,
 * gates without a watch window to evaluate them in.
 */
export function metricGateSettings(v: {
  readonly metricsUrl?: string
  readonly metricsToken?: string
  readonly metricGates: readonly MetricGate[]
  readonly metricInterval: number
  readonly watchMs?: number
}): MetricGateSettings | undefined {
  if (v.metricGates.length === 0) {
    if (v.metricsUrl || v.metricsToken)
      throw new InputError(
        `${v.metricsUrl ? 'metrics-url' : 'metrics-token'} is set but metric-gates is empty: there is nothing to evaluate`
      )
    return undefined
  }
  if (!v.metricsUrl)
    throw new InputError('metric-gates needs metrics-url, the Prometheus-compatible API to ask')
  if (v.watchMs === 0)
    throw new InputError(
      'metric-gates needs watch, the window after healthy in which the gates are evaluated (e.g. watch: 2m)'
    )
  return {
    url: v.metricsUrl,
    ...(v.metricsToken ? { token: v.metricsToken } : {}),
    gates: v.metricGates,
    intervalMs: v.metricInterval
  }
}

export interface GateEvaluatorOptions {
  /** metrics-url, `{cluster}` not replaced yet. */
  readonly url: string
  readonly token?: string
  readonly gates: readonly MetricGate[]
  readonly cluster: string
  readonly fetch?: typeof fetch
  /** Time limit of one query (connect, answer and body); default 10 s. */
  readonly timeoutMs?: number
  /** The pause before a failed query is asked again; default 0.5 to 1 s. */
  readonly retry?: BackoffPolicy
}

/** The pause before asking again a query the network or the server failed. */
const defaultRetry: BackoffPolicy = { baseMs: 1_000, capMs: 1_000, jitter: 'equal' }

export interface GateEvaluator {
  /** The gates as this cluster evaluates them (queries with `{cluster}` replaced). */
  readonly gates: readonly {
    readonly name: string
    readonly query: string
    readonly condition: string
  }[]
  /**
   * One verdict per gate, in order; the queries run at once. Never rejects for a gate's sake
   * (an unanswerable query is a failed verdict); rejects only when `signal` aborts.
   */
  evaluate(signal?: AbortSignal): Promise<GateVerdict[]>
}

/** An evaluator of `gates` for one cluster. */
export function createGateEvaluator(options: GateEvaluatorOptions): GateEvaluator {
  const base = apiUrl(options.url, options.cluster)
  const resolved = options.gates.map((g) => ({ gate: g, query: gateQuery(g, options.cluster) }))
  const ask: Asker = {
    base,
    token: options.token,
    fetch: options.fetch ?? fetch,
    timeoutMs: options.timeoutMs ?? metricGateLimits.queryTimeoutMs,
    retry: options.retry ?? defaultRetry
  }
  return {
    gates: resolved.map(({ gate, query }) => ({
      name: gate.name,
      query,
      condition: gate.condition
    })),
    evaluate: (signal) =>
      Promise.all(resolved.map(({ gate, query }) => evaluateGate(ask, gate, query, signal)))
  }
}

/** <metrics-url>/api/v1/query for `cluster`. */
function apiUrl(template: string, cluster: string): URL {
  let url: URL
  try {
    url = new URL(template.split(clusterPlaceholder).join(encodeURIComponent(cluster)))
  } catch {
    throw new InputError(`metrics-url is not a valid URL for cluster ${quoteValue(cluster)}`)
  }
  url.pathname = `${url.pathname.replace(/\/+$/, '')}/api/v1/query`
  return url
}

interface Asker {
  readonly base: URL
  readonly token: string | undefined
  readonly fetch: typeof fetch
  readonly timeoutMs: number
  readonly retry: BackoffPolicy
}

async function evaluateGate(
  ask: Asker,
  gate: MetricGate,
  query: string,
  signal: AbortSignal | undefined
): Promise<GateVerdict> {
  const head = { gate: gate.name, query, condition: gate.condition }
  let answer = await askPrometheus(ask, query, signal)
  if ('error' in answer && answer.again) {
    await systemClock.sleep(backoffDelay(1, ask.retry), signal)
    const second = await askPrometheus(ask, query, signal)
    answer = 'error' in second ? { error: `${second.error} (asked twice)` } : second
  }
  const scrub = (text: string) => (ask.token ? text.split(ask.token).join('***') : text)
  if ('error' in answer) return { ...head, value: undefined, ok: false, error: scrub(answer.error) }
  return { ...head, ...judge(gate, answer.samples, scrub) }
}

interface Sample {
  readonly labels: Readonly<Record<string, string>>
  readonly value: number
}

/**
 * One instant query: its samples, or why there are none, with `again` when the network or the
 * server failed it rather than an answer (never throws unless `signal` aborts).
 */
async function askPrometheus(
  ask: Asker,
  query: string,
  signal: AbortSignal | undefined
): Promise<{ samples: Sample[] } | { error: string; again?: boolean }> {
  const url = new URL(ask.base)
  url.searchParams.set('query', query)
  // Prometheus stops evaluating once its own limit passes, instead of working on for nobody.
  url.searchParams.set('timeout', `${Math.max(1, Math.floor(ask.timeoutMs / 1000))}s`)
  const where = `${ask.base.origin}${ask.base.pathname}`
  const timeout = AbortSignal.timeout(ask.timeoutMs)
  const both = signal ? AbortSignal.any([signal, timeout]) : timeout
  let status: number
  let body: string | undefined
  let location: string | null
  try {
    const res = await ask.fetch(url, {
      headers: {
        accept: 'application/json',
        'user-agent': 'kit-deployer',
        ...(ask.token ? { authorization: `Bearer ${ask.token}` } : {})
      },
      // A redirect is reported, not followed: the token goes to metrics-url's host only.
      redirect: 'manual',
      signal: both
    })
    status = res.status
    location = res.headers.get('location')
    body = await readLimited(res, metricGateLimits.maxAnswerBytes)
  } catch (err) {
    if (signal?.aborted) throw signal.reason
    return { error: fetchProblem(err, where, timeout.aborted, ask.timeoutMs), again: true }
  }
  if (body === undefined)
    return {
      error: `${where} answered more than ${metricGateLimits.maxAnswerBytes / 1024 / 1024} MiB; aggregate the query (sum, max…) so it answers a few series`
    }
  const answer = readAnswer(status, body, location, where)
  return 'error' in answer && status >= 500 ? { ...answer, again: true } : answer
}

/** The body as text; undefined past `max` bytes. */
async function readLimited(res: Response, max: number): Promise<string | undefined> {
  if (!res.body) return ''
  const reader = res.body.getReader()
  const chunks: Uint8Array[] = []
  let size = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    size += value.byteLength
    if (size > max) {
      await reader.cancel().catch(() => undefined)
      return undefined
    }
    chunks.push(value)
  }
  return Buffer.concat(chunks).toString('utf8')
}

const networkCodes: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host name lookup failed',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ETIMEDOUT: 'connection timed out',
  UND_ERR_SOCKET: 'connection closed'
}

function fetchProblem(err: unknown, where: string, timedOut: boolean, timeoutMs: number): string {
  if (timedOut)
    return `no answer from ${where} within ${formatSeconds(timeoutMs)} (the query's time limit)`
  // fetch wraps the network error (ECONNREFUSED, DNS, TLS) in `cause`: that is the useful part.
  const e = err as { message?: string; cause?: { message?: string; code?: string } }
  const code = e.cause?.code
  const why = code
    ? `${networkCodes[code] ?? e.cause?.message ?? code} (${code})`
    : (e.cause?.message ?? e.message ?? String(err))
  return `cannot reach ${where}: ${oneLine(why, 300)}`
}

const formatSeconds = (ms: number) =>
  ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`

/** Text from elsewhere (an error, a body) as one bounded line: control characters escaped. */
function oneLine(text: string, max: number): string {
  const flat = escapeControl(text.trim().replace(/\s*\n\s*/g, ' '))
  return flat.length > max ? `${flat.slice(0, max)}…` : flat
}

interface ApiBody {
  status?: unknown
  errorType?: unknown
  error?: unknown
  data?: { resultType?: unknown; result?: unknown }
}

/** The HTTP answer as samples, or what was wrong with it. */
function readAnswer(
  status: number,
  text: string,
  location: string | null,
  where: string
): { samples: Sample[] } | { error: string } {
  if (status >= 300 && status < 400)
    return {
      error: `${where} answered HTTP ${status}, a redirect${location ? ` to ${oneLine(location, 200)}` : ''}; give the API's final address as metrics-url`
    }
  let body: ApiBody | undefined
  try {
    const parsed: unknown = JSON.parse(text)
    if (parsed && typeof parsed === 'object') body = parsed as ApiBody
  } catch {
    body = undefined
  }
  if (body?.status === 'error' || (status >= 400 && typeof body?.error === 'string')) {
    const type = typeof body.errorType === 'string' ? ` ${oneLine(body.errorType, 40)}` : ''
    return {
      error: `Prometheus answered HTTP ${status}${type}: ${oneLine(String(body.error ?? 'no error text'), 500)}`
    }
  }
  if (status < 200 || status >= 300) {
    const hint = status === 401 || status === 403 ? ' (check metrics-token)' : ''
    const snippet = text.trim() ? `: ${oneLine(text, 200)}` : ''
    return { error: `${where} answered HTTP ${status}${hint}${snippet}` }
  }
  if (body?.status !== 'success' || !body.data)
    return {
      error: `${where} answered HTTP ${status} with something that is not a Prometheus API answer: ${oneLine(text, 200) || 'an empty body'}`
    }
  return samplesOf(body.data)
}

/** Parses a sample value: Prometheus writes numbers as strings, with NaN, +Inf and -Inf. */
function sampleValue(v: unknown): number | undefined {
  if (!Array.isArray(v) || typeof v[1] !== 'string') return undefined
  const s = v[1]
  if (s === '+Inf' || s === 'Inf') return Infinity
  if (s === '-Inf') return -Infinity
  if (s === 'NaN') return NaN
  const n = Number(s)
  return s.trim() === '' || Number.isNaN(n) ? undefined : n
}

function samplesOf(data: NonNullable<ApiBody['data']>): { samples: Sample[] } | { error: string } {
  const { resultType, result } = data
  if (resultType === 'scalar') {
    const value = sampleValue(result)
    return value === undefined
      ? { error: 'the query answered a scalar that is not a number' }
      : { samples: [{ labels: {}, value }] }
  }
  if (resultType === 'matrix')
    return {
      error:
        'the query answered a range vector (matrix); a gate needs an instant vector or a scalar, e.g. rate(x[5m]) instead of x[5m]'
    }
  if (resultType === 'string') return { error: 'the query answered a string, not a number' }
  if (resultType !== 'vector' || !Array.isArray(result))
    return { error: `the query answered an unknown result type ${quoteValue(String(resultType))}` }
  const samples: Sample[] = []
  for (const item of result as {
    metric?: Record<string, string>
    value?: unknown
    histogram?: unknown
  }[]) {
    const labels = item.metric ?? {}
    if (item.histogram !== undefined)
      return {
        error: `the query answered a histogram for ${seriesName(labels)}, not a number; reduce it to one (histogram_quantile, histogram_count…)`
      }
    const value = sampleValue(item.value)
    if (value === undefined)
      return { error: `the query answered a sample without a number for ${seriesName(labels)}` }
    samples.push({ labels, value })
  }
  return { samples }
}

/** `http_requests_total{code="500", instance="a"}`, bounded. */
function seriesName(labels: Readonly<Record<string, string>>): string {
  const { __name__: name = '', ...rest } = labels
  const pairs = Object.entries(rest).map(([k, v]) => `${k}=${JSON.stringify(v)}`)
  return oneLine(pairs.length || !name ? `${name}{${pairs.join(', ')}}` : name, 200)
}

function holds(op: GateOperator, value: number, threshold: number): boolean {
  switch (op) {
    case '<':
      return value < threshold
    case '<=':
      return value <= threshold
    case '>':
      return value > threshold
    case '>=':
      return value >= threshold
    case '==':
      return value === threshold
  }
}

/**
 * The verdict on the samples: every series must satisfy the condition. Its value is the worst
 * series (the highest for < and <=, the lowest for > and >=; a failing one when any fails).
 */
function judge(
  gate: MetricGate,
  samples: readonly Sample[],
  scrub: (text: string) => string
): Pick<GateVerdict, 'value' | 'ok' | 'error' | 'detail'> {
  if (samples.length === 0)
    return {
      value: undefined,
      ok: false,
      error: 'no data: the query answered no series (a gate does not pass without data)'
    }
  const failing = samples.filter((s) => !holds(gate.operator, s.value, gate.threshold))
  const pool = failing.length ? failing : samples
  const worst = pool.reduce((a, b) => (worse(gate.operator, b.value, a.value) ? b : a))
  const several = samples.length > 1
  const detail = several
    ? scrub(
        failing.length
          ? `${failing.length} of ${samples.length} series fail${failing.length === 1 ? 's' : ''}: ${failing
              .slice(0, 3)
              .map((s) => `${seriesName(s.labels)} ${formatValue(s.value)}`)
              .join('; ')}${failing.length > 3 ? `; and ${failing.length - 3} more` : ''}`
          : `all ${samples.length} series hold; the worst is ${seriesName(worst.labels)}`
      )
    : undefined
  const nan = failing.find((s) => Number.isNaN(s.value))
  return {
    value: nan ? NaN : worst.value,
    ok: failing.length === 0,
    ...(nan
      ? {
          error: `the query answered NaN${several ? ` for ${scrub(seriesName(nan.labels))}` : ''} (not a number: 0/0, such as an error ratio without traffic, gives it)`
        }
      : {}),
    ...(detail ? { detail } : {})
  }
}

/** Whether `a` is further on the failing side of the condition than `b` (NaN is worst). */
function worse(op: GateOperator, a: number, b: number): boolean {
  if (Number.isNaN(b)) return false
  if (Number.isNaN(a)) return true
  if (op === '<' || op === '<=') return a > b
  if (op === '>' || op === '>=') return a < b
  return false
}

/** A value as reports show it: up to 6 significant digits, NaN and ±Inf spelled out. */
export function formatValue(value: number | undefined): string {
  if (value === undefined) return 'no value'
  if (Number.isNaN(value)) return 'NaN'
  if (!Number.isFinite(value)) return value > 0 ? '+Inf' : '-Inf'
  return String(Number(value.toPrecision(6)))
}

/** One line for a log or a report: `error-ratio: 0.05, not < 0.01 (query …)`. */
export function describeVerdict(v: GateVerdict): string {
  const outcome = v.error
    ? `failed: ${v.error}`
    : v.ok
      ? `${formatValue(v.value)}, ${v.condition} holds`
      : `${formatValue(v.value)}, not ${v.condition}`
  return `gate ${v.gate}: ${outcome}${v.detail ? ` (${v.detail})` : ''} — query ${v.query}`
}
