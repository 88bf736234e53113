import { defaultBackoff, backoffDelay, type BackoffPolicy } from '../retry/backoff.js'
import { formatWait, timeLeft, type Deadline } from '../retry/deadline.js'
import { lineDiff } from './diff.js'
import {
  filesToRead,
  needsListing,
  planBump,
  type BumpPlan,
  type BumpRequest,
  type FileChange
} from './plan.js'
import { templateCopiesLikelyChanged, templateCopiesToRead } from './templates.js'
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
  /**
   * Every file path at `head` (fetched when a manifests glob or a check needs it). A transport
   * lists at most once per snapshot.
   */
  list(): Promise<string[]>
  /**
   * Every file's git blob id at `head`, where the transport has them with its listing (git's
   * tree, the GitHub tree endpoint): a bump carrying templates uses them to read the copies
   * that differ from the bundle together with its other files, instead of one read later.
   */
  blobIds?(): Promise<ReadonlyMap<string, string>>
  /**
   * Commits `changes` on top of `head` and moves the branch there only if it still points at
   * `head`. A branch that moved meanwhile is a `conflict`, never an overwrite.
   */
  write(changes: readonly FileChange[], message: string): Promise<WriteOutcome>
  /**
   * Which of `pushed` (pushes this run could not confirm) the branch's history at `head`
   * holds, if any: a push whose reply was lost that landed before other commits went on top.
   * Without it only a branch still at the pushed commit is recognised.
   */
  findLanded?(pushed: readonly SentCommit[]): Promise<string | undefined>
}

/** A commit a push sent, and the head it was made on. */
export interface SentCommit {
  readonly commit: string
  readonly parent: string
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
       * The server failed or the connection dropped (HTTP 5xx, reset, timeout): worth another
       * attempt, but the push may have landed before the connection failed, so the next read
       * checks whether the branch holds `commit`.
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

/**
 * A read from the remote failed on the network or the server (a timeout, a reset, HTTP 5xx):
 * the bump loop retries it within its budget like a failed push. Transports throw it; anything
 * else a read throws (authentication, a missing branch) ends the run.
 */
export class RemoteUnavailableError extends Error {
  constructor(
    message: string,
    /** Short, for the retry's progress line: `timed out`, `HTTP 503 from the server`. */
    readonly reason: string
  ) {
    super(message)
    this.name = 'RemoteUnavailableError'
  }
}

export interface RunBumpOptions {
  /**
   * Attempts in all, the first included. Unset: no count limit, `deadline` bounds the loop
   * (with neither, one attempt).
   */
  readonly maxAttempts?: number
  /** The run's time budget: no retry starts whose wait and attempt would end after it. */
  readonly deadline?: Deadline
  readonly dryRun: boolean
  readonly backoff?: BackoffPolicy
  readonly sleep?: (ms: number) => Promise<void>
  readonly random?: () => number
  readonly log?: (line: string) => void
  /**
   * Runs on every attempt whose plan is `changed`, on the snapshot it was planned on, before
   * the write (and in a dry run): a throw ends the run with nothing written. A
   * RemoteUnavailableError from it is retried like a failed read.
   */
  readonly check?: (snapshot: RepoSnapshot, plan: BumpPlan) => Promise<void>
  /**
   * The files `check` will read, given the snapshot's listing: they are read with the plan's
   * own files, in one request, and the check's reads of them are answered from that read.
   */
  readonly checkReads?: (listing: readonly string[]) => readonly string[]
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

/** What ended a retry loop without a result. */
export interface GiveUp {
  readonly attempts: number
  readonly lastReason: string
  /** Attempts whose push or read failed on the server or the network rather than losing a race. */
  readonly serverFailures: number
  /** The limit reached: the attempt count, or the time budget (with its length and the time used). */
  readonly limit: { kind: 'attempts' } | { kind: 'time'; budgetMs: number; usedMs: number }
  /** Pushes whose reply was lost and that the last read could not check (no time left). */
  readonly unchecked?: readonly string[]
}

/**
 * The retry loop ran out of attempts or time: the branch kept moving, or the server kept
 * failing. Every attempt was a compare-and-swap, so nothing was written (a push whose reply was
 * lost is checked on a last read before this is thrown).
 */
export class BumpConflictError extends Error {
  readonly attempts: number
  readonly lastReason: string
  readonly serverFailures: number

