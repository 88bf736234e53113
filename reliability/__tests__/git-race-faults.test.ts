/**
 * Faults: the git server failing pushes intermittently during a 20-way
 * image-deployer race. Twenty runs of the bundled action (as the runner starts them) bump the
 * same manifests repository at once over real git smart HTTP while the server fails a share of
 * the pushes — HTTP 500 and 503, connection resets before the push, resets after the push was
 * applied (the reply is lost), and pre-receive rejections. What the docs promise
 * (docs/image-deployer.md, "Many pipelines at once"): every run succeeds or fails clearly within
 * its attempts, no bump is lost, an older build never replaces a newer one, and the history
 * stays linear with one commit per bump.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import {
  pushFaultKinds,
  startGitServer,
  type GitServer,
  type PushFaultKind
} from '../../testinfra/git-server/server.js'
import {
  BumpConflictError,
  defaultCommitMessage,
  parseImageRef,
  runBump,
  type BumpRequest,
  type FileChange,
  type RepoSnapshot,
  type RepoTarget
} from '../../shared/src/index.js'
import { transientReason } from '../../shared/src/git/index.js'
import { startGitHubStandIn, type GitHubStandIn } from '../../testinfra/github-api/server.js'
import { defaultsRaceFigures } from '../../image-deployer/__tests__/race.js'
import {
  checkTemplatesRace,
  runTemplatesRace,
  templatesRaceSeed
} from '../../image-deployer/__tests__/templates-race.js'
import { record } from '../record.js'
import {
  checkRace,
  failedClearly,
  raceRuns,
  repoFingerprint,
  runRace,
  seedRaceRepo,
  shuffled,
  succeeded,
  type RaceRunResult
} from '../git/race.js'

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const token = 'race-faults-token-7f3a9c'
let server: GitServer

beforeAll(async () => {
  execFileSync(process.execPath, [join(repoRoot, 'scripts', 'bundle.mjs')], {
    cwd: repoRoot,
    stdio: 'ignore'
  })
  server = await startGitServer({ token })
})
afterAll(async () => {
  await server?.close()
})

/** The race's figures: runs, pushes the server saw and failed, retries, outcomes, time. */
function figuresOf(results: readonly RaceRunResult[], wallMs: number) {
  const pushes = server.pushes
  const byKind = Object.fromEntries(
    Object.entries(pushes.byKind).map(([k, v]) => [`failed ${k}`, v])
  )
  return {
    runs: results.length,
    // receive-pack requests; a push git itself refuses as non-fast-forward never reaches the server
    pushesAttempted: pushes.attempted,
    pushesFailedByServer: pushes.failed,
    ...byKind,
    retries: results.reduce((n, r) => n + r.retries, 0),
    retriesAfterServerFailure: results.reduce((n, r) => n + r.serverFailures, 0),
    lostRepliesRecovered: results.filter((r) => r.recoveredLostReply).length,
    successes: results.filter(succeeded).length,
    failures: results.filter((r) => !succeeded(r)).length,
    durationMs: wallMs,
    slowestRunMs: Math.max(...results.map((r) => r.ms))
  }
}

/**
 * A branch in memory whose writes follow a script: `ok`, `conflict`, `fail` (a server error,
 * nothing applied) or `lost-reply` (applied, but the client hears a dropped connection).
 * `meddle` is a newer build another pipeline commits just after a given write.
 */
