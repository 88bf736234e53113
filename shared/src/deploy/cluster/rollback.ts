/**
 * Phase 4 of a failed deploy: restore what ran before. The previous live object of everything
 * this run changed is applied again (newest first; for a Deployment that brings the old
 * ReplicaSet back up); what it created is deleted, except Namespaces, CRDs and
 * PersistentVolumeClaims (deleting those takes everything in them or their data, and a
 * Namespace being deleted blocks the next run for a while); Jobs are not re-run. What was
 * restored is waited for on a budget of its own — unless the deploy was aborted, when it is
 * restored without waiting. A restored StatefulSet's pods stuck not Ready on the failed
 * revision are deleted, since its controller would wait for them forever (releaseStuckPods).
 */
import { comparable } from '../../k8s/diff.js'
import { describeRef, refOf } from '../../k8s/identity.js'
import { KubeApiError, type ClusterClient, type KubeObject } from '../../k8s/types.js'
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
import type { Clock, ClusterResult, DeployLog } from './types.js'
import { waitForHealth, type WaitTarget } from './wait.js'
import { labelSelectorText } from './watch.js'
import { isReady } from './watch-state.js'

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
    await releaseStuckPods(
      rollbackClient,
      restored.filter((t) => t.ref.kind === 'StatefulSet'),
      {
        clock: run.clock,
        pollMs: run.waitSettings.pollMs,
        deadline,
        log,
        label,
        once: aborted || !options.wait
      }
    )
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

/** How long and how often releaseStuckPods looks, and where it logs. */
interface ReleaseOptions {
  readonly clock: Clock
  readonly pollMs: number
  readonly deadline: number
  readonly log: Pick<DeployLog, 'info'>
  readonly label: string
  /** One look once the controller has seen the restored object (a rollback not waited for). */
  readonly once: boolean
}

/**
 * The pods of restored StatefulSets that their controller will not replace. With OrderedReady
 * the controller touches no pod while one before it is not Running and Ready, so a pod stuck
 * not Ready on the failed revision (a crash loop, an image that cannot be pulled) stays forever
 * once the template is reverted, and the set never comes back. Such pods — above the restored
 * partition, on another revision than the restored one, not Ready — are deleted (each logged);
 * the controller creates them again on the restored revision. Ready ones on another revision
 * the controller replaces itself, in order. This looks again every pollMs until no pod is on
 * another revision or the rollback's time is up (a pod Ready now may fail before its turn); the
 * health wait after it says whether the set came back. OnDelete sets are left alone: their
 * pods change only when someone deletes them.
 */
async function releaseStuckPods(
  client: ClusterClient,
  restored: readonly WaitTarget[],
  o: ReleaseOptions
): Promise<void> {
  await Promise.all(restored.map((t) => releaseOne(client, t, o)))
}

async function releaseOne(client: ClusterClient, t: WaitTarget, o: ReleaseOptions): Promise<void> {
  for (;;) {
    const sts = await client.get(t.ref)
    if (!sts) return
    const spec = (sts.spec ?? {}) as {
      updateStrategy?: { type?: string; rollingUpdate?: { partition?: number } }
    }
    if (spec.updateStrategy?.type === 'OnDelete') return
    const status = (sts.status ?? {}) as { observedGeneration?: number; updateRevision?: string }
    const revision = status.updateRevision
    // Until the controller has seen the restored object, its update revision is the failed one.
    if ((status.observedGeneration ?? 0) >= (t.appliedGeneration ?? 0) && revision) {
      const partition = spec.updateStrategy?.rollingUpdate?.partition ?? 0
      const stale = (await podsOf(client, sts)).filter(
        (p) =>
          p.metadata.labels?.['controller-revision-hash'] !== revision &&
          ordinalOf(sts, p) >= partition &&
          !p.metadata.deletionTimestamp
      )
      if (stale.length === 0) return
      for (const pod of stale.filter((p) => !isReady(p))) await deleteStuck(client, sts, pod, o)
      if (o.once) return
    }
    if (o.clock.now() >= o.deadline) return
    await o.clock.sleep(o.pollMs)
  }
}

/** The pods a StatefulSet owns (listed by its selector). */
async function podsOf(client: ClusterClient, sts: KubeObject): Promise<KubeObject[]> {
  const selector = (sts.spec as { selector?: Parameters<typeof labelSelectorText>[0] }).selector
  const pods = await client.list('v1', 'Pod', {
    namespace: sts.metadata.namespace,
    ...(selector ? { labelSelector: labelSelectorText(selector) } : {})
  })
  return pods.filter((p) =>
    (p.metadata.ownerReferences ?? []).some((r) => r.uid === sts.metadata.uid)
  )
}

/** A StatefulSet pod's ordinal: its name is `<set>-<ordinal>`. */
function ordinalOf(sts: KubeObject, pod: KubeObject): number {
  const n = Number(pod.metadata.name.slice(sts.metadata.name.length + 1))
  return Number.isInteger(n) ? n : Infinity
}

/** Deletes one stuck pod, only that very pod (a replacement has the same name). */
async function deleteStuck(
  client: ClusterClient,
  sts: KubeObject,
  pod: KubeObject,
  o: ReleaseOptions
): Promise<void> {
  try {
    await client.delete(refOf(pod), {
      propagationPolicy: 'Background',
      ...(pod.metadata.uid ? { preconditions: { uid: pod.metadata.uid } } : {})
    })
  } catch (err) {
    // 409: the pod was replaced in the meantime, which is what this wanted.
    if (err instanceof KubeApiError && err.statusCode === 409) return
    throw err
  }
  o.log.info(
    `${o.label}: rollback: deleted pod ${pod.metadata.namespace}/${pod.metadata.name} of ${describeRef(sts)}: not Ready on revision ${pod.metadata.labels?.['controller-revision-hash'] ?? '(none)'}, which the StatefulSet controller would wait for forever; it creates the pod again on the restored revision ${String((sts.status as { updateRevision?: string }).updateRevision)}`
  )
}
