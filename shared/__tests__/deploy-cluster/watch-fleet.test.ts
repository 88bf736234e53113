/**
 * The watch window's settings and what the fleet makes of a degraded cluster: the deploy
 * options (defaults, what is refused up front), the report (its table row, its detail, the
 * degraded-clusters output), and waves (the next wave starts only once every cluster of the
 * previous one has finished its window; a degraded one stops the later waves).
 */
import { describe, expect, it } from '@jest/globals'
import { readOptions } from '../../src/action/index.js'
import type { ClusterResult } from '../../src/deploy/cluster/types.js'
import { renderOutputs, renderSummary, shortReason } from '../../src/deploy/fleet/report.js'
import { runFleet } from '../../src/deploy/fleet/runner.js'
import type { FleetRow } from '../../src/deploy/fleet/types.js'
import { deployOptions, deployRequest } from '../../src/options/deploy.js'
import { deployerOutputValues } from '../../src/outputs/values.js'
import { Redactor } from '../../src/secrets/redact.js'

const read = (inputs: Record<string, string>) =>
  deployRequest(
    readOptions(deployOptions, (n) => inputs[n] ?? ''),
    { credentials: {}, dryRun: false }
  )

describe('the watch settings', () => {
  it('are off by default, and read as the window with its two thresholds', () => {
    expect(read({}).cluster.watch).toEqual({ windowMs: 0, maxRestarts: 0, maxWarnings: 5 })
    expect(
      read({ watch: '2m', 'watch-max-restarts': '1', 'watch-max-warnings': '10' }).cluster.watch
    ).toEqual({ windowMs: 120_000, maxRestarts: 1, maxWarnings: 10 })
  })

  it('refuse a window that cannot run: as long as the timeout, or without waiting', () => {
    expect(() => read({ watch: '10m' })).toThrow(
      "'watch' (10m) must be shorter than 'timeout' (10m): the window counts inside each cluster's timeout, after the rollout became healthy"
    )
    expect(() => read({ watch: '3m', timeout: '2m' })).toThrow(
      "'watch' (3m) must be shorter than 'timeout' (2m)"
    )
    expect(() => read({ watch: '1m', wait: 'false' })).toThrow(
      "'watch' needs wait: true: the window starts when the rollout is healthy, and only the wait finds that out"
    )
    expect(() => read({ 'watch-max-restarts': '-1' })).toThrow(/watch-max-restarts/)
    expect(() => read({ watch: 'soon' })).toThrow(
      "Input 'watch' must be a duration like 90s, 10m or 1h30m, got 'soon'"
    )
    // Without a window, a short timeout or no wait is as fine as before.
    expect(read({ timeout: '30s', wait: 'false' }).cluster.watch?.windowMs).toBe(0)
  })
})

const degradedRow = (): FleetRow => ({
  cluster: 'prod-eu',
  outcome: 'rolled-back',
  objectsChanged: 1,
  durationMs: 61_000,
  wave: '1',
  reason:
    'degraded 47 s after healthy: Pod/shop/web-7d9-x container web: OOMKilled (was OOMKilled (restarts 0→1)); rolled back',
  failures: [
    {
      object: 'Deployment/shop/web',
      pod: 'web-7d9-x',
      container: 'web',
      reason: 'OOMKilled',
      message: 'was OOMKilled (restarts 0→1)',
      events: ['Pod/web-7d9-x: BackOff: Back-off restarting failed container web (x2)']
    }
  ],
  changes: [{ kind: 'Deployment', namespace: 'shop', name: 'web', action: 'configured' }],
  degraded: {
    afterMs: 47_000,
    evidence: [
      {
        object: 'Pod/shop/web-7d9-x',
        workload: 'Deployment/shop/web',
        container: 'web',
        reason: 'OOMKilled',
        detail: 'was OOMKilled (restarts 0→1)'
      }
    ]
  }
})

