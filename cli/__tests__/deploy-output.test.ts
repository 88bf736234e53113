/**
 * What `kit deploy` / `kit diff` print: progress stops at a cluster's result, the final report
 * says each failure once, diffs group identical clusters, a deploy names every object it
 * deleted, colour only when asked.
 */
import { describe, expect, it } from '@jest/globals'
import {
  dryRunReport,
  rolledBackReport,
  row,
  secretValue,
  successReport
} from '../../shared/__tests__/deploy-fleet/report-fixtures.js'
import type { ChangeEntry } from '../../shared/src/deploy/cluster/types.js'
import type { FleetReport, FleetRow } from '../../shared/src/deploy/fleet/types.js'
import { Redactor } from '../../shared/src/secrets/redact.js'
import { ClusterProgress, maxDeletionsListed, reportLines } from '../src/commands/deploy-output.js'
import { painter } from '../src/term.js'

const plain = painter(false)
const count = (text: string, needle: string): number => text.split(needle).length - 1

describe('ClusterProgress', () => {
  it("prints a cluster's lines until its result, then nothing more for it", () => {
    const lines: string[] = []
    const progress = new ClusterProgress((l) => lines.push(l), plain)
    const a = progress.logFor('prod-eu-1')
    const b = progress.logFor('staging')
    a.info('prod-eu-1: applying 3 objects')
    a.warning('prod-eu-1: pod web-1 ImagePullBackOff')
    progress.done(row('prod-eu-1', 'failed', { durationMs: 4200 }), false)
    a.info('prod-eu-1: waiting for 1 of 1 objects')
    a.warning('prod-eu-1: rollback did not become healthy')
    b.info('staging: applying 3 objects')
    expect(lines).toEqual([
      '[prod-eu-1] applying 3 objects',
      '[prod-eu-1] warning: pod web-1 ImagePullBackOff',
      '✘ [prod-eu-1] failed (4.2s)',
      '[staging] applying 3 objects'
    ])
  })

  it('shows late lines only when debugging, and scrubs every line', () => {
    const lines: string[] = []
    const progress = new ClusterProgress((l) => lines.push(l), plain, {
      debug: true,
      clean: (s) => s.replace('t0ken', '***')
    })
    progress.done(row('a', 'changed'), true)
    progress.logFor('a').info('late t0ken')
    expect(lines).toEqual(['✔ [a] would change (12.3s)', '[a] late ***'])
  })
})

describe('reportLines', () => {
  it('prints one table, failures first, and each failure once', () => {
    const lines = reportLines(rolledBackReport(), 'deploy', plain)
    const text = lines.join('\n')
    expect(lines[0]).toMatch(/^CLUSTER +RESULT +CHANGES +TIME +REASON$/)
    expect(lines[1]).toMatch(
      /^prod-us-1 +↩ rolled back +1 configured \(undone\) +1m11s +Deployment\/shop\/web: ImagePullBackOff$/
    )
    expect(lines[2]).toMatch(/^prod-eu-1 +✔ changed +1 configured +24\.6s$/)
    expect(count(text, 'Back-off pulling image "registry.invalid/shop/web:2.0.0"')).toBe(1)
    expect(text).toContain(
      '\nprod-us-1 rolled back:\n  Deployment/shop/web, pods web-7d9c6b5f4-x2k8q, web-7d9c6b5f4-p9d2m, container web: ImagePullBackOff'
    )
    expect(lines.at(-1)).toBe('✘ 1 of 3 clusters rolled back')
    // A deploy lists no diffs.
    expect(text).not.toContain('image: registry.example')
  })

  it('lines columns up and leaves out the reason column when nothing failed', () => {
    const lines = reportLines(successReport(), 'deploy', plain)
    expect(lines.slice(0, 4)).toEqual([
      'CLUSTER    RESULT       CHANGES     TIME',
      'prod-eu-1  ✔ changed    4 created  38.2s',
      'prod-us-1  ✔ changed    4 created  40.9s',
      'staging    ✔ unchanged  –           2.1s'
    ])
    expect(lines.at(-1)).toBe('✔ 3 clusters deployed (2 changed, 1 unchanged)')
  })

  it('in a diff, shows configured objects by their hunks, created ones by name, identical clusters once', () => {
    const text = reportLines(dryRunReport(), 'diff', plain).join('\n')
    expect(text).toContain('\nprod-eu-1, prod-us-1: 1 created, 2 configured\n')
    expect(text).toContain('  + created    Deployment shop/api')
    expect(text).not.toContain('memory: 128Mi')
    expect(count(text, '+           image: registry.example/shop/web:3.0.0')).toBe(1)
    expect(text).toContain(
      '  ~ configured Deployment shop/web (same diff as on prod-eu-1, prod-us-1)'
    )
    expect(text).not.toContain(secretValue)
    expect(text).not.toContain(Buffer.from(secretValue).toString('base64'))
    expect(text.split('\n').at(-1)).toBe('✔ dry run: 3 of 3 clusters would change')
  })

  it('is coloured only with a colouring painter', () => {
    expect(reportLines(rolledBackReport(), 'deploy', plain).join('\n')).not.toContain('\u001b[')
    const coloured = reportLines(rolledBackReport(), 'deploy', painter(true))
    expect(coloured.join('\n')).toContain('\u001b[33m↩ rolled back')
    expect(coloured.at(-1)).toBe('\u001b[31m✘\u001b[0m 1 of 3 clusters rolled back')
  })
})