function scriptedTarget(
  script: readonly ('ok' | 'conflict' | 'fail' | 'lost-reply')[],
  meddle?: { afterWrite: number; path: string; text: string }
): RepoTarget & { head: () => string; files: Map<string, string>; writes: () => number } {
  let head = 0
  let writes = 0
  const files = new Map<string, string>()
  // The branch's history: a lost reply's commit stays findable under later commits.
  const history = new Set<string>(['c0'])
  const commit = (changes: readonly FileChange[]): string => {
    for (const c of changes)
      if (c.after === undefined) files.delete(c.path)
      else files.set(c.path, c.after)
    head++
    history.add(`c${head}`)
    return `c${head}`
  }
  return {
    description: 'scripted branch',
    head: () => `c${head}`,
    files,
    writes: () => writes,
    async open(): Promise<RepoSnapshot> {
      const base = `c${head}`
      return {
        head: base,
        read: async (paths) => new Map(paths.map((p) => [p, files.get(p)])),
        list: async () => [...files.keys()],
        findLanded: async (pushed) => pushed.find((p) => history.has(p.commit))?.commit,
        write: async (changes) => {
          const step = script[writes++] ?? 'ok'
          let outcome: Awaited<ReturnType<RepoSnapshot['write']>>
          if (`c${head}` !== base) outcome = { kind: 'conflict', reason: 'non-fast-forward' }
          else if (step === 'ok') outcome = { kind: 'written', commit: commit(changes) }
          else if (step === 'conflict') {
            head++
            history.add(`c${head}`)
            outcome = { kind: 'conflict', reason: 'non-fast-forward', commit: 'never-applied' }
          } else if (step === 'fail')
            outcome = { kind: 'failed', reason: 'HTTP 503 from the server', commit: 'not-applied' }
          else outcome = { kind: 'failed', reason: 'connection reset', commit: commit(changes) }
          if (meddle && writes === meddle.afterWrite) {
            files.set(meddle.path, meddle.text)
            head++
            history.add(`c${head}`)
          }
          return outcome
        }
      }
    }
  }
}

function bumpOf(tag: string, committedAt: string): BumpRequest {
  return {
    image: parseImageRef(`ghcr.io/acme/api:${tag}`),
    imageName: 'api',
    branch: 'main',
    imagesDir: 'images',
    writeImageFile: true,
    values: [],
    manifests: [],
    provenance: { repository: 'acme/api', committedAt },
    force: false,
    messageTemplate: defaultCommitMessage
  }
}

