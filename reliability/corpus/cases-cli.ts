/**
 * Command lines a user mistypes: unknown commands and flags (a letter dropped, two swapped, an
 * abbreviation), flags missing their value or given one they do not take, and a value that looks
 * like a flag. `kit` must exit 2 with one error line in its own form (`kit <command>: error: …`)
 * naming the word and, where one is near, the command or flag meant; never Node's parser text.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expectCleanFailure, observedLine, runKit } from './harness.js'
import type { Verdict } from './runner.js'

export interface CliCase {
  readonly args: readonly string[]
  /** What the error must say. */
  readonly where: RegExp
}

export const cliCases: readonly CliCase[] = [
  { args: ['rendr'], where: /unknown command 'rendr'; did you mean 'render'\?/ },
  { args: ['Deploy'], where: /unknown command 'Deploy'; did you mean 'deploy'\?/ },
  { args: ['clusters', 'up'], where: /unknown command 'clusters'/ },
  { args: ['help', 'bmup'], where: /unknown command 'bmup'; did you mean 'bump'\?/ },
  { args: ['--verbose'], where: /unknown option --verbose/ },
  {
    args: ['render', '--clustr', 'a'],
    where: /unknown option --clustr; did you mean --clusters\?/
  },
  { args: ['render', '--dry'], where: /unknown option --dry; did you mean --dry-run\?/ },
  { args: ['render', '-x'], where: /unknown option -x/ },
  { args: ['render', '--shard-size'], where: /--shard-size needs a value/ },
  { args: ['render', '--clusters', '--check'], where: /--clusters needs a value/ },
  { args: ['render', '--check=yes'], where: /--check takes no value/ },
  { args: ['diff', '--no-wiat'], where: /unknown option --no-wiat; did you mean --no-wait\?/ },
  { args: ['deploy', '--prune=false'], where: /--prune takes no value/ },
  {
    args: ['deploy', '--timout', '5m'],
    where: /unknown option --timout; did you mean --timeout\?/
  },
  { args: ['bump', '--imgae', 'x'], where: /unknown option --imgae; did you mean --image\?/ },
  {
    args: ['bump', '--token', 'ghp_x'],
    where: /--token is an action input with no kit flag \(read from KIT_TOKEN or GITHUB_TOKEN/
  },
  {
    args: ['deploy', '--metrics-token', 'x'],
    where: /--metrics-token is an action input with no kit flag \(read from KIT_METRICS_TOKEN/
  }
]

/** Runs every case in an empty folder (nothing there to read or write). */
export async function runCliCases(): Promise<Verdict[]> {
  const cwd = mkdtempSync(join(tmpdir(), 'kit-corpus-cli-'))
  try {
    const verdicts: Verdict[] = []
    for (const c of cliCases) {
      const run = await runKit(c.args, { cwd })
      const problems = expectCleanFailure(run, c.where, ['ghp_x'])
      if (run.exitCode !== 2) problems.push(`exit ${run.exitCode}, not 2 (bad usage)`)
      verdicts.push({
        name: `kit ${c.args.join(' ')}`,
        target: 'kit',
        observed: observedLine(run),
        problems
      })
    }
    return verdicts
  } finally {
    rmSync(cwd, { recursive: true, force: true })
  }
}
