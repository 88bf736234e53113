import type { Provenance } from '../images/image-file.js'

/*
 * Which of two builds is newer: the one rule both the image file and the templates record are
 * held to, so an older build can replace neither.
 */

/**
 * True when the recorded build is newer than the incoming one. Only builds of the same source
 * repository are compared (a file re-pointed to another source is not a downgrade). The source
 * commit times are compared when both are known and differ, otherwise the build times. Equal or
 * missing times cannot be ordered — service commit ancestry is not available from the manifests
 * repository — so the incoming bump wins (documented).
 */
export function newerRecorded(recorded: Provenance, incoming: Provenance): boolean {
  if (recorded.repository && incoming.repository && recorded.repository !== incoming.repository)
    return false
  const committed = compareTimes(recorded.committedAt, incoming.committedAt)
  if (committed !== 0) return committed > 0
  return compareTimes(recorded.builtAt, incoming.builtAt) > 0
}

/** Sign of a − b for two ISO times; 0 when equal or either is missing or unreadable. */
function compareTimes(a: string | undefined, b: string | undefined): number {
  const x = Date.parse(a ?? '')
  const y = Date.parse(b ?? '')
  if (Number.isNaN(x) || Number.isNaN(y)) return 0
  return Math.sign(x - y)
}

/** `committed <time>, built <time>`, for notes about a refused downgrade. */
export function describeTime(p: Provenance): string {
  return [p.committedAt && `committed ${p.committedAt}`, p.builtAt && `built ${p.builtAt}`]
    .filter(Boolean)
    .join(', ')
}
