import { type Command, ExitCode } from '../command.js'
import { err } from '../term.js'

// Placeholder until the bump core lands; replaced by the command over that core.
export const bumpCommand: Command = {
  name: 'bump',
  summary: '(not built yet)',
  help: 'kit bump: not built yet',
  async run() {
    err('kit bump: not built yet')
    return ExitCode.failed
  }
}
