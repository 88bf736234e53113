/**
 * The per-cluster deploy engine, in phases, each its own module:
 *
 *   prepare (./prepare.ts)   defaults, scope and namespaces, run labels, applied hash
 *   apply   (./apply.ts)     stage by stage with server-side apply, writing only objects that
 *                            are not provably unchanged (./apply-object.ts)
 *   wait    (./wait.ts)      for health of what this run changed
 *   watch   (./watch.ts)     with a watch window, follow the changed workloads for it
 *   rollback (./rollback.ts) on failure, restore what ran before
 *
 * This file only orders them and turns how they end into the cluster's result. Every message
 * goes through the redactor (./run.ts). Only objects this run changed are waited for: an
 * unchanged object is not re-judged (an old problem is not this deploy's failure, and
 * "unchanged" must stay cheap). Jobs are waited for until Complete (Argo CD's choice; kstatus
 * does not wait). The health rules themselves are described in docs/health-rules.md.
 */
import { ClusterUnreachableError, type ClusterClient, type Manifest } from '../../k8s/types.js'
import { createClusterClient } from '../../k8s/client/client.js'
import { plural } from '../../text/plural.js'
import { applyStages, stagesOf } from './apply.js'
import { errorReason, waitTarget } from './apply-object.js'
import { autoscaledNotice, autoscaledWorkloads } from './autoscaled.js'
import { prepare, registerSecretValues, warnAboutProgressDeadlines } from './prepare.js'
import { rollBack } from './rollback.js'
import {
  countActions,
  finishRun,
  firstLine,
  startRun,
  stoppedByWait,
  waitWithinBudget,
  type EngineRun,
  type Stopped
} from './run.js'
import type { ClusterResult, ClusterTarget, DeployClusterOptions } from './types.js'
import { watchChanged } from './watch.js'

/** Deploys `manifests` to one cluster: apply in safe order, wait for health, roll back on failure. */
export async function deployCluster(
  target: ClusterTarget,
  manifests: Manifest[],
  options: DeployClusterOptions
): Promise<ClusterResult> {
  const client = createClusterClient(target.name, target.kubeConfig, {
    redactor: options.redactor,
    progress: (m) => options.log.info(options.redactor.scrub(`${target.name}: ${m}`)),
    onRetry: (what, attempt, delay, err) =>
      options.log.debug(
        options.redactor.scrub(
          `${target.name}: ${what} failed (${firstLine(err)}); retry ${attempt} in ${delay} ms`
        )
      )
  })
  try {
    return await deployWithClient(client, manifests, options)
  } finally {
    await client.close()
  }
}

/** The same engine over any ClusterClient (an in-memory fake in unit tests). */
export async function deployWithClient(
  client: ClusterClient,
  manifests: Manifest[],
  options: DeployClusterOptions
): Promise<ClusterResult> {
  const run = startRun(client, options)
  for (const m of manifests) registerSecretValues(m.object, options.redactor)
  if (manifests.length === 0) return finishRun(run, 'unchanged')

  let stopped: Stopped | undefined
  try {
    const prepared = await prepare(client, manifests, options)
    const autoscaled = autoscaledWorkloads(prepared.map((p) => p.desired))
    if (autoscaled.size > 0) run.log.info(`${run.label}: ${autoscaledNotice(autoscaled.values())}`)
    const stages = stagesOf(prepared)
    if (options.wait) warnAboutProgressDeadlines(prepared, options.timeoutMs, run.log, run.label)

    const applied = await applyStages(run, prepared, stages, autoscaled)
    if (applied.skipped) return finishRun(run, 'skipped', [], 'stopped before writing anything')
    stopped = applied.stopped
    if (!stopped && options.dryRun) return finishDryRun(run)
    if (!stopped) stopped = await waitForChanged(run)
    if (!stopped) stopped = await watchChanged(run)
  } catch (err) {
    stopped = stoppedByError(run, err, stopped)
  }

  if (!stopped) {
    const changed = run.changes.some((c) => c.action !== 'unchanged')
    run.log.info(
      `${run.label}: ${changed ? 'deployed' : 'no changes'}: ${countActions(run.changes)}`
    )
    return finishRun(run, changed ? 'changed' : 'unchanged')
  }
  reportFailures(run, stopped)
  if (!options.rollbackOnFailure || options.dryRun || run.applied.length === 0)
    return finishRun(run, 'failed', stopped.failures, stopped.reason)
  return rollBack(run, stopped)
}

function finishDryRun(run: EngineRun): ClusterResult {
  const changed = run.changes.some((c) => c.action !== 'unchanged')
  run.log.info(`${run.label}: dry run: ${countActions(run.changes)}; nothing was changed`)
  return finishRun(run, changed ? 'changed' : 'unchanged')
}

/** Phase 3: with `wait`, everything this run changed must become healthy. */
async function waitForChanged(run: EngineRun): Promise<Stopped | undefined> {
  const { applied, label } = run
  if (!run.options.wait || applied.length === 0) return undefined
  run.log.info(
    `${label}: waiting for ${plural(applied.length, 'changed object')} to become healthy`
  )
  const w = await waitWithinBudget(run, applied.map(waitTarget))
  return w.ok ? undefined : stoppedByWait(w)
}

/**
 * A phase threw (the cluster is unreachable, the run was aborted, discovery failed): the
 * cluster itself is the failing object, unless a phase had already reported failures.
 */
function stoppedByError(run: EngineRun, err: unknown, before: Stopped | undefined): Stopped {
  const message = firstLine(err)
  const aborted = run.options.signal?.aborted ?? false
  const reason =
    err instanceof ClusterUnreachableError
      ? message
      : aborted
        ? `aborted: ${message}`
        : `deploy failed: ${message}`
  if (before && before.failures.length > 0) return { failures: before.failures, reason }
  return {
    failures: [
      {
        object: `cluster/${run.client.cluster}`,
        reason: aborted ? 'Aborted' : errorReason(err),
        message: run.scrub(message),
        events: []
      }
    ],
    reason
  }
}

/** One warning per failure, with its Warning events, before any rollback begins. */
function reportFailures(run: EngineRun, stopped: Stopped): void {
  for (const f of stopped.failures)
    run.log.warning(
      `${run.label}: ${f.object}${f.pod ? ` pod ${f.pod}` : ''}${f.container ? ` container ${f.container}` : ''}: ${f.reason}: ${f.message}` +
        (f.events.length ? `\n  ${f.events.join('\n  ')}` : '')
    )
}
