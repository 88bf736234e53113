/**
 * Whether files under a folder are tracked by git: rendered Secrets must not be committed,
 * so the action and the CLI warn when the output folder is tracked. Runs git through kit's one
 * git runner; any failure (no git, not a repository) means "no".
 */
import { dirname } from 'node:path'
import { runGit } from '../git/git.js'

/** True when `git ls-files` lists at least one tracked file under `dir`. */
export async function isTrackedByGit(dir: string): Promise<boolean> {
  try {
    const r = await runGit(['ls-files', '--', dir], { dir: dirname(dir), timeoutMs: 10_000 })
    return r.code === 0 && r.stdout.toString('utf8').trim() !== ''
  } catch {
    return false
  }
}
