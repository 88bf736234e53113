/**
 * Fail-fast pod classification (docs/health-rules.md, "Fail fast") and which pods belong to a workload's
 * new revision. Pure: time comes in through `now` and a first-seen lookup the caller keeps.
 */
import { containerStatuses, terminatedText } from './status.js'
import type { KubeObject } from './types.js'

/** Waiting reasons that mean the container cannot start. */
export const failingWaitingReasons = new Set([
  'CrashLoopBackOff',
  'ImagePullBackOff',
  'ErrImagePull',
  'InvalidImageName',
  'ErrImageNeverPull',
  'CreateContainerConfigError',
  'CreateContainerError',
  'RunContainerError',
  'PostStartHookError'
])

/** Waiting reasons that are normal on the way up. */
const benignWaitingReasons = new Set(['ContainerCreating', 'PodInitializing'])

/** Argo CD's generic rule for reasons not in the list: Err*, *Error, *BackOff. */
export function isFailingWaitingReason(reason: string): boolean {
  if (benignWaitingReasons.has(reason)) return false
  return (
    failingWaitingReasons.has(reason) ||
    reason.startsWith('Err') ||
    reason.endsWith('Error') ||
    reason.endsWith('BackOff')
  )
}

/**
 * The workloads whose pods kit judges (the health wait's pod classifier, the watch window):
 * those that run pods themselves or through a controller of their own.
 */
const podWorkloadKinds = new Set([
  'Deployment',
  'StatefulSet',
  'DaemonSet',
  'ReplicaSet',
  'Job',
  'Pod'
])

/** Whether objects of `kind` are workloads whose pods kit judges. */
export function isPodWorkload(kind: string): boolean {
  return podWorkloadKinds.has(kind)
}

export interface PodClassifyOptions {
  readonly now: number
  /** A failing waiting reason must persist this long (or the container restart twice). */
  readonly graceMs: number
  /** An Unschedulable pod fails after this long (autoscaler scale-up is normal). */
  readonly unschedulableMs: number
  /**
   * When `key` (pod uid + container + reason) was first observed; the caller records the first
   * call's time. Waiting states carry no timestamp, so persistence has to be observed.
   */
  readonly firstSeen: (key: string) => number
  /** Count terminated pods (phase Failed) as failing; Jobs leave that to their own backoff. */
  readonly failedPhaseIsFailure?: boolean
}

/** A pod that is failing, and why: what the report shows. */
export interface PodProblem {
  readonly pod: string
  readonly container?: string
  readonly reason: string
  readonly message: string
  /** True when the problem is past its grace (the pod counts as failing). */
  readonly failing: boolean
}

/** Classifies one pod; undefined when nothing is wrong (yet). */
export function classifyPod(pod: KubeObject, o: PodClassifyOptions): PodProblem | undefined {
  const status = (pod.status ?? {}) as Record<string, unknown>
  const name = pod.metadata.name
  const uid = pod.metadata.uid ?? name
  if (status.phase === 'Succeeded') return undefined
  const containers = containerStatuses(status)
  if (status.phase === 'Failed') {
    const c = containers.find(
      (x) => x.state?.terminated && (x.state.terminated.exitCode ?? 0) !== 0
    )
    return {
      pod: name,
      container: c?.name,
      reason:
        c?.state?.terminated?.reason === 'OOMKilled'
          ? 'OOMKilled'
          : String(status.reason ?? c?.state?.terminated?.reason ?? 'Failed'),
      message: c
        ? `container ${c.name} ${terminatedText(c.state?.terminated)}`
        : String(status.message ?? 'pod failed'),
      failing: o.failedPhaseIsFailure ?? true
    }
  }
  for (const c of containers) {
    const restarts = c.restartCount ?? 0
    const waiting = c.state?.waiting
    if (waiting?.reason && isFailingWaitingReason(waiting.reason)) {
      const since = o.firstSeen(`${uid}|${c.name}|${waiting.reason}`)
      const last = c.lastState?.terminated
      const detail = waiting.message ?? (last ? `last run ${terminatedText(last)}` : '')
      return {
        pod: name,
        container: c.name,
        reason: last?.reason === 'OOMKilled' ? 'OOMKilled' : waiting.reason,
        message: detail || waiting.reason,
        failing: restarts >= 2 || o.now - since >= o.graceMs
      }
    }
    const last = c.lastState?.terminated ?? c.state?.terminated
    if (last && (last.reason === 'OOMKilled' || (last.exitCode ?? 0) !== 0) && restarts > 0) {
      const reason = last.reason === 'OOMKilled' ? 'OOMKilled' : 'Error'
      const since = o.firstSeen(`${uid}|${c.name}|${reason}`)
      return {
        pod: name,
        container: c.name,
        reason,
        message: `container ${c.name} ${terminatedText(last)} (${restarts} restarts)`,
        failing: restarts >= 2 || o.now - since >= o.graceMs
      }
    }
  }
  const scheduled = (
    (status.conditions ?? []) as {
      type: string
      status: string
      reason?: string
      message?: string
      lastTransitionTime?: string
    }[]
  ).find((c) => c.type === 'PodScheduled')
  if (scheduled?.status === 'False' && scheduled.reason === 'Unschedulable') {
    const t = scheduled.lastTransitionTime ? Date.parse(scheduled.lastTransitionTime) : NaN
    const since = Number.isNaN(t) ? o.firstSeen(`${uid}|Unschedulable`) : t
    return {
      pod: name,
      reason: 'Unschedulable',
      message: scheduled.message ?? 'no node fits the pod',
      failing: o.now - since >= o.unschedulableMs
    }
  }
  return undefined
}

