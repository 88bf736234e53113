/**
 * Readiness as a pure function of one object (kstatus style): `computeStatus` never fetches;
 * the object must carry its status. The rules are described in docs/health-rules.md; they
 * follow kubectl rollout status, Argo CD gitops-engine, kstatus and kapp where those agree.
 */
import { groupOf } from './identity.js'
import type { KubeObject } from './types.js'

/** Per-object health (Argo CD's set). */
export const Health = {
  Healthy: 'Healthy',
  Suspended: 'Suspended',
  Progressing: 'Progressing',
  Missing: 'Missing',
  Degraded: 'Degraded',
  Unknown: 'Unknown'
} as const
export type Health = (typeof Health)[keyof typeof Health]

export interface StatusResult {
  readonly status: Health
  /** Short and specific: "1/3 updated", "ProgressDeadlineExceeded: ...". */
  readonly message: string
  /** Healthy only because nothing could be assessed (a custom resource without conditions). */
  readonly notAssessed?: boolean
  /** Something the user should know although it does not change the status (OnDelete, HPA). */
  readonly warning?: string
}

export interface StatusContext {
  /** Now, in epoch ms (condition ages are measured against it). */
  readonly now: number
  /** `metadata.generation` returned by this run's apply: older observations are not judged. */
  readonly appliedGeneration?: number
  /** When the object was first found missing after apply (epoch ms). */
  readonly missingSince?: number
  /** Services of type LoadBalancer (and Ingresses) wait for an ingress address. */
  readonly waitForLoadBalancers?: boolean
  /** The PVC's StorageClass binds on first consumer: Pending is fine. */
  readonly pvcWaitForFirstConsumer?: boolean
}

/** Grace periods (ms), listed in docs/health-rules.md. */
export const statusGrace = {
  /** A 404 right after apply may be a cache lag; after this it is Degraded. */
  missingMs: 30_000,
  /** Deployment/ReplicaSet `ReplicaFailure=True` (quota, admission) before Degraded. */
  replicaFailureMs: 60_000,
  /** CRD `NamesAccepted=False` / `Established=False` before Degraded. */
  crdMs: 30_000
} as const

interface Condition {
  type: string
  status: string
  reason?: string
  message?: string
  lastTransitionTime?: string
  observedGeneration?: number
}

/** Computes the health of `object` (undefined: not found after apply). */
export function computeStatus(object: KubeObject | undefined, ctx: StatusContext): StatusResult {
  // Not found after apply: Missing, then Degraded after the grace period.
  if (!object) {
    const missingFor = ctx.missingSince === undefined ? 0 : ctx.now - ctx.missingSince
    return missingFor >= statusGrace.missingMs
      ? result('Degraded', `not found ${Math.round(missingFor / 1000)}s after apply`)
      : result('Missing', 'not found')
  }
  const status = (object.status ?? {}) as Record<string, unknown>
  const kind = object.kind
  const group = groupOf(object.apiVersion)

  // A terminating Namespace cannot take new objects: a terminal problem, not progress.
  if (group === '' && kind === 'Namespace') {
    if (object.metadata.deletionTimestamp || status.phase === 'Terminating')
      return result('Degraded', 'namespace is terminating; nothing can be deployed into it')
    return result('Healthy', 'active')
  }

  // Read-after-write: never judge a status the controller wrote for an older spec.
  const observed = num(status.observedGeneration)
  const generation = num(object.metadata.generation)
  if (observed !== undefined) {
    const wanted = Math.max(ctx.appliedGeneration ?? 0, generation ?? 0)
    if (observed < wanted)
      return result('Progressing', `controller has not observed generation ${wanted} yet`)
  }
  // Being deleted.
  if (object.metadata.deletionTimestamp) return result('Progressing', 'terminating')

  // kstatus standard conditions, usable for many custom resources.
  const conditions = conditionsOf(object)
  const stalled = find(conditions, 'Stalled')
  if (stalled?.status === 'True') return result('Degraded', conditionText(stalled, 'stalled'))
  const reconciling = find(conditions, 'Reconciling')
  if (reconciling?.status === 'True')
    return result('Progressing', conditionText(reconciling, 'reconciling'))

  const rule = builtInRules[`${group}/${kind}`]
  if (rule) return rule(object, status, conditions, ctx)
  if (builtInGroups.has(group)) return result('Healthy', 'applied')
  return customResourceStatus(object, conditions)
}

