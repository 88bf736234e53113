/**
 * Replica counts an autoscaler owns. A HorizontalPodAutoscaler scales its target by writing
 * the target's `spec.replicas`; a manifest that sets the field as well would take it back on
 * every deploy (kit's server-side apply is forced), report the workload configured each time,
 * and the autoscaler would scale back a moment later. So for a workload that an HPA of the
 * same manifest set scales, the manifest's `spec.replicas` is only the initial count: it is
 * applied when the workload is created; once the workload exists, the apply body carries the
 * live count, which the forced apply leaves as it is. The applied hash stays the one of the
 * manifest as written (stamped before this runs), so an unchanged redeploy compares equal
 * with the live object and sends nothing. Pure.
 *
 * Limits:
 * - Only HPAs in the manifest set count: kit does not read the cluster's HPAs, so one created
 *   by another tool is not seen and the manifest's count is applied as before.
 * - A fast-rollback Deployment is applied as `<name>-<deploy id>`, so an HPA naming `<name>`
 *   targets nothing (and scales nothing); its replicas are the manifest's.
 * - The live count is the one read at the start of the stage: should the autoscaler change it
 *   in the moment before a write, that write restores the count it read, and the autoscaler
 *   corrects it on its next sync.
 */
import { describeRef, groupOf, keyOf } from '../../k8s/identity.js'
import type { KubeObject } from '../../k8s/types.js'
import { plural } from '../../text/plural.js'

/** `spec.scaleTargetRef` of autoscaling/v1 and v2 alike. */
interface ScaleTargetRef {
  readonly apiVersion?: string
  readonly kind?: string
  readonly name?: string
}

/**
 * The keyOf of what `object` scales, when it is a HorizontalPodAutoscaler: the target is in
 * the HPA's own namespace, and is found by API group, kind and name (the version does not
 * matter: every version of a kind names the same object). An absent apiVersion is the core
 * group, as for the autoscaler itself.
 */
export function scaleTargetKey(object: KubeObject): string | undefined {
  if (object.kind !== 'HorizontalPodAutoscaler' || groupOf(object.apiVersion) !== 'autoscaling')
    return undefined
  const ref = (object.spec as { scaleTargetRef?: ScaleTargetRef } | undefined)?.scaleTargetRef
  if (typeof ref?.kind !== 'string' || typeof ref.name !== 'string') return undefined
  const namespace = object.metadata.namespace
  return keyOf({
    apiVersion: typeof ref.apiVersion === 'string' ? ref.apiVersion : '',
    kind: ref.kind,
    name: ref.name,
    ...(namespace ? { namespace } : {})
  })
}

function specReplicas(object: KubeObject): unknown {
  return (object.spec as { replicas?: unknown } | undefined)?.replicas
}

/**
 * The workloads among `objects` (namespaces already defaulted) whose manifest sets
 * `spec.replicas` and which an HPA among `objects` scales, by keyOf. A workload without
 * `spec.replicas` needs nothing: the apply never touches the autoscaler's field.
 */
export function autoscaledWorkloads(objects: readonly KubeObject[]): Map<string, KubeObject> {
  const targets = new Set<string>()
  for (const o of objects) {
    const key = scaleTargetKey(o)
    if (key !== undefined) targets.add(key)
  }
  const out = new Map<string, KubeObject>()
  if (targets.size === 0) return out
  for (const o of objects) {
    const key = keyOf(o)
    if (targets.has(key) && specReplicas(o) !== undefined) out.set(key, o)
  }
  return out
}

/**
 * What to apply for `desired` given its live object: for an autoscaled workload that exists
 * and has a count, `desired` with the live `spec.replicas`; otherwise `desired` itself (on
 * create, and while nothing has set a count live, the manifest's count is the initial one).
 * The applied-hash annotation is kept as it is.
 */
export function withAutoscaledReplicas(
  desired: KubeObject,
  live: KubeObject | undefined,
  autoscaled: ReadonlyMap<string, KubeObject>
): KubeObject {
  if (!live || autoscaled.size === 0 || !autoscaled.has(keyOf(desired))) return desired
  const replicas = specReplicas(live)
  if (replicas === undefined || replicas === specReplicas(desired)) return desired
  return { ...desired, spec: { ...(desired.spec as Record<string, unknown>), replicas } }
}

/** The info line naming the autoscaled workloads (a few of them: a fleet may have dozens). */
export function autoscaledNotice(workloads: Iterable<KubeObject>): string {
  const names = [...workloads].map((w) => describeRef(w))
  const named =
    names.length > 3
      ? `${names.slice(0, 3).join(', ')} and ${names.length - 3} more`
      : names.join(', ')
  return `replica count left to a HorizontalPodAutoscaler of this deploy (the manifest's spec.replicas is used only on create) for ${plural(names.length, 'workload')}: ${named}; remove spec.replicas from the manifest to silence this`
}
