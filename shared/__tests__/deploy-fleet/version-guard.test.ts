import { describe, expect, it } from '@jest/globals'
import {
  checkVersion,
  readDeployState,
  recordDeployState
} from '../../src/deploy/fleet/version-guard.js'
import { FakeClusterClient } from './fake-client.js'

const newer = {
  commit: 'b'.repeat(40),
  commitTime: '2026-11-26T10:00:00Z',
  runUrl: 'https://ci/runs/2'
}
const older = { commit: 'a'.repeat(40), commitTime: '2026-11-25T10:00:00Z' }

describe('checkVersion', () => {
  it('allows the first deploy, the same commit and a newer commit', () => {
    expect(checkVersion(undefined, { ...older, rollback: false, redeploy: false }).allowed).toBe(
      true
    )
    expect(checkVersion(newer, { ...newer, rollback: false, redeploy: false }).allowed).toBe(true)
    expect(checkVersion(older, { ...newer, rollback: false, redeploy: false }).allowed).toBe(true)
  })
  it('refuses an older commit, naming both commits, their times and who deployed the newer one', () => {
    const d = checkVersion(newer, { ...older, rollback: false, redeploy: false })
    expect(d).toEqual({
      allowed: false,
      reason:
        'refused: commit aaaaaaa (2026-11-25T10:00:00Z) is older than the deployed commit bbbbbbb (2026-11-26T10:00:00Z, deployed by https://ci/runs/2); set rollback or redeploy to deploy it anyway'
    })
  })
  it.each([
    ['rollback', { rollback: true, redeploy: false }],
    ['redeploy', { rollback: false, redeploy: true }]
  ])('allows an older commit with %s, saying so', (word, flags) => {
    const d = checkVersion(newer, { ...older, ...flags })
    expect(d).toEqual({
      allowed: true,
      note: expect.stringMatching(new RegExp(`^${word}: deploying commit aaaaaaa`))
    })
  })
  it('is off without a commit, and says when times cannot be compared', () => {
    expect(checkVersion(newer, { rollback: false, redeploy: false })).toEqual({
      allowed: true,
      note: 'no commit given: the version guard is off'
    })
    expect(
      checkVersion(newer, { commit: 'c'.repeat(40), rollback: false, redeploy: false })
    ).toMatchObject({
      allowed: true,
      note: expect.stringContaining('cannot compare commit times')
    })
  })
})

describe('deploy state', () => {
  it('records the state once and does not rewrite the same commit', async () => {
    const client = new FakeClusterClient()
    expect(await readDeployState(client)).toBeUndefined()
    expect(
      await recordDeployState(client, undefined, { ...newer, deployedAt: '2026-11-26T11:00:00Z' })
    ).toBe(true)
    const state = await readDeployState(client)
    expect(state).toEqual({ ...newer, deployedAt: '2026-11-26T11:00:00Z' })
    expect(await recordDeployState(client, state, { ...newer, deployedAt: 'later' })).toBe(false)
    expect(client.writes).toEqual(['apply ConfigMap kit-system/kit-deploy-state'])
  })
})
