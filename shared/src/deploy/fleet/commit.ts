/**
 * The commit a deploy records, and its time, for the version guard. Runs git through kit's one
 * git runner in the manifests checkout; without git or history (a shallow clone still has the
 * commit itself) the time stays unknown.
 */
import { existsSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { runGit } from '../../git/git.js'

/** `git log -1 --format=<format> <rev> --` in the repository around `dir`; undefined on failure. */
async function logOne(dir: string, format: string, rev: string): Promise<string | undefined> {
  try {
    const r = await runGit(['log', '-1', `--format=${format}`, rev, '--'], {
      dir: resolve(dir),
      timeoutMs: 10_000
    })
    return r.code === 0 ? r.stdout.toString('utf8').trim() : undefined
  } catch {
    return undefined
  }
}

/** ISO commit time of `commit` in the repository around `dir`, or undefined. */
export async function gitCommitTime(dir: string, commit: string): Promise<string | undefined> {
  if (!/^[0-9a-fA-F]{4,40}$/.test(commit) && !/^[\w./-]+$/.test(commit)) return undefined
  if (!existsSync(dir)) return undefined
  const out = await logOne(dir, '%cI', commit)
  return out ? new Date(out).toISOString() : undefined
}

/**
 * HEAD of the repository around `dir` and its commit time, from one `git log`; undefined
 * outside git. A folder with no `.git` above it is known not to be a checkout without
 * starting git (unless GIT_DIR points elsewhere).
 */
export async function gitHead(
  dir: string
): Promise<{ commit: string; commitTime?: string } | undefined> {
  if (!insideCheckout(dir)) return undefined
  const [commit = '', time = ''] = ((await logOne(dir, '%H%n%cI', 'HEAD')) ?? '').split('\n')
  if (!/^[0-9a-f]{40,64}$/.test(commit)) return undefined
  return time ? { commit, commitTime: new Date(time).toISOString() } : { commit }
}

function insideCheckout(dir: string): boolean {
  if (process.env.GIT_DIR) return true
  for (let at = resolve(dir); ; at = dirname(at)) {
    if (existsSync(join(at, '.git'))) return true
    if (dirname(at) === at) return false
  }
}
