import * as core from '@actions/core'
import { failureResult, outputEntries, outputText, type ActionName } from '../outputs/table.js'

/** The outputs this run has set, so a failure fills in only what is still missing. */
let written = new Set<string>()

/** Sets an output; booleans go out as 'true'/'false', lists and maps as JSON (for `fromJSON`). */
export function writeOutput(name: string, value: unknown): void {
  written.add(name)
  core.setOutput(name, outputText(value))
}

/** Sets every output of `action` from `values` (see shared/src/outputs/table.ts). */
export function writeOutputs(action: ActionName, values: Readonly<Record<string, unknown>>): void {
  for (const [name, value] of outputEntries(action, values))
    if (value !== undefined) writeOutput(name, value)
}

/**
 * Appends markdown to the job summary. The runner provides GITHUB_STEP_SUMMARY; outside it
 * (the CLI, a bare `node dist/index.js`) there is nowhere to write, so this is a no-op.
 */
export async function writeSummary(markdown: string): Promise<void> {
  if (!process.env.GITHUB_STEP_SUMMARY) return
  await core.summary.addRaw(markdown, true).write()
}

/**
 * A failure whose error annotations are written already (a render's problems at their files, a
 * manifest error at its line): runAction fails the step with its message as a log line, not as a
 * second annotation of the same error.
 */
export class ReportedError extends Error {}

/**
 * Runs an action's main function with the one try/catch every action needs: an error becomes
 * a failed step with its message, never an unhandled rejection with a stack of internals, and
 * `result` (with `failureOutputs`) is set even when the inputs were refused, so a later step
 * with `if: always()` can read why.
 */
export async function runAction(
  main: () => Promise<void>,
  failureOutputs: Readonly<Record<string, unknown>> = {}
): Promise<void> {
  written = new Set()
  const fail = (err: unknown, prefix = ''): void => {
    for (const [name, value] of Object.entries({ result: failureResult, ...failureOutputs }))
      if (!written.has(name)) writeOutput(name, value)
    const message = `${prefix}${err instanceof Error ? err.message : String(err)}`
    if (err instanceof ReportedError) {
      core.info(message)
      process.exitCode = core.ExitCode.Failure
    } else core.setFailed(message)
  }
  process.on('unhandledRejection', (reason) => fail(reason, 'Unexpected error: '))
  try {
    await main()
  } catch (err) {
    fail(err)
  }
}
