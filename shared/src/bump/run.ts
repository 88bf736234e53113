import { defaultBackoff, backoffDelay, type BackoffPolicy } from '../retry/backoff.js'
import { lineDiff } from './diff.js'
import { filesToRead, needsListing, planBump, type BumpRequest, type FileChange } from './plan.js'
import { checkBumpRequest } from './validate.js'
import { plural } from '../text/plural.js'

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
  | {
      readonly kind: 'conflict'
      readonly reason: string
      /** The commit that was sent (a retried request may have applied it after all). */
      readonly commit?: string
    }
  | {
      /**
       * The server failed or the connection dropped (HTTP 5xx, reset): worth another attempt,
       * but the push may have landed before the connection failed, so the next read checks
       * whether the branch is at `commit`.
       */
      readonly kind: 'failed'
      readonly reason: string
      readonly commit?: string
    }

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

/**
 * The retry loop ran out of attempts: the branch kept moving, or the server kept failing. Every
 * attempt was a compare-and-swap, so nothing was written (a push whose reply was lost is
 * checked on a last read before this is thrown).
 */
export class BumpConflictError extends Error {
  constructor(
    readonly attempts: number,
    readonly lastReason: string,
    target: string,
    /** Attempts whose push failed on the server or the network rather than losing a race. */
    readonly serverFailures = 0
  ) {
    super(
      serverFailures === 0
        ? `${target}: gave up after ${plural(attempts, 'attempt')}; the branch moved every time (${lastReason}). Raise max-attempts or retry the job.`
        : `${target}: gave up after ${plural(attempts, 'attempt')}; ${attempts - serverFailures} lost a race and ${serverFailures} failed on the server (last: ${lastReason}). Nothing was written. Raise max-attempts or retry the job.`
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
  // Every name that becomes a path, and every provenance field, is checked before the first read.
  checkBumpRequest(request)
  let lastReason = ''
  let serverFailures = 0
  // Plans whose push did not hear "written", by the commit sent: a push whose reply was lost
  // (a reset after the server applied it, or a request the HTTP client replayed) may have landed.
  const sent = new Map<string, Omit<BumpResult, 'outcome'>>()
  const planOn = async (snapshot: RepoSnapshot, attempt: number) => {
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
    return { plan, base }
  }
  /** A push whose reply was lost may have landed: the branch head then is that commit. */
  const landedEarlier = (head: string): BumpResult | undefined => {
    const lost = sent.get(head)
    if (!lost) return undefined
    log(`the push of ${head.slice(0, 7)} landed although its reply was lost`)
    return { ...lost, outcome: 'committed', commit: head }
  }
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    const began = Date.now()
    const snapshot = await target.open()
    const landed = landedEarlier(snapshot.head)
    if (landed) return landed
    const { plan, base } = await planOn(snapshot, attempt)
    if (plan.outcome !== 'changed') return { ...base, outcome: plan.outcome }
    if (options.dryRun) return { ...base, outcome: 'dry-run' }
    const written = await snapshot.write(plan.changes, plan.message)
    if (written.kind === 'written') return { ...base, outcome: 'committed', commit: written.commit }
    lastReason = written.reason
    if (written.commit) sent.set(written.commit, base)
    if (written.kind === 'failed') serverFailures++
    if (attempt < maxAttempts) {
      const wait = backoffDelay(attempt, policy, random, Date.now() - began)
      log(
        written.kind === 'failed'
          ? `attempt ${attempt} failed on the server (${written.reason}); re-reading the branch in ${wait} ms`
          : `attempt ${attempt} lost a race (${written.reason}); re-reading the branch in ${wait} ms`
      )
      await sleep(wait)
    }
  }
  // The last push's reply may have been lost: one more read (no write) tells whether it landed,
  // so a failure is only reported when the branch does not record this bump.
  if (sent.size > 0) {
    const snapshot = await target.open()
    const landed = landedEarlier(snapshot.head)
    if (landed) return landed
    const { plan, base } = await planOn(snapshot, maxAttempts)
    if (plan.outcome !== 'changed') return { ...base, outcome: plan.outcome }
  }
  throw new BumpConflictError(maxAttempts, lastReason, target.description, serverFailures)
}
