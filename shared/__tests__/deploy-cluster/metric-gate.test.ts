/**
 * The metric gate's parsing and substitution (no network): every operator, bad lines refused
 * with an error naming the line, {cluster} in metrics-url and in a query, escaped for the string
 * it stands in, the settings' cross-checks, and the deploy option entries. The evaluator's
 * answers come from a real Prometheus in deployer/__tests__/metric-gate.test.ts; which failures
 * are asked once more is tested here against a local HTTP server that answers as scripted.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import {
  createGateEvaluator,
  describeVerdict,
  formatValue,
  gateQuery,
  metricGateSettings,
  parseMetricGates,
  parseMetricsToken,
  parseMetricsUrl,
  type GateVerdict
} from '../../src/deploy/cluster/metric-gate.js'
import { deployOptions } from '../../src/options/deploy.js'
import { requestFromArgs } from '../../../cli/src/commands/deploy.js'
import { readInputs } from '../../../deployer/src/inputs.js'

const label = "Input 'metric-gates'"
const one = (line: string) => parseMetricGates(line, label)[0]

describe('parseMetricGates', () => {
  it.each([
    ['errors: sum(rate(x[5m])) < 0.01', '<', 0.01, 'sum(rate(x[5m]))'],
    ['errors: sum(rate(x[5m])) <= 0.01', '<=', 0.01, 'sum(rate(x[5m]))'],
    [
      'p99: histogram_quantile(0.99, sum by (le) (rate(h_bucket[5m]))) > 0.5',
      '>',
      0.5,
      'histogram_quantile(0.99, sum by (le) (rate(h_bucket[5m])))'
    ],
    ['ready: min(kube_ready) >= 1', '>=', 1, 'min(kube_ready)'],
    ['up: up{job="api"} == 1', '==', 1, 'up{job="api"}'],
    // No spaces around the operator; an exponent; a negative threshold.
    ['tight: x<1e-3', '<', 0.001, 'x'],
    ['neg: delta(t[5m]) > -2.5', '>', -2.5, 'delta(t[5m])'],
    // The query's own comparison stays in the query: the condition is the last one.
    ['filtered: sum(rate(x[5m]) > 0) < 3', '<', 3, 'sum(rate(x[5m]) > 0)'],
    // A recording rule's colons and a subquery's colon are not the name's.
    ['rule: job:errors:ratio5m < .05', '<', 0.05, 'job:errors:ratio5m'],
    ['sub: max_over_time(rate(x[1m])[5m:30s]) < 10', '<', 10, 'max_over_time(rate(x[1m])[5m:30s])'],
    ['error ratio: e / t < 0.01', '<', 0.01, 'e / t']
  ])('%s', (line, operator, threshold, query) => {
    const gate = one(line)
    expect(gate).toMatchObject({ operator, threshold, query })
    expect(gate.name).toBe(line.slice(0, line.indexOf(':')))
    expect(gate.condition).toBe(`${operator} ${line.match(/[-+]?[\d.]+(e-?\d+)?$/)![0]}`)
  })

  it('reads one gate per line, skipping blank lines and # comments, and takes a list too', () => {
    const text = '# the release gates\n\nerrors: e < 0.01\r\n  latency: l <= 0.3  \n'
    const gates = parseMetricGates(text, label)
    expect(gates.map((g) => [g.name, g.query, g.condition])).toEqual([
      ['errors', 'e', '< 0.01'],
      ['latency', 'l', '<= 0.3']
    ])
    expect(parseMetricGates(['errors: e < 0.01', 'latency: l <= 0.3'], label)).toEqual(gates)
    expect(parseMetricGates('', label)).toEqual([])
  })

  it.each([
    [
      'up == 1',
      /line 1 does not start with a gate name: expected `<name>: <promql> <op> <number>`.*got 'up == 1'/
    ],
    ['job:errors:ratio < 0.01', /line 1 does not start with a gate name/],
    ['errors:', /line 1 \(gate 'errors'\) has no query/],
    [
      'errors: sum(rate(x[5m]))',
      /line 1 \(gate 'errors'\) must end with a condition: one of < <= > >= == and a number/
    ],
    ['errors: x > bool 0', /must end with a condition/],
    [
      'errors: x != 0',
      /line 1 \(gate 'errors'\): the condition's operator must be one of < <= > >= ==, got !=/
    ],
    ['errors: x < 1%', /write the threshold as a number, not a percentage \(1% is 0.01\)/],
    ['errors: x < ten', /the condition's threshold must be a number, got 'ten'/],
    ['errors: x < 1e999', /must be a finite number, got '1e999'/],
    ['errors: < 0.01', /line 1 \(gate 'errors'\) has a condition but no query/],
    ['errors: sum(rate(x[5m]) < 0.01', /line 1 \(gate 'errors'\): '\(' at column 12 is not closed/],
    ['errors: sum(rate(x[5m)) < 0.01', /unbalanced '\)' at column 22/],
    ['errors: x{job="api} < 0.01', /the string starting at column 15 is not closed/],
    ['errors: x # note < 0.01', /a gate line cannot hold a comment/],
    [
      'errors: x{cluster={cluster}} < 0.01',
      /\{cluster\} stands for a label value and must be inside its quotes, e.g. up\{cluster="\{cluster\}"\}/
    ],
    [`${'n'.repeat(64)}: x < 1`, /the gate name is 64 characters; at most 63/]
  ])('refuses %s', (line, error) => {
    expect(() => parseMetricGates(line, label)).toThrow(error)
    expect(() => parseMetricGates(line, label)).toThrow(/^Input 'metric-gates' line 1/)
  })

  it('names the line of the bad gate among good ones', () => {
    expect(() => parseMetricGates('a: x < 1\n\n# fine\nb: y <\nc: z > 2', label)).toThrow(
      /^Input 'metric-gates' line 4 \(gate 'b'\) must end with a condition/
    )
  })

  it('counts columns from the start of the line, indent included', () => {
    expect(() => parseMetricGates('a: x < 1\n   b: sum(x < 1', label)).toThrow(
      "Input 'metric-gates' line 2 (gate 'b'): '(' at column 10 is not closed"
    )
  })

  it('refuses a name used twice, and more than 20 gates', () => {
    expect(() => parseMetricGates('a: x < 1\na: y < 2', '--metric-gates')).toThrow(
      "--metric-gates line 2: gate name 'a' is used twice; give each gate its own name"
    )
    const many = Array.from({ length: 21 }, (_, i) => `g${i}: x < 1`)
    expect(() => parseMetricGates(many, label)).toThrow(
      "Input 'metric-gates' has 21 gates; at most 20 are accepted"
    )
  })
})

describe('{cluster} in a query', () => {
  const q = (query: string, cluster: string) => gateQuery({ query }, cluster)

  it('is replaced inside each kind of string literal, escaped for its quotes', () => {
    expect(q('up{cluster="{cluster}"}', 'prod-eu-1')).toBe('up{cluster="prod-eu-1"}')
    expect(q("up{cluster='{cluster}'}", 'prod-eu-1')).toBe("up{cluster='prod-eu-1'}")
    expect(q('up{cluster=`{cluster}`}', 'prod-eu-1')).toBe('up{cluster=`prod-eu-1`}')
    // A name with a quote or a backslash cannot end the string early or escape its quote.
    expect(q('up{c="{cluster}"}', 'a"b\\c')).toBe('up{c="a\\"b\\\\c"}')
    expect(q("up{c='{cluster}'}", 'a\'b"c')).toBe("up{c='a\\'b\"c'}")
    expect(q('up{c="{cluster}"}', 'a\nb')).toBe('up{c="a\\nb"}')
    expect(() => q('up{c=`{cluster}`}', 'a`b')).toThrow(
      /holds a backtick and cannot stand in a raw/
    )
  })

  it('is escaped as a regex in a regex matcher, so a name matches only itself', () => {
    expect(q('up{cluster=~"{cluster}"}', 'prod.eu-1')).toBe('up{cluster=~"prod\\\\.eu-1"}')
    expect(q('up{cluster!~ "{cluster}|global"}', 'a+b')).toBe('up{cluster!~ "a\\\\+b|global"}')
    expect(q('up{cluster=~`{cluster}`}', 'prod.eu-1')).toBe('up{cluster=~`prod\\.eu-1`}')
    // Not a matcher: a plain string.
    expect(q('label_replace(up, "c", "{cluster}", "", "")', 'prod.eu-1')).toBe(
      'label_replace(up, "c", "prod.eu-1", "", "")'
    )
  })

  it('is replaced wherever it stands in strings, and nothing else changes', () => {
    const query =
      'sum(rate(x{code=~"5..",cluster="{cluster}"}[5m])) / sum(rate(x{cluster="{cluster}", note="a\\"{b}"}[5m]))'
    expect(q(query, 'c1')).toBe(query.replaceAll('{cluster}', 'c1'))
    expect(q('up', 'c1')).toBe('up')
  })

  it('is the evaluator’s query for its cluster', () => {
    const gates = parseMetricGates('errors: sum(x{cluster="{cluster}"}) < 1', label)
    const evaluator = createGateEvaluator({ url: 'http://127.0.0.1:1', gates, cluster: 'eu-1' })
    expect(evaluator.gates).toEqual([
      { name: 'errors', query: 'sum(x{cluster="eu-1"})', condition: '< 1' }
    ])
  })
})

describe('metrics-url', () => {
  const urlLabel = "Input 'metrics-url'"

  it.each([
    'http://127.0.0.1:9090',
    'https://prometheus.example.com/',
    'https://example.com/api/prom',
    'https://prometheus.{cluster}.example.com',
    'https://thanos.example.com/{cluster}/?tenant=a'
  ])('accepts %s', (url) => {
    expect(parseMetricsUrl(url, urlLabel)).toBe(url)
  })

  it.each([
    ['https://x/{region}', "knows only the placeholder {cluster}, got '{region}'"],
    ['prometheus:9090', 'must be an http(s) URL'],
    ['ftp://x', 'must be an http(s) URL'],
    ['not a url', 'must be an http(s) URL'],
    ['https://x/#frag', 'must not have a #fragment'],
    ['https://x/api/v1/query', "is the API's base URL, without /api/v1/query"],
    ['https://x/prom/api/v1/', "is the API's base URL, without /api/v1/query"]
  ])('refuses %s', (url, error) => {
    expect(() => parseMetricsUrl(url, urlLabel)).toThrow(`${urlLabel} ${error}`)
  })

  it('refuses credentials in the URL without repeating them', () => {
    let message = ''
    try {
      parseMetricsUrl('https://user:s3cret-pw@prom.example.com', urlLabel)
    } catch (e) {
      message = (e as Error).message
    }
    expect(message).toMatch(/holds credentials; .*bearer token as metrics-token/)
    expect(message).not.toContain('s3cret-pw')
  })

  it('URL-encodes the cluster name and appends /api/v1/query to the base path', async () => {
    const asked: string[] = []
    const fake = (async (url: URL) => {
      asked.push(url.toString())
      return Response.json({ status: 'success', data: { resultType: 'scalar', result: [1, '0'] } })
    }) as unknown as typeof fetch
    const gates = parseMetricGates('g: x < 1', label)
    const ask = (url: string, cluster: string) =>
      createGateEvaluator({ url, gates, cluster, fetch: fake }).evaluate()
    await ask('https://m.example.com/{cluster}/prom/', 'a b/c')
    await ask('https://{cluster}.example.com?org=1', 'eu-1')
    expect(asked).toEqual([
      'https://m.example.com/a%20b%2Fc/prom/api/v1/query?query=x&timeout=10s',
      'https://eu-1.example.com/api/v1/query?org=1&query=x&timeout=10s'
    ])
    expect(() =>
      createGateEvaluator({ url: 'https://{cluster}.example.com', gates, cluster: 'a b' })
    ).toThrow("metrics-url is not a valid URL for cluster 'a b'")
  })
})

describe('metrics-token', () => {
  it('is trimmed, and refused with spaces or line breaks without being repeated', () => {
    expect(parseMetricsToken('  glc_abc.def-123=\n', 't')).toBe('glc_abc.def-123=')
    for (const bad of ['two words', 'line\nbreak', 'tab\tx', 'ünïcode'])
      expect(() => parseMetricsToken(bad, "Input 'metrics-token'")).toThrow(
        "Input 'metrics-token' must be one bearer token: visible ASCII characters, no spaces or line breaks (the value is not shown)"
      )
  })

  it('is sent as a bearer token and scrubbed from anything that comes back', async () => {
    const token = 'tok-0123456789'
    let auth: string | null = null
    const echo = (async (_url: URL, init: RequestInit) => {
      auth = new Headers(init.headers).get('authorization')
      return Response.json(
        { status: 'error', errorType: 'bad_data', error: `token ${token} is not allowed` },
        { status: 400 }
      )
    }) as unknown as typeof fetch
    const gates = parseMetricGates('g: x < 1', label)
    const [v] = await createGateEvaluator({
      url: 'http://p',
      token,
      gates,
      cluster: 'c',
      fetch: echo
    }).evaluate()
    expect(auth).toBe(`Bearer ${token}`)
    expect(v).toMatchObject({
      ok: false,
      error: 'Prometheus answered HTTP 400 bad_data: token *** is not allowed'
    })
    expect(JSON.stringify(v)).not.toContain(token)
  })
})

describe('metricGateSettings', () => {
  const gates = parseMetricGates('g: x < 1', label)

  it('is undefined without gates, and the settings with them', () => {
    expect(metricGateSettings({ metricGates: [], metricInterval: 15_000 })).toBeUndefined()
    expect(
      metricGateSettings({
        metricsUrl: 'http://p',
        metricsToken: 't0ken',
        metricGates: gates,
        metricInterval: 5000,
        watchMs: 60_000
      })
    ).toEqual({ url: 'http://p', token: 't0ken', gates, intervalMs: 5000 })
  })

  it('refuses a half-configured gate', () => {
    expect(() => metricGateSettings({ metricGates: gates, metricInterval: 1000 })).toThrow(
      'metric-gates needs metrics-url, the Prometheus-compatible API to ask'
    )
    expect(() =>
      metricGateSettings({ metricsUrl: 'http://p', metricGates: [], metricInterval: 1000 })
    ).toThrow('metrics-url is set but metric-gates is empty: there is nothing to evaluate')
    expect(() =>
      metricGateSettings({ metricsToken: 'secret-value', metricGates: [], metricInterval: 1000 })
    ).toThrow(/^metrics-token is set but metric-gates is empty/)
    expect(() =>
      metricGateSettings({
        metricsUrl: 'http://p',
        metricGates: gates,
        metricInterval: 1000,
        watchMs: 0
      })
    ).toThrow(
      'metric-gates needs watch, the window after healthy in which the gates are evaluated (e.g. watch: 2m)'
    )
  })
})

describe('the deploy options', () => {
  it('have the gate settings: names, types, defaults, and no token flag', () => {
    const { metricsUrl, metricsToken, metricGates, metricInterval } = deployOptions
    expect([metricsUrl.name, metricsToken.name, metricGates.name, metricInterval.name]).toEqual([
      'metrics-url',
      'metrics-token',
      'metric-gates',
      'metric-interval'
    ])
    expect(metricsToken.cli).toBe(false)
    expect(metricsToken.cliNote).toMatch(/KIT_METRICS_TOKEN/)
    expect(metricInterval.default).toBe(15_000)
    expect(metricGates.default).toEqual([])
    expect(metricGates.parse('a: x < 1\nb: y >= 2', label)).toHaveLength(2)
    expect(metricInterval.parse('30s', 'i')).toBe(30_000)
    expect(() => metricInterval.parse('500ms', "Input 'metric-interval'")).toThrow(
      "Input 'metric-interval' must be at least 1s, got '500ms'"
    )
    expect(() => metricsUrl.parse('https://x/{env}', '--metrics-url')).toThrow(
      /^--metrics-url knows only/
    )
  })
})

describe('verdict text', () => {
  const base = { gate: 'errors', query: 'q', condition: '< 0.01' }

  it('says the value against the condition, or why there is none', () => {
    const cases: [GateVerdict, string][] = [
      [{ ...base, value: 0, ok: true }, 'gate errors: 0, < 0.01 holds — query q'],
      [{ ...base, value: 0.05, ok: false }, 'gate errors: 0.05, not < 0.01 — query q'],
      [
        { ...base, value: undefined, ok: false, error: 'no data' },
        'gate errors: failed: no data — query q'
      ],
      [
        { ...base, value: 0.2, ok: false, detail: '1 of 2 series fails' },
        'gate errors: 0.2, not < 0.01 (1 of 2 series fails) — query q'
      ]
    ]
    for (const [verdict, text] of cases) expect(describeVerdict(verdict)).toBe(text)
    expect([1 / 3, NaN, Infinity, -Infinity, undefined].map(formatValue)).toEqual([
      '0.333333',
      'NaN',
      '+Inf',
      '-Inf',
      'no value'
    ])
  })
})

describe('the gate settings through both front-ends', () => {
  const token = 'front-end-token-4242'
  const gateLine = 'errors: sum(x{cluster="{cluster}"}) < 0.01'
  const expected = {
    url: 'http://prom.example:9090',
    token,
    gates: parseMetricGates(gateLine, label),
    intervalMs: 5000
  }

  it('kit deploy: flags, the token from KIT_METRICS_TOKEN (masked), never a flag', async () => {
    const masked: string[] = []
    const args = ['m', '--commit', 'abc', '--kubeconfig-dir', '/tmp', '--watch', '1m']
    const gateArgs = [
      '--metrics-url',
      expected.url,
      '--metric-gates',
      gateLine,
      '--metric-interval',
      '5s'
    ]
    const { request } = await requestFromArgs(
      [...args, ...gateArgs],
      'deploy',
      { KIT_METRICS_TOKEN: ` ${token}\n` },
      (v) => void masked.push(v)
    )
    expect(request.cluster.watch?.metrics).toEqual(expected)
    expect(masked).toContain(` ${token}\n`)
    await expect(
      requestFromArgs([...args, '--metrics-token', token], 'deploy', {}, () => undefined)
    ).rejects.toThrow(/metrics-token/)
    await expect(
      requestFromArgs(
        [...args, ...gateArgs],
        'deploy',
        { KIT_METRICS_TOKEN: 'two words' },
        () => undefined
      )
    ).rejects.toThrow('KIT_METRICS_TOKEN must be one bearer token')
  })

  it('the deployer action: inputs, the token masked before anything can fail', async () => {
    const inputs: Record<string, string> = {
      'kubeconfig-dir': '/tmp',
      commit: 'abc',
      'commit-time': '2026-11-26T07:00:00Z',
      watch: '1m',
      'metrics-url': expected.url,
      'metrics-token': token,
      'metric-gates': gateLine,
      'metric-interval': '5s'
    }
    const saved = { ...process.env }
    try {
      for (const [k, v] of Object.entries(inputs)) process.env[`INPUT_${k.toUpperCase()}`] = v
      const masked: string[] = []
      const request = await readInputs({}, (v) => void masked.push(v))
      expect(request.cluster.watch?.metrics).toEqual(expected)
      expect(masked).toContain(token)
      // Gates without a window are refused, naming both settings.
      process.env.INPUT_WATCH = '0'
      await expect(readInputs({}, () => undefined)).rejects.toThrow(/metric-gates needs watch/)
    } finally {
      for (const k of Object.keys(process.env)) if (k.startsWith('INPUT_')) delete process.env[k]
      Object.assign(process.env, saved)
    }
  })
})

describe('a query the network or the server failed', () => {
  /** What the server does with each query, in order; every query is counted. */
  const script: ((req: IncomingMessage, res: ServerResponse) => void)[] = []
  let queries = 0
  let server: Server
  let url: string
  const gates = parseMetricGates('ratio: x < 0.01', label)
  const evaluate = () =>
    createGateEvaluator({
      url,
      gates,
      cluster: 'eu-1',
      timeoutMs: 300,
      retry: { baseMs: 20, capMs: 20 }
    }).evaluate()
  const answer =
    (code: number, body: unknown) =>
    (_req: IncomingMessage, res: ServerResponse): void => {
      res.writeHead(code, { 'content-type': 'application/json' })
      res.end(JSON.stringify(body))
    }
  const value = (v: string) =>
    answer(200, {
      status: 'success',
      data: { resultType: 'vector', result: [{ metric: {}, value: [1, v] }] }
    })
  const reset = (req: IncomingMessage) => req.socket.destroy()
  const silent = () => undefined

  beforeAll(async () => {
    server = createServer((req, res) => {
      queries++
      ;(script.shift() ?? answer(500, { status: 'error', error: 'no script' }))(req, res)
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  })
  afterAll(async () => {
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
  })
  const run = async (...steps: typeof script) => {
    script.length = 0
    script.push(...steps)
    queries = 0
    const [verdict] = await evaluate()
    return { verdict, queries }
  }

  it('asks once more after a reset, a timeout or a 5xx, and judges the second answer', async () => {
    expect(await run(reset, value('0.002'))).toMatchObject({
      verdict: { ok: true, value: 0.002 },
      queries: 2
    })
    expect(await run(silent, value('0.002'))).toMatchObject({
      verdict: { ok: true, value: 0.002 },
      queries: 2
    })
    const unavailable = answer(503, {
      status: 'error',
      errorType: 'unavailable',
      error: 'starting'
    })
    expect(await run(unavailable, value('0.2'))).toMatchObject({
      verdict: { ok: false, value: 0.2 },
      queries: 2
    })
  })

  it('is unanswered when the second query fails too, and says it asked twice', async () => {
    const { verdict, queries: asked } = await run(
      answer(502, { status: 'error', error: 'bad gateway' }),
      reset
    )
    expect(asked).toBe(2)
    expect(verdict).toMatchObject({ ok: false, value: undefined })
    expect(verdict.error).toMatch(
      /^cannot reach http:\/\/127\.0\.0\.1:\d+\/api\/v1\/query: .* \(asked twice\)$/
    )
  })

  it('does not ask again an answer: bad PromQL (4xx), no data, a failed condition', async () => {
    const bad = await run(
      answer(400, { status: 'error', errorType: 'bad_data', error: 'parse error' }),
      value('0')
    )
    expect(bad).toMatchObject({
      verdict: { ok: false, error: 'Prometheus answered HTTP 400 bad_data: parse error' },
      queries: 1
    })
    const empty = await run(
      answer(200, { status: 'success', data: { resultType: 'vector', result: [] } }),
      value('0')
    )
    expect(empty).toMatchObject({ verdict: { ok: false, value: undefined }, queries: 1 })
    expect(await run(value('0.5'), value('0'))).toMatchObject({
      verdict: { ok: false, value: 0.5 },
      queries: 1
    })
  })
})
