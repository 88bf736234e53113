import * as core from '@actions/core'
import { quoteValue } from '../errors.js'
import { inputLimits } from '../options/validate.js'
import { maxDurationMs, parseDuration } from '../text/duration.js'

export { maxDurationMs, parseDuration }

/**
 * Thin, typed readers over @actions/core inputs. Every error names the input, the value
 * it got and the form it expected, so a workflow author can fix the YAML without reading code.
 */

/** Size limits for inputs (shared with the CLI's flags: see shared/src/options/validate.ts). */
export { inputLimits }

/** A string input; '' when unset unless `required`. Trimmed like the runner's own getInput. */
export function readString(
  name: string,
  options: { required?: boolean; fallback?: string; maxChars?: number } = {}
): string {
  const value = core.getInput(name, { required: options.required ?? false })
  const max = options.maxChars ?? inputLimits.maxChars
  if (value.length > max)
    throw new Error(
      `Input '${name}' is ${value.length} characters long; at most ${max} are accepted`
    )
  return value === '' ? (options.fallback ?? '') : value
}

/**
 * A boolean input. Accepts the YAML 1.2 core booleans like core.getBooleanInput, but an
 * unset input falls back instead of throwing, because action.yml defaults do not reach
 * a process started outside the runner (the CLI, tests).
 */
export function readBoolean(name: string, fallback: boolean): boolean {
  const raw = core.getInput(name)
  if (raw === '') return fallback
  if (['true', 'True', 'TRUE'].includes(raw)) return true
  if (['false', 'False', 'FALSE'].includes(raw)) return false
  throw new Error(`Input '${name}' must be true or false, got ${quoteValue(raw)}`)
}

/** A list input: one item per line or comma-separated; blank items dropped. */
export function readList(name: string): string[] {
  return checkedItems(name, core.getInput(name).split(/[\n,]/))
}

/** A list input of one item per line (an item may hold commas); blank lines dropped. */
export function readLines(name: string): string[] {
  return checkedItems(name, core.getInput(name).split('\n'))
}

function checkedItems(name: string, raw: readonly string[]): string[] {
  const items = raw.map((s) => s.trim()).filter((s) => s !== '')
  if (items.length > inputLimits.maxItems)
    throw new Error(
      `Input '${name}' lists ${items.length} items; at most ${inputLimits.maxItems} are accepted`
    )
  const long = items.find((item) => item.length > inputLimits.maxItemChars)
  if (long !== undefined)
    throw new Error(
      `Input '${name}' has an item of ${long.length} characters; at most ${inputLimits.maxItemChars} are accepted`
    )
  return items
}

/** A whole-number input within [min, max]. */
export function readInteger(
  name: string,
  fallback: number,
  min = 0,
  max = Number.MAX_SAFE_INTEGER
): number {
  const raw = core.getInput(name)
  if (raw === '') return fallback
  if (!/^-?\d+$/.test(raw))
    throw new Error(`Input '${name}' must be a whole number, got ${quoteValue(raw)}`)
  const n = Number(raw)
  if (n < min || n > max)
    throw new Error(`Input '${name}' must be between ${min} and ${max}, got ${n}`)
  return n
}

/**
 * A duration input such as `90s`, `10m`, `1h30m` or a bare number of seconds; returns
 * milliseconds. Refuses malformed text and anything over `maxMs` (a week by default).
 */
export function readDuration(name: string, fallbackMs: number, maxMs = maxDurationMs): number {
  const raw = core.getInput(name)
  if (raw === '') return fallbackMs
  const ms = parseDuration(raw)
  if (ms === undefined)
    throw new Error(
      `Input '${name}' must be a duration like 90s, 10m or 1h30m, got ${quoteValue(raw)}`
    )
  if (ms > maxMs)
    throw new Error(`Input '${name}' must be at most ${formatHours(maxMs)}, got ${quoteValue(raw)}`)
  return ms
}

function formatHours(ms: number): string {
  return ms % 3_600_000 === 0 ? `${ms / 3_600_000}h` : `${Math.round(ms / 1000)}s`
}
