/**
 * Whether files under a folder are tracked by git: rendered Secrets must not be committed,
 * so the action and the CLI warn when the output folder is tracked. An adapter over the git
 * binary (argument array, no shell); any failure (no git, not a repository) means "no".
 */
import { execFile } from 'node:child_process'
import { dirname } from 'node:path'

/** True when `git ls-files` lists at least one tracked file under `dir`. */
export function isTrackedByGit(dir: string): Promise<boolean> {
  return new Promise((resolvePromise) => {
    execFile(
      'git',
      ['-C', dirname(dir), 'ls-files', '--', dir],
      { timeout: 10_000, maxBuffer: 1024 * 1024 },
      (error, stdout) => resolvePromise(!error && stdout.trim() !== '')
    )
  })
}
