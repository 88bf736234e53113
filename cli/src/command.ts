/** One `kit` sub-command: a thin shell over a core shared with the actions. */
export interface Command {
  readonly name: string
  /** One line for `kit --help`. */
  readonly summary: string
  /** The full `kit <name> --help` text. */
  readonly help: string
  /** Runs the command; resolves to the process exit code. */
  run(args: string[]): Promise<number>
}

/**
 * Exit codes, the same for every command (documented in docs/cli.md):
 * 0 success; 1 the operation failed (a cluster failed, a render error); 2 bad usage or input.
 */
export const ExitCode = { ok: 0, failed: 1, usage: 2 } as const

/** Thrown for bad flags or arguments; printed with the command's usage hint, exit code 2. */
export class UsageError extends Error {}
