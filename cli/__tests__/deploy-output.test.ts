/**
 * What `kit deploy` / `kit diff` print: progress stops at a cluster's result, the final report
 * says each failure once, diffs group identical clusters, colour only when asked.
 */
import { describe, expect, it } from '@jest/globals'
import {
  dryRunReport,
  rolledBackReport,
  row,
  secretValue,
  successReport
} from '../../shared/__tests__/deploy-fleet/report-fixtures.js'
import { ClusterProgress, reportLines } from '../src/commands/deploy-output.js'
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
