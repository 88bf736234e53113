// `kit render` from the CLI bundle: the same core as the action, for laptops and other CI.
import { afterAll, describe, expect, it } from '@jest/globals'
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fixtureEnv, goldenDir, here, readTree, workspaceWithFixture } from './helpers.js'

const kit = join(here, '../../cli/dist/kit.js')
const ws = workspaceWithFixture()
afterAll(() => rmSync(ws, { recursive: true, force: true }))

function kitRender(args: string[], env: Record<string, string> = fixtureEnv) {
  const r = spawnSync(process.execPath, [kit, 'render', ...args], {
    cwd: ws,
    encoding: 'utf8',
    env: { PATH: process.env.PATH, HOME: process.env.HOME, NO_COLOR: '1', ...env }
  })
  return { status: r.status, stdout: r.stdout, stderr: r.stderr }
}

describe('kit render', () => {
  it('prints its help', () => {
    const r = kitRender(['--help'])
    expect(r.status).toBe(0)
    expect(r.stdout).toContain('kit render [dir] [options]')
    expect(r.stdout).toContain('--check')
  })

  it('dry run renders everything and writes nothing', () => {
    const r = kitRender(['manifests', '--dry-run'])
    expect(r.status).toBe(0)
    expect(r.stdout).toContain(
      'dry run: rendered 52 services on 6 clusters, 82 files; nothing written'
    )
    expect(r.stdout).toContain('○ legacy-ap-1  disabled')
    expect(existsSync(join(ws, 'manifests/generated'))).toBe(false)
  })

  it('writes the same bytes as the action and the golden output', () => {
    const r = kitRender(['manifests', '--output', 'out'])
    expect(r.status).toBe(0)
    expect(readTree(join(ws, 'out'))).toEqual(readTree(goldenDir))
    expect(kitRender(['manifests', '--output', 'out', '--check']).status).toBe(0)
  })

  it('selects by group and label, and prints JSON for scripts', () => {
    const r = kitRender([
      'manifests',
      '--dry-run',
      '--groups',
      'production',
      '--labels',
      'region!=us-west-2',
      '--json'
    ])
    expect(r.status).toBe(0)
    const json = JSON.parse(r.stdout) as {
      clusters: string[]
      matrix: unknown
      rendered: { services: number }
    }
    expect(json.clusters).toEqual(['prod-eu-1', 'prod-us-1'])
    expect(json.matrix).toEqual({ include: [{ cluster: 'prod-eu-1' }, { cluster: 'prod-us-1' }] })
    expect(json.rendered.services).toBe(16)
  })

  it('exits 2 for bad usage and unknown names', () => {
    expect(kitRender(['manifests', '--bogus']).status).toBe(2)
    expect(kitRender(['manifests', '--dry-run', '--check']).status).toBe(2)
    const r = kitRender(['manifests', '--dry-run', '--clusters', 'prod-mars-1'])
    expect(r.status).toBe(2)
    expect(r.stderr).toContain("unknown cluster 'prod-mars-1'")
  })

  it.each([
    ['--out', 'out', '--output'],
    ['--cluster', 'prod-eu-1', '--clusters'],
    ['--group', 'production', '--groups'],
    ['--label', 'region=eu', '--labels'],
    ['--service', 'web', '--services']
  ])('refuses the earlier spelling %s, naming the action input name', (old, value, now) => {
    const r = kitRender(['manifests', '--dry-run', old, value])
    expect(r.status).toBe(2)
    expect(r.stderr).toContain(`${old} is now ${now}`)
  })

  it('exits 1 with every problem when the render fails', () => {
    const r = kitRender(['manifests', '--dry-run'], {})
    expect(r.status).toBe(1)
    expect(r.stderr).toContain(
      "error: services/app-secrets/secret.yaml:10: clusters dev-eu-1, dev-us-1, prod-eu-1, prod-us-1, prod-us-2 and 1 more, service app-secrets: 'env.DB_PASSWORD | base64': environment variable DB_PASSWORD is not set"
    )
    expect(r.stderr).toContain('nothing was written')
  })

  it('check exits 1 and lists differences when the output is stale', () => {
    const file = join(ws, 'out/dev-us-1/web/deployment-acme-web.yaml')
    writeFileSync(file, readFileSync(file, 'utf8') + '# edited\n')
    const r = kitRender(['manifests', '--output', 'out', '--check'])
    expect(r.status).toBe(1)
    expect(r.stderr).toContain('changed dev-us-1/web/deployment-acme-web.yaml')
  })
})