describe('reportLines names what a deploy deleted', () => {
  const pruned = 'pruned: no longer in the manifests'
  const oldVersion = 'removed: older than the 2 kept fast-rollback versions of web'
  const deletion = (kind: string, name: string, message = pruned): ChangeEntry => ({
    kind,
    namespace: 'shop',
    name,
    action: 'deleted',
    message
  })
  const protectedNamespace: ChangeEntry = {
    kind: 'Namespace',
    name: 'legacy',
    action: 'skipped',
    message: 'not pruned: Namespace is protected (allow it with prune-allow-kinds)'
  }
  const alreadyGone: ChangeEntry = {
    ...deletion('ConfigMap', 'gone'),
    action: 'skipped',
    message: 'already gone'
  }
  const redactor = new Redactor()
  redactor.add(secretValue)
  const report = (rows: FleetRow[], dryRun = false): FleetReport => ({
    result: rows.every((r) => r.outcome === 'changed' || r.outcome === 'unchanged')
      ? 'success'
      : 'failure',
    dryRun,
    durationMs: 30_000,
    rows
  })
  const workerGone = [deletion('ConfigMap', 'worker-config'), deletion('Deployment', 'worker')]
  const many = Array.from({ length: maxDeletionsListed + 3 }, (_, i) =>
    deletion('ConfigMap', `old-${String(i).padStart(2, '0')}`)
  )

  it.each([
    {
      name: 'a prune that deleted 2 objects on 2 clusters names both, alike clusters together',
      report: report([
        row('prod-eu-1', 'changed', { changes: workerGone }),
        row('prod-us-1', 'changed', { changes: workerGone }),
        row('staging', 'changed', { changes: [deletion('Service', 'worker')] })
      ]),
      shown: [
        [
          'prod-eu-1, prod-us-1: 2 deleted',
          `  - deleted    ConfigMap shop/worker-config — ${pruned}`,
          `  - deleted    Deployment shop/worker — ${pruned}`,
          '',
          'staging: 1 deleted',
          `  - deleted    Service shop/worker — ${pruned}`,
          ''
        ]
      ],
      hidden: []
    },
    {
      name: 'a dry run says what would be deleted',
      report: report(
        [
          row('prod-eu-1', 'changed', {
            changes: [deletion('Deployment', 'worker', 'would be pruned (dry run)')]
          })
        ],
        true
      ),
      shown: [
        [
          'prod-eu-1: 1 would be deleted',
          '  - would be deleted Deployment shop/worker — would be pruned (dry run)'
        ]
      ],
      hidden: []
    },
    {
      name: 'a protected kind prune left in place is named with its reason',
      report: report([
        row('prod-eu-1', 'changed', {
          changes: [protectedNamespace, deletion('Deployment', 'worker'), alreadyGone]
        })
      ]),
      shown: [
        [
          'prod-eu-1: 1 deleted, 1 not pruned',
          `  - deleted    Deployment shop/worker — ${pruned}`,
          '  ! not pruned Namespace legacy — Namespace is protected (allow it with prune-allow-kinds)',
          ''
        ]
      ],
      hidden: ['already gone', 'ConfigMap shop/gone']
    },
    {
      name: 'a cluster that failed after deleting still names what it deleted',
      report: report([
        row('prod-eu-1', 'failed', {
          changes: [deletion('Deployment', 'web-v1', oldVersion)],
          reason: 'prune would delete 12 objects, more than prune-max 10; nothing was pruned'
        })
      ]),
      shown: [['prod-eu-1: 1 deleted', `  - deleted    Deployment shop/web-v1 — ${oldVersion}`]],
      hidden: []
    },
    {
      name: 'a registered secret value is never shown',
      report: report([
        row('prod-eu-1', 'changed', {
          changes: [deletion('Secret', `db-${secretValue}`, `pruned: held ${secretValue}`)]
        })
      ]),
      shown: [['prod-eu-1: 1 deleted', '  - deleted    Secret shop/db-*** — pruned: held ***']],
      hidden: [secretValue]
    },
    {
      name: `at most ${maxDeletionsListed} objects are named per group, the rest counted`,
      report: report([row('prod-eu-1', 'changed', { changes: many })]),
      shown: [
        [`prod-eu-1: ${many.length} deleted`, `  - deleted    ConfigMap shop/old-00 — ${pruned}`],
        [
          `  - deleted    ConfigMap shop/old-${maxDeletionsListed - 1} — ${pruned}`,
          '  … and 3 more',
          ''
        ]
      ],
      hidden: [`ConfigMap shop/old-${maxDeletionsListed}`]
    }
  ])('$name', ({ report, shown, hidden }) => {
    const text = reportLines(report, 'deploy', plain, (s) => redactor.scrub(s)).join('\n')
    for (const block of shown) expect(text).toContain(`\n${block.join('\n')}`)
    for (const absent of hidden) expect(text).not.toContain(absent)
  })

  it('in a diff (a dry run), says an object would be deleted, never that it was', () => {
    const text = reportLines(
      report(
        [
          row('prod-eu-1', 'changed', {
            changes: [deletion('ConfigMap', 'worker-config', 'would be pruned (dry run)')]
          })
        ],
        true
      ),
      'diff',
      plain
    ).join('\n')
    expect(text).toContain(
      '  - would be deleted ConfigMap shop/worker-config — would be pruned (dry run)'
    )
    expect(text).not.toMatch(/- deleted /)
  })

  it('paints the deletion mark red, as a diff does', () => {
    const coloured = reportLines(
      report([row('prod-eu-1', 'changed', { changes: workerGone })]),
      'deploy',
      painter(true)
    )
    expect(coloured).toContain(
      `  \u001b[31m- deleted   \u001b[0m Deployment shop/worker\u001b[2m — ${pruned}\u001b[0m`
    )
  })

  it('adds nothing when nothing was deleted', () => {
    const lines = reportLines(successReport(), 'deploy', plain)
    expect(lines.slice(4)).toEqual(['', '✔ 3 clusters deployed (2 changed, 1 unchanged)'])
  })
})
