/**
 * The summary pictures in docs/deployer.md show what the current code writes: each
 * docs/images/<name>.md is the summary `node scripts/summary-screenshot.mjs --docs` makes now
 * (a real render of examples/manifests-repo; deploy summaries through the fleet runner, the diff
 * renderer and the summary renderer), and each PNG records the sha256 of the page it was taken
 * from, which must be the page made from that summary now. Pixels are not compared: they depend
 * on the browser build and the fonts of the machine. Nothing here writes into the repository.
 */
import { afterAll, describe, expect, it } from '@jest/globals'
import { spawnSync } from 'node:child_process'
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { crc32 } from 'node:zlib'

const root = process.cwd()
const images = join(root, 'docs', 'images')
const copies: string[] = []
afterAll(() => copies.forEach((d) => rmSync(d, { recursive: true, force: true })))

function check(dir = images) {
  return spawnSync(
    process.execPath,
    ['scripts/summary-screenshot.mjs', '--docs', '--check', '--images', dir],
    { encoding: 'utf8' }
  )
}

function copy(): string {
  const dir = mkdtempSync(join(tmpdir(), 'kit-docs-images-'))
  copies.push(dir)
  cpSync(images, dir, { recursive: true })
  return dir
}

/** Every chunk of a PNG, with whether its CRC is right. */
function chunks(png: Buffer): { type: string; crcOk: boolean }[] {
  const out: { type: string; crcOk: boolean }[] = []
  for (let at = 8; at + 12 <= png.length;) {
    const length = png.readUInt32BE(at)
    const body = png.subarray(at + 4, at + 8 + length)
    out.push({
      type: png.toString('latin1', at + 4, at + 8),
      crcOk: crc32(body) === png.readUInt32BE(at + 8 + length)
    })
    at += 12 + length
  }
  return out
}

describe('docs/images', () => {
  const current = check()

  it('holds the summaries and pictures the current code makes', () => {
    expect(current.stderr).toBe('')
    expect(current.status).toBe(0)
  })

  it('is what docs/deployer.md shows, and nothing else', () => {
    const page = readFileSync(join(root, 'docs', 'deployer.md'), 'utf8')
    const shown = [...page.matchAll(/\]\(images\/([\w-]+\.png)\)/g)].map((m) => m[1]).sort()
    const pngs = readdirSync(images)
      .filter((f) => f.endsWith('.png'))
      .sort()
    expect(shown).toEqual(pngs)
  })

  it('holds PNG files whose every chunk is intact, the source record included', () => {
    for (const f of readdirSync(images).filter((n) => n.endsWith('.png'))) {
      const list = chunks(readFileSync(join(images, f)))
      expect([f, list.every((c) => c.crcOk)]).toEqual([f, true])
      expect(list.map((c) => c.type)).toContain('tEXt')
      expect(list.at(-1)?.type).toBe('IEND')
    }
  })

  it('the check fails on a summary that differs from what the code makes', () => {
    const dir = copy()
    const md = join(dir, 'summary-deploy-dry-run.md')
    writeFileSync(md, readFileSync(md, 'utf8').replace('main-9f8e7d6', 'main-0000000'))
    const res = check(dir)
    expect(res.status).toBe(1)
    expect(res.stderr).toContain(
      'summary-deploy-dry-run.md: not the summary the current code makes'
    )
  })

  it('the check fails on a picture taken from another page, or a missing one', () => {
    const dir = copy()
    cpSync(join(dir, 'summary-deploy-success.png'), join(dir, 'summary-deploy-dry-run.png'))
    rmSync(join(dir, 'summary-deploymentizer.png'))
    const res = check(dir)
    expect(res.status).toBe(1)
    expect(res.stderr).toContain(
      'summary-deploy-dry-run.png: made from another page than the current one'
    )
    expect(res.stderr).toContain('summary-deploymentizer.png: missing')
  })

  it('the dry-run diff shows only what changes: no key moved by the server order', () => {
    const dryRun = readFileSync(join(images, 'summary-deploy-dry-run.md'), 'utf8')
    const diffs = [...dryRun.matchAll(/```diff\n([\s\S]*?)```/g)].map((m) => m[1])
    expect(diffs.length).toBeGreaterThan(0)
    for (const d of diffs) {
      const changed = d.split('\n').filter((l) => /^[-+]/.test(l))
      expect(changed.filter((l) => /^[-+]\s*(apiVersion|kind):/.test(l))).toEqual([])
      // Each removed line has its replacement: a pure move would show the same text twice.
      const removed = changed.filter((l) => l.startsWith('-')).map((l) => l.slice(1))
      const added = changed.filter((l) => l.startsWith('+')).map((l) => l.slice(1))
      expect(removed.filter((l) => added.includes(l))).toEqual([])
    }
  })
})
