import { type Command, ExitCode } from '../command.js'
import { err } from '../term.js'

// Placeholder until the render core lands; replaced by the command over that core.
export const renderCommand: Command = {
  name: 'render',
  summary: '(not built yet)',
  help: 'kit render: not built yet',
  async run() {
    err('kit render: not built yet')
    return ExitCode.failed
  }
}
