import { readImageFile, runBump, type BumpResult, type RepoTarget } from '../../shared/src/index.js'
import { bumpRequest, provenance, seededRandom } from './helpers.js'

/** What one 20-way race did, for assertions and the benchmark. */
export interface RaceOutcome {
  readonly results: readonly { name: string; builtAt: string; result: BumpResult }[]
  readonly attempts: number
  readonly wallMs: number
}

export const raceImages = 10
export const raceBuilds = 10

/**
 * 20 bumps at once against one branch: 10 different images, and 10 builds of one shared image
 * started in a shuffled order (so older builds often arrive after newer ones).
 */
export async function runRace(makeTarget: () => RepoTarget, seed = 7): Promise<RaceOutcome> {
  const random = seededRandom(seed)
  const jobs: { name: string; builtAt: string; run: () => Promise<BumpResult> }[] = []
  const start = Date.parse('2026-11-26T06:00:00Z')
  for (let i = 0; i < raceImages; i++) {
    const builtAt = new Date(start + i * 1000).toISOString()
    jobs.push({
      name: `svc-${i}`,
      builtAt,
      run: () =>
        runBump(
          makeTarget(),
          bumpRequest(`ghcr.io/acme/svc-${i}:1.0.${i}`, {
            provenance: provenance({ repository: `acme/svc-${i}`, builtAt })
          }),
          { maxAttempts: 40, dryRun: false, backoff: { baseMs: 50, capMs: 10_000 }, random }
        )
    })
  }
  for (let k = 0; k < raceBuilds; k++) {
    const builtAt = new Date(start + k * 60_000).toISOString()
    jobs.push({
      name: `shared#${k}`,
      builtAt,
      run: () =>
        runBump(
          makeTarget(),
          bumpRequest(`ghcr.io/acme/shared:build-${k}`, {
            provenance: provenance({
              repository: 'acme/shared',
              commit: `${k}`.repeat(40).slice(0, 40),
              builtAt
            })
          }),
          { maxAttempts: 40, dryRun: false, backoff: { baseMs: 50, capMs: 10_000 }, random }
        )
    })
  }
  // Fisher-Yates with the seeded source: a random but repeatable start order.
  for (let i = jobs.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1))
    ;[jobs[i], jobs[j]] = [jobs[j], jobs[i]]
  }
  const began = Date.now()
  const results = await Promise.all(
    jobs.map(async (j) => ({ name: j.name, builtAt: j.builtAt, result: await j.run() }))
  )
  return {
    results,
    attempts: results.reduce((a, r) => a + r.result.attempts, 0),
    wallMs: Date.now() - began
  }
}

/** Reads the remote's history to check the race's promises; `git` runs in the remote repository. */
export async function checkRace(git: (args: readonly string[]) => Promise<string>): Promise<{
  perImageCommits: number[]
  sharedHistory: string[]
  finalShared: string
  problems: string[]
}> {
  const problems: string[] = []
  const perImageCommits: number[] = []
  for (let i = 0; i < raceImages; i++) {
    const path = `images/svc-${i}/main.yaml`
    const log = (await git(['log', '--format=%H', 'main', '--', path]))
      .trim()
      .split('\n')
      .filter(Boolean)
    perImageCommits.push(log.length)
    const content = readImageFile(await git(['show', `main:${path}`]), path)
    if (content.image !== `ghcr.io/acme/svc-${i}:1.0.${i}`)
      problems.push(`${path} holds ${content.image}`)
  }
  const sharedPath = 'images/shared/main.yaml'
  const commits = (await git(['log', '--reverse', '--format=%H', 'main', '--', sharedPath]))
    .trim()
    .split('\n')
    .filter(Boolean)
  const sharedHistory: string[] = []
  for (const c of commits) {
    const content = readImageFile(await git(['show', `${c}:${sharedPath}`]), sharedPath)
    sharedHistory.push(content.source.builtAt ?? '')
  }
  for (let i = 1; i < sharedHistory.length; i++)
    if (Date.parse(sharedHistory[i]) <= Date.parse(sharedHistory[i - 1]))
      problems.push(`downgrade in history: ${sharedHistory[i - 1]} then ${sharedHistory[i]}`)
  const finalShared = readImageFile(await git(['show', `main:${sharedPath}`]), sharedPath).image
  // Every commit on main is one bump: no commit touches two images' files.
  const touched = (await git(['log', '--format=%H', '--name-only', 'main'])).trim()
  for (const block of touched.split(/\n\n+/)) {
    const files = block
      .split('\n')
      .slice(1)
      .filter((f) => f.startsWith('images/'))
    if (files.length > 1) problems.push(`one commit touched ${files.join(', ')}`)
  }
  return { perImageCommits, sharedHistory, finalShared, problems }
}
