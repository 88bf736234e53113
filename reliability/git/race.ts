/**
 * The image-deployer race under push faults: N runs of the bundled action started at once
 * against one manifests repository on the real git smart-HTTP server, and the checks of what
 * the repository's history must show afterwards (no bump lost, no downgrade, linear history, no
 * duplicate commit, no corrupted file).
 */
import { readImageFile } from '../../shared/src/index.js'
import type { GitServer } from '../../testinfra/git-server/server.js'
import { runAction, type ActionRun } from '../../testinfra/runner/run-action.js'

/** One image-deployer run of the race. */
export interface RaceRun {
  /** v<version> is the image tag; versions order the builds (by their commit time). */
  readonly version: number
  /** The image folder (and repository) under ghcr.io/acme/. */
  readonly image: 'api' | 'web'
  /** The service branch the build came from (names the image file). */
  readonly serviceBranch: string
  /** The manifests branch written. */
  readonly targetBranch: string
}

/** The file a run writes, as the image-deployer names it (a `/` in a branch is %2F). */
export function imageFileOf(run: RaceRun): string {
  return `images/${run.image}/${run.serviceBranch.replace(/\//g, '%2F')}.yaml`
}

/** A (manifests branch, image file) pair: the runs that compete for one file. */
export function groupOf(run: RaceRun): string {
  return `${run.targetBranch}:${imageFileOf(run)}`
}

/** The source commit time of a version: later versions are newer builds. */
export function committedAtOf(version: number): string {
  return new Date(Date.parse('2026-11-26T06:00:00Z') + version * 60_000).toISOString()
}

export function imageRefOf(image: string, version: number): string {
  return `ghcr.io/acme/${image}:v${version}`
}

/**
 * The race's 20 runs, v1..v20: odd versions into the manifests branch main, even ones into
 * staging; on each branch 8 builds of `api` fight over one image file (api built on main, and
 * on feature/login — one file, `feature%2Flogin.yaml`) and 2 builds of `web` over another. Every
 * push fights over one of the two branches.
 */
export function raceRuns(): RaceRun[] {
  const runs: RaceRun[] = []
  for (let v = 1; v <= 20; v++) {
    const main = v % 2 === 1
    runs.push({
      version: v,
      image: v % 10 === 5 || v % 10 === 0 ? 'web' : 'api',
      serviceBranch: main ? 'main' : 'feature/login',
      targetBranch: main ? 'main' : 'staging'
    })
  }
  return runs
}

/** The repository the race starts from: both main image files at v0, staging = main. */
export async function seedRaceRepo(server: GitServer, name: string): Promise<string> {
  const file = (image: string) =>
    [
      '# Written by kit image-deployer; the deploymentizer reads it. Edits by hand are kept.',
      `image: ${imageRefOf(image, 0)}`,
      'source:',
      `  repository: acme/${image}`,
      `  committedAt: '${committedAtOf(0)}'`,
      ''
    ].join('\n')
  const url = await server.createRepo(name, [
    {
      files: {
        'README.md': '# manifests\n',
        'images/api/main.yaml': file('api'),
        'images/web/main.yaml': file('web')
      },
      message: 'seed'
    }
  ])
  await server.git(name, ['branch', 'staging', 'main'])
  return url
}

/** What one run did, as the runner would show it. */
export interface RaceRunResult {
  readonly run: RaceRun
  readonly action: ActionRun
  readonly ms: number
  /** Retries it logged: lost races plus server failures. */
  readonly retries: number
  readonly serverFailures: number
  /** It found its push landed although the reply was lost. */
  readonly recoveredLostReply: boolean
}

/** A seeded shuffle (mulberry32 + Fisher-Yates): a random but repeatable start order. */
export function shuffled<T>(items: readonly T[], seed: number): T[] {
  let a = seed >>> 0
  const random = (): number => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  const out = [...items]
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1))
    ;[out[i], out[j]] = [out[j], out[i]]
  }
  return out
}

/** A run still going after this is killed (and reported as not finishing in its budget). */
export const runTimeoutMs = 780_000