  constructor(target: string, giveUp: GiveUp) {
    const { attempts, lastReason, serverFailures, limit } = giveUp
    const tried =
      limit.kind === 'time'
        ? `gave up after ${plural(attempts, 'attempt')} in ${formatWait(limit.usedMs)} (the time limit is ${formatWait(limit.budgetMs)})`
        : `gave up after ${plural(attempts, 'attempt')}`
    const raise = limit.kind === 'time' ? 'Raise timeout' : 'Raise max-attempts'
    const unchecked = giveUp.unchecked ?? []
    // Honest about a push that may have landed: its reply was lost, and no read could check it.
    const written =
      unchecked.length === 0
        ? 'Nothing was written.'
        : `The push of ${unchecked.map((c) => c.slice(0, 7)).join(', ')} may have landed (its reply was lost and there was no time left to check): look at the branch before retrying.`
    super(
      serverFailures === 0
        ? `${target}: ${tried}; the branch moved every time (${lastReason}). ${raise} or retry the job.`
        : `${target}: ${tried}; ${attempts - serverFailures} lost a race and ${serverFailures} failed on the server (last: ${lastReason}). ${written} ${raise} or retry the job.`
    )
    this.name = 'BumpConflictError'
    this.attempts = attempts
    this.lastReason = lastReason
    this.serverFailures = serverFailures
  }
}

/** How an attempt ended without a result: it lost a race or failed on the server, and why. */
interface Miss {
  readonly kind: 'conflict' | 'failed'
  readonly reason: string
}

/**
 * Plans and writes a bump with optimistic concurrency: read the head, plan the edit on it,
 * write with compare-and-swap; when another pipeline won the race, read the new head and plan
 * again from scratch (so a newer build recorded meanwhile is seen, and never downgraded), after
 * a jittered exponential wait. Bounded by `maxAttempts` and by `deadline`, with a clear error
 * when exhausted.
 *
 * A push whose reply was lost may have landed. Such pushes are remembered, and every later read
 * asks whether the branch holds one of them (its head, or with `findLanded` its history): then
 * the bump is that commit, reported as committed with its SHA, never pushed again. Another
 * run's commit recording the same image is not ours: that bump is `unchanged`.
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
  const { deadline } = options
  const maxAttempts = Math.max(
    1,
    options.maxAttempts ?? (deadline === undefined ? 1 : Number.POSITIVE_INFINITY)
  )
  const started = deadline?.now() ?? Date.now()
  // Every name that becomes a path, and every provenance field, is checked before the first read.
  checkBumpRequest(request)
  const attempt = attemptRunner(target, request, options, log)
  let lastReason: string | undefined
  let serverFailures = 0
  let n = 1
  for (; ; n++) {
    const began = Date.now()
    const outcome = await attempt(n)
    if (!('kind' in outcome)) return outcome
    lastReason = outcome.reason
    if (outcome.kind === 'failed') serverFailures++
    const attemptMs = Date.now() - began
    const wait = backoffDelay(n, policy, random, attemptMs)
    const how =
      outcome.kind === 'failed'
        ? `attempt ${n} failed on the server (${outcome.reason})`
        : `attempt ${n} lost a race (${outcome.reason})`
    const left = deadline ? ` (${formatWait(timeLeft(deadline))} left)` : ''
    // Room for the wait and one more attempt like this one; the last read gets what is left.
    if (n >= maxAttempts || wait + attemptMs > timeLeft(deadline)) {
      log(
        `${how}; ${n >= maxAttempts ? `that was the last of ${maxAttempts}` : 'no time for another'}: one last read of the branch${left}`
      )
      break
    }
    log(`${how}; re-reading the branch in ${formatWait(wait)}${left}`)
    await sleep(wait)
  }
  // The last push's reply may have been lost: one more read (no write) tells whether it landed,
  // so a failure is only reported when the branch does not record this bump.
  const last = await attempt(n, { lastLook: true })
  if (!('kind' in last)) return last
  const limit =
    n >= maxAttempts
      ? { kind: 'attempts' as const }
      : {
          kind: 'time' as const,
          budgetMs: deadline?.budgetMs ?? 0,
          usedMs: (deadline?.now() ?? Date.now()) - started
        }
  throw new BumpConflictError(target.description, {
    attempts: n,
    lastReason: lastReason ?? '',
    serverFailures,
    limit,
    unchecked: attempt.unchecked()
  })
}

/** One attempt of the loop, and the pushes it could not check when its last read failed. */
interface AttemptRunner {
  (n: number, opts?: { lastLook: boolean }): Promise<BumpResult | Miss>
  unchecked(): string[]
}

/**
 * One attempt of the loop, as a function of its number: read, recognise a landed push, plan,
 * check, write. `lastLook` reads and recognises only (the last look before giving up): it
 * never writes.
 */
function attemptRunner(
  target: RepoTarget,
  request: BumpRequest,
  options: RunBumpOptions,
  log: (line: string) => void
): AttemptRunner {
  // Pushes that did not hear "written", by the commit sent, with the plan they carried.
  const sent = new Map<string, { parent: string; result: Omit<BumpResult, 'outcome'> }>()
  // The last read failed (the network, the server, the time limit): `sent` is not checked.
  let readFailed = false
  const planOn = async (snapshot: RepoSnapshot, attempt: number) => {
    const { checkReads } = options
    const listing = needsListing(request) || checkReads ? await snapshot.list() : undefined
    // One read for what the plan, the copies that likely changed and the check need.
    const blobIds = request.templates && snapshot.blobIds ? await snapshot.blobIds() : undefined
    const files = await snapshot.read([
      ...new Set([
        ...filesToRead(request, needsListing(request) ? listing : undefined),
        ...(blobIds ? templateCopiesLikelyChanged(request, blobIds) : []),
        ...(listing && checkReads ? checkReads(listing) : [])
      ])
    ])
    // Templates: the record (read above) says which copies the plan needs; any not read yet
    // are read at the same head.
    const copies = templateCopiesToRead(request, files).filter((p) => !files.has(p))
    if (copies.length > 0) for (const [p, text] of await snapshot.read(copies)) files.set(p, text)
    const plan = planBump(files, request, needsListing(request) ? listing : undefined)
    const base = {
      base: snapshot.head,
      changes: plan.changes,
      files: plan.changes.map((c) => c.path),
      message: plan.message,
      notes: plan.notes,
      attempts: attempt,
      diff: plan.changes.map((c) => lineDiff(c.path, c.before, c.after)).join('\n')
    }
    return { plan, base, files }
  }
  const run = async (n: number, opts?: { lastLook: boolean }): Promise<BumpResult | Miss> => {
    let snapshot: RepoSnapshot
    try {
      readFailed = true
      snapshot = await target.open()
      const landed = await landedPush(snapshot, sent, log)
      readFailed = false
      if (landed) {
        log(`the push of ${landed.slice(0, 7)} landed although its reply was lost`)
        const lost = sent.get(landed)?.result
        if (lost) return { ...lost, outcome: 'committed', commit: landed }
      }
      const { plan, base, files } = await planOn(snapshot, n)
      if (plan.outcome !== 'changed') return { ...base, outcome: plan.outcome }
      if (opts?.lastLook && !options.dryRun) return { kind: 'failed', reason: 'not written' }
      if (options.check) await options.check(readThrough(snapshot, files), plan)
      if (options.dryRun) return { ...base, outcome: 'dry-run' }
      const written = await snapshot.write(plan.changes, plan.message)
      if (written.kind === 'written')
        return { ...base, outcome: 'committed', commit: written.commit }
      // The transport names the commit when the push may have landed after all.
      if (written.commit) sent.set(written.commit, { parent: snapshot.head, result: base })
      return { kind: written.kind, reason: written.reason }
    } catch (e) {
      if (e instanceof RemoteUnavailableError) return { kind: 'failed', reason: e.reason }
      throw e
    }
  }
  return Object.assign(run, { unchecked: () => (readFailed ? [...sent.keys()] : []) })
}

/**
 * The snapshot as a check sees it: files the attempt has read already come from that read
 * (the same head, so the same contents); anything else is read from the snapshot.
 */
function readThrough(
  snapshot: RepoSnapshot,
  files: ReadonlyMap<string, string | undefined>
): RepoSnapshot {
  return {
    head: snapshot.head,
    list: () => snapshot.list(),
    write: (changes, message) => snapshot.write(changes, message),
    read: async (paths) => {
      const rest = paths.filter((p) => !files.has(p))
      const fresh = rest.length > 0 ? await snapshot.read(rest) : new Map<string, string>()
      return new Map(paths.map((p) => [p, files.has(p) ? files.get(p) : fresh.get(p)]))
    }
  }
}

/**
 * The unconfirmed push the branch holds, if any: at its head, or (asked of the transport) in its
 * history. A push whose parent is no longer the head and that the history does not hold can
 * never land (its compare-and-swap expects that parent), so it is forgotten.
 */
async function landedPush(
  snapshot: RepoSnapshot,
  sent: Map<string, { parent: string }>,
  log: (line: string) => void
): Promise<string | undefined> {
  if (sent.has(snapshot.head)) return snapshot.head
  const pending = [...sent].filter(([, s]) => s.parent !== snapshot.head)
  if (pending.length === 0 || !snapshot.findLanded) return undefined
  const found = await snapshot.findLanded(
    pending.map(([commit, s]) => ({ commit, parent: s.parent }))
  )
  if (found) return found
  for (const [commit] of pending) sent.delete(commit)
  log(
    `the push of ${pending.map(([c]) => c.slice(0, 7)).join(', ')} did not land (the branch is at ${snapshot.head.slice(0, 7)} without it)`
  )
  return undefined
}