/**
 * How many failing pods make the workload Degraded: the configured threshold, or when it is 0,
 * max(1, 25% of desired replicas).
 */
export function failureThreshold(configured: number, desired: number): number {
  if (configured > 0) return configured
  return Math.max(1, Math.floor(desired * 0.25))
}

/**
 * The pods of a workload's new revision, which alone decide fail-fast (old pods failing are
 * not this deploy's doing): Deployment → pods of the ReplicaSet whose revision annotation equals
 * the Deployment's; StatefulSet → `controller-revision-hash == status.updateRevision`;
 * DaemonSet → `pod-template-generation == metadata.generation`; ReplicaSet and Job → owned pods.
 * `replicaSets` and `pods` are those of the workload's namespace.
 */
export function newRevisionPods(
  workload: KubeObject,
  replicaSets: readonly KubeObject[],
  pods: readonly KubeObject[]
): KubeObject[] {
  const uid = workload.metadata.uid
  const ownedBy = (o: KubeObject, ownerUid: string | undefined) =>
    ownerUid !== undefined && (o.metadata.ownerReferences ?? []).some((r) => r.uid === ownerUid)
  switch (workload.kind) {
    case 'Deployment': {
      const revision = workload.metadata.annotations?.['deployment.kubernetes.io/revision']
      if (revision === undefined) return []
      const rs = replicaSets.find(
        (r) =>
          ownedBy(r, uid) &&
          r.metadata.annotations?.['deployment.kubernetes.io/revision'] === revision
      )
      return rs ? pods.filter((p) => ownedBy(p, rs.metadata.uid)) : []
    }
    case 'StatefulSet': {
      const rev = ((workload.status ?? {}) as { updateRevision?: string }).updateRevision
      return pods.filter(
        (p) =>
          ownedBy(p, uid) &&
          (rev === undefined || p.metadata.labels?.['controller-revision-hash'] === rev)
      )
    }
    case 'DaemonSet': {
      const gen = workload.metadata.generation
      return pods.filter(
        (p) =>
          ownedBy(p, uid) &&
          (gen === undefined ||
            p.metadata.labels?.['pod-template-generation'] === undefined ||
            p.metadata.labels['pod-template-generation'] === String(gen))
      )
    }
    case 'ReplicaSet':
    case 'Job':
      return pods.filter((p) => ownedBy(p, uid))
    case 'Pod':
      return [workload]
    default:
      return []
  }
}

/** Desired replica count used for the fail-fast threshold. */
export function desiredReplicas(workload: KubeObject): number {
  const spec = (workload.spec ?? {}) as { replicas?: number; parallelism?: number }
  const status = (workload.status ?? {}) as { desiredNumberScheduled?: number }
  switch (workload.kind) {
    case 'DaemonSet':
      return status.desiredNumberScheduled ?? 1
    case 'Job':
      return spec.parallelism ?? 1
    case 'Pod':
      return 1
    default:
      return spec.replicas ?? 1
  }
}
