import { describe, expect, it } from '@jest/globals'
import {
  formatDuration,
  groupChanges,
  groupFailures,
  groupWarnings,
  headline,
  maxSummaryBytes,
  renderClusterLog,
  renderOutputs,
  renderSummary,
  shortReason,
  shouldFail,
  withoutClusterPrefix
} from '../../src/deploy/fleet/report.js'
import type { FleetReport } from '../../src/deploy/fleet/types.js'
import {
  bigFleetReport,
  dryRunReport,
  imagePullFailures,
  rolledBackReport,
  row,
  secretValue,
  successReport
} from './report-fixtures.js'

/** How often `needle` occurs in `text`. */
const count = (text: string, needle: string): number => text.split(needle).length - 1

/** The table's body rows as cell arrays. */
function tableRows(md: string): string[][] {
  return md
    .split('\n')
    .filter((l) => l.startsWith('| ') && !/^\| (Cluster|---)/.test(l))
    .map((l) =>
      l
        .slice(2, -2)
        .split(' | ')
        .map((c) => c.trim())
    )
}

describe('renderSummary: one table per run, failures first', () => {
  const report: FleetReport = {
    ...rolledBackReport(),
    rows: [
      ...rolledBackReport().rows,
      row('later-1', 'skipped', { reason: 'not started: wave 1 did not succeed (prod-us-1)' })
    ]
  }
  const md = renderSummary(report)

  it('has exactly one table, its rows ordered failed → skipped → succeeded', () => {
    expect(md.split('\n').filter((l) => l.startsWith('| ---'))).toHaveLength(1)
    expect(tableRows(md).map((r) => r[0])).toEqual(['prod-us-1', 'later-1', 'prod-eu-1', 'staging'])
    expect(tableRows(md)[0]).toEqual([
      'prod-us-1',
      '↩️ rolled back',
      '~~1 configured~~ (undone)',
      '1m11s',
      'Deployment/shop/web: ImagePullBackOff'
    ])
    expect(tableRows(md)[1].slice(1)).toEqual([
      '⏭️ skipped',
      '–',
      '–',
      'not started: wave 1 did not succeed (prod-us-1)'
    ])
  })

  it('says each failure once: short in the table, the detail once in the cluster section', () => {
    // Table cell + the detail's bold reason; never a third time (no reason in a heading).
    expect(count(md, 'ImagePullBackOff')).toBe(2)
    expect(count(md, 'Back-off pulling image "registry.invalid/shop/web:2.0.0"')).toBe(1)
    expect(md).toContain('#### ↩️ prod-us-1: rolled back\n')
    expect(md).toContain(
      '- **Deployment/shop/web**, pods `web-7d9c6b5f4-x2k8q`, `web-7d9c6b5f4-p9d2m`, container `web`: **ImagePullBackOff** — Back-off pulling image "registry.invalid/shop/web:2.0.0"'
    )
    // The two pods' alike events are one line; the event repeating the message is dropped.
    expect(count(md, 'no such host')).toBe(1)
  })

  it('shows what changed collapsed, clusters with identical changes together, rolled back ones not', () => {
    expect(md).toContain(
      '<details><summary><b>prod-eu-1</b>, <b>staging</b>: 1 configured</summary>'
    )
    expect(count(md, '+           image: registry.example/shop/web:2.0.0')).toBe(1)
    expect(md).not.toContain('registry.invalid/shop/web:2.0.0\n')
    expect(md).not.toContain('<b>prod-us-1</b>')
  })

  it('has a headline in words, with counts in the right number', () => {
    expect(md.split('\n')[0]).toBe('### ❌ kit deploy: 1 of 4 clusters rolled back, 1 skipped')
    expect(headline(successReport())).toBe('3 clusters deployed (2 changed, 1 unchanged)')
    expect(headline({ ...successReport(), rows: [row('a', 'changed')] })).toBe(
      '1 cluster deployed (1 changed, 0 unchanged)'
    )
    expect(headline({ ...dryRunReport(), rows: [row('a', 'changed')] })).toBe(
      'dry run: 1 of 1 cluster would change'
    )
    expect(headline({ ...successReport(), rows: [] })).toBe('no clusters selected')
  })

  it('leaves out the reason column and failure sections when nothing failed', () => {
    const ok = renderSummary(successReport())
    expect(ok).toContain('| Cluster | Result | Changes | Time |\n')
    expect(ok).not.toContain('####  ')
    expect(ok).not.toMatch(/^#### [❌↩]/m)
    expect(tableRows(ok)).toEqual([
      ['prod-eu-1', '✅ changed', '4 created', '38.2s'],
      ['prod-us-1', '✅ changed', '4 created', '40.9s'],
      ['staging', '✅ unchanged', '–', '2.1s']
    ])
  })
})

describe('renderSummary: a dry run', () => {
  const md = renderSummary(dryRunReport())

  it('shows a created object as one line and a short collapsed preview, not its whole body', () => {
    expect(md).toContain('➕ created `Deployment shop/api`')
    expect(md).toContain('<details><summary>the new object (41 lines)</summary>')
    expect(md).toContain('# … 16 more lines')
    // The end of the object (resources, probe) is not in the preview.
    expect(md).not.toContain('memory: 128Mi')
    const preview = md.slice(md.indexOf('```yaml'), md.indexOf('```', md.indexOf('```yaml') + 3))
    // The fence, 25 lines and the `… more lines` note.
    expect(preview.trimEnd().split('\n')).toHaveLength(27)
  })

  it('shows a changed object by its changed hunks only, and an identical one once', () => {
    expect(md).toContain(
      '-           image: registry.example/shop/web:1.0.0\n+           image: registry.example/shop/web:3.0.0'
    )
    expect(count(md, '+           image: registry.example/shop/web:3.0.0')).toBe(1)
    expect(md).toContain(
      '✏️ configured `Deployment shop/web` — the same diff as on prod-eu-1, prod-us-1 above'
    )
    // A hunk, not the object: the start of the Deployment is not shown for a configured one.
    const webDiff = md.slice(md.indexOf('✏️ configured `Deployment shop/web`'))
    expect(webDiff.slice(0, webDiff.indexOf('```\n\n'))).not.toContain('apiVersion: apps/v1')
  })

  it('collapses the changes per group of clusters and says it was a dry run', () => {
    expect(md.split('\n')[0]).toBe('### ✅ kit deploy (dry run): 3 of 3 clusters would change')
    expect(md).toContain('Nothing was changed on any cluster. Secret values are never shown.')
    expect(md).toContain(
      '<details><summary><b>prod-eu-1</b>, <b>prod-us-1</b>: 1 created, 2 configured</summary>'
    )
    expect(md).toContain('<details><summary><b>staging</b>: 1 created, 3 configured</summary>')
    expect(tableRows(md).map((r) => r[1])).toEqual([
      '📝 would change',
      '📝 would change',
      '📝 would change'
    ])
  })

  it("never shows a Secret's value, in the summary or the log", () => {
    const log = dryRunReport().rows.flatMap((r) => renderClusterLog(r))
    for (const text of [md, log.join('\n')]) {
      expect(text).not.toContain(secretValue)
      expect(text).not.toContain(Buffer.from(secretValue).toString('base64'))
      expect(text).not.toContain(Buffer.from(`${secretValue}-new`).toString('base64'))
    }
    expect(md).toContain('+   password: <redacted, changed>')
  })
})

describe('renderSummary: size', () => {
  const report = bigFleetReport()

  it("keeps a 50-cluster fleet's summary far under GitHub's 1 MiB, every row and failure kept", () => {
    const md = renderSummary(report)
    const bytes = Buffer.byteLength(md, 'utf8')
    expect(bytes).toBeLessThanOrEqual(maxSummaryBytes)
    expect(maxSummaryBytes).toBeLessThanOrEqual(1024 * 1024 * 0.6)
    // Uncapped, the same report is several times the limit.
    expect(Buffer.byteLength(renderSummary(report, 'x', 1e9), 'utf8')).toBeGreaterThan(
      3 * maxSummaryBytes
    )
    expect(tableRows(md)).toHaveLength(50)
    expect(count(md, '#### ❌ ')).toBe(3)
    expect(md).toMatch(
      /> ⚠️ \*\*Summary truncated\*\* to stay well under GitHub's 1 MiB step-summary limit\. Not shown here: the changes of \d+ clusters\. Every cluster's full result is in the step log/
    )
    expect(md.indexOf('Summary truncated')).toBeGreaterThan(md.lastIndexOf('#### ❌ '))
    expect(md).not.toContain(secretValue)
  })

  it('counts the table rows it had to leave out under a small limit', () => {
    const md = renderSummary(report, 'kit deploy', 4096)
    expect(Buffer.byteLength(md, 'utf8')).toBeLessThanOrEqual(4096)
    const shown = tableRows(md).length
    expect(shown).toBeLessThan(50)
    expect(md).toContain(`Not shown here: the table rows of ${50 - shown} clusters`)
  })

  it('adds no note when everything fits', () => {
    expect(renderSummary(dryRunReport())).not.toContain('truncated')
  })
})

describe('failure helpers', () => {
  it('groups failures that differ only by pod, and their alike events', () => {
    const groups = groupFailures(imagePullFailures())
    expect(groups).toHaveLength(1)
    expect(groups[0].pods).toEqual(['web-7d9c6b5f4-x2k8q', 'web-7d9c6b5f4-p9d2m'])
    expect(groups[0].events).toHaveLength(1)
  })

  it('gives a short reason for the table, with the rollback trouble when there was one', () => {
    const failed = row('a', 'failed', {
      failures: imagePullFailures(),
      reason:
        'Deployment/shop/web pod x container web: ImagePullBackOff: Back-off; rollback did not become healthy: Deployment/shop/web: Timeout'
    })
    expect(shortReason(failed)).toBe('Deployment/shop/web: ImagePullBackOff; rollback unhealthy')
    const long = row('b', 'failed', { reason: `cannot reach the cluster: ${'x'.repeat(300)}` })
    expect(shortReason(long)?.length).toBe(120)
    // The whole reason is then in the cluster's section, once.
    const md = renderSummary({ result: 'failure', dryRun: false, durationMs: 1, rows: [long] })
    expect(count(md, 'x'.repeat(200))).toBe(1)
  })

  it('groups warnings of several clusters into one line each', () => {
    expect(
      groupWarnings([
        ['b', ['Deployment/x: slow']],
        ['a', ['Deployment/x: slow', 'other']]
      ])
    ).toEqual(['Deployment/x: slow (a, b)', 'other (a)'])
  })

  it("drops the engine's own cluster prefix for loggers that name the cluster already", () => {
    expect(withoutClusterPrefix('prod', 'prod: applying 3 objects')).toBe('applying 3 objects')
    expect(withoutClusterPrefix('prod', 'production: x')).toBe('production: x')
  })
})

describe('groupChanges', () => {
  it('groups clusters with identical changes; a failed real deploy has none to show', () => {
    const groups = groupChanges(rolledBackReport().rows)
    expect(groups.map((g) => g.clusters)).toEqual([['prod-eu-1', 'staging']])
    const failedRow = row('f', 'failed', { changes: dryRunReport().rows[0].changes })
    expect(groupChanges([failedRow])).toEqual([])
    expect(groupChanges([failedRow], true).map((g) => g.clusters)).toEqual([['f']])
  })
})

describe('renderClusterLog', () => {
  it('lists changed objects with whole diffs, and each failure once with its events', () => {
    const [, rolled] = rolledBackReport().rows
    const lines = renderClusterLog(rolled)
    expect(lines[0]).toBe('  configured Deployment shop/web')
    expect(lines).toContain('      +           image: registry.invalid/shop/web:2.0.0')
    expect(lines.filter((l) => l.includes('ImagePullBackOff'))).toHaveLength(1)
    expect(renderClusterLog(rolled, { failures: false }).join('\n')).not.toContain('ImagePull')
  })
})

describe('renderOutputs', () => {
  it('returns the overall result, per-cluster JSON and the changed / failed / skipped lists', () => {
    const report = rolledBackReport()
    const out = renderOutputs({
      ...report,
      rows: [...report.rows, row('e', 'failed', { reason: 'x' }), row('d', 'skipped')]
    })
    expect(out.result).toBe('failure')
    expect(out.changed).toEqual(['prod-eu-1', 'staging'])
    expect(out.failed).toEqual(['e', 'prod-us-1'])
    expect(out.skipped).toEqual(['d'])
    expect(out.clusters.find((c) => c.cluster === 'prod-us-1')).toMatchObject({
      result: 'rolled-back',
      counts: { configured: 1 },
      failures: [{ pod: 'web-7d9c6b5f4-x2k8q', container: 'web' }, { pod: 'web-7d9c6b5f4-p9d2m' }]
    })
  })
})

describe('shouldFail and formatDuration', () => {
  it('fails unless every cluster changed or was unchanged', () => {
    expect(shouldFail(rolledBackReport())).toBe(true)
    expect(shouldFail(successReport())).toBe(false)
    expect(shouldFail({ ...successReport(), rows: [] })).toBe(true)
  })
  it('formats durations', () => {
    expect(formatDuration(1234)).toBe('1.2s')
    expect(formatDuration(184_000)).toBe('3m04s')
  })
})
