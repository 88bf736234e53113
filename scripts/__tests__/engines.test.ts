/**
 * Which Node each package must run on. npm checks every package's `engines` against the Node
 * that runs npm: in a fresh clone that is the machine's (often 20), while everything kit runs
 * (the suite, the bundles, `npm run kit`) runs on the Node 24 the `node` dev dependency
 * installs. So the root package declares what npm itself needs in `devEngines` (npm then does
 * not hold the machine's Node to kit's runtime), and here npm makes its dependency check on
 * Node 24, strictly: every locked package must accept the Node kit runs on.
 */
import { afterAll, describe, expect, it } from '@jest/globals'
import { spawnSync } from 'node:child_process'
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { delimiter, dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const work = mkdtempSync(join(tmpdir(), 'kit-engines-'))
afterAll(() => rmSync(work, { recursive: true, force: true }))

interface Lock {
  packages: Record<string, { version?: string; engines?: Record<string, string> }>
}

/** npm's own engine check of the locked tree, offline, on this suite's Node, failing on a miss. */
function strictEngineCheck(dir: string) {
  return spawnSync(
    'npm',
    [
      'install',
      '--package-lock-only',
      '--dry-run',
      '--engine-strict',
      '--offline',
      '--ignore-scripts',
      '--no-audit',
      '--no-fund',
      '--cache',
      join(work, 'npm-cache')
    ],
    {
      cwd: dir,
      encoding: 'utf8',
      env: { ...process.env, PATH: [dirname(process.execPath), process.env.PATH].join(delimiter) }
    }
  )
}

function copyOfManifests(name: string): string {
  const dir = join(work, name)
  mkdirSync(dir)
  for (const f of ['package.json', 'package-lock.json']) copyFileSync(join(root, f), join(dir, f))
  return dir
}

describe('engines', () => {
  it('runs the suite on the Node 24 the node dev dependency installs', () => {
    const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as Lock
    const bundled = lock.packages['node_modules/node']?.version ?? ''
    expect(bundled).toMatch(/^24\./)
    expect(process.version).toBe(`v${bundled}`)
  })

  it("lets npm itself run on the machine's Node: devEngines, not the runtime's engines", () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
      engines: Record<string, string>
      devEngines: { runtime: { name: string; version: string; onFail: string } }
    }
    expect(pkg.engines).toEqual({ node: '>=24' })
    expect(pkg.devEngines.runtime).toEqual({ name: 'node', version: '>=20', onFail: 'warn' })
  })

  it('every locked package accepts the Node kit runs on', () => {
    const r = strictEngineCheck(copyOfManifests('current'))
    expect(r.stderr).not.toContain('EBADENGINE')
    expect(r.status).toBe(0)
  }, 60_000)

  it('the same check fails on a locked package that does not accept that Node', () => {
    const dir = copyOfManifests('refusing')
    const lock = JSON.parse(readFileSync(join(dir, 'package-lock.json'), 'utf8')) as Lock
    const [path] = Object.entries(lock.packages).find(([p, e]) => p !== '' && e.engines?.node) ?? []
    expect(path).toBeDefined()
    lock.packages[path!].engines = { node: '<24' }
    writeFileSync(join(dir, 'package-lock.json'), JSON.stringify(lock, null, 2))
    const r = strictEngineCheck(dir)
    expect(r.status).not.toBe(0)
    expect(r.stderr).toContain('EBADENGINE')
    expect(r.stderr).toContain(`${path!.split('node_modules/').pop()}@`)
  }, 60_000)
})
