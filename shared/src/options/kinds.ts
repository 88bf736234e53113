/** Builders for table entries: the type, its validator and its default in one call. */
import type { CliForm, OptionDraft } from './table.js'
import * as v from './validate.js'

interface Common {
  readonly doc: string
  readonly cli?: CliForm | false
  readonly action?: boolean
  readonly required?: boolean
  readonly defaultText?: string
  readonly cliNote?: string
}

/** Free text; `fallback` when unset (undefined for "not given"). */
export function textOption<T extends string | undefined = string>(
  fallback: T,
  c: Common & { maxChars?: number; parse?: v.Validator<string> }
): OptionDraft<string | T> {
  return { ...c, type: 'text', default: fallback, parse: c.parse ?? v.text }
}

/** A whole document (a kubeconfig): no length limit. */
export function documentOption(c: Common): OptionDraft<string> {
  return { ...c, type: 'document', default: '', parse: v.text, maxChars: Infinity }
}

export function booleanOption(fallback: boolean, c: Common): OptionDraft<boolean> {
  return { ...c, type: 'boolean', default: fallback, parse: v.boolean }
}

export function integerOption(
  fallback: number,
  range: { min?: number; max?: number },
  c: Common
): OptionDraft<number> {
  return { ...c, type: 'integer', default: fallback, parse: v.integer(range.min, range.max) }
}

/** A duration in milliseconds. */
export function durationOption(fallbackMs: number, c: Common): OptionDraft<number> {
  return { ...c, type: 'duration', default: fallbackMs, parse: v.duration() }
}

export function choiceOption<T extends string>(
  allowed: readonly T[],
  fallback: T,
  c: Common
): OptionDraft<T> {
  return { ...c, type: 'choice', default: fallback, parse: v.choice(allowed) }
}

/** Items, one per line or comma-separated (`lines`: one per line). */
export function listOption(
  c: Common & { lines?: boolean; separator?: RegExp }
): OptionDraft<string[]> {
  return {
    ...c,
    type: c.lines ? 'lines' : 'list',
    default: [],
    // Bounded per item and in count (the validator), not as one text.
    maxChars: Infinity,
    parse: c.separator ? v.items(c.separator) : c.lines ? v.lines : v.list
  }
}

/** An ISO 8601 time (`parse` may normalise it or bound it). */
export function timeOption(
  c: Common & { parse?: v.Validator<string> }
): OptionDraft<string | undefined> {
  return { ...c, type: 'time', default: undefined, parse: c.parse ?? v.isoTime }
}

export function urlOption(c: Common): OptionDraft<string | undefined> {
  return { ...c, type: 'url', default: undefined, parse: v.httpUrl }
}
