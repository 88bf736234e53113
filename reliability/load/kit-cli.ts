/**
 * The kit CLI as users run it: `node cli/dist/kit.js <command> ...` in a child process, measured
 * (wall time, peak RSS), its `--json` output parsed.
 */
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { runNode, type ChildRun } from './measure.js'

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
export const kitCli = join(repoRoot, 'cli', 'dist', 'kit.js')

/** One cluster's row of `kit deploy --json` (the deployer's `cluster-results` output). */
export interface DeployRow {
  readonly cluster: string
  readonly result: string
  readonly objectsChanged: number
  readonly reason?: string
  readonly counts: Record<string, number>
  readonly failures: unknown[]
}

/** What `kit deploy --json` prints: the deployer's outputs (shared/src/outputs/table.ts). */
export interface DeployOutputs {
  readonly result: string
  readonly 'cluster-results': DeployRow[]
  readonly 'failed-clusters': string[]
}

export interface DeployRun extends ChildRun {
  /** Undefined when the CLI printed no JSON (it failed before deploying: see stderr). */
  readonly outputs?: DeployOutputs
}

/** `kit deploy <dir> --kubeconfig <file> --json` with the health wait. */
export async function kitDeploy(
  manifests: string,
  kubeconfig: string,
  options: { concurrency: number; timeout: string }
): Promise<DeployRun> {
  const run = await runNode([
    kitCli,
    'deploy',
    manifests,
    '--kubeconfig',
    kubeconfig,
    '--concurrency',
    String(options.concurrency),
    '--timeout',
    options.timeout,
    '--json'
  ])
  let outputs: DeployOutputs | undefined
  try {
    outputs = JSON.parse(run.stdout) as DeployOutputs
  } catch {
    outputs = undefined
  }
  return { ...run, outputs }
}

/** The last lines of a run's stderr, for a failure message (kit scrubs its own output). */
export function tail(run: ChildRun, lines = 15): string {
  return run.stderr.trim().split('\n').slice(-lines).join('\n')
}