/** Starts every run at once (in `order`) from the bundle, as many workflow jobs would. */
export async function runRace(
  repoRoot: string,
  url: string,
  token: string,
  order: readonly RaceRun[],
  /** Unset: the action's default (no count; its time budget bounds the retries). */
  maxAttempts?: number
): Promise<{ results: RaceRunResult[]; wallMs: number }> {
  const began = Date.now()
  const results = await Promise.all(
    order.map(async (run) => {
      const start = Date.now()
      const action = await runAction(repoRoot, 'image-deployer', {
        inputs: {
          repository: url,
          token,
          image: imageRefOf(run.image, run.version),
          branch: run.serviceBranch,
          'target-branch': run.targetBranch,
          'source-repository': `acme/${run.image}`,
          'source-commit': run.version.toString(16).padStart(40, '0'),
          'committed-at': committedAtOf(run.version),
          ...(maxAttempts === undefined ? {} : { 'max-attempts': maxAttempts })
        },
        env: {
          GITHUB_REPOSITORY: `acme/${run.image}`,
          GITHUB_RUN_ID: String(1000 + run.version),
          GITHUB_SERVER_URL: 'https://github.com'
        },
        timeoutMs: runTimeoutMs
      })
      // Retries only: a run that gives up logs its last attempt too ("one last read").
      const serverFailures = countMatches(
        action.stdout,
        /^attempt \d+ failed on the server.*; re-reading the branch/gm
      )
      return {
        run,
        action,
        ms: Date.now() - start,
        retries: countMatches(
          action.stdout,
          /^attempt \d+ (lost a race|failed on the server).*; re-reading the branch/gm
        ),
        serverFailures,
        recoveredLostReply: /landed although its reply was lost/.test(action.stdout)
      }
    })
  )
  return { results, wallMs: Date.now() - began }
}

function countMatches(text: string, re: RegExp): number {
  return [...text.matchAll(re)].length
}

/** A run that succeeded: exit 0 with one of the documented results. */
export function succeeded(r: RaceRunResult): boolean {
  return (
    r.action.exitCode === 0 && ['committed', 'unchanged', 'older'].includes(r.action.outputs.result)
  )
}

/** The messages a failed run may end with (docs/image-deployer.md "Errors"). */
export const clearFailure =
  /gave up after \d+ attempts?|the server refused the push to '[^']+' \(a protected branch or a hook\)/

/**
 * Whether a failed run failed clearly: exit 1, exactly one error annotation with one of the
 * documented messages, no stack trace, and no more attempts than its budget.
 */
export function failedClearly(r: RaceRunResult, maxAttempts?: number): string | undefined {
  const { action } = r
  if (r.ms >= runTimeoutMs) {
    const last = action.stdout
      .split('\n')
      .filter((l) => l.trim() !== '' && !l.startsWith('::add-mask::'))
      .at(-1)
    return `still running after ${runTimeoutMs / 1000} s, killed (last line: ${last ?? 'none'})`
  }
  if (action.exitCode !== 1) return `exit ${action.exitCode}`
  const errors = action.annotations.filter((a) => a.level === 'error')
  if (errors.length !== 1) return `${errors.length} error annotations`
  if (!clearFailure.test(errors[0].message)) return `unclear error: ${errors[0].message}`
  if (/^\s+at .+:\d+:\d+\)?$/m.test(action.stdout + action.stderr)) return 'a stack trace'
  if (maxAttempts !== undefined && r.retries + 1 > maxAttempts)
    return `${r.retries + 1} attempts for a budget of ${maxAttempts}`
  return undefined
}

/** What one file's history on one branch shows after the race. */
export interface FileHistory {
  readonly group: string
  /** Versions recorded, oldest first (the seed's v0 included when the file was seeded). */
  readonly versions: number[]
  /** The commit that wrote each version. */
  readonly commits: string[]
  readonly finalVersion: number | undefined
}

/** Reads the history of every group's file: each commit's version, checked for shape. */
export async function readHistories(
  git: (args: readonly string[]) => Promise<string>,
  runs: readonly RaceRun[],
  problems: string[]
): Promise<Map<string, FileHistory>> {
  const out = new Map<string, FileHistory>()
  const groups = new Map<string, RaceRun>()
  for (const r of runs) groups.set(groupOf(r), r)
  for (const [group, sample] of groups) {
    const file = imageFileOf(sample)
    const commits = (
      await git(['log', '--reverse', '--format=%H', sample.targetBranch, '--', file])
    )
      .split('\n')
      .filter(Boolean)
    const versions: number[] = []
    for (const c of commits) {
      const text = await git(['show', `${c}:${file}`])
      let version = NaN
      try {
        const content = readImageFile(text, file)
        const m = new RegExp(`^ghcr\\.io/acme/${sample.image}:v(\\d+)$`).exec(content.image)
        version = m ? Number(m[1]) : NaN
        if (!m) problems.push(`${group} at ${c.slice(0, 7)}: unexpected image ${content.image}`)
        else if (content.source.committedAt !== committedAtOf(version))
          problems.push(`${group} at ${c.slice(0, 7)}: provenance does not match v${version}`)
        else if (content.source.repository !== `acme/${sample.image}`)
          problems.push(`${group} at ${c.slice(0, 7)}: source.repository is wrong`)
      } catch (e) {
        problems.push(`${group} at ${c.slice(0, 7)}: unreadable image file (${String(e)})`)
      }
      versions.push(version)
    }
    out.set(group, { group, versions, commits, finalVersion: versions.at(-1) })
  }
  return out
}

