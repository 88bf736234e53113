import { outputNames as outputNamesOf } from '../../shared/src/outputs/table.js'
import { renderOptions } from '../../shared/src/options/render.js'
import { actionOptions } from '../../shared/src/options/table.js'

/**
 * Input names: the render option table's (shared/src/options/render.ts), which action.yml's
 * inputs are generated from.
 */
export const inputNames: readonly string[] = actionOptions(renderOptions).map((o) => o.name)

/** Every output name, in action.yml's order: the outputs table's (shared/src/outputs/table.ts). */
export const outputNames: readonly string[] = outputNamesOf('deploymentizer')

/** What a failed step sets besides `result: failure`: nothing else it could know. */
export const failureOutputs = {} as const
