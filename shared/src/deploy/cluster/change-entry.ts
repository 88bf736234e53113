/**
 * Change entries whose diff is rendered when something first reads it.
 *
 * A created object's diff is the whole object written as YAML, and only the step summary (and
 * `--summary`) shows it. Rendering it eagerly for every object of a first deploy was the
 * engine's largest own cost in a fresh `kit deploy` process: about 180 ms of CPU for 303
 * objects, in a run whose output never reads one of them.
 *
 * The diff stays an ordinary enumerable property to every reader (a spread, JSON.stringify and
 * test matchers all see the string); only its first read does the work, and later reads reuse it.
 */
import type { ChangeEntry } from './types.js'

/** `entry` with a `diff` that `render` writes on its first read. */
export function withDiffWhenRead(
  entry: Omit<ChangeEntry, 'diff'>,
  render: () => string
): ChangeEntry {
  return defineDiffWhenRead({ ...entry }, render) as unknown as ChangeEntry
}

/**
 * `entry` with `text` applied to its diff and its message, keys in the same order. A diff not
 * rendered yet stays unrendered: `text` runs on it when it is first read.
 */
export function mapEntryText(entry: ChangeEntry, text: (s: string) => string): ChangeEntry {
  const out: Record<string, unknown> = {}
  for (const key of Object.keys(entry)) {
    const read = key === 'diff' ? Object.getOwnPropertyDescriptor(entry, key)?.get : undefined
    if (read) {
      defineDiffWhenRead(out, () => text(read.call(entry) as string))
      continue
    }
    const value = entry[key as keyof ChangeEntry]
    out[key] =
      (key === 'diff' || key === 'message') && typeof value === 'string' ? text(value) : value
  }
  return out as unknown as ChangeEntry
}

/** Adds an enumerable `diff` to `target` that `render` writes once, on its first read. */
function defineDiffWhenRead(target: object, render: () => string): object {
  let diff: string | undefined
  return Object.defineProperty(target, 'diff', {
    enumerable: true,
    get: () => (diff ??= render())
  })
}
