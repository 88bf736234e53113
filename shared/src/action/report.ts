import * as core from '@actions/core'

/** Sets an output; lists and maps go out as JSON, so a later step can `fromJSON` them. */
export function writeOutput(name: string, value: unknown): void {
  core.setOutput(name, typeof value === 'string' ? value : JSON.stringify(value))
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
 * Runs an action's main function with the one try/catch every action needs: an error becomes
 * a failed step with its message, never an unhandled rejection with a stack of internals.
 */
export async function runAction(main: () => Promise<void>): Promise<void> {
  process.on('unhandledRejection', (reason) => {
    core.setFailed(`Unexpected error: ${reason instanceof Error ? reason.message : String(reason)}`)
  })
  try {
    await main()
  } catch (err) {
    core.setFailed(err instanceof Error ? err.message : String(err))
  }
}
