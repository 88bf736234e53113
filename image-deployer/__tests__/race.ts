import { readOptions } from '../../shared/src/action/options.js'
import { deployImage } from '../../shared/src/image-deploy/index.js'
import {
  parseRepositorySpec,
  readImageFile,
  Redactor,
  runBump,
  type BumpResult,
  type RepoTarget,
  type TemplatesRequest
} from '../../shared/src/index.js'
import { imageDeployOptions, imageDeploySettings } from '../../shared/src/options/image-deploy.js'
import { bumpRequest, provenance, seededRandom } from './helpers.js'

/** What one 20-way race did, for the benchmark (bench/bump.ts). */
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

/** One run of the defaults race: what it reported, or the error it failed with. */
export interface DefaultsRaceRun {
  /** `svc-3`, or `shared-a#7` for build 7 of a shared image. */
  readonly name: string
  readonly image: string
  /** The file it writes. */
  readonly file: string
  readonly builtAt: string
  readonly templates?: TemplatesRequest
  readonly outcome?: BumpResult['outcome']
  readonly commit?: string
  readonly attempts?: number
  readonly error?: string
  readonly ms: number
  /** Lines it logged (retries, lost replies). */
  readonly log: readonly string[]
}

/** Where the defaults race writes: a git URL (git transport) or owner/name on the API stand-in. */
export interface DefaultsRaceTarget {
  readonly transport: 'git' | 'api'
  readonly repository: string
  readonly token: string
  /** The API stand-in's URL (also the server of owner/name repositories). */
  readonly apiUrl: string
}

/**
 * The defaults race's 30 runs: 6 distinct images (each must land once), and 8 builds each of
 * three shared images started in a shuffled order (older builds often arrive after newer ones:
 * each file's history must only ever move forward and end at the newest build).
 */
export const defaultsRace = {
  images: 6,
  shared: ['shared-a', 'shared-b', 'shared-c'],
  builds: 8
} as const

/** When the race's builds start; every build time is after it. */
export const raceStart = '2026-11-26T06:00:00Z'

/**
 * Every run of `defaultsRace` started at once in a seeded shuffled order, each a whole
 * deployImage run whose settings come from the option table with nothing but the repository,
 * token, image and provenance set: the action's defaults decide the attempts, the backoff and
 * the time budget. Real sleeps, real jitter.
 */
export async function runDefaultsRace(
  target: DefaultsRaceTarget,
  seed = 7
): Promise<{ runs: DefaultsRaceRun[]; wallMs: number }> {
  const start = Date.parse(raceStart)
  const jobs: RaceJob[] = []
  for (let i = 0; i < defaultsRace.images; i++)
    jobs.push({
      name: `svc-${i}`,
      image: `ghcr.io/acme/svc-${i}:1.0.${i}`,
      source: `acme/svc-${i}`,
      file: `images/svc-${i}/main.yaml`,
      builtAt: new Date(start + i * 1000).toISOString()
    })
  for (const shared of defaultsRace.shared)
    for (let k = 0; k < defaultsRace.builds; k++)
      jobs.push({
        name: `${shared}#${k}`,
        image: `ghcr.io/acme/${shared}:build-${k}`,
        source: `acme/${shared}`,
        file: `images/${shared}/main.yaml`,
        builtAt: new Date(start + k * 60_000).toISOString()
      })
  return runRaceJobs(target, jobs, seed)
}

/** One deployImage run of a race: its image, the image file it writes, and its templates. */
export interface RaceJob {
  readonly name: string
  readonly image: string
  readonly source: string
  readonly file: string
  readonly builtAt: string
  /** The service's templates the bump carries, if any. */
  readonly templates?: TemplatesRequest
}

/**
 * Starts every job at once in a seeded shuffled order, each a whole deployImage run whose
 * settings come from the option table (the action's defaults), its templates added to the
 * request. Run n's source commit is n+1 in hex.
 */
export async function runRaceJobs(
  target: DefaultsRaceTarget,
  list: readonly RaceJob[],
  seed = 7
): Promise<{ runs: DefaultsRaceRun[]; wallMs: number }> {
  const start = Date.parse(raceStart)
  const jobs = [...list]
  const random = seededRandom(seed)
  for (let i = jobs.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1))
    ;[jobs[i], jobs[j]] = [jobs[j], jobs[i]]
  }
  const began = Date.now()
  const runs = await Promise.all(
    jobs.map(async (job, n): Promise<DefaultsRaceRun> => {
      const inputs: Record<string, string> = {
        repository: target.repository,
        token: target.token,
        transport: target.transport,
        image: job.image,
        branch: 'main',
        'target-branch': 'main',
        'api-url': target.apiUrl,
        'source-repository': job.source,
        'source-commit': (n + 1).toString(16).padStart(40, '0'),
        'built-at': job.builtAt,
        'committed-at': job.builtAt
      }
      const log: string[] = []
      const t0 = Date.now()
      try {
        const v = readOptions(imageDeployOptions, (name) => inputs[name] ?? '')
        const settings = imageDeploySettings(
          v,
          {
            env: {},
            workspace: process.cwd(),
            now: new Date(start + 86_400_000),
            label: (name) => `Input '${name}'`
          },
          {
            repository: parseRepositorySpec(target.repository, target.apiUrl),
            transport: target.transport,
            token: target.token
          }
        )
        const request = job.templates
          ? { ...settings.request, templates: job.templates }
          : settings.request
        const r = await deployImage(
          { ...settings, request },
          { log: (l) => log.push(l), redactor: new Redactor() }
        )
        const { outcome, commit, attempts } = r
        return { ...job, outcome, commit, attempts, ms: Date.now() - t0, log }
      } catch (e) {
        const error = e instanceof Error ? e.message : String(e)
        return { ...job, error, ms: Date.now() - t0, log }
      }
    })
  )
  return { runs, wallMs: Date.now() - began }
}

