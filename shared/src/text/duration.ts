/**
 * Durations as people write them in workflow inputs and CLI flags: `90s`, `10m`, `1h30m`,
 * `500ms` or a bare number of seconds. Pure text parsing, shared by the actions' input readers
 * (shared/src/action/inputs.ts) and the CLI, so neither drags in the other's runtime.
 */

/**
 * The longest duration an input may give: a week. Anything longer is a typo, and past 2^31 ms
 * (about 24.8 days) Node's timers fire at once instead of waiting, so `999999999h` would turn
 * a time limit into an immediate timeout.
 */
export const maxDurationMs = 7 * 24 * 3_600_000

/** Parses `1h30m`, `90s`, `500ms`, `10m` or bare seconds into milliseconds; undefined when malformed. */
export function parseDuration(raw: string): number | undefined {
  const s = raw.trim()
  if (/^\d+$/.test(s)) return Number(s) * 1000
  const re = /(\d+)(ms|h|m|s)/g
  let total = 0
  let consumed = 0
  for (const m of s.matchAll(re)) {
    if (m.index !== consumed) return undefined
    consumed += m[0].length
    const n = Number(m[1])
    total += m[2] === 'h' ? n * 3_600_000 : m[2] === 'm' ? n * 60_000 : m[2] === 's' ? n * 1000 : n
  }
  return consumed === s.length && s.length > 0 ? total : undefined
}
