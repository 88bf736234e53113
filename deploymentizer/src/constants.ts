import { renderOptions } from '../../shared/src/options/render.js'
import { actionOptions } from '../../shared/src/options/table.js'

/**
 * Input names: the render option table's (shared/src/options/render.ts), which action.yml's
 * inputs are generated from.
 */
export const inputNames: readonly string[] = actionOptions(renderOptions).map((o) => o.name)

export const Outputs = {
  clusters: 'clusters',
  matrix: 'matrix',
  index: 'index',
  rendered: 'rendered',
  hash: 'hash',
  upToDate: 'up-to-date'
} as const
