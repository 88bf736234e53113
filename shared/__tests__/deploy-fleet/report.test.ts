import { describe, expect, it } from '@jest/globals'
import {
  formatDuration,
  headline,
  renderOutputs,
  renderSummary,
  shouldFail
} from '../../src/deploy/fleet/report.js'
import type { FleetReport, FleetRow } from '../../src/deploy/fleet/types.js'

const row = (
  cluster: string,
  outcome: FleetRow['outcome'],
  extra: Partial<FleetRow> = {}
): FleetRow => ({
  cluster,
  outcome,
  objectsChanged: outcome === 'changed' ? 2 : 0,
  durationMs: 1500,
  failures: [],
  changes: [],
  ...extra
})

const failed = row('b-cluster', 'rolled-back', {
  reason: 'Deployment web: ImagePullBackOff',
  failures: [
    {
      object: 'Deployment shop/web',
      pod: 'web-5d9f-abc',
      container: 'web',
      reason: 'ImagePullBackOff',
      message: 'Back-off pulling image "bad.invalid/web:1" | <x>',
      events: ['Warning Failed: Failed to pull image']
    }
  ]
})

const report: FleetReport = {
  result: 'failure',
  dryRun: false,
  durationMs: 3000,
  rows: [
    row('a-cluster', 'changed'),
    failed,
    row('c-cluster', 'unchanged'),
    row('d-cluster', 'skipped', { reason: 'wave 1 failed' })
  ]
}

describe('renderSummary', () => {
  const md = renderSummary(report)
  it('lists failures first in one table row per cluster', () => {
    const tableRows = md
      .split('\n')
      .filter((l) => l.startsWith('| ') && !l.startsWith('| Cluster') && !l.startsWith('| ---'))
    expect(tableRows.map((l) => l.split('|')[1].trim())).toEqual([
      'b-cluster',
      'd-cluster',
      'a-cluster',
      'c-cluster'
    ])
    expect(tableRows[0]).toContain('↩️ rolled-back | 0 | 1.5s | Deployment web: ImagePullBackOff |')
  })
  it('gives each failed cluster a collapsible section with pod, container, reason, message and events', () => {
    expect(md).toContain(
      '<details><summary>b-cluster: rolled-back — Deployment web: ImagePullBackOff</summary>'
    )
    expect(md).toContain(
      '- Deployment shop/web, pod web-5d9f-abc, container web: ImagePullBackOff — Back-off pulling image "bad.invalid/web:1" | &lt;x&gt;'
    )
    expect(md).toContain('  - event: Warning Failed: Failed to pull image')
  })
  it('has a headline counting the non-successful clusters', () => {
    expect(headline(report)).toBe('1 rolled-back, 1 skipped of 4 clusters')
    expect(md.split('\n')[0]).toBe('### ❌ kit deploy: 1 rolled-back, 1 skipped of 4 clusters')
  })
  it('shows diffs only in a dry run', () => {
    const dry: FleetReport = {
      result: 'success',
      dryRun: true,
      durationMs: 1,
      rows: [
        row('a', 'changed', {
          changes: [
            {
              kind: 'Secret',
              namespace: 'n',
              name: 's',
              action: 'configured',
              diff: '-  token: ***\n+  token: ***'
            }
          ]
        })
      ]
    }
    expect(renderSummary(dry)).toContain('```diff\n-  token: ***\n+  token: ***\n```')
    expect(renderSummary({ ...dry, dryRun: false })).not.toContain('```diff')
  })
})

describe('renderOutputs', () => {
  it('returns the overall result, per-cluster JSON and the changed / failed / skipped lists', () => {
    const out = renderOutputs({
      ...report,
      rows: [...report.rows, row('e', 'failed', { reason: 'x' })]
    })
    expect(out.result).toBe('failure')
    expect(out.changed).toEqual(['a-cluster'])
    expect(out.failed).toEqual(['b-cluster', 'e'])
    expect(out.skipped).toEqual(['d-cluster'])
    expect(out.clusters.find((c) => c.cluster === 'b-cluster')).toMatchObject({
      result: 'rolled-back',
      reason: 'Deployment web: ImagePullBackOff',
      failures: [{ pod: 'web-5d9f-abc', container: 'web' }]
    })
  })
})

describe('shouldFail and formatDuration', () => {
  it('fails unless every cluster changed or was unchanged', () => {
    expect(shouldFail(report)).toBe(true)
    expect(shouldFail({ ...report, rows: [row('a', 'changed'), row('b', 'unchanged')] })).toBe(
      false
    )
    expect(shouldFail({ ...report, rows: [] })).toBe(true)
  })
  it('formats durations', () => {
    expect(formatDuration(1234)).toBe('1.2s')
    expect(formatDuration(184_000)).toBe('3m04s')
  })
})