type Rule = (
  object: KubeObject,
  status: Record<string, unknown>,
  conditions: Condition[],
  ctx: StatusContext
) => StatusResult

const builtInRules: Record<string, Rule> = {
  'apps/Deployment': deploymentStatus,
  'apps/StatefulSet': statefulSetStatus,
  'apps/DaemonSet': daemonSetStatus,
  'apps/ReplicaSet': replicaSetStatus,
  '/Pod': (_o, status, _c, _ctx) => podStatus(_o, status),
  'batch/Job': jobStatus,
  '/PersistentVolumeClaim': pvcStatus,
  '/Service': serviceStatus,
  'networking.k8s.io/Ingress': serviceStatus,
  'apiextensions.k8s.io/CustomResourceDefinition': crdStatus,
  'apiregistration.k8s.io/APIService': (_o, _s, conditions) =>
    find(conditions, 'Available')?.status === 'True'
      ? result('Healthy', 'available')
      : result('Progressing', 'waiting for Available=True'),
  'autoscaling/HorizontalPodAutoscaler': hpaStatus
}

/** Groups of built-in APIs: kinds there without a rule are Healthy once applied. */
const builtInGroups = new Set([
  '',
  'apps',
  'batch',
  'autoscaling',
  'policy',
  'rbac.authorization.k8s.io',
  'networking.k8s.io',
  'storage.k8s.io',
  'apiextensions.k8s.io',
  'apiregistration.k8s.io',
  'admissionregistration.k8s.io',
  'scheduling.k8s.io',
  'coordination.k8s.io',
  'discovery.k8s.io',
  'node.k8s.io',
  'certificates.k8s.io',
  'events.k8s.io',
  'flowcontrol.apiserver.k8s.io',
  'resource.k8s.io'
])

function deploymentStatus(
  object: KubeObject,
  status: Record<string, unknown>,
  conditions: Condition[],
  ctx: StatusContext
): StatusResult {
  const spec = (object.spec ?? {}) as { paused?: boolean; replicas?: number }
  if (spec.paused) return result('Suspended', 'deployment is paused')
  if (num(status.observedGeneration) === undefined)
    return result('Progressing', 'waiting for the controller to observe the deployment')
  const progressing = find(conditions, 'Progressing')
  if (progressing?.reason === 'ProgressDeadlineExceeded')
    return result('Degraded', conditionText(progressing, 'progress deadline exceeded'))
  const replicaFailure = find(conditions, 'ReplicaFailure')
  if (replicaFailure?.status === 'True') {
    if (age(replicaFailure, ctx.now) >= statusGrace.replicaFailureMs)
      return result('Degraded', conditionText(replicaFailure, 'replica failure'))
    return result('Progressing', conditionText(replicaFailure, 'replica failure'))
  }
  // Re-read each poll: an HPA may change spec.replicas while we wait.
  const desired = spec.replicas ?? 1
  if (desired === 0) return result('Healthy', 'scaled to 0')
  const updated = num(status.updatedReplicas) ?? 0
  const replicas = num(status.replicas) ?? 0
  const available = num(status.availableReplicas) ?? 0
  if (updated < desired) return result('Progressing', `${updated}/${desired} updated`)
  if (replicas > updated)
    return result('Progressing', `${replicas - updated} old replicas pending termination`)
  if (available < updated) return result('Progressing', `${available}/${updated} available`)
  // The controller's own completion signal (kstatus requires it as well).
  if (progressing?.reason !== 'NewReplicaSetAvailable')
    return result('Progressing', 'waiting for the rollout to complete')
  if (find(conditions, 'Available')?.status !== 'True')
    return result('Progressing', 'waiting for Available=True')
  return result('Healthy', `${available}/${desired} available`)
}

