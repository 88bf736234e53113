/**
 * Thirty image-deployer runs at once against one manifests branch while the server fails a
 * quarter of the pushes (HTTP 500 and 503, resets before the push, and resets after the server
 * applied it, so the reply is lost), over each transport, on the action's defaults: every bump
 * lands, none is lost, none puts an older build over a newer one, and every run reports its
 * own commit.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import {
  startGitServer,
  type GitServer,
  type PushFaultKind,
  type PushStats
} from '../../testinfra/git-server/server.js'
import { startGitHubStandIn, type GitHubStandIn } from '../../testinfra/github-api/server.js'
import {
  checkDefaultsRace,
  defaultsRaceFigures,
  runDefaultsRace,
  type DefaultsRaceRun
} from './race.js'
import { checkTemplatesRace, runTemplatesRace, templatesRaceSeed } from './templates-race.js'

const token = 'race-token-0123456789'
const seed = [{ files: { 'README.md': '# manifests\n' } }]
/**
 * The faults: every 4th push that reaches the server fails, in turn with each kind a run must
 * survive by retrying, a lost reply first. KIT_RACE_SEED changes the start order of the runs.
 */
const faults = {
  rate: 0.25,
  seed: 0,
  evenly: true,
  kinds: ['reset-after-apply', 'http-500', 'reset', 'http-503'] as PushFaultKind[]
}
const order = Number(process.env.KIT_RACE_SEED ?? 7)
let gitServer: GitServer
let api: GitHubStandIn
/** Each transport's race and the pushes its server saw, run at the same time in beforeAll. */
const races = new Map<
  'git' | 'api',
  Promise<{ race: { runs: DefaultsRaceRun[]; wallMs: number }; pushes: PushStats }>
>()

beforeAll(async () => {
  ;[gitServer, api] = await Promise.all([startGitServer({ token }), startGitHubStandIn({ token })])
  // The two races share nothing (two servers, two repositories): they run at once, so one's
  // backoff waits are the other's working time.
  const url = await gitServer.createRepo('race', seed)
  await api.createRepo('acme', 'race', seed)
  gitServer.setPushFaults(faults)
  api.setRefFaults(faults)
  races.set(
    'git',
    runDefaultsRace({ transport: 'git', repository: url, token, apiUrl: api.url }, order).then(
      (race) => ({
        race,
        pushes: gitServer.pushes
      })
    )
  )
  races.set(
    'api',
    runDefaultsRace(
      { transport: 'api', repository: 'acme/race', token, apiUrl: api.url },
      order
    ).then((race) => ({ race, pushes: api.refUpdates }))
  )
  await Promise.all(races.values())
  gitServer.setPushFaults(undefined)
  api.setRefFaults(undefined)
}, 300_000)
afterAll(async () => {
  await Promise.all([gitServer.close(), api.close()])
})

/** Prints the race's figures (the before/after evidence) and checks its promises. */
async function expectEveryBumpLanded(
  transport: 'git' | 'api',
  git: (args: readonly string[]) => Promise<string>
): Promise<void> {
  const done = races.get(transport)
  if (!done) throw new Error(`the ${transport} race did not start`)
  const { race, pushes } = await done
  const figures = defaultsRaceFigures(race.runs, race.wallMs)
  process.stdout.write(
    `${transport} race: ${JSON.stringify({ ...figures, pushes: pushes.attempted, pushesFailed: pushes.byKind })}\n`
  )
  const problems = await checkDefaultsRace(git, race.runs)
  // A run named in a problem shows what it did, attempt by attempt.
  for (const r of race.runs.filter((r) => problems.some((p) => p.startsWith(`${r.name} `))))
    process.stdout.write(`${r.name}:\n${r.log.map((l) => `  ${l}`).join('\n')}\n`)
  expect(problems).toEqual([])
  expect(figures.landed).toBe(30)
  // The faults were real, and survived by retrying: pushes failed, some after they landed.
  expect(pushes.failed).toBeGreaterThan(0)
  expect(pushes.byKind['reset-after-apply']).toBeGreaterThan(0)
  expect(figures.attempts).toBeGreaterThan(figures.runs)
}

describe('30 bumps at once on the defaults, a quarter of the pushes failing', () => {
  it('every bump lands over git smart HTTP: none lost, none older over newer', async () => {
    await expectEveryBumpLanded('git', (args) => gitServer.git('race', args))
  })

  it('every bump lands over the GitHub API: none lost, none older over newer', async () => {
    await expectEveryBumpLanded('api', (args) => api.git('acme', 'race', args))
  })
})

describe('20 bumps at once mixing bumps with and without templates, a quarter of the pushes failing', () => {
  const templateRaces = new Map<
    'git' | 'api',
    Promise<{ race: { runs: DefaultsRaceRun[]; wallMs: number }; pushes: PushStats }>
  >()
  beforeAll(async () => {
    const url = await gitServer.createRepo('race-templates', templatesRaceSeed)
    await api.createRepo('acme', 'race-templates', templatesRaceSeed)
    gitServer.setPushFaults(faults)
    api.setRefFaults(faults)
    const target = { token, apiUrl: api.url }
    templateRaces.set(
      'git',
      runTemplatesRace({ ...target, transport: 'git', repository: url }, order).then((race) => ({
        race,
        pushes: gitServer.pushes
      }))
    )
    templateRaces.set(
      'api',
      runTemplatesRace(
        { ...target, transport: 'api', repository: 'acme/race-templates' },
        order
      ).then((race) => ({ race, pushes: api.refUpdates }))
    )
    await Promise.all(templateRaces.values())
    gitServer.setPushFaults(undefined)
    api.setRefFaults(undefined)
  }, 300_000)

  /** Images and templates: none lost, never older over newer, both or neither, exact copies. */
  async function expectTemplatesKept(
    transport: 'git' | 'api',
    git: (args: readonly string[]) => Promise<string>
  ): Promise<void> {
    const done = templateRaces.get(transport)
    if (!done) throw new Error(`the ${transport} templates race did not start`)
    const { race, pushes } = await done
    const figures = defaultsRaceFigures(race.runs, race.wallMs)
    process.stdout.write(
      `${transport} templates race: ${JSON.stringify({ ...figures, pushes: pushes.attempted, pushesFailed: pushes.byKind })}\n`
    )
    const problems = await checkTemplatesRace(git, race.runs)
    for (const r of race.runs.filter((r) => problems.some((p) => p.includes(r.name))))
      process.stdout.write(`${r.name}:\n${r.log.map((l) => `  ${l}`).join('\n')}\n`)
    expect(problems).toEqual([])
    expect(figures.landed).toBe(20)
    expect(pushes.failed).toBeGreaterThan(0)
    expect(figures.attempts).toBeGreaterThan(figures.runs)
    // Older builds of api arrived after newer ones and were refused whole.
    expect(
      race.runs.filter((r) => r.name.startsWith('api#') && r.outcome === 'older').length
    ).toBeGreaterThan(0)
  }

  it("over git smart HTTP: the newest build's image and templates win, byte for byte", async () => {
    await expectTemplatesKept('git', (args) => gitServer.git('race-templates', args))
  })

  it("over the GitHub API: the newest build's image and templates win, byte for byte", async () => {
    await expectTemplatesKept('api', (args) => api.git('acme', 'race-templates', args))
  })
})
