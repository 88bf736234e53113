import type { Command } from '../command.js'
import { bumpCommand } from './bump.js'
import { deployCommand, diffCommand } from './deploy.js'
import { renderCommand } from './render.js'

/** Every sub-command, in the order `kit --help` lists them. */
export const commands: readonly Command[] = [renderCommand, diffCommand, deployCommand, bumpCommand]
