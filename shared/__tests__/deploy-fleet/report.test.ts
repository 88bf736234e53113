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
import type { ChangeEntry } from '../../src/deploy/cluster/types.js'
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

describe('deleted objects, named in the summary and the log', () => {
  const pruned = 'pruned: no longer in the manifests'
  const deletions: ChangeEntry[] = [
    {
      kind: 'ConfigMap',
      namespace: 'shop',
      name: 'worker-config',
      action: 'deleted',
      message: pruned
    },
    { kind: 'Deployment', namespace: 'shop', name: 'worker', action: 'deleted', message: pruned },
    { kind: 'ClusterRole', name: 'worker-reader', action: 'deleted', message: pruned }
  ]
  const rows = ['prod-eu-1', 'prod-us-1'].map((c) => row(c, 'changed', { changes: deletions }))

  it.each([false, true])(
    'dry run %s: the summary names each by kind, namespace and name',
    (dryRun) => {
      const md = renderSummary({ result: 'success', dryRun, durationMs: 1_000, rows })
      expect(md).toContain('<b>prod-eu-1</b>, <b>prod-us-1</b>: 3 deleted')
      for (const name of [
        'ConfigMap shop/worker-config',
        'Deployment shop/worker',
        'ClusterRole worker-reader'
      ])
        expect(md).toContain(`➖ deleted \`${name}\` — _${pruned}_`)
    }
  )

  it("the log names each in its cluster's group", () => {
    expect(renderClusterLog(rows[0])).toEqual([
      `  deleted    ConfigMap shop/worker-config — ${pruned}`,
      `  deleted    Deployment shop/worker — ${pruned}`,
      `  deleted    ClusterRole worker-reader — ${pruned}`
    ])
  })
})

describe('deletions: a section of their own, whatever the outcome and however many changes', () => {
  const pruned = 'pruned: no longer in the manifests'
  const protectedNs = 'not pruned: Namespace is protected (allow it with prune-allow-kinds)'
  const entry = (
    kind: string,
    name: string,
    action: ChangeEntry['action'],
    message?: string
  ): ChangeEntry => ({ kind, namespace: 'shop', name, action, ...(message ? { message } : {}) })
  const deletedSection = (md: string): string => {
    const at = md.search(/^#### What (was|would be) deleted$/m)
    const end = md.indexOf('\n#### ', at + 1)
    return at < 0 ? '' : md.slice(at, end < 0 ? undefined : end)
  }

  it('names both deletions after more than 60 other changes', () => {
    const created = Array.from({ length: 70 }, (_, i) => entry('ConfigMap', `cm-${i}`, 'created'))
    const changes = [
      ...created,
      entry('ConfigMap', 'old-a', 'deleted', pruned),
      entry('Service', 'old-b', 'deleted', pruned)
    ]
    const md = renderSummary({
      result: 'success',
      dryRun: false,
      durationMs: 1,
      rows: [row('prod-eu-1', 'changed', { changes })]
    })
    // The changes section still stops at 60; the deletions are named in their own.
    expect(md).toContain('… and 12 more objects (in the log)')
    const section = deletedSection(md)
    expect(section).toContain('<details><summary><b>prod-eu-1</b>: 2 deleted</summary>')
    expect(section).toContain(`➖ deleted \`ConfigMap shop/old-a\` — _${pruned}_`)
    expect(section).toContain(`➖ deleted \`Service shop/old-b\` — _${pruned}_`)
    expect(section).not.toContain('cm-0')
  })

  it('names what a failed cluster deleted before it failed', () => {
    const removed = 'removed: older than the 2 kept fast-rollback versions of web'
    const failed = row('prod-us-1', 'failed', {
      changes: [entry('Deployment', 'web-v1', 'deleted', removed)],
      reason: 'prune refused: 120 objects to delete, more than prune-max (50)'
    })
    const md = renderSummary({ result: 'failure', dryRun: false, durationMs: 1, rows: [failed] })
    expect(tableRows(md)[0][2]).toBe('1 deleted')
    expect(deletedSection(md)).toContain(`➖ deleted \`Deployment shop/web-v1\` — _${removed}_`)
  })

  it('names an object prune left in place, with its reason, in the summary and the log', () => {
    const r = row('prod-eu-1', 'changed', {
      changes: [
        entry('ConfigMap', 'old', 'deleted', pruned),
        { kind: 'Namespace', name: 'legacy', action: 'skipped', message: protectedNs },
        entry('ConfigMap', 'adopted', 'skipped', 'not pruned: no longer carries a_label')
      ]
    })
    const md = renderSummary({ result: 'success', dryRun: false, durationMs: 1, rows: [r] })
    const section = deletedSection(md)
    expect(section).toContain('<b>prod-eu-1</b>: 1 deleted, 2 not pruned</summary>')
    expect(section).toContain(
      '⚠️ not pruned `Namespace legacy` — _Namespace is protected (allow it with prune-allow-kinds)_'
    )
    // Through the summary's escaping, as every other message.
    expect(section).toContain(
      '⚠️ not pruned `ConfigMap shop/adopted` — _no longer carries a\\_label_'
    )
    expect(renderClusterLog(r)).toEqual([
      `  deleted    ConfigMap shop/old — ${pruned}`,
      '  not pruned Namespace legacy — Namespace is protected (allow it with prune-allow-kinds)',
      '  not pruned ConfigMap shop/adopted — no longer carries a_label'
    ])
  })

  it('groups clusters that deleted alike, says "would be deleted" in a dry run, and caps at 200', () => {
    const many = Array.from({ length: 205 }, (_, i) =>
      entry('ConfigMap', `old-${i}`, 'deleted', 'would be pruned (dry run)')
    )
    const rows = [
      row('prod-eu-1', 'changed', { changes: many }),
      row('prod-us-1', 'changed', { changes: [entry('Secret', 'x', 'configured'), ...many] })
    ]
    const md = renderSummary({ result: 'success', dryRun: true, durationMs: 1, rows })
    const section = deletedSection(md)
    expect(section.split('\n')[0]).toBe('#### What would be deleted')
    expect(section).toContain(
      '<details><summary><b>prod-eu-1</b>, <b>prod-us-1</b>: 205 would be deleted</summary>'
    )
    expect(section).toContain(
      '➖ would be deleted `ConfigMap shop/old-199` — _would be pruned (dry run)_'
    )
    expect(section).not.toContain('old-200`')
    expect(section).toContain('… and 5 more (in the log)')
    expect(md).not.toContain('#### What was deleted')
  })

  it('has no deletions section when nothing was deleted or left in place', () => {
    expect(deletedSection(renderSummary(successReport()))).toBe('')
    expect(deletedSection(renderSummary(dryRunReport()))).toBe('')
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