/** The race's figures, for the test log and the before/after comparison. */
export function defaultsRaceFigures(runs: readonly DefaultsRaceRun[], wallMs: number) {
  return {
    runs: runs.length,
    landed: runs.filter((r) => r.error === undefined).length,
    failed: runs.filter((r) => r.error !== undefined).length,
    attempts: runs.reduce((n, r) => n + (r.attempts ?? 0), 0),
    mostAttemptsOfOneRun: Math.max(...runs.map((r) => r.attempts ?? 0)),
    lostRepliesRecovered: runs.filter((r) => r.log.some((l) => /landed although its reply/.test(l)))
      .length,
    wallMs,
    slowestRunMs: Math.max(...runs.map((r) => r.ms))
  }
}

/**
 * What the history must show after the defaults race, and what each run must have reported:
 * every run succeeded; every distinct image landed in exactly one commit, which its run
 * reported (a lost reply included); each shared file moved only forward and ends at the newest
 * build; a run reported `committed` only with its own commit, and every commit was reported
 * by its run; `older` only when a newer build is recorded; one commit per bump. Returns the problems found (none: the race kept its
 * promises).
 */
export async function checkDefaultsRace(
  git: (args: readonly string[]) => Promise<string>,
  runs: readonly DefaultsRaceRun[]
): Promise<string[]> {
  const problems: string[] = []
  const history = (await git(['log', '--format=%H', 'main'])).trim().split('\n')
  /** The image file at a commit; undefined when it is missing there. */
  const imageAt = async (commit: string, file: string) => {
    const text = await git(['show', `${commit}:${file}`]).catch(() => undefined)
    return text === undefined ? undefined : readImageFile(text, file)
  }
  for (const block of (await git(['log', '--format=%H', '--name-only', 'main'])).split(/\n\n+/)) {
    const files = block
      .split('\n')
      .slice(1)
      .filter((f) => f.startsWith('images/'))
    if (files.length > 1) problems.push(`one commit touched ${files.join(', ')}`)
  }
  for (const file of new Set(runs.map((r) => r.file))) {
    const commits = (await git(['log', '--reverse', '--format=%H', 'main', '--', file]))
      .trim()
      .split('\n')
      .filter(Boolean)
    const recorded = await Promise.all(commits.map((c) => imageAt(c, file)))
    const times = recorded.map((r) => r?.source.builtAt)
    // Every image is one run's: the run whose image a commit records must report that commit
    // (a push whose reply was lost included), not `unchanged` or `older`.
    commits.forEach((c, i) => {
      const writer = runs.find((r) => r.image === recorded[i]?.image)
      if (writer && (writer.outcome !== 'committed' || writer.commit !== c))
        problems.push(
          `${writer.name} reported ${writer.outcome ?? 'failure'}${writer.commit ? ` ${writer.commit.slice(0, 7)}` : ''}, but its bump is ${c.slice(0, 7)}`
        )
    })
    for (let i = 1; i < times.length; i++)
      if (Date.parse(times[i] ?? '') <= Date.parse(times[i - 1] ?? ''))
        problems.push(`${file}: ${times[i - 1]} then ${times[i]} (older over newer)`)
    const own = runs.filter((r) => r.file === file)
    const newest = own.reduce((a, r) => (r.builtAt > a.builtAt ? r : a))
    if (file.includes('/svc-') && commits.length !== 1)
      problems.push(`${file}: ${commits.length} commits, expected 1`)
    const final = (await imageAt('main', file))?.image
    if (final !== newest.image) problems.push(`${file} ends at ${final}, not ${newest.image}`)
  }
  const reported = new Map<string, string>()
  for (const r of runs) {
    if (r.error !== undefined) problems.push(`${r.name} failed: ${r.error}`)
    else if (r.outcome === 'committed') {
      const commit = r.commit ?? ''
      if (!history.includes(commit)) problems.push(`${r.name} reported ${commit}, not on main`)
      else if ((await imageAt(commit, r.file))?.image !== r.image)
        problems.push(`${r.name} reported ${commit.slice(0, 7)}, which records another image`)
      if (reported.has(commit))
        problems.push(`${r.name} and ${reported.get(commit)} share ${commit}`)
      reported.set(commit, r.name)
    } else if (r.outcome === 'older') {
      const newer = runs.some(
        (o) => o.file === r.file && o.builtAt > r.builtAt && o.outcome === 'committed'
      )
      if (!newer) problems.push(`${r.name} reported older, but no newer build was committed`)
    } else problems.push(`${r.name} reported ${r.outcome}`)
  }
  return problems
}
