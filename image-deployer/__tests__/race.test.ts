import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals'
import { startGitServer, type GitServer } from '../../testinfra/git-server/server.js'
import { startGitHubStandIn, type GitHubStandIn } from '../../testinfra/github-api/server.js'
import { GitBranchTarget } from '../../shared/src/git/index.js'
import { GitHubBranchTarget, GitHubClient } from '../../shared/src/github/index.js'
import { author } from './helpers.js'
import { checkRace, raceBuilds, raceImages, runRace, type RaceOutcome } from './race.js'

const token = 'race-token-0123456789'
const seed = [{ files: { 'README.md': '# manifests\n' } }]
let gitServer: GitServer
let api: GitHubStandIn

beforeAll(async () => {
  ;[gitServer, api] = await Promise.all([startGitServer({ token }), startGitHubStandIn({ token })])
})
afterAll(async () => {
  await Promise.all([gitServer.close(), api.close()])
})

function expectRaceKeptItsPromises(
  outcome: RaceOutcome,
  check: Awaited<ReturnType<typeof checkRace>>
): void {
  expect(check.problems).toEqual([])
  // Every distinct image landed exactly once.
  expect(check.perImageCommits).toEqual(Array(raceImages).fill(1))
  // The shared file ends at the newest build, and its history only ever moved forward.
  expect(check.finalShared).toBe(`ghcr.io/acme/shared:build-${raceBuilds - 1}`)
  expect(check.sharedHistory[check.sharedHistory.length - 1]).toBe(
    outcome.results.find((r) => r.name === `shared#${raceBuilds - 1}`)?.builtAt
  )
  // Each shared build either landed or was skipped as older; none failed or vanished.
  const shared = outcome.results.filter((r) => r.name.startsWith('shared#'))
  for (const r of shared) expect(['committed', 'older']).toContain(r.result.outcome)
  expect(shared.filter((r) => r.result.outcome === 'committed')).toHaveLength(
    check.sharedHistory.length
  )
  expect(
    outcome.results.filter((r) => r.name.startsWith('svc-')).map((r) => r.result.outcome)
  ).toEqual(Array(raceImages).fill('committed'))
}

describe('20 bumps racing on one branch', () => {
  jest.setTimeout(600_000)
  it('loses no bump and never downgrades over git smart HTTP', async () => {
    const url = await gitServer.createRepo('race', seed)
    const targets: GitBranchTarget[] = []
    const outcome = await runRace(() => {
      const t = new GitBranchTarget({ url, token, branch: 'main', author })
      targets.push(t)
      return t
    })
    await Promise.all(targets.map((t) => t.close()))
    const check = await checkRace((args) => gitServer.git('race', args))
    expectRaceKeptItsPromises(outcome, check)
    expect(outcome.attempts).toBeGreaterThan(20) // the race was real: some pushes were rejected
  })

  it('loses no bump and never downgrades over the GitHub API', async () => {
    await api.createRepo('acme', 'race', seed)
    const outcome = await runRace(
      () =>
        new GitHubBranchTarget({
          client: new GitHubClient({ apiUrl: api.url, token }),
          owner: 'acme',
          repo: 'race',
          branch: 'main',
          author
        })
    )
    const check = await checkRace((args) => api.git('acme', 'race', args))
    expectRaceKeptItsPromises(outcome, check)
    expect(outcome.attempts).toBeGreaterThan(20)
  })
})
