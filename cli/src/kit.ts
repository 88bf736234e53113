/**
 * kit — the CLI over the same cores the actions use, for laptops and other CI systems.
 * Each sub-command lives in commands/; this file only dispatches and maps errors to exit codes.
 */
import { commands } from './commands/index.js'
import { type Command, ExitCode, UsageError } from './command.js'
import { didYouMean } from './suggest.js'
import { err, errorLine, out } from './term.js'
import { version } from './version.js'

const topHelp = () => `kit — continuous deployment to many Kubernetes clusters from git

Usage: kit <command> [options]     (kit help <command> or kit <command> --help for details)

Commands:
${commands.map((c) => `  ${c.name.padEnd(10)} ${c.summary}`).join('\n')}

Options:
  -h, --help      this help
  --version       print kit's version

Every command takes --json: its result as JSON on standard output, with the field names of the
matching action's outputs.

Exit codes: 0 success, 1 the operation failed, 2 bad usage or input.`

/** Every word `kit <word>` takes, for "did you mean". */
const words = [...commands.map((c) => c.name), 'help']

/** A usage error before any command runs: one line, a hint, exit 2. */
function usage(message: string, hint = "Run 'kit --help' for the commands."): number {
  err(`${errorLine('kit', message)}\n${hint}`)
  return ExitCode.usage
}

/** The command called `name`, or a usage error naming the nearest one. */
function commandNamed(name: string): Command | number {
  return (
    commands.find((c) => c.name === name) ??
    usage(`unknown command '${name}'${didYouMean(name, words)}`)
  )
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv
  if (name === undefined) {
    out(topHelp())
    return ExitCode.usage
  }
  if (name === '--help' || name === '-h' || (name === 'help' && rest.length === 0)) {
    out(topHelp())
    return ExitCode.ok
  }
  if (name === '--version') {
    out(`kit ${version}`)
    return ExitCode.ok
  }
  if (name === 'help') {
    if (rest.length > 1) return usage(`help takes one command, got ${rest.join(' ')}`)
    const command = commandNamed(rest[0])
    if (typeof command !== 'number') out(command.help)
    return typeof command === 'number' ? command : ExitCode.ok
  }
  if (name.startsWith('-'))
    return usage(`unknown option ${name}${didYouMean(name, ['--help', '--version'], (w) => w)}`)
  const command = commandNamed(name)
  if (typeof command === 'number') return command
  if (rest.includes('--help') || rest.includes('-h')) {
    out(command.help)
    return ExitCode.ok
  }
  try {
    return await command.run(rest)
  } catch (e) {
    return failed(command.name, rest, e)
  }
}

/**
 * A command's error: `kit <command>: error: …` on standard error (with the help hint for a usage
 * error), and with --json the result as JSON on standard output, so a script always gets one.
 */
function failed(name: string, args: readonly string[], e: unknown): number {
  const message = e instanceof Error ? e.message : String(e)
  const bad = e instanceof UsageError
  err(errorLine(`kit ${name}`, message) + (bad ? `\nRun 'kit ${name} --help' for usage.` : ''))
  const end = args.indexOf('--')
  if ((end < 0 ? args : args.slice(0, end)).includes('--json'))
    out(JSON.stringify({ result: 'failure', error: message }, null, 2))
  return bad || (e instanceof Error && e.name === 'InputError') ? ExitCode.usage : ExitCode.failed
}

process.exitCode = await main(process.argv.slice(2))