function statefulSetStatus(object: KubeObject, status: Record<string, unknown>): StatusResult {
  const spec = (object.spec ?? {}) as {
    replicas?: number
    updateStrategy?: { type?: string; rollingUpdate?: { partition?: number } }
  }
  const observed = num(status.observedGeneration) ?? 0
  if (observed === 0 || observed < (num(object.metadata.generation) ?? 0))
    return result('Progressing', 'waiting for the controller to observe the statefulset')
  if (spec.updateStrategy?.type === 'OnDelete')
    return result(
      'Healthy',
      'applied',
      'updateStrategy OnDelete: pods update only when deleted; not waited for'
    )
  const desired = spec.replicas ?? 1
  const replicas = num(status.replicas) ?? 0
  const ready = num(status.readyReplicas) ?? 0
  if (replicas < desired) return result('Progressing', `${replicas}/${desired} replicas`)
  if (replicas > desired)
    return result('Progressing', `${replicas - desired} extra pods pending termination`)
  if (ready < desired) return result('Progressing', `${ready}/${desired} ready`)
  const partition = spec.updateStrategy?.rollingUpdate?.partition
  if (partition !== undefined && partition > 0) {
    const updated = num(status.updatedReplicas) ?? 0
    const target = replicas - partition
    return updated < target
      ? result('Progressing', `${updated}/${target} updated (partition ${partition})`)
      : result('Healthy', `${updated}/${target} updated (partition ${partition})`)
  }
  if (status.currentRevision !== status.updateRevision)
    return result(
      'Progressing',
      `${num(status.updatedReplicas) ?? 0}/${desired} updated to revision ${String(status.updateRevision)}`
    )
  return result('Healthy', `${ready}/${desired} ready`)
}

function daemonSetStatus(object: KubeObject, status: Record<string, unknown>): StatusResult {
  const spec = (object.spec ?? {}) as { updateStrategy?: { type?: string } }
  const generation = num(object.metadata.generation)
  const observed = num(status.observedGeneration)
  if (generation === undefined || observed === undefined || observed < generation)
    return result('Progressing', 'waiting for the controller to observe the daemonset')
  if (spec.updateStrategy?.type === 'OnDelete')
    return result(
      'Healthy',
      'applied',
      'updateStrategy OnDelete: pods update only when deleted; not waited for'
    )
  const desired = num(status.desiredNumberScheduled) ?? 0
  if (desired === 0) return result('Healthy', 'no nodes to run on', 'desiredNumberScheduled is 0')
  const updated = num(status.updatedNumberScheduled) ?? 0
  const current = num(status.currentNumberScheduled) ?? 0
  const ready = num(status.numberReady) ?? 0
  const available = num(status.numberAvailable) ?? 0
  if (updated < desired) return result('Progressing', `${updated}/${desired} updated`)
  if (current < desired) return result('Progressing', `${current}/${desired} scheduled`)
  if (ready < desired) return result('Progressing', `${ready}/${desired} ready`)
  if (available < desired) return result('Progressing', `${available}/${desired} available`)
  return result('Healthy', `${available}/${desired} available`)
}

function replicaSetStatus(
  object: KubeObject,
  status: Record<string, unknown>,
  conditions: Condition[]
): StatusResult {
  const failure = find(conditions, 'ReplicaFailure')
  if (failure?.status === 'True')
    return result('Degraded', conditionText(failure, 'replica failure'))
  const desired = ((object.spec ?? {}) as { replicas?: number }).replicas ?? 1
  const available = num(status.availableReplicas) ?? 0
  if (available < desired) return result('Progressing', `${available}/${desired} available`)
  return result('Healthy', `${available}/${desired} available`)
}

