/**
 * The metric gate against a real Prometheus (built by testinfra/prometheus/build.sh) scraping
 * the test exporter every second: the evaluator's verdicts for a good release, a release
 * answering 5 % errors, several series, no data, NaN, bad PromQL (HTTP 400), an API behind a
 * bearer-token proxy, and APIs that cannot answer (connection refused, a server that never
 * answers: asked twice, then unanswered). Skipped when the binary is not built, except in CI, where that fails.
 */
import { afterAll, beforeAll, expect, it } from '@jest/globals'
import { createServer, request, type Server } from 'node:http'
import { createServer as createTcpServer, type Server as TcpServer, type Socket } from 'node:net'
import {
  createGateEvaluator,
  parseMetricGates,
  type GateVerdict
} from '../../shared/src/deploy/cluster/metric-gate.js'
import { describeWithPrometheus } from '../../testinfra/prometheus/describe.js'
import { startExporter, type Exporter } from '../../testinfra/prometheus/exporter.js'
import { startPrometheus, type PrometheusServer } from '../../testinfra/prometheus/server.js'

/** The error ratio of one cluster's requests over 10 s (the exporter is scraped every second). */
const errorRatio =
  'sum(rate(http_requests_total{cluster="{cluster}",code=~"5.."}[10s])) / sum(rate(http_requests_total{cluster="{cluster}"}[10s]))'
const errorGate = `errors: ${errorRatio} < 0.01`

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Until `done` holds for Prometheus's answer to `expr` (the rate windows fill in seconds). */
async function settle(
  prometheus: PrometheusServer,
  expr: string,
  done: (v: number | undefined) => boolean,
  timeoutMs = 40_000
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  let last: number | undefined
  while (Date.now() < deadline) {
    last = await prometheus.queryValue(expr)
    if (done(last)) return
    await sleep(500)
  }
  throw new Error(`${expr} did not settle; last ${last}`)
}

const near = (want: number) => (v: number | undefined) =>
  v !== undefined && Math.abs(v - want) < 0.0005

async function listen(server: Server | TcpServer): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return (server.address() as { port: number }).port
}

