import { type Command, ExitCode } from '../command.js'
import { err } from '../term.js'

// Placeholders until the deployer core lands; replaced by the commands over that core.
export const deployCommand: Command = {
  name: 'deploy',
  summary: '(not built yet)',
  help: 'kit deploy: not built yet',
  async run() {
    err('kit deploy: not built yet')
    return ExitCode.failed
  }
}

export const diffCommand: Command = {
  name: 'diff',
  summary: '(not built yet)',
  help: 'kit diff: not built yet',
  async run() {
    err('kit diff: not built yet')
    return ExitCode.failed
  }
}
