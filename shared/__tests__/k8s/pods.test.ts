/** The fail-fast pod classifier (docs/health-rules.md) and new-revision pod attribution, one row per rule. */
import { describe, expect, it } from '@jest/globals'
import { parse } from 'yaml'
import {
  classifyPod,
  failureThreshold,
  isFailingWaitingReason,
  newRevisionPods
} from '../../src/k8s/pods.js'
import type { KubeObject } from '../../src/k8s/types.js'

const now = Date.parse('2026-01-01T00:10:00Z')
const grace = { graceMs: 30_000, unschedulableMs: 300_000 }

const pod = (status: string, spec = '') =>
  parse(
    `{ apiVersion: v1, kind: Pod, metadata: { name: web-1, uid: u1 }, spec: { ${spec} }, status: ${status} }`
  ) as KubeObject

const waiting = (reason: string, restarts: number) =>
  pod(
    `{ phase: Running, containerStatuses: [{ name: app, restartCount: ${restarts}, state: { waiting: { reason: ${reason}, message: "back-off pulling" } } }] }`
  )

interface Row {
  name: string
  pod: KubeObject
  firstSeenAgoMs?: number
  failedPhaseIsFailure?: boolean
  expected: { failing: boolean; reason: string; container?: string } | undefined
}

const rows: Row[] = [
  {
    name: 'ImagePullBackOff seen just now → a problem, not failing yet',
    pod: waiting('ImagePullBackOff', 0),
    firstSeenAgoMs: 0,
    expected: { failing: false, reason: 'ImagePullBackOff', container: 'app' }
  },
  {
    name: 'ImagePullBackOff persisting past the grace → failing',
    pod: waiting('ImagePullBackOff', 0),
    firstSeenAgoMs: 31_000,
    expected: { failing: true, reason: 'ImagePullBackOff', container: 'app' }
  },
  {
    name: 'CrashLoopBackOff with 2 restarts → failing at once',
    pod: waiting('CrashLoopBackOff', 2),
    firstSeenAgoMs: 0,
    expected: { failing: true, reason: 'CrashLoopBackOff', container: 'app' }
  },
  {
    name: 'CreateContainerConfigError past the grace → failing',
    pod: waiting('CreateContainerConfigError', 0),
    firstSeenAgoMs: 40_000,
    expected: { failing: true, reason: 'CreateContainerConfigError' }
  },
  {
    name: 'ContainerCreating → benign',
    pod: waiting('ContainerCreating', 0),
    firstSeenAgoMs: 600_000,
    expected: undefined
  },
  {
    name: 'PodInitializing → benign',
    pod: waiting('PodInitializing', 0),
    firstSeenAgoMs: 600_000,
    expected: undefined
  },
  {
    name: 'init container in CrashLoopBackOff → failing',
    pod: pod(
      `{ phase: Pending, initContainerStatuses: [{ name: migrate, restartCount: 3, state: { waiting: { reason: CrashLoopBackOff } } }] }`
    ),
    expected: { failing: true, reason: 'CrashLoopBackOff', container: 'migrate' }
  },
  {
    name: 'CrashLoopBackOff after OOMKilled → reported as OOMKilled',
    pod: pod(
      `{ phase: Running, containerStatuses: [{ name: app, restartCount: 2, state: { waiting: { reason: CrashLoopBackOff } }, lastState: { terminated: { reason: OOMKilled, exitCode: 137 } } }] }`
    ),
    expected: { failing: true, reason: 'OOMKilled', container: 'app' }
  },
  {
    name: 'running again after a non-zero exit, restarted twice → failing',
    pod: pod(
      `{ phase: Running, containerStatuses: [{ name: app, restartCount: 2, state: { running: {} }, lastState: { terminated: { exitCode: 1, reason: Error } } }] }`
    ),
    expected: { failing: true, reason: 'Error', container: 'app' }
  },
  {
    name: 'pod Failed (restartPolicy Never) → failing',
    pod: pod(
      `{ phase: Failed, containerStatuses: [{ name: app, state: { terminated: { exitCode: 1, reason: Error } } }] }`,
      'restartPolicy: Never'
    ),
    expected: { failing: true, reason: 'Error', container: 'app' }
  },
  {
    name: 'pod Failed of a Job (its backoffLimit decides) → a problem, not failing',
    pod: pod(
      `{ phase: Failed, containerStatuses: [{ name: app, state: { terminated: { exitCode: 1 } } }] }`,
      'restartPolicy: Never'
    ),
    failedPhaseIsFailure: false,
    expected: { failing: false, reason: 'Failed', container: 'app' }
  },
  {
    name: 'Unschedulable for less than the window → not failing',
    pod: pod(
      `{ phase: Pending, conditions: [{ type: PodScheduled, status: "False", reason: Unschedulable, message: "0/3 nodes are available", lastTransitionTime: "2026-01-01T00:09:00Z" }] }`
    ),
    expected: { failing: false, reason: 'Unschedulable' }
  },
  {
    name: 'Unschedulable past the window → failing with the scheduler message',
    pod: pod(
      `{ phase: Pending, conditions: [{ type: PodScheduled, status: "False", reason: Unschedulable, message: "0/3 nodes are available", lastTransitionTime: "2026-01-01T00:00:00Z" }] }`
    ),
    expected: { failing: true, reason: 'Unschedulable' }
  },
  {
    name: 'Running and ready → nothing wrong',
    pod: pod(
      `{ phase: Running, conditions: [{ type: Ready, status: "True" }], containerStatuses: [{ name: app, restartCount: 0, state: { running: {} } }] }`
    ),
    expected: undefined
  },
  { name: 'Succeeded → nothing wrong', pod: pod(`{ phase: Succeeded }`), expected: undefined }
]

