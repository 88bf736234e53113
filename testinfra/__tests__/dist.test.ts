/**
 * The runner executes the committed bundles, not the source. This fails when a committed
 * dist/ differs from what the current source bundles to, or when a bundle is missing, and when
 * the user CLI's bundle carries code that belongs to the actions or to the test infrastructure.
 */
import { describe, expect, it } from '@jest/globals'
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'

describe('committed dist', () => {
  it('matches a fresh bundle of the current source, byte for byte', () => {
    const res = spawnSync(process.execPath, ['scripts/bundle.mjs', '--check'], { encoding: 'utf8' })
    expect(res.stderr).toBe('')
    expect(res.stdout).toMatch(/dist is current/)
    expect(res.status).toBe(0)
  })

  it('runs on node24, the runtime every action declares', () => {
    for (const action of ['image-deployer', 'deploymentizer', 'deployer']) {
      const yml = readFileSync(`${action}/action.yml`, 'utf8')
      expect(yml).toMatch(/^\s+using:\s*['"]?node24['"]?\s*$/m)
      expect(yml).toMatch(/^\s+main:\s*['"]?dist\/index\.js['"]?\s*$/m)
    }
    expect(process.versions.node.split('.')[0]).toBe('24')
  })
})

describe('the kit CLI bundle', () => {
  // esbuild heads each bundled module with a comment naming its path (`// cli/src/term.ts`,
  // `// node_modules/@actions/core/lib/core.js`): the bundle's own table of contents.
  const bundle = readFileSync('cli/dist/kit-bundle.js', 'utf8')
  const modules = [...bundle.matchAll(/^\/\/ ((?:cli|shared|testinfra|node_modules)\/\S+)$/gm)].map(
    (m) => m[1]
  )

  it('names its modules, so the checks below can see what it carries', () => {
    expect(modules).toContain('cli/src/kit.ts')
    expect(modules).toContain('cli/src/commands/deploy.ts')
  })

  it('carries neither @actions/core nor the actions-only input readers', () => {
    expect(modules.filter((m) => /node_modules\/@actions\/(core|exec)\//.test(m))).toEqual([])
    expect(modules.filter((m) => m.startsWith('shared/src/action/'))).toEqual([])
    // core.getInput's own message, should the module comments ever go.
    expect(bundle).not.toContain('Input required and not supplied')
  })

  it('carries no test infrastructure: `kit clusters` is not a command', () => {
    expect(modules.filter((m) => m.startsWith('testinfra/'))).toEqual([])
    expect(bundle).not.toMatch(/kwok|KIT_CLUSTERS_BASE_PORT/)
    const res = spawnSync(process.execPath, ['cli/dist/kit.js', 'clusters', 'up'], {
      encoding: 'utf8'
    })
    expect(res.stderr).toMatch(/unknown command 'clusters'/)
    expect(res.status).toBe(2)
  })
})