describe('a degraded cluster in the report', () => {
  it('says so in its row, shows the evidence in its detail, and is listed in degraded-clusters', () => {
    const row = degradedRow()
    const healthy: FleetRow = {
      ...row,
      cluster: 'prod-us',
      outcome: 'changed',
      reason: undefined,
      failures: [],
      degraded: undefined
    }
    const report = {
      result: 'failure' as const,
      dryRun: false,
      rows: [row, healthy],
      durationMs: 62_000
    }
    expect(shortReason(row)).toBe('degraded 47 s after healthy: Deployment/shop/web: OOMKilled')
    const md = renderSummary(report)
    expect(md).toContain('| degraded 47 s after healthy: Deployment/shop/web: OOMKilled |')
    expect(md).toContain(
      '**Deployment/shop/web**, pod `web-7d9-x`, container `web`: **OOMKilled** — was OOMKilled (restarts 0→1)'
    )
    expect(renderOutputs(report).degraded).toEqual(['prod-eu'])
    const values = deployerOutputValues(report)
    expect(values['degraded-clusters']).toEqual(['prod-eu'])
    expect(values['failed-clusters']).toEqual(['prod-eu'])
    expect(deployerOutputValues({ ...report, rows: [healthy] })['degraded-clusters']).toEqual([])
  })
})

describe('a cluster degraded by a metric gate in the report', () => {
  const gateRow = (evidence: NonNullable<FleetRow['degraded']>['evidence']): FleetRow => ({
    ...degradedRow(),
    reason: undefined,
    failures: evidence.map((e) => ({
      object: `metric gate ${'gate' in e ? e.gate : ''}`,
      reason: 'error' in e && e.error ? 'MetricGateUnanswered' : 'MetricGateFailed',
      message: 'see the detail',
      events: []
    })),
    degraded: { afterMs: 47_000, evidence }
  })
  const ratio = {
    gate: 'error-ratio',
    query: 'sum(rate(errors[1m])) / sum(rate(requests[1m]))',
    condition: '< 0.01'
  }

  it('says in its row which gate failed, with its value and condition, not a reason code', () => {
    const row = gateRow([{ ...ratio, value: 0.031 }])
    expect(shortReason(row)).toBe(
      'degraded 47 s after healthy: metric gate error-ratio: 0.031, not < 0.01'
    )
    expect(
      renderSummary({ result: 'failure', dryRun: false, rows: [row], durationMs: 62_000 })
    ).toContain('| degraded 47 s after healthy: metric gate error-ratio: 0.031, not &lt; 0.01 |')
    // An unanswered gate says why; a second failing gate is counted.
    const two = gateRow([
      { ...ratio, value: undefined, error: 'no answer from Prometheus' },
      { ...ratio, gate: 'latency', value: 2.5, condition: '< 1' }
    ])
    expect(shortReason(two)).toBe(
      'degraded 47 s after healthy: metric gate error-ratio: no answer from Prometheus (+1 more)'
    )
  })
})

describe('waves with a watch window', () => {
  const result = (cluster: string, degraded: boolean): ClusterResult => ({
    cluster,
    outcome: degraded ? 'rolled-back' : 'changed',
    changes: [],
    failures: [],
    durationMs: 0,
    ...(degraded
      ? {
          reason: 'degraded 3 s after healthy: …; rolled back',
          degraded: { afterMs: 3000, evidence: [] }
        }
      : {})
  })

  /** Each cluster "watches" for its own time; the order in which clusters start and end. */
  async function run(windows: Record<string, number>, degraded: string[] = []) {
    const order: string[] = []
    const report = await runFleet({
      waves: [
        { name: '1', clusters: ['a', 'b'] },
        { name: '2', clusters: ['c'] }
      ],
      concurrency: 5,
      clusterDeadlineMs: 10_000,
      dryRun: false,
      redactor: new Redactor(),
      deployOne: async (cluster) => {
        order.push(`start ${cluster}`)
        await new Promise((r) => setTimeout(r, windows[cluster]))
        order.push(`end ${cluster}`)
        return result(cluster, degraded.includes(cluster))
      }
    })
    return { order, report }
  }

  it('start the next wave only when every cluster of the previous one has finished its window', async () => {
    const { order, report } = await run({ a: 150, b: 30, c: 10 })
    expect(order).toEqual(['start a', 'start b', 'end b', 'end a', 'start c', 'end c'])
    expect(report.result).toBe('success')
  })

  it('never start the next wave after a degraded cluster', async () => {
    const { order, report } = await run({ a: 30, b: 60, c: 10 }, ['a'])
    expect(order).toEqual(['start a', 'start b', 'end a', 'end b'])
    expect(report.rows.map((r) => [r.cluster, r.outcome, r.degraded?.afterMs])).toEqual([
      ['a', 'rolled-back', 3000],
      ['b', 'changed', undefined],
      ['c', 'skipped', undefined]
    ])
  })
})