describeWithPrometheus('the metric gate against a real Prometheus', (binary) => {
  let exporter: Exporter
  let prometheus: PrometheusServer
  const evaluate = async (gates: string, cluster: string, url = prometheus.url) =>
    createGateEvaluator({ url, gates: parseMetricGates(gates, 'gates'), cluster }).evaluate()

  beforeAll(async () => {
    exporter = await startExporter()
    exporter.counter('http_requests_total', 'Requests served, by cluster, pod and status code.')
    exporter.counter('idle_total', 'A counter that never moves.')
    exporter.gauge('kit_marker', 'One value per cluster label.')
    const rate = (cluster: string, pod: string, ok: number, errors: number) => {
      exporter.setRate('http_requests_total', { cluster, pod, code: '200' }, ok)
      exporter.setRate('http_requests_total', { cluster, pod, code: '500' }, errors)
    }
    rate('good', 'a', 100, 0)
    rate('bad', 'a', 95, 5)
    // Three pods, one of them answering 5 % errors.
    rate('pods', 'a', 100, 0)
    rate('pods', 'b', 95, 5)
    rate('pods', 'c', 50, 0)
    exporter.add('idle_total', {}, 1)
    exporter.set('kit_marker', { cluster: 'prod.eu-1' }, 1)
    exporter.set('kit_marker', { cluster: 'prodxeu-1' }, 2)
    exporter.set('kit_marker', { cluster: 'a"b\\c' }, 3)
    prometheus = await startPrometheus({ binary, targets: [exporter.target] })
    await prometheus.waitForTargets()
    // Both clusters' ratios stand where the exporter drives them before any gate is asked.
    await settle(prometheus, errorRatio.replaceAll('{cluster}', 'bad'), near(0.05))
    await settle(prometheus, errorRatio.replaceAll('{cluster}', 'good'), (v) => v === 0)
    // Rates (not only ratios) stand once the 10 s window holds only samples of the set rates.
    await settle(
      prometheus,
      'sum(rate(http_requests_total{cluster="pods",pod="c"}[10s]))',
      (v) => v !== undefined && Math.abs(v - 50) < 0.5
    )
  }, 120_000)

  afterAll(async () => {
    await prometheus?.stop()
    await exporter?.close()
  })

  it('passes a good release: its error ratio is 0, below 1 %', async () => {
    const [verdict] = await evaluate(errorGate, 'good')
    expect(verdict).toEqual({
      gate: 'errors',
      query: errorRatio.replaceAll('{cluster}', 'good'),
      condition: '< 0.01',
      value: 0,
      ok: true
    })
  })

  it('fails a release answering 5 % errors, with the query, the value and the condition', async () => {
    const [verdict] = await evaluate(errorGate, 'bad')
    expect(verdict).toMatchObject({
      gate: 'errors',
      query: errorRatio.replaceAll('{cluster}', 'bad'),
      condition: '< 0.01',
      ok: false
    })
    expect(verdict.value).toBeCloseTo(0.05, 3)
    expect(verdict.error).toBeUndefined()
  })

  it('evaluates several gates at once, each with its own verdict', async () => {
    const verdicts = await evaluate(
      `${errorGate}\ntraffic: sum(rate(http_requests_total{cluster="{cluster}"}[10s])) >= 50`,
      'bad'
    )
    expect(verdicts.map((v) => [v.gate, v.ok])).toEqual([
      ['errors', false],
      ['traffic', true]
    ])
    expect(verdicts[1].value).toBeCloseTo(100, 0)
  })

  it('requires every series of a vector to hold; the value is the worst series', async () => {
    const byPod = (cluster: string, code: string) =>
      `sum by (pod) (rate(http_requests_total{cluster="${cluster}"${code}}[10s]))`
    const perPod = `${byPod('pods', ',code="500"')} / ${byPod('pods', '')}`
    const [failing] = await evaluate(`pod-errors: ${perPod} < 0.01`, 'pods')
    expect(failing).toMatchObject({ ok: false, detail: '1 of 3 series fails: {pod="b"} 0.05' })
    expect(failing.value).toBeCloseTo(0.05, 3)
    const [holding] = await evaluate(`pod-errors: ${perPod} < 0.1`, 'pods')
    expect(holding).toMatchObject({ ok: true, detail: 'all 3 series hold; the worst is {pod="b"}' })
    expect(holding.value).toBeCloseTo(0.05, 3)
    // For a lower bound, the lowest series is the worst: pod c serves 50 requests a second.
    const [traffic] = await evaluate(`traffic: ${byPod('pods', '')} > 60`, 'pods')
    expect(traffic.ok).toBe(false)
    expect(traffic.detail).toMatch(/^1 of 3 series fails: \{pod="c"\} (49\.[5-9]\d*|50(\.\d+)?)$/)
    expect(traffic.value).toBeCloseTo(50, 0)
  })

  it('fails a query that answers no series: no data is not a pass', async () => {
    const [verdict] = await evaluate(errorGate, 'nobody')
    expect(verdict).toEqual({
      gate: 'errors',
      query: errorRatio.replaceAll('{cluster}', 'nobody'),
      condition: '< 0.01',
      value: undefined,
      ok: false,
      error: 'no data: the query answered no series (a gate does not pass without data)'
    })
  })

  it('fails a NaN (0/0: a ratio without traffic), whatever the condition', async () => {
    const ratio = 'sum(rate(idle_total[10s])) / sum(rate(idle_total[10s]))'
    await settle(prometheus, ratio, (v) => v !== undefined && Number.isNaN(v))
    const [verdict] = await evaluate(`idle: ${ratio} < 0.01`, 'any')
    expect(verdict.ok).toBe(false)
    expect(verdict.value).toBeNaN()
    expect(verdict.error).toMatch(/^the query answered NaN \(not a number: 0\/0/)
  })

  it('fails with the answer type when a query does not answer a number', async () => {
    const verdicts = await evaluate(
      'scalar: scalar(sum(kit_marker)) == 6\nrange: kit_marker[5s] < 1\ntext: "ok" < 1',
      'any'
    )
    expect(verdicts[0]).toMatchObject({ ok: true, value: 6 })
    expect(verdicts[1]).toMatchObject({ ok: false, value: undefined })
    expect(verdicts[1].error).toMatch(/^the query answered a range vector \(matrix\)/)
    expect(verdicts[2]).toMatchObject({
      ok: false,
      error: 'the query answered a string, not a number'
    })
  })

  it('puts {cluster} in label values so a name matches itself only (regex and quotes)', async () => {
    // Unescaped, the regex prod.eu-1 would also match prodxeu-1 and sum to 3.
    const [regex] = await evaluate('m: sum(kit_marker{cluster=~"{cluster}"}) == 1', 'prod.eu-1')
    expect(regex).toMatchObject({
      ok: true,
      value: 1,
      query: 'sum(kit_marker{cluster=~"prod\\\\.eu-1"})'
    })
    const [quoted] = await evaluate('m: sum(kit_marker{cluster="{cluster}"}) == 3', 'a"b\\c')
    expect(quoted).toMatchObject({ ok: true, value: 3 })
  })

  it("reports bad PromQL with Prometheus's own error (HTTP 400)", async () => {
    const [verdict] = await evaluate('bad: rate(http_requests_total) < 1', 'any')
    expect(verdict).toMatchObject({ ok: false, value: undefined })
    expect(verdict.error).toMatch(
      /^Prometheus answered HTTP 400 bad_data: invalid parameter "query": .*expected type range vector in call to function "rate", got instant vector/
    )
  })

  it('sends the bearer token to an API behind an auth proxy; a wrong one is a clear 401', async () => {
    const token = 'metrics-token-0123456789'
    const target = new URL(prometheus.url)
    const proxy = createServer((req, res) => {
      if (req.headers.authorization !== `Bearer ${token}`) {
        res.writeHead(401, { 'content-type': 'text/plain' }).end('unauthorized\n')
        return
      }
      const upstream = request(
        { host: target.hostname, port: target.port, path: req.url, headers: req.headers },
        (r) => {
          res.writeHead(r.statusCode ?? 502, r.headers)
          r.pipe(res)
        }
      )
      upstream.end()
    })
    const url = `http://127.0.0.1:${await listen(proxy)}`
    try {
      const gates = parseMetricGates(errorGate, 'gates')
      const ask = (t: string) =>
        createGateEvaluator({ url, token: t, gates, cluster: 'good' }).evaluate()
      const [good] = await ask(token)
      expect(good).toMatchObject({ ok: true, value: 0 })
      const wrong = 'not-the-token-987654'
      const [refused] = await ask(wrong)
      expect(refused).toMatchObject({
        ok: false,
        error: `${url}/api/v1/query answered HTTP 401 (check metrics-token): unauthorized`
      })
      expect(JSON.stringify(refused)).not.toContain(wrong)
    } finally {
      await new Promise((r) => proxy.close(r))
    }
  })
})

describeWithPrometheus('the metric gate when the API cannot answer', () => {
  const gates = parseMetricGates(errorGate, 'gates')
  let silent: TcpServer
  const held: Socket[] = []

  beforeAll(() => {
    // Accepts connections and never answers: only the query's time limit ends the wait.
    silent = createTcpServer((socket) => {
      held.push(socket)
      socket.on('error', () => undefined)
    })
  })

  afterAll(async () => {
    for (const s of held) s.destroy()
    await new Promise((r) => silent.close(r))
  })

  it('fails clearly on a refused connection, after asking twice', async () => {
    const closed = createTcpServer()
    const port = await listen(closed)
    await new Promise((r) => closed.close(r))
    const [verdict] = await createGateEvaluator({
      url: `http://127.0.0.1:${port}`,
      gates,
      cluster: 'good'
    }).evaluate()
    expect(verdict).toMatchObject({
      gate: 'errors',
      condition: '< 0.01',
      value: undefined,
      ok: false
    })
    expect(verdict.error).toBe(
      `cannot reach http://127.0.0.1:${port}/api/v1/query: connection refused (ECONNREFUSED) (asked twice)`
    )
  })

  it('fails within twice the time limit when the API never answers (asked twice)', async () => {
    const url = `http://127.0.0.1:${await listen(silent)}/prometheus`
    const started = Date.now()
    const verdicts: GateVerdict[] = await createGateEvaluator({
      url,
      gates,
      cluster: 'good',
      timeoutMs: 1500
    }).evaluate()
    const took = Date.now() - started
    expect(verdicts[0]).toMatchObject({ ok: false, value: undefined })
    expect(verdicts[0].error).toBe(
      `no answer from ${url}/api/v1/query within 1.5 s (the query's time limit) (asked twice)`
    )
    // Two time limits and the pause between them (0.5 to 1 s).
    expect(took).toBeGreaterThanOrEqual(3400)
    expect(took).toBeLessThan(7000)
    expect(held.length).toBeGreaterThan(0)
  })

  it('stops at once, rejecting, when the caller aborts (the window ended)', async () => {
    const url = `http://127.0.0.1:${(silent.address() as { port: number }).port}`
    const cancel = new AbortController()
    const pending = createGateEvaluator({ url, gates, cluster: 'good' }).evaluate(cancel.signal)
    setTimeout(() => cancel.abort(new Error('window over')), 200)
    const started = Date.now()
    await expect(pending).rejects.toThrow('window over')
    expect(Date.now() - started).toBeLessThan(2000)
  })
})
