/**
 * The commit a deploy records, and its time, for the version guard. Runs `git` with an
 * argument array (never a shell string) in the manifests checkout; without git or history
 * (a shallow clone still has the commit itself) the time stays unknown.
 */
import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { InputError } from '../../errors.js'

/** ISO commit time of `commit` in the repository around `dir`, or undefined. */
export function gitCommitTime(dir: string, commit: string): string | undefined {
  if (!/^[0-9a-fA-F]{4,40}$/.test(commit) && !/^[\w./-]+$/.test(commit)) return undefined
  if (!existsSync(dir)) return undefined
  try {
    const out = execFileSync(
      'git',
      ['-C', resolve(dir), 'log', '-1', '--format=%cI', commit, '--'],
      {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
        timeout: 10_000
      }
    ).trim()
    return out === '' ? undefined : new Date(out).toISOString()
  } catch {
    return undefined
  }
}

/**
 * HEAD of the repository around `dir` and its commit time, from one `git log`; undefined
 * outside git. A folder with no `.git` above it is known not to be a checkout without
 * starting git (unless GIT_DIR points elsewhere).
 */
export function gitHead(dir: string): { commit: string; commitTime?: string } | undefined {
  if (!insideCheckout(dir)) return undefined
  try {
    const [commit = '', time = ''] = execFileSync(
      'git',
      ['-C', resolve(dir), 'log', '-1', '--format=%H%n%cI', 'HEAD', '--'],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 10_000 }
    )
      .trim()
      .split('\n')
    if (!/^[0-9a-f]{40,64}$/.test(commit)) return undefined
    return time ? { commit, commitTime: new Date(time).toISOString() } : { commit }
  } catch {
    return undefined
  }
}

function insideCheckout(dir: string): boolean {
  if (process.env.GIT_DIR) return true
  for (let at = resolve(dir); ; at = dirname(at)) {
    if (existsSync(join(at, '.git'))) return true
    if (dirname(at) === at) return false
  }
}

/** Validates a commit-time input: ISO 8601, returned normalised. */
export function parseCommitTime(raw: string, inputName = 'commit-time'): string {
  const t = Date.parse(raw)
  if (Number.isNaN(t))
    throw new InputError(
      `${inputName} must be an ISO 8601 time like 2026-11-26T07:00:00Z, got '${raw}'`
    )
  return new Date(t).toISOString()
}
