/**
 * The StatefulSet step (docs/deployer.md, "StatefulSets: the highest ordinal first"), its
 * decision and its first write. A changed StatefulSet is first applied with
 * `updateStrategy.rollingUpdate.partition = replicas - 1`: the controller moves only the
 * highest ordinal to the new revision. The apply phase then waits for that pod (and watches it
 * with a watch window) before applying the manifest as written, so a release that fails on one
 * pod never reaches the others (./stateful-step-run.ts).
 *
 * Pure: which StatefulSets step, and the body of the first write.
 */
import { withAppliedHash } from '../../k8s/change.js'
import { cloneObject } from '../../k8s/identity.js'
import type { KubeObject } from '../../k8s/types.js'

/** A StatefulSet written with a partition, whose step the apply phase still has to finish. */
export interface StepStart {
  /** The manifest as written (replicas of an HPA applied): the step's last write. */
  readonly desired: KubeObject
  /** The object before this run. */
  readonly live: KubeObject
  /** The partition of the first write: the one ordinal that moves first. */
  readonly partition: number
  /** What the first write returned. */
  readonly result: KubeObject
}

interface StatefulSpec {
  replicas?: number
  updateStrategy?: {
    type?: string
    rollingUpdate?: { partition?: number } & Record<string, unknown>
  } & Record<string, unknown>
}

const specOf = (o: KubeObject) => (o.spec ?? {}) as StatefulSpec

/**
 * The partition the first write of `desired` uses, or undefined when it is written as it is:
 * only a StatefulSet that exists already (a new one has no pods to protect), rolls with
 * RollingUpdate (OnDelete replaces pods only when someone deletes them), will have more than
 * one replica (one pod is the whole set), and has no partition of its own — neither in the
 * manifest (its author stages the rollout) nor live (someone holds it there by hand, and the
 * last write would take that partition away).
 */
export function stepPartition(
  desired: KubeObject,
  live: KubeObject | undefined
): number | undefined {
  if (desired.kind !== 'StatefulSet' || desired.apiVersion !== 'apps/v1' || !live) return undefined
  const want = specOf(desired)
  const now = specOf(live)
  const type = want.updateStrategy?.type ?? now.updateStrategy?.type ?? 'RollingUpdate'
  if (type !== 'RollingUpdate') return undefined
  if ((want.updateStrategy?.rollingUpdate?.partition ?? 0) > 0) return undefined
  if ((now.updateStrategy?.rollingUpdate?.partition ?? 0) > 0) return undefined
  const replicas = want.replicas ?? now.replicas ?? 1
  return replicas > 1 ? replicas - 1 : undefined
}

/**
 * The first write: the manifest with the partition set, and kit's change-detection hash of
 * that body. A run that stops between the two writes then leaves a hash no manifest has, so
 * the next run writes again instead of finding the set unchanged with its partition still set.
 */
export function withStepPartition(desired: KubeObject, partition: number): KubeObject {
  const body = cloneObject(desired)
  const spec = (body.spec ??= {}) as StatefulSpec
  const strategy = (spec.updateStrategy ??= {})
  strategy.rollingUpdate = { ...strategy.rollingUpdate, partition }
  return withAppliedHash(body)
}

/** `ordinals 0–1 not updated`: what a failed step spared. */
export function sparedText(partition: number): string {
  return partition === 1 ? 'ordinal 0 not updated' : `ordinals 0–${partition - 1} not updated`
}
