/**
 * The real Prometheus (built by testinfra/prometheus/build.sh from the pinned Go module)
 * scraping the test exporter every second: what the exporter is driven to report shows up in
 * PromQL answers over the HTTP API within seconds, which is what the deployer's metric gate
 * relies on. Skipped when the binary is not built, except in CI, where that fails.
 */
import { afterAll, beforeAll, expect, it } from '@jest/globals'
import { describeWithPrometheus } from '../describe.js'
import { startExporter, type Exporter } from '../exporter.js'
import { startPrometheus, type PrometheusServer } from '../server.js'

const errorRatio =
  'sum(rate(http_requests_total{code="500"}[10s])) / sum(rate(http_requests_total[10s]))'

/** Reads until `done` holds or the time is up; returns every value read, the last one last. */
async function readUntil<T>(
  read: () => Promise<T>,
  done: (v: T) => boolean,
  timeoutMs = 40_000
): Promise<T[]> {
  const deadline = Date.now() + timeoutMs
  const seen: T[] = []
  for (;;) {
    const v = await read()
    seen.push(v)
    if (done(v) || Date.now() > deadline) return seen
    await new Promise((r) => setTimeout(r, 500))
  }
}

const near = (want: number) => (v: number | undefined) =>
  v !== undefined && Math.abs(v - want) < 0.001

describeWithPrometheus('a real Prometheus scraping the test exporter', (binary) => {
  let exporter: Exporter
  let prometheus: PrometheusServer | undefined

  /** Requests per second answered with 200 and with 500. */
  const drive = (ok: number, errors: number) => {
    exporter.setRate('http_requests_total', { code: '200' }, ok)
    exporter.setRate('http_requests_total', { code: '500' }, errors)
  }

  beforeAll(async () => {
    exporter = await startExporter()
    exporter.counter('http_requests_total', 'Requests served, by status code.')
    drive(98, 2)
    prometheus = await startPrometheus({ binary, targets: [exporter.target] })
    await prometheus.waitForTargets()
  }, 90_000)

  afterAll(async () => {
    await prometheus?.stop()
    await exporter?.close()
  })

  it('answers the error ratio the exporter is driven to: 2 %, then 0 %, then 10 %', async () => {
    const p = prometheus!
    const value = () => p.queryValue(errorRatio)

    const atTwo = await readUntil(value, near(0.02))
    expect(atTwo.at(-1)).toBeCloseTo(0.02, 3)

    // The errors stop: once the 10 s window holds only error-free samples the ratio is 0.
    drive(100, 0)
    const afterFix = await readUntil(value, (v) => v === 0)
    expect(afterFix.at(-1)).toBe(0)
    // On the way down it never rose above where it started.
    expect(Math.max(...afterFix.map((v) => v ?? 0))).toBeLessThan(0.021)

    drive(90, 10)
    const atTen = await readUntil(value, near(0.1))
    expect(atTen.at(-1)).toBeCloseTo(0.1, 3)
    expect(exporter.scrapes).toBeGreaterThan(10)
  }, 110_000)

  it('answers an empty vector, not an error, for a series nobody exports', async () => {
    const r = await prometheus!.query('sum(rate(orders_failed_total[10s]))')
    expect(r).toMatchObject({
      httpStatus: 200,
      status: 'success',
      data: { resultType: 'vector', result: [] }
    })
    expect(await prometheus!.queryValue('sum(rate(orders_failed_total[10s]))')).toBeUndefined()
  })

  it('refuses a query that is not PromQL with 400 bad_data', async () => {
    const r = await prometheus!.query('sum(rate(http_requests_total[10s])')
    expect(r).toMatchObject({ httpStatus: 400, status: 'error', errorType: 'bad_data' })
    expect(r.error).toMatch(/unclosed left parenthesis|expected/)
    await expect(prometheus!.queryValue('sum(')).rejects.toThrow(
      /query sum\( failed \(400 bad_data\)/
    )
  })

  it('marks the exporter down (up == 0) while its /metrics fails, and up again after', async () => {
    const up = () => prometheus!.queryValue('up{job="exporter"}')
    exporter.failScrapes(true)
    expect((await readUntil(up, (v) => v === 0, 20_000)).at(-1)).toBe(0)
    exporter.failScrapes(false)
    expect((await readUntil(up, (v) => v === 1, 20_000)).at(-1)).toBe(1)
  }, 60_000)
})
