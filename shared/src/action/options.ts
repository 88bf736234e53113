import * as core from '@actions/core'
import { actionLabel, type Table, type Values } from '../options/table.js'
import { checkLength } from '../options/validate.js'
import { InputError } from '../errors.js'

/**
 * Reads every input of an option table, validated once: an unset input takes the table's
 * default (action.yml's defaults do not reach a process started outside the runner), a set one
 * goes through the table's validator, and every error names the input. Options without an
 * action input (CLI-only flags) take their defaults.
 */
export function readOptions<T extends Table>(
  table: T,
  getInput: (name: string) => string = (name) => core.getInput(name)
): Values<T> {
  const out: Record<string, unknown> = {}
  for (const [key, o] of Object.entries(table)) {
    if (!o.action) {
      out[key] = o.default
      continue
    }
    const raw = getInput(o.name)
    checkLength(raw, actionLabel(o.name), o.maxChars)
    // Required and without a fallback: refused as the runner's getInput would. (A required
    // input with a fallback, like the image-deployer's token, is checked where it is used.)
    if (raw === '' && o.required && o.default === undefined)
      throw new InputError(`Input required and not supplied: ${o.name}`)
    out[key] = raw === '' ? o.default : o.parse(raw, actionLabel(o.name))
  }
  return out as Values<T>
}
