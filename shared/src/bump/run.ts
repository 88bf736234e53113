import { defaultBackoff, backoffDelay, type BackoffPolicy } from './backoff.js'
import { lineDiff } from './diff.js'
import { filesToRead, needsListing, planBump, type BumpRequest, type FileChange } from './plan.js'

/**
 * One read of the target branch at a fixed commit. A transport (git over HTTPS, the GitHub
 * API, a local directory) implements it; the retry loop below is the same for all of them.
 */
export interface RepoSnapshot {
  /** The commit the snapshot was read at (the compare-and-swap's expected old value). */
  readonly head: string
  /** Contents of `paths` at `head`; undefined for a missing file. */
  read(paths: readonly string[]): Promise<Map<string, string | undefined>>
  /** Every file path at `head` (only fetched when a manifests glob needs it). */
  list(): Promise<string[]>
  /**
   * Commits `changes` on top of `head` and moves the branch there only if it still points at
   * `head`. A branch that moved meanwhile is a `conflict`, never an overwrite.
   */
  write(changes: readonly FileChange[], message: string): Promise<WriteOutcome>
}

export type WriteOutcome =
  | { readonly kind: 'written'; readonly commit: string }
  | { readonly kind: 'conflict'; readonly reason: string }

/** A branch of a repository, reachable through some transport. */
export interface RepoTarget {
  /** e.g. `acme/manifests@main over git`, for messages. */
  readonly description: string
  /** Reads the branch's current head (fetching it again on every call). */
  open(): Promise<RepoSnapshot>
}

export interface RunBumpOptions {
  /** Attempts in all, the first included; at least 1. */
  readonly maxAttempts: number
  readonly dryRun: boolean
  readonly backoff?: BackoffPolicy
  readonly sleep?: (ms: number) => Promise<void>
  readonly random?: () => number
  readonly log?: (line: string) => void
}

export interface BumpResult {
  /** committed; unchanged (nothing to do); older (a newer build is recorded); dry-run. */
  readonly outcome: 'committed' | 'unchanged' | 'older' | 'dry-run'
  readonly commit?: string
  /** The commit the plan was made against. */
  readonly base?: string
  readonly files: readonly string[]
  readonly changes: readonly FileChange[]
  readonly message: string
  readonly notes: readonly string[]
  /** Attempts made (1 when the first write landed). */
  readonly attempts: number
  /** The changed lines of every file, for logs and dry runs. */
  readonly diff: string
}

/** The retry loop ran out of attempts while the branch kept moving. */
export class BumpConflictError extends Error {
  constructor(
    readonly attempts: number,
    readonly lastReason: string,
    target: string
  ) {
    super(
      `${target}: gave up after ${attempts} attempt(s); the branch moved every time (${lastReason}). Raise max-attempts or retry the job.`
    )
    this.name = 'BumpConflictError'
  }
}

/**
 * Plans and writes a bump with optimistic concurrency: read the head, plan the edit on it,
 * write with compare-and-swap; when another pipeline won the race, read the new head and plan
 * again from scratch (so a newer build recorded meanwhile is seen, and never downgraded), after
 * a jittered exponential wait. Bounded by `maxAttempts`, with a clear error when exhausted.
 */
export async function runBump(
  target: RepoTarget,
  request: BumpRequest,
  options: RunBumpOptions
): Promise<BumpResult> {
  const sleep = options.sleep ?? ((ms) => new Promise<void>((r) => setTimeout(r, ms)))
  const random = options.random ?? Math.random
  const log = options.log ?? (() => undefined)
  const policy = options.backoff ?? defaultBackoff
  const maxAttempts = Math.max(1, options.maxAttempts)
  let lastReason = ''
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    const began = Date.now()
    const snapshot = await target.open()
    const listing = needsListing(request) ? await snapshot.list() : undefined
    const files = await snapshot.read(filesToRead(request, listing))
    const plan = planBump(files, request, listing)
    const base = {
      base: snapshot.head,
      changes: plan.changes,
      files: plan.changes.map((c) => c.path),
      message: plan.message,
      notes: plan.notes,
      attempts: attempt,
      diff: plan.changes.map((c) => lineDiff(c.path, c.before, c.after)).join('\n')
    }
    if (plan.outcome !== 'changed') return { ...base, outcome: plan.outcome }
    if (options.dryRun) return { ...base, outcome: 'dry-run' }
    const written = await snapshot.write(plan.changes, plan.message)
    if (written.kind === 'written') return { ...base, outcome: 'committed', commit: written.commit }
    lastReason = written.reason
    if (attempt < maxAttempts) {
      const wait = backoffDelay(attempt, policy, random, Date.now() - began)
      log(`attempt ${attempt} lost a race (${written.reason}); re-reading the branch in ${wait} ms`)
      await sleep(wait)
    }
  }
  throw new BumpConflictError(maxAttempts, lastReason, target.description)
}
