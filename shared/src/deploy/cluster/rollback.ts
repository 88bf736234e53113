/**
 * Phase 4 of a failed deploy: restore what ran before. The previous live object of everything
 * this run changed is applied again (newest first; for a Deployment that brings the old
 * ReplicaSet back up); what it created is deleted, except Namespaces, CRDs and
 * PersistentVolumeClaims (deleting those takes everything in them or their data, and a
 * Namespace being deleted blocks the next run for a while); Jobs are not re-run. What was
 * restored is waited for on a budget of its own — unless the deploy was aborted, when it is
 * restored without waiting.
 */
import { comparable } from '../../k8s/diff.js'
import { describeRef, refOf } from '../../k8s/identity.js'
import type { ClusterClient, KubeObject } from '../../k8s/types.js'
import { plural } from '../../text/plural.js'
import type { Applied } from './apply-object.js'
import {
  cleanUpDeadline,
  finishRun,
  firstLine,
  summarize,
  type EngineRun,
  type Stopped
} from './run.js'
import type { ClusterResult } from './types.js'
import { waitForHealth, type WaitTarget } from './wait.js'

/** Rolls back what `run` changed after it stopped with `stopped`, and the cluster's result. */
export async function rollBack(run: EngineRun, stopped: Stopped): Promise<ClusterResult> {
  const { client, options, log, label, applied } = run
  const { failures, reason } = stopped
  log.warning(`${label}: rolling back ${plural(applied.length, 'object')} changed by this run`)
  try {
    const aborted = options.signal?.aborted ?? false
    // The rollback gets a budget of its own: what ran before must come back even if the failed
    // rollout used up the cluster's time. A client bound to the run's signal (aborted, maybe)
    // and to the cluster's deadline (passed, maybe) would refuse every request.
    const deadline = cleanUpDeadline(run)
    const rollbackClient = client.detached?.(deadline) ?? client
    const restored = await restorePrevious(rollbackClient, applied, log, label)
    if (!aborted && options.wait && restored.length > 0) {
      const w = await waitForHealth(rollbackClient, restored, {
        ...run.waitSettings,
        signal: undefined,
        deadline
      })
      if (!w.ok) {
        const why = summarize(w.failures, w.timedOut)
        log.warning(`${label}: rollback did not become healthy: ${why}`)
        return finishRun(
          run,
          'failed',
          failures,
          `${reason}; rollback did not become healthy: ${why}`
        )
      }
    }
    log.info(`${label}: rolled back${aborted ? ' (not waited for: the deploy was aborted)' : ''}`)
    return finishRun(run, 'rolled-back', failures, `${reason}; rolled back`, true)
  } catch (err) {
    const message = firstLine(err)
    log.warning(`${label}: rollback failed: ${message}`)
    return finishRun(run, 'failed', failures, `${reason}; rollback failed: ${message}`)
  }
}

/** Kinds a rollback leaves in place even when this run created them, and why. */
const keptOnRollback = new Set(['Namespace', 'CustomResourceDefinition', 'PersistentVolumeClaim'])
const keptOnRollbackWhy: Record<string, string> = {
  Namespace:
    'deleting it would take everything in it, and a re-run would fail while it is terminating',
  CustomResourceDefinition: 'deleting it would delete every resource of its kind',
  PersistentVolumeClaim: 'deleting it may delete its volume and the data on it'
}

/**
 * Restores what ran before: objects this run created are deleted (newest first) except
 * Namespaces, CRDs and PersistentVolumeClaims, which are left and logged; objects it
 * changed get their previous spec back by server-side apply (for a Deployment that brings the
 * old ReplicaSet back up). Jobs are not re-run. Returns what to wait for.
 */
async function restorePrevious(
  client: ClusterClient,
  applied: Applied[],
  log: { info(m: string): void; warning(m: string): void },
  label: string
): Promise<WaitTarget[]> {
  const restored: WaitTarget[] = []
  for (const a of [...applied].reverse()) {
    const desired = a.prepared.desired
    const id = describeRef(desired)
    if (!a.previous) {
      if (keptOnRollback.has(desired.kind)) {
        log.info(
          `${label}: rollback: left ${id} in place (created by this run): a rollback never deletes a ${desired.kind}, ${keptOnRollbackWhy[desired.kind]}; delete it by hand if it is not wanted`
        )
        continue
      }
      const deleted = await client.delete(refOf(desired), { propagationPolicy: 'Background' })
      log.info(
        `${label}: rollback: deleted ${id} (created by this run)${deleted ? '' : ' — already gone'}`
      )
      continue
    }
    if (desired.kind === 'Job') {
      log.info(
        `${label}: rollback: ${id} left as is (a Job runs once; its previous run is not repeated)`
      )
      continue
    }
    const result = await client.apply(restorable(a.previous))
    log.info(`${label}: rollback: restored the previous ${id}`)
    restored.push({ ref: refOf(desired), appliedGeneration: result.metadata.generation })
  }
  return restored
}

/** The previous live object as an apply body: no server-managed metadata, no status. */
function restorable(previous: KubeObject): KubeObject {
  const o = comparable(previous)
  const meta = o.metadata
  for (const k of ['deletionTimestamp', 'deletionGracePeriodSeconds']) delete meta[k]
  if (meta.annotations) {
    delete meta.annotations['deployment.kubernetes.io/revision']
    if (Object.keys(meta.annotations).length === 0) delete meta.annotations
  }
  return o
}