/** Pod rules, also used for pods of workloads. */
export function podStatus(object: KubeObject, status: Record<string, unknown>): StatusResult {
  const phase = status.phase
  const restartPolicy =
    ((object.spec ?? {}) as { restartPolicy?: string }).restartPolicy ?? 'Always'
  const containers = containerStatuses(status)
  if (phase === 'Succeeded') return result('Healthy', 'succeeded')
  if (phase === 'Failed') return result('Degraded', podFailureText(status, containers))
  // Hook semantics: a run-to-completion pod is done only when it terminates.
  if (restartPolicy !== 'Always')
    return result('Progressing', `${String(phase ?? 'Pending')}; waiting for it to complete`)
  if (phase === 'Running') {
    const ready = conditionsOf({ status } as unknown as KubeObject).find((c) => c.type === 'Ready')
    if (ready?.status === 'True') return result('Healthy', 'running and ready')
    const crashed = containers.find((c) => c.lastState?.terminated)
    if (crashed)
      return result(
        'Degraded',
        `container ${crashed.name} is not ready after terminating: ${terminatedText(crashed.lastState?.terminated)}`
      )
    return result('Progressing', 'running, not ready')
  }
  return result('Progressing', String(phase ?? 'Pending'))
}

function jobStatus(
  object: KubeObject,
  status: Record<string, unknown>,
  conditions: Condition[]
): StatusResult {
  const complete = find(conditions, 'Complete')
  if (complete?.status === 'True') return result('Healthy', 'complete')
  // Newer clusters set FailureTarget before Failed; both mean the Job has failed.
  for (const type of ['Failed', 'FailureTarget']) {
    const c = find(conditions, type)
    if (c?.status === 'True') return result('Degraded', conditionText(c, 'failed'))
  }
  const suspended = find(conditions, 'Suspended')
  if (suspended?.status === 'True' && (object.spec as { suspend?: boolean } | undefined)?.suspend)
    return result('Suspended', 'job is suspended')
  return result(
    'Progressing',
    `${num(status.active) ?? 0} active, ${num(status.succeeded) ?? 0} succeeded, ${num(status.failed) ?? 0} failed`
  )
}

function pvcStatus(
  _object: KubeObject,
  status: Record<string, unknown>,
  _c: Condition[],
  ctx: StatusContext
): StatusResult {
  if (status.phase === 'Bound') return result('Healthy', 'bound')
  if (status.phase === 'Lost') return result('Degraded', 'claim lost its volume')
  if (ctx.pvcWaitForFirstConsumer)
    return result('Healthy', 'pending until first consumer (WaitForFirstConsumer)')
  return result('Progressing', `${String(status.phase ?? 'Pending')}`)
}

function serviceStatus(
  object: KubeObject,
  status: Record<string, unknown>,
  _c: Condition[],
  ctx: StatusContext
): StatusResult {
  const isLoadBalancer =
    object.kind === 'Ingress' || ((object.spec ?? {}) as { type?: string }).type === 'LoadBalancer'
  if (!isLoadBalancer || !ctx.waitForLoadBalancers) return result('Healthy', 'applied')
  const ingress = ((status.loadBalancer ?? {}) as { ingress?: unknown[] }).ingress
  return Array.isArray(ingress) && ingress.length > 0
    ? result('Healthy', 'load balancer ready')
    : result('Progressing', 'waiting for a load balancer address')
}

function crdStatus(
  _object: KubeObject,
  _s: Record<string, unknown>,
  conditions: Condition[],
  ctx: StatusContext
): StatusResult {
  const established = find(conditions, 'Established')
  if (established?.status === 'True') return result('Healthy', 'established')
  const names = find(conditions, 'NamesAccepted')
  const bad =
    names?.status === 'False'
      ? names
      : established?.status === 'False' && established.reason !== 'Installing'
        ? established
        : undefined
  if (bad)
    return age(bad, ctx.now) >= statusGrace.crdMs
      ? result('Degraded', conditionText(bad, 'not established'))
      : result('Progressing', conditionText(bad, 'not established'))
  return result('Progressing', 'waiting for Established=True')
}

