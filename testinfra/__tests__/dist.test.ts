/**
 * The runner executes the committed bundles, not the source. This fails when a committed
 * dist/ differs from what the current source bundles to, or when a bundle is missing.
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
