import { readOptions } from '../../shared/src/action/index.js'
import {
  renderOptions,
  renderSettings,
  type RenderSettings
} from '../../shared/src/options/render.js'
import { actionLabel } from '../../shared/src/options/table.js'

/** The action's settings, read and validated once (the render option table's values). */
export type Settings = RenderSettings

/** Reads every input; errors name the input, the value and what was expected. */
export function readSettings(workspace = process.cwd()): Settings {
  return renderSettings(readOptions(renderOptions), workspace, actionLabel)
}