describe('the retry loop under server failures (pure, scripted branch)', () => {
  const quick = { dryRun: false, sleep: async () => undefined, random: () => 0.5 }
  const req = bumpOf('v2', '2026-11-26T06:02:00Z')

  it('retries a push the server failed, and commits on the next attempt', async () => {
    const t = scriptedTarget(['fail', 'ok'])
    const lines: string[] = []
    const r = await runBump(t, req, { ...quick, maxAttempts: 3, log: (l) => lines.push(l) })
    expect(r.outcome).toBe('committed')
    expect(r.attempts).toBe(2)
    expect(lines[0]).toMatch(/^attempt 1 failed on the server \(HTTP 503 from the server\)/)
  })

  it('finds a push that landed although its reply was lost, and pushes nothing again', async () => {
    const t = scriptedTarget(['lost-reply'])
    const lines: string[] = []
    const r = await runBump(t, req, { ...quick, maxAttempts: 3, log: (l) => lines.push(l) })
    expect(r).toMatchObject({ outcome: 'committed', commit: t.head(), attempts: 1 })
    expect(t.writes()).toBe(1)
    expect(lines.join('\n')).toMatch(/landed although its reply was lost/)
  })

  it('checks the last attempt too: a lost reply on the final push is not reported as a failure', async () => {
    const t = scriptedTarget(['fail', 'lost-reply'])
    const r = await runBump(t, req, { ...quick, maxAttempts: 2 })
    expect(r).toMatchObject({ outcome: 'committed', commit: t.head() })
  })

  it('a lost reply then a newer build on top: its own commit is reported, nothing repeated', async () => {
    const newer = [
      'image: ghcr.io/acme/api:v3',
      'source:',
      '  repository: acme/api',
      "  committedAt: '2026-11-26T06:03:00Z'",
      ''
    ].join('\n')
    const t = scriptedTarget(['lost-reply'], {
      afterWrite: 1,
      path: 'images/api/main.yaml',
      text: newer
    })
    const r = await runBump(t, req, { ...quick, maxAttempts: 3 })
    // c1 is this run's commit (the lost reply); the newer build went on top as c2.
    expect(r).toMatchObject({ outcome: 'committed', commit: 'c1' })
    expect(t.writes()).toBe(1)
  })

  it('gives up clearly when the server fails every push, saying how', async () => {
    const t = scriptedTarget(['conflict', 'fail', 'fail'])
    const err = await runBump(t, req, { ...quick, maxAttempts: 3 }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(BumpConflictError)
    expect((err as Error).message).toMatch(
      /gave up after 3 attempts; 1 lost a race and 2 failed on the server \(last: HTTP 503 from the server\)\. Nothing was written\./
    )
    expect(t.files.size).toBe(0)
  })

  it.each([
    [
      'error: RPC failed; HTTP 500 curl 22 The requested URL returned error: 500',
      'HTTP 500 from the server'
    ],
    [
      'error: RPC failed; HTTP 503 curl 22 The requested URL returned error: 503',
      'HTTP 503 from the server'
    ],
    ['error: RPC failed; curl 56 Recv failure: Connection reset by peer', 'connection reset'],
    ['fatal: the remote end hung up unexpectedly', 'connection dropped'],
    ['! HEAD:refs/heads/main [remote rejected] (pre-receive hook declined)', undefined],
    ['!\t4030abc:refs/heads/main\t[rejected] (stale info)', undefined]
  ])('classifies git push output %#', (text, reason) => {
    expect(transientReason(text)).toBe(reason)
  })
})

describe('image-deployer: 20 runs racing while the git server fails pushes', () => {
  it('30 % of pushes failing (5xx, resets, lost replies, rejections): no bump lost, no downgrade', async () => {
    const name = 'race-30'
    const url = await seedRaceRepo(server, name)
    // The action's defaults: no attempt count, a time budget (action.yml timeout).
    server.setPushFaults({ rate: 0.3, seed: 20261126, kinds: pushFaultKinds })
    const order = shuffled(raceRuns(), 7)
    const { results, wallMs } = await runRace(repoRoot, url, token, order)
    const figures = figuresOf(results, wallMs)
    server.setPushFaults(undefined)

    const git = (args: readonly string[]) => server.git(name, args)
    const { problems } = await checkRace(git, results, ['main', 'staging'])
    const unclear = results
      .filter((r) => !succeeded(r))
      .map((r) => [r.run.version, failedClearly(r)] as const)
      .filter(([, why]) => why !== undefined)
      .map(([v, why]) => `v${v}: ${why}`)
    const failureMessages = [
      ...new Set(
        results
          .filter((r) => !succeeded(r))
          .map((r) => r.action.annotations.find((a) => a.level === 'error')?.message ?? '')
          .map((m) => m.replace(/^.*?: (gave up|the server refused)/, '$1').slice(0, 60))
      )
    ]
    const ok =
      problems.length === 0 &&
      unclear.length === 0 &&
      figures.successes > 0 &&
      figures.pushesFailedByServer > 0
    record({
      section: 'faults',
      name: 'git server fails 30 % of pushes during a 20-way image-deployer race',
      target: 'image-deployer (bundle, git transport)',
      observed: ok
        ? `${figures.successes}/20 runs succeeded, ${figures.failures} failed clearly (${failureMessages.join('; ') || 'none'}); no bump lost, no downgrade, linear history`
        : `problems: ${[...problems, ...unclear].join('; ')}`,
      ok,
      figures
    })
    expect(problems).toEqual([])
    expect(unclear).toEqual([])
    expect(figures.pushesFailedByServer).toBeGreaterThan(0)
    expect(figures.successes).toBeGreaterThan(0)
    // The faults were survived by retrying, not only by failing.
    expect(figures.retriesAfterServerFailure).toBeGreaterThan(0)
  }, 900_000)

  it('100 % of pushes failing: every run fails clearly within its attempts, the repository unchanged', async () => {
    const name = 'race-100'
    const url = await seedRaceRepo(server, name)
    const git = (args: readonly string[]) => server.git(name, args)
    const before = await repoFingerprint(git)
    const maxAttempts = 3
    // A reset after the push was applied is a push that succeeded (only its reply was lost):
    // at 100 % every other kind of failure.
    const kinds: PushFaultKind[] = ['http-500', 'http-503', 'reset', 'reject']
    server.setPushFaults({ rate: 1, seed: 42, kinds })
    const order = shuffled(raceRuns(), 11)
    const { results, wallMs } = await runRace(repoRoot, url, token, order, maxAttempts)
    const figures = figuresOf(results, wallMs)
    server.setPushFaults(undefined)
    const after = await repoFingerprint(git)

    const unclear = results
      .map((r) => [r.run.version, succeeded(r) ? 'succeeded' : failedClearly(r, maxAttempts)])
      .filter(([, why]) => why !== undefined)
      .map(([v, why]) => `v${v}: ${why}`)
    const gaveUp = results.filter((r) =>
      r.action.annotations.some((a) => /gave up after/.test(a.message))
    ).length
    const refused = results.filter((r) =>
      r.action.annotations.some((a) => /the server refused the push/.test(a.message))
    ).length
    const ok = unclear.length === 0 && before === after
    record({
      section: 'faults',
      name: 'git server fails 100 % of pushes during a 20-way image-deployer race',
      target: 'image-deployer (bundle, git transport)',
      observed: ok
        ? `20/20 runs failed clearly: ${gaveUp} "gave up after ${maxAttempts} attempts … failed on the server", ${refused} "the server refused the push"; repository unchanged`
        : `problems: ${[...unclear, before === after ? '' : 'repository changed'].filter(Boolean).join('; ')}`,
      ok,
      figures: { ...figures, maxAttempts }
    })
    expect(unclear).toEqual([])
    expect(after).toBe(before)
    expect(gaveUp + refused).toBe(20)
  }, 900_000)
})

describe('image-deployer: 20 runs mixing service-owned templates while pushes fail, both transports', () => {
  let api: GitHubStandIn
  beforeAll(async () => {
    api = await startGitHubStandIn({ token })
  })
  afterAll(async () => {
    await api?.close()
  })

  // Every kind a run survives by retrying (a rejection ends a run: the image race covers it).
  const kinds: PushFaultKind[] = ['http-500', 'http-503', 'reset', 'reset-after-apply']

  it.each(['git', 'api'] as const)(
    '30 %% of pushes failing over %s: images and templates never lost, never older over newer, both or neither',
    async (transport) => {
      const name = `race-templates-${transport}`
      const faults = { rate: 0.3, seed: 20261207, kinds }
      let repository: string
      if (transport === 'git') {
        repository = await server.createRepo(name, templatesRaceSeed)
        server.setPushFaults(faults)
      } else {
        await api.createRepo('acme', name, templatesRaceSeed)
        repository = `acme/${name}`
        api.setRefFaults(faults)
      }
      let pushes = server.pushes
      const race = await runTemplatesRace(
        { transport, repository, token, apiUrl: api.url },
        11
      ).finally(() => {
        // The counters are reset with the faults: read them first.
        pushes = transport === 'git' ? server.pushes : api.refUpdates
        server.setPushFaults(undefined)
        api.setRefFaults(undefined)
      })
      const git = (args: readonly string[]) =>
        transport === 'git' ? server.git(name, args) : api.git('acme', name, args)
      const problems = await checkTemplatesRace(git, race.runs)
      const figures = {
        ...defaultsRaceFigures(race.runs, race.wallMs),
        withTemplates: race.runs.filter((r) => r.templates).length,
        olderRefused: race.runs.filter((r) => r.outcome === 'older').length,
        pushesAttempted: pushes.attempted,
        pushesFailedByServer: pushes.failed
      }
      const ok = problems.length === 0 && figures.landed === 20 && pushes.failed > 0
      record({
        section: 'faults',
        name: `${transport === 'git' ? 'git server' : 'GitHub API'} fails 30 % of pushes during a 20-way race mixing bumps with and without templates`,
        target: `image-deployer (deployImage, ${transport} transport)`,
        observed: ok
          ? `20/20 runs succeeded (${figures.withTemplates} with templates, ${figures.olderRefused} older builds refused whole); every commit wrote image and templates of one build, copies exact, newest build's image and templates on main`
          : `problems: ${problems.join('; ') || `${figures.landed}/20 landed, ${pushes.failed} pushes failed`}`,
        ok,
        figures
      })
      expect(problems).toEqual([])
      expect(figures.landed).toBe(20)
      expect(pushes.failed).toBeGreaterThan(0)
    },
    900_000
  )
})
