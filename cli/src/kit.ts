/**
 * kit — the CLI over the same cores the actions use, for laptops and other CI systems.
 * Each sub-command lives in commands/; this file only dispatches and maps errors to exit codes.
 */
import { commands } from './commands/index.js'
import { ExitCode, UsageError } from './command.js'
import { err, errColor, out } from './term.js'

const topHelp = () => `kit — continuous deployment to many Kubernetes clusters from git

Usage: kit <command> [options]     (kit <command> --help for details)

Commands:
${commands.map((c) => `  ${c.name.padEnd(10)} ${c.summary}`).join('\n')}

Exit codes: 0 success, 1 the operation failed, 2 bad usage or input.`

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    out(topHelp())
    return name === undefined ? ExitCode.usage : ExitCode.ok
  }
  const command = commands.find((c) => c.name === name)
  if (!command) {
    err(`kit: unknown command '${name}'\n\n${topHelp()}`)
    return ExitCode.usage
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    out(command.help)
    return ExitCode.ok
  }
  try {
    return await command.run(rest)
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e)
    if (
      e instanceof UsageError ||
      (e instanceof Error &&
        'code' in e &&
        String((e as { code: unknown }).code).startsWith('ERR_PARSE_ARGS'))
    ) {
      err(`kit ${name}: ${message}\nRun 'kit ${name} --help' for usage.`)
      return ExitCode.usage
    }
    err(`${errColor.red('error:')} ${message}`)
    return e instanceof Error && e.name === 'InputError' ? ExitCode.usage : ExitCode.failed
  }
}

process.exitCode = await main(process.argv.slice(2))
