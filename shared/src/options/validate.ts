/**
 * The validators behind every option table, the same for the action inputs and the CLI flags:
 * each takes the raw (non-empty) text and a label naming where it came from (`Input 'x'` or
 * `--x`), and returns the typed value or throws an InputError naming it, the value and the
 * expected form.
 */
import { InputError, quoteValue } from '../errors.js'
import { maxDurationMs, parseDuration } from '../text/duration.js'

/**
 * Size limits for inputs and flags. A path, a name, a selector or a URL is far below them; a
 * value over them is a pasted file or a broken expression, and refused naming the input before
 * it can reach a file system call, an API request or an error message (which would echo it
 * whole). Options that carry whole documents (kubeconfigs) pass their own, larger limit.
 */
export const inputLimits = {
  /** Characters in one string input. */
  maxChars: 8 * 1024,
  /** Items in one list input. */
  maxItems: 2_000,
  /** Characters in one item of a list input. */
  maxItemChars: 512
} as const

export type Validator<T> = (raw: string, label: string) => T

/** Refuses a value over `max` characters, naming it and never echoing the value. */
export function checkLength(raw: string, label: string, max: number = inputLimits.maxChars): void {
  if (raw.length > max)
    throw new InputError(`${label} is ${raw.length} characters long; at most ${max} are accepted`)
}

/** Any text (the length limit is checked by the reader). */
export const text: Validator<string> = (raw) => raw

/** The YAML 1.2 core booleans, like @actions/core's getBooleanInput. */
export const boolean: Validator<boolean> = (raw, label) => {
  if (['true', 'True', 'TRUE'].includes(raw)) return true
  if (['false', 'False', 'FALSE'].includes(raw)) return false
  throw new InputError(`${label} must be true or false, got ${quoteValue(raw)}`)
}

/** A whole number within [min, max]. */
export function integer(min = 0, max = Number.MAX_SAFE_INTEGER): Validator<number> {
  return (raw, label) => {
    if (!/^-?\d+$/.test(raw))
      throw new InputError(`${label} must be a whole number, got ${quoteValue(raw)}`)
    const n = Number(raw)
    if (n < min || n > max)
      throw new InputError(
        max === Number.MAX_SAFE_INTEGER
          ? `${label} must be at least ${min}, got ${n}`
          : `${label} must be between ${min} and ${max}, got ${n}`
      )
    return n
  }
}

/** `90s`, `10m`, `1h30m`, `500ms` or bare seconds, at most `maxMs` (a week); milliseconds. */
export function duration(maxMs = maxDurationMs): Validator<number> {
  return (raw, label) => {
    const ms = parseDuration(raw)
    if (ms === undefined)
      throw new InputError(
        `${label} must be a duration like 90s, 10m or 1h30m, got ${quoteValue(raw)}`
      )
    if (ms > maxMs)
      throw new InputError(
        `${label} must be at most ${maxMs % 3_600_000 === 0 ? `${maxMs / 3_600_000}h` : `${Math.round(maxMs / 1000)}s`}, got ${quoteValue(raw)}`
      )
    return ms
  }
}

const isoPattern =
  /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/

/**
 * The one ISO 8601 time validator of both front-ends (`commit-time`, `built-at`,
 * `committed-at`): a date, or a date and time with an optional zone. With `maxFutureMs`, a time
 * further ahead of `now` is refused (a build time from the future would make every later build
 * look older). Returns the text as given.
 */
export function isoTime(
  raw: string,
  label: string,
  options: { now?: number; maxFutureMs?: number } = {}
): string {
  const t = Date.parse(raw)
  if (!isoPattern.test(raw) || Number.isNaN(t))
    throw new InputError(
      `${label} must be an ISO 8601 time like 2026-11-26T07:00:00Z, got ${quoteValue(raw)}`
    )
  if (options.maxFutureMs !== undefined && t > (options.now ?? Date.now()) + options.maxFutureMs)
    throw new InputError(
      `${label} ${quoteValue(raw)} is in the future; a build time from the future would make every later build look older`
    )
  return raw
}

/** How far ahead of now a build or commit time may be (clocks drift; a day is generous). */
export const maxBuildTimeAheadMs = 24 * 3_600_000

/** An ISO 8601 time, normalised to UTC (`2026-11-26T06:00:00.000Z`). */
export const utcTime: Validator<string> = (raw, label) =>
  new Date(Date.parse(isoTime(raw, label))).toISOString()

/** One of `allowed`. */
export function choice<T extends string>(allowed: readonly T[]): Validator<T> {
  return (raw, label) => {
    if (!(allowed as readonly string[]).includes(raw))
      throw new InputError(
        `${label} must be ${allowed.length === 2 ? allowed.join(' or ') : `one of ${allowed.join(', ')}`}, got ${quoteValue(raw)}`
      )
    return raw as T
  }
}

/** An http(s) URL. */
export const httpUrl: Validator<string> = (raw, label) => {
  if (raw.length > 2048 || !/^https?:\/\/[^\s/]+[^\s]*$/.test(raw))
    throw new InputError(`${label} must be an http(s) URL`)
  return raw
}

/** Items split by `separator`, trimmed, blanks dropped; bounded in count and length. */
export function items(separator: RegExp): Validator<string[]> {
  return (raw, label) => {
    const out = raw
      .split(separator)
      .map((s) => s.trim())
      .filter((s) => s !== '')
    if (out.length > inputLimits.maxItems)
      throw new InputError(
        `${label} lists ${out.length} items; at most ${inputLimits.maxItems} are accepted`
      )
    const long = out.find((item) => item.length > inputLimits.maxItemChars)
    if (long !== undefined)
      throw new InputError(
        `${label} has an item of ${long.length} characters; at most ${inputLimits.maxItemChars} are accepted`
      )
    return out
  }
}

/** A list: one item per line or comma-separated. */
export const list = items(/[\n,]/)
/** One item per line (an item may hold commas). */
export const lines = items(/\n/)