function hpaStatus(
  _object: KubeObject,
  _s: Record<string, unknown>,
  conditions: Condition[]
): StatusResult {
  // Warn only: metrics lag after a rollout, and failing the deploy on them is a common complaint.
  const able = find(conditions, 'AbleToScale')
  const active = find(conditions, 'ScalingActive')
  const bad =
    able && ['FailedGetScale', 'FailedUpdateScale'].includes(able.reason ?? '')
      ? able
      : active && ['FailedGetResourceMetric', 'InvalidSelector'].includes(active.reason ?? '')
        ? active
        : undefined
  return bad
    ? result('Healthy', 'applied', conditionText(bad, 'cannot scale'))
    : result('Healthy', 'applied')
}

/** Custom resources: Ready condition when present; otherwise healthy by existence, marked not assessed. */
function customResourceStatus(object: KubeObject, conditions: Condition[]): StatusResult {
  const ready = find(conditions, 'Ready')
  if (!ready)
    return {
      status: 'Healthy',
      message: 'exists (no Ready condition to assess)',
      notAssessed: true
    }
  const generation = num(object.metadata.generation)
  if (
    ready.observedGeneration !== undefined &&
    generation !== undefined &&
    ready.observedGeneration < generation
  )
    return result(
      'Progressing',
      `Ready condition is for generation ${ready.observedGeneration}, not ${generation}`
    )
  if (ready.status === 'True') return result('Healthy', conditionText(ready, 'ready'))
  if (
    ready.status === 'False' &&
    /fail|error|invalid|denied|forbidden|backoff/i.test(`${ready.reason ?? ''}`)
  )
    return result('Degraded', conditionText(ready, 'not ready'))
  return result('Progressing', conditionText(ready, 'not ready'))
}

interface ContainerStatus {
  name: string
  restartCount?: number
  state?: {
    waiting?: { reason?: string; message?: string }
    terminated?: Terminated
    running?: object
  }
  lastState?: { terminated?: Terminated }
}
interface Terminated {
  reason?: string
  message?: string
  exitCode?: number
}

/** Init and regular container statuses of a pod status. */
export function containerStatuses(status: Record<string, unknown>): ContainerStatus[] {
  const list = (k: string) => (Array.isArray(status[k]) ? (status[k] as ContainerStatus[]) : [])
  return [...list('initContainerStatuses'), ...list('containerStatuses')]
}

function podFailureText(status: Record<string, unknown>, containers: ContainerStatus[]): string {
  if (typeof status.message === 'string' && status.message)
    return `${String(status.reason ?? 'Failed')}: ${status.message}`
  const t = containers
    .map((c) => ({ c, t: c.state?.terminated }))
    .find((x) => x.t && (x.t.exitCode ?? 0) !== 0)
  if (t) return `container ${t.c.name} ${terminatedText(t.t)}`
  return String(status.reason ?? 'pod failed')
}

/** "exited with code 1 (Error): message" / "OOMKilled". */
export function terminatedText(t: Terminated | undefined): string {
  if (!t) return 'terminated'
  if (t.reason === 'OOMKilled') return 'was OOMKilled'
  const msg = t.message ? `: ${t.message.trim()}` : ''
  return `exited with code ${t.exitCode ?? '?'}${t.reason ? ` (${t.reason})` : ''}${msg}`
}

/** The object's status conditions (an empty list when absent or malformed). */
export function conditionsOf(object: KubeObject): Condition[] {
  const c = ((object.status ?? {}) as { conditions?: unknown }).conditions
  return Array.isArray(c)
    ? (c.filter(
        (x) => x && typeof x === 'object' && typeof (x as Condition).type === 'string'
      ) as Condition[])
    : []
}

function find(conditions: Condition[], type: string): Condition | undefined {
  return conditions.find((c) => c.type === type)
}

function conditionText(c: Condition, fallback: string): string {
  const reason = c.reason ? `${c.reason}` : fallback
  return c.message ? `${reason}: ${c.message}` : reason
}

/** How long a condition has had its status (0 when the time is unknown). */
function age(c: Condition, now: number): number {
  const t = c.lastTransitionTime ? Date.parse(c.lastTransitionTime) : NaN
  return Number.isNaN(t) ? 0 : now - t
}

function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined
}

function result(status: Health, message: string, warning?: string): StatusResult {
  return warning ? { status, message, warning } : { status, message }
}
