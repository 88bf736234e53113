// The reliability suite writes down what it observed, case by case, and docs/reliability.md is
// generated from a full run's records by `npm run reliability:report` (scripts/reliability.mjs):
// the figures in that document are the suite's own, never typed by hand.
import { appendFileSync, mkdirSync } from 'node:fs'
import { dirname, join } from 'node:path'

/** The sections of docs/reliability.md, in the order they appear. */
export type ReliabilitySection = 'faults' | 'bad-input' | 'secrets' | 'properties' | 'load'

/** One observed case. `ok` is what the test asserted; a record is written before the assertion. */
export interface ReliabilityRecord {
  readonly section: ReliabilitySection
  /** Short name of the case, e.g. "kube-apiserver killed mid-apply". */
  readonly name: string
  /** Where the case applies: an action, the CLI, a core module. */
  readonly target?: string
  /** What the product did, in a sentence (e.g. the first line of the error it printed). */
  readonly observed: string
  readonly ok: boolean
  /** Measured figures (milliseconds, MiB, counts) worth a column in the report. */
  readonly figures?: Readonly<Record<string, number | string>>
}

/** Where records go: KIT_RELIABILITY_RESULTS, or .cache/reliability/results.jsonl. */
export function resultsPath(): string {
  return (
    process.env.KIT_RELIABILITY_RESULTS ??
    join(process.cwd(), '.cache', 'reliability', 'results.jsonl')
  )
}

/**
 * Appends one record (one JSON line; appends of a line are atomic enough for Jest's workers).
 * Observed text is cut to one line of 300 characters so a report row stays a row.
 */
export function record(entry: ReliabilityRecord): void {
  const path = resultsPath()
  mkdirSync(dirname(path), { recursive: true })
  const observed = entry.observed.split('\n')[0].slice(0, 300)
  appendFileSync(path, `${JSON.stringify({ ...entry, observed, at: new Date().toISOString() })}\n`)
}
