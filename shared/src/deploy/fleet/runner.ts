/**
 * The fleet runner: deploys clusters wave by wave with a concurrency limit, gives each
 * cluster a deadline, and turns every outcome (including thrown errors) into one report row.
 * Pure orchestration: the per-cluster work is injected, so tests drive it with fakes.
 */
import { mapLimit } from '../../data/map-limit.js'
import type { Redactor } from '../../secrets/redact.js'
import type { ClusterResult } from '../cluster/types.js'
import { countChanged, isSuccess, type FleetReport, type FleetRow, type Wave } from './types.js'

export interface FleetRunOptions {
  readonly waves: readonly Wave[]
  /** At most this many clusters deploy at once (within a wave). */
  readonly concurrency: number
  /**
   * Hard deadline per cluster, from its start: the signal given to `deployOne` aborts then.
   * The engine keeps its own apply+wait timeout; this is the backstop around the whole
   * cluster pipeline (lock wait, deploy, rollback, prune).
   */
  readonly clusterDeadlineMs: number
  /** After aborting, how long to let `deployOne` finish cleaning up before reporting it failed. */
  readonly abortGraceMs?: number
  /** Deploys one cluster. A throw becomes a failed row with the error's message. */
  deployOne(cluster: string, signal: AbortSignal): Promise<ClusterResult>
  /** Rows decided before any deploy (e.g. a cluster with manifests but no credentials). */
  readonly preReported?: readonly FleetRow[]
  readonly dryRun: boolean
  readonly redactor: Redactor
  /** Aborts clusters that have not started yet and signals running ones (runner cancellation). */
  readonly cancel?: AbortSignal
  onClusterStart?(cluster: string, wave: Wave): void | Promise<void>
  onClusterDone?(row: FleetRow): void | Promise<void>
  readonly now?: () => number
}

/** Converts an engine result into a report row (pure). */
export function rowFromResult(result: ClusterResult, wave?: string): FleetRow {
  return {
    cluster: result.cluster,
    outcome: result.outcome,
    objectsChanged: countChanged(result.changes),
    durationMs: result.durationMs,
    reason: result.reason,
    failures: result.failures,
    changes: result.changes,
    wave,
    ...(result.degraded ? { degraded: result.degraded } : {})
  }
}

/**
 * Runs every wave in order. Within a wave every cluster runs, whatever happens to the
 * others (one unreachable cluster never stops its wave); after a wave with any unsuccessful
 * cluster, the later waves are reported as skipped, untouched.
 */
export async function runFleet(options: FleetRunOptions): Promise<FleetReport> {
  const now = options.now ?? Date.now
  const started = now()
  const rows: FleetRow[] = [...(options.preReported ?? [])]
  let stopReason: string | undefined
  for (const wave of options.waves) {
    if (stopReason !== undefined || options.cancel?.aborted) {
      const reason = stopReason ?? 'the run was cancelled before this cluster started'
      for (const cluster of wave.clusters) {
        const row: FleetRow = {
          cluster,
          outcome: 'skipped',
          objectsChanged: 0,
          durationMs: 0,
          reason,
          failures: [],
          changes: [],
          wave: wave.name
        }
        rows.push(row)
        await options.onClusterDone?.(row)
      }
      continue
    }
    const waveRows = await mapLimit(wave.clusters, Math.max(1, options.concurrency), (cluster) =>
      runOne(cluster, wave, options, now)
    )
    rows.push(...waveRows)
    const bad = waveRows.filter((r) => !isSuccess(r.outcome)).map((r) => r.cluster)
    if (bad.length > 0 && !options.dryRun) {
      stopReason = `not started: wave ${wave.name} did not succeed (${bad.join(', ')})`
    }
  }
  const result = rows.length > 0 && rows.every((r) => isSuccess(r.outcome)) ? 'success' : 'failure'
  return { result, dryRun: options.dryRun, rows, durationMs: now() - started }
}

async function runOne(
  cluster: string,
  wave: Wave,
  options: FleetRunOptions,
  now: () => number
): Promise<FleetRow> {
  const started = now()
  const controller = new AbortController()
  const onCancel = (): void => controller.abort(new Error('the run was cancelled'))
  options.cancel?.addEventListener('abort', onCancel, { once: true })
  const deadline = setTimeout(
    () =>
      controller.abort(
        new Error(`cluster deadline of ${Math.round(options.clusterDeadlineMs / 1000)}s passed`)
      ),
    options.clusterDeadlineMs
  )
  let row: FleetRow
  try {
    await options.onClusterStart?.(cluster, wave)
    const result = await settleOrGiveUp(
      options.deployOne(cluster, controller.signal),
      controller.signal,
      options.abortGraceMs ?? 30_000
    )
    row = rowFromResult(
      { ...result, reason: result.reason && options.redactor.scrub(result.reason) },
      wave.name
    )
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err)
    row = {
      cluster,
      outcome: 'failed',
      objectsChanged: 0,
      durationMs: now() - started,
      reason: options.redactor.scrub(firstLine(message)),
      failures: [],
      changes: [],
      wave: wave.name
    }
  } finally {
    clearTimeout(deadline)
    options.cancel?.removeEventListener('abort', onCancel)
  }
  await options.onClusterDone?.(row)
  return row
}

/**
 * Resolves with the work's result; once the signal aborts, the work gets `graceMs` to settle
 * (roll back, release its lock) before this rejects with the abort reason, so a hung cluster
 * cannot hold the whole run.
 */
function settleOrGiveUp<T>(work: Promise<T>, signal: AbortSignal, graceMs: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let timer: ReturnType<typeof setTimeout> | undefined
    const onAbort = (): void => {
      timer = setTimeout(() => {
        const reason: unknown = signal.reason
        reject(reason instanceof Error ? reason : new Error('aborted'))
      }, graceMs)
    }
    if (signal.aborted) onAbort()
    else signal.addEventListener('abort', onAbort, { once: true })
    work.then(
      (v) => {
        if (timer) clearTimeout(timer)
        signal.removeEventListener('abort', onAbort)
        resolve(v)
      },
      (e: unknown) => {
        if (timer) clearTimeout(timer)
        signal.removeEventListener('abort', onAbort)
        reject(e instanceof Error ? e : new Error(String(e)))
      }
    )
  })
}

/** The first line, at most 600 characters: long enough for a failure and what to check. */
function firstLine(s: string): string {
  const line = s.split('\n')[0]
  return line.length > 600 ? `${line.slice(0, 597)}...` : line
}