/**
 * Everything the race promises, as a list of problems (empty when kept):
 * - linear history on every branch, every commit after the seed touching exactly one file;
 * - per file, versions strictly increasing (no downgrade, no duplicate bump);
 * - every successful run's bump in the history (committed: its commit on the branch, with its
 *   version; unchanged: its version recorded; older: a newer version recorded);
 * - no failed run's bump in the history (a failure that had in fact landed would be a lie);
 * - each file ends at the highest version among the successful runs;
 * - the repository passes `git fsck --strict`.
 */
export async function checkRace(
  git: (args: readonly string[]) => Promise<string>,
  results: readonly RaceRunResult[],
  branches: readonly string[]
): Promise<{ problems: string[]; histories: Map<string, FileHistory>; commits: number }> {
  const problems: string[] = []
  let commits = 0
  for (const branch of branches) {
    const merges = (await git(['rev-list', '--min-parents=2', branch])).trim()
    if (merges) problems.push(`${branch}: merge commits in the history`)
    const log = (await git(['log', '--format=%x00%H %P', '--name-only', branch]))
      .split('\0')
      .filter((b) => b.trim())
    for (const block of log) {
      const [header, ...files] = block.trim().split('\n')
      const [sha, ...parents] = header.split(' ').filter(Boolean)
      if (parents.length === 0) continue // the seed
      commits++
      const touched = files.filter(Boolean)
      if (touched.length !== 1)
        problems.push(`${branch}: commit ${sha.slice(0, 7)} touches ${touched.length} files`)
    }
  }
  const histories = await readHistories(
    git,
    results.map((r) => r.run),
    problems
  )
  for (const h of histories.values()) {
    for (let i = 1; i < h.versions.length; i++)
      if (!(h.versions[i] > h.versions[i - 1]))
        problems.push(
          `${h.group}: v${h.versions[i - 1]} then v${h.versions[i]} (downgrade or repeat)`
        )
  }
  for (const r of results) {
    const h = histories.get(groupOf(r.run))
    if (!h) continue
    const v = r.run.version
    const where = `v${v} (${groupOf(r.run)})`
    if (succeeded(r)) {
      const result = r.action.outputs.result
      if (result === 'committed') {
        const sha = r.action.outputs['commit-sha'] ?? ''
        const i = h.commits.indexOf(sha)
        if (i < 0) problems.push(`${where} reported commit ${sha.slice(0, 7)}, not in the history`)
        else if (h.versions[i] !== v)
          problems.push(`${where}: its commit records v${h.versions[i]}`)
      } else if (result === 'unchanged' && !h.versions.includes(v))
        problems.push(`${where} reported unchanged but was never recorded`)
      else if (result === 'older' && !h.versions.some((x) => x > v))
        problems.push(`${where} reported older but nothing newer was recorded`)
    } else if (h.versions.includes(v)) {
      problems.push(`${where} reported failure but its bump is in the history`)
    }
  }
  for (const [group, h] of histories) {
    const best = Math.max(
      0,
      ...results.filter((r) => groupOf(r.run) === group && succeeded(r)).map((r) => r.run.version)
    )
    if ((h.finalVersion ?? 0) !== best)
      problems.push(`${group} ends at v${h.finalVersion}, the newest successful run was v${best}`)
  }
  try {
    await git(['fsck', '--strict', '--no-dangling', '--no-progress'])
  } catch (e) {
    problems.push(`git fsck: ${String(e).split('\n')[0]}`)
  }
  return { problems, histories, commits }
}

/** Every ref and every reachable object, to compare a repository before and after. */
export async function repoFingerprint(
  git: (args: readonly string[]) => Promise<string>
): Promise<string> {
  const refs = await git(['for-each-ref', '--format=%(refname) %(objectname)'])
  const objects = (await git(['rev-list', '--all', '--objects'])).split('\n').filter(Boolean)
  return `${refs}\n${objects.length} objects`
}
