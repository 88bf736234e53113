/**
 * The test exporter on its own (no Prometheus needed): the text format it serves, counters that
 * grow at a set rate on the clock, and the input it refuses. Also KIT_PROMETHEUS_BIN, which
 * names a Prometheus binary to use instead of the one build.sh caches, and a start that fails.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { contentType, MetricsRegistry, startExporter, type Exporter } from '../exporter.js'
import { findPrometheus, startPrometheus } from '../server.js'

describe('MetricsRegistry', () => {
  let now = 1000
  const registry = new MetricsRegistry(() => now)

  it('renders counters and gauges in the text format, escaping label values and help', () => {
    registry.declare('counter', 'http_requests_total', 'Requests served.\nBy "code" \\ path.')
    registry.declare('gauge', 'queue_depth', 'Items waiting.')
    registry.add('http_requests_total', { code: '200', path: '/a"b\\c\nd' }, 3)
    registry.add('http_requests_total', { path: '/x', code: '500' })
    registry.set('queue_depth', {}, 7.5)
    expect(registry.render()).toBe(
      [
        '# HELP http_requests_total Requests served.\\nBy "code" \\\\ path.',
        '# TYPE http_requests_total counter',
        'http_requests_total{code="200",path="/a\\"b\\\\c\\nd"} 3',
        'http_requests_total{code="500",path="/x"} 1',
        '# HELP queue_depth Items waiting.',
        '# TYPE queue_depth gauge',
        'queue_depth 7.5',
        ''
      ].join('\n')
    )
  })

  it('grows a counter with a rate on the clock, and keeps what it reached when the rate changes', () => {
    registry.declare('counter', 'jobs_total', 'Jobs.')
    registry.setRate('jobs_total', {}, 4)
    now += 2.5
    expect(registry.value('jobs_total', {})).toBe(10)
    registry.setRate('jobs_total', {}, 0)
    now += 100
    expect(registry.value('jobs_total', {})).toBe(10)
    registry.add('jobs_total', {}, 2)
    expect(registry.render()).toContain('\njobs_total 12\n')
  })

  it('refuses what Prometheus would reject or a counter cannot do, changing nothing', () => {
    const before = registry.render()
    expect(() => registry.declare('counter', '1bad', 'x')).toThrow(/'1bad' is not a metric name/)
    expect(() => registry.declare('gauge', 'jobs_total', 'x')).toThrow(
      /jobs_total is already declared as a counter/
    )
    expect(() => registry.add('missing_total', {})).toThrow(/missing_total is not declared/)
    expect(() => registry.add('jobs_total', { 'bad-label': 'x' })).toThrow(
      /'bad-label' is not a label name for jobs_total/
    )
    expect(() => registry.add('jobs_total', { __name__: 'x' })).toThrow(/'__name__' is not a label/)
    expect(() => registry.add('jobs_total', { code: '1' }, -1)).toThrow(/can only rise/)
    expect(() => registry.set('jobs_total', {}, 1)).toThrow(/jobs_total is a counter, not a gauge/)
    expect(() => registry.setRate('jobs_total', {}, -2)).toThrow(/finite number >= 0/)
    expect(() => registry.setRate('queue_depth', {}, 1)).toThrow(/queue_depth is a gauge/)
    expect(registry.render()).toBe(before)
  })
})

describe('startExporter', () => {
  let exporter: Exporter
  beforeAll(async () => {
    exporter = await startExporter()
  })
  afterAll(() => exporter.close())

  it('serves /metrics with the text format content type, 503 when failing, 404 elsewhere', async () => {
    exporter.gauge('ready_replicas', 'Ready replicas.')
    exporter.set('ready_replicas', { app: 'web' }, 3)
    const ok = await fetch(`${exporter.url}/metrics`)
    expect(ok.status).toBe(200)
    expect(ok.headers.get('content-type')).toBe(contentType)
    expect(await ok.text()).toContain('ready_replicas{app="web"} 3\n')
    exporter.failScrapes(true)
    expect((await fetch(`${exporter.url}/metrics`)).status).toBe(503)
    exporter.failScrapes(false)
    expect((await fetch(`${exporter.url}/other`)).status).toBe(404)
    expect(exporter.scrapes).toBe(2)
    expect(exporter.target).toMatch(/^127\.0\.0\.1:\d+$/)
  })
})

describe('finding and starting the Prometheus binary', () => {
  const cache = mkdtempSync(join(tmpdir(), 'kit-prom-find-'))
  afterAll(() => rmSync(cache, { recursive: true, force: true }))

  it('KIT_PROMETHEUS_BIN names the binary to use, and a wrong one is the reason given', () => {
    const file = join(cache, 'not-executable')
    writeFileSync(file, '')
    expect(findPrometheus({ KIT_PROMETHEUS_BIN: file })).toEqual({
      missing: `KIT_PROMETHEUS_BIN=${file} is not an executable file`
    })
    expect(findPrometheus({ KIT_PROMETHEUS_BIN: '/bin/true' })).toEqual({ binary: '/bin/true' })
  })

  it('a binary that exits at once fails the start with its exit code, leaving no folder', async () => {
    const before = readdirSync(tmpdir()).filter((f) => f.startsWith('kit-prometheus-'))
    await expect(startPrometheus({ binary: '/bin/false', targets: [] })).rejects.toThrow(
      /^Prometheus exited \(1\) before it was ready/
    )
    const after = readdirSync(tmpdir()).filter((f) => f.startsWith('kit-prometheus-'))
    expect(after.filter((f) => !before.includes(f))).toEqual([])
  })
})