describe('classifyPod', () => {
  it.each(rows)('$name', (row) => {
    const problem = classifyPod(row.pod, {
      now,
      ...grace,
      firstSeen: () => now - (row.firstSeenAgoMs ?? 0),
      failedPhaseIsFailure: row.failedPhaseIsFailure
    })
    const picked = problem && {
      failing: problem.failing,
      reason: problem.reason,
      ...(row.expected?.container ? { container: problem.container } : {})
    }
    expect(picked).toEqual(row.expected)
  })

  it('uses the generic rule for unlisted reasons (Err*, *Error, *BackOff)', () => {
    expect(
      ['ErrSomething', 'SomethingError', 'SomethingBackOff', 'CrashLoopBackOff'].every(
        isFailingWaitingReason
      )
    ).toBe(true)
    expect(['ContainerCreating', 'PodInitializing', 'Waiting'].some(isFailingWaitingReason)).toBe(
      false
    )
  })

  it('makes the threshold max(1, 25% of desired) unless configured', () => {
    expect([
      failureThreshold(0, 1),
      failureThreshold(0, 8),
      failureThreshold(0, 10),
      failureThreshold(3, 1)
    ]).toEqual([1, 2, 2, 3])
  })
})

describe('newRevisionPods', () => {
  const objects = parse(`
- { apiVersion: apps/v1, kind: Deployment, metadata: { name: web, uid: d1, generation: 2, annotations: { deployment.kubernetes.io/revision: "2" } } }
- { apiVersion: apps/v1, kind: ReplicaSet, metadata: { name: web-old, uid: rs1, annotations: { deployment.kubernetes.io/revision: "1" }, ownerReferences: [{ apiVersion: apps/v1, kind: Deployment, name: web, uid: d1 }] } }
- { apiVersion: apps/v1, kind: ReplicaSet, metadata: { name: web-new, uid: rs2, annotations: { deployment.kubernetes.io/revision: "2" }, ownerReferences: [{ apiVersion: apps/v1, kind: Deployment, name: web, uid: d1 }] } }
- { apiVersion: v1, kind: Pod, metadata: { name: web-old-a, uid: p1, ownerReferences: [{ apiVersion: apps/v1, kind: ReplicaSet, name: web-old, uid: rs1 }] } }
- { apiVersion: v1, kind: Pod, metadata: { name: web-new-a, uid: p2, ownerReferences: [{ apiVersion: apps/v1, kind: ReplicaSet, name: web-new, uid: rs2 }] } }
- { apiVersion: apps/v1, kind: StatefulSet, metadata: { name: db, uid: s1 }, status: { updateRevision: db-2 } }
- { apiVersion: v1, kind: Pod, metadata: { name: db-0, uid: p3, labels: { controller-revision-hash: db-1 }, ownerReferences: [{ apiVersion: apps/v1, kind: StatefulSet, name: db, uid: s1 }] } }
- { apiVersion: v1, kind: Pod, metadata: { name: db-1, uid: p4, labels: { controller-revision-hash: db-2 }, ownerReferences: [{ apiVersion: apps/v1, kind: StatefulSet, name: db, uid: s1 }] } }
- { apiVersion: apps/v1, kind: DaemonSet, metadata: { name: agent, uid: ds1, generation: 4 } }
- { apiVersion: v1, kind: Pod, metadata: { name: agent-a, uid: p5, labels: { pod-template-generation: "3" }, ownerReferences: [{ apiVersion: apps/v1, kind: DaemonSet, name: agent, uid: ds1 }] } }
- { apiVersion: v1, kind: Pod, metadata: { name: agent-b, uid: p6, labels: { pod-template-generation: "4" }, ownerReferences: [{ apiVersion: apps/v1, kind: DaemonSet, name: agent, uid: ds1 }] } }
`) as KubeObject[]
  const rs = objects.filter((o) => o.kind === 'ReplicaSet')
  const pods = objects.filter((o) => o.kind === 'Pod')
  const named = (kind: string) => objects.find((o) => o.kind === kind) as KubeObject

  it.each([
    ['Deployment: the ReplicaSet with the same revision', 'Deployment', ['web-new-a']],
    ['StatefulSet: controller-revision-hash == updateRevision', 'StatefulSet', ['db-1']],
    ['DaemonSet: pod-template-generation == generation', 'DaemonSet', ['agent-b']]
  ])('%s', (_name, kind, expected) => {
    expect(newRevisionPods(named(kind), rs, pods).map((p) => p.metadata.name)).toEqual(expected)
  })
})
