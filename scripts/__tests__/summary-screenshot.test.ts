/**
 * scripts/summary-screenshot.mjs turns a job summary into the HTML a reviewer screenshots:
 * GitHub-flavoured tables and <details> kept, what GitHub's sanitiser strips removed, emoji
 * shortcodes replaced. Run as a user runs it (--html-only: no browser needed).
 */
import { afterAll, describe, expect, it } from '@jest/globals'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const dir = mkdtempSync(join(tmpdir(), 'kit-summary-html-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

function run(args: string[]) {
  return spawnSync(process.execPath, ['scripts/summary-screenshot.mjs', ...args], {
    encoding: 'utf8'
  })
}

describe('summary-screenshot --html-only', () => {
  const md = join(dir, 'deploy.md')
  writeFileSync(
    md,
    [
      '### :x: kit deploy: 1 failed of 2 clusters',
      '',
      '| Cluster | Result |',
      '| --- | --- |',
      '| prod-eu | :x: failed |',
      '| prod-us | ✅ changed |',
      '',
      '<details><summary>prod-eu: failed</summary>',
      '',
      '- Deployment shop/web: CrashLoopBackOff `:x:` stays code',
      '',
      '</details>',
      '<script>alert(1)</script><img src="javascript:alert(2)" onerror="alert(3)">'
    ].join('\n')
  )
  const res = run(['--html-only', '--expand', '--out', dir, '--title', 'deploy (production)', md])
  const html = res.status === 0 ? readFileSync(join(dir, 'deploy.html'), 'utf8') : ''

  it('writes one HTML page per summary and prints its path', () => {
    expect(res.stderr).toBe('')
    expect(res.status).toBe(0)
    expect(res.stdout.trim()).toBe(join(dir, 'deploy.html'))
    expect(html).toContain('<header>deploy (production)<small>summary</small></header>')
  })

  it('renders GitHub-flavoured tables and keeps <details>, opened with --expand', () => {
    expect(html).toMatch(/<table>[\s\S]*<th>Cluster<\/th>[\s\S]*<td>prod-eu<\/td>/)
    expect(html).toContain('<details open><summary>prod-eu: failed</summary>')
  })

  it('replaces emoji shortcodes, except inside code', () => {
    expect(html).toContain('❌ kit deploy')
    expect(html).toContain('<code>:x:</code>')
  })

  it('drops what GitHub strips: scripts, event handlers, javascript: URLs', () => {
    expect(html).not.toMatch(/<script|alert\(1\)|onerror|javascript:/)
  })

  it('opens only the outermost <details> with --expand-outer', () => {
    const nested = join(dir, 'nested.md')
    writeFileSync(
      nested,
      [
        '<details><summary>prod-eu: 1 created</summary>',
        '',
        '<details><summary>the new object</summary>',
        '',
        'body',
        '',
        '</details>',
        '',
        '</details>',
        '',
        '<details><summary>staging</summary>',
        '',
        'x',
        '',
        '</details>'
      ].join('\n')
    )
    const r = run(['--html-only', '--expand-outer', '--out', dir, nested])
    expect(r.status).toBe(0)
    const page = readFileSync(join(dir, 'nested.html'), 'utf8')
    expect(page).toContain('<details open><summary>prod-eu: 1 created</summary>')
    expect(page).toContain('<details><summary>the new object</summary>')
    expect(page).toContain('<details open><summary>staging</summary>')
  })

  it('refuses bad usage with exit code 2', () => {
    expect(run(['--html-only']).status).toBe(2)
    expect(run(['--html-only', '--width', 'wide', md]).status).toBe(2)
    expect(run(['--html-only', '--out', dir, join(dir, 'missing.md')]).status).toBe(2)
  })
})
