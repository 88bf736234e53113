/**
 * computeStatus, one row per rule of docs/health-rules.md (kstatus-style: inline YAML in,
 * status and message out).
 */
import { describe, expect, it } from '@jest/globals'
import { parse } from 'yaml'
import { computeStatus, type Health, type StatusContext } from '../../src/k8s/status.js'
import type { KubeObject } from '../../src/k8s/types.js'

const now = Date.parse('2026-01-01T00:10:00Z')
const longAgo = '2026-01-01T00:00:00Z' // 10 minutes before `now`
const justNow = '2026-01-01T00:09:55Z' // 5 s before `now`

interface Row {
  name: string
  yaml: string
  ctx?: Partial<StatusContext>
  status: Health
  message?: RegExp
  notAssessed?: boolean
  warning?: RegExp
}

function expectStatus(row: Row): void {
  const object = parse(row.yaml) as KubeObject
  const result = computeStatus(object, { now, ...row.ctx })
  expect(result.status).toBe(row.status)
  if (row.message) expect(result.message).toMatch(row.message)
  if (row.notAssessed !== undefined) expect(result.notAssessed ?? false).toBe(row.notAssessed)
  if (row.warning) expect(result.warning).toMatch(row.warning)
}

const deployment = (spec: string, status: string, meta = 'generation: 2') => `
apiVersion: apps/v1
kind: Deployment
metadata: { name: web, namespace: app, ${meta} }
spec: { ${spec} }
status: ${status}
`
const completeConditions = `[{ type: Progressing, status: "True", reason: NewReplicaSetAvailable }, { type: Available, status: "True" }]`

const rows: Row[] = [
  // Rules for every object, before the per-kind ones
  {
    name: 'status written for an older generation than this apply → Progressing',
    yaml: deployment(
      'replicas: 1',
      `{ observedGeneration: 1, replicas: 1, updatedReplicas: 1, availableReplicas: 1, conditions: ${completeConditions} }`
    ),
    ctx: { appliedGeneration: 2 },
    status: 'Progressing',
    message: /has not observed generation 2/
  },
  {
    name: 'deletionTimestamp set → Progressing (terminating)',
    yaml: `{ apiVersion: v1, kind: ConfigMap, metadata: { name: c, deletionTimestamp: "${longAgo}" } }`,
    status: 'Progressing',
    message: /terminating/
  },
  {
    name: 'Stalled=True → Degraded with its message',
    yaml: `{ apiVersion: example.com/v1, kind: Thing, metadata: { name: t }, status: { conditions: [{ type: Stalled, status: "True", reason: BadConfig, message: "bad field" }] } }`,
    status: 'Degraded',
    message: /BadConfig: bad field/
  },
  {
    name: 'Reconciling=True → Progressing',
    yaml: `{ apiVersion: example.com/v1, kind: Thing, metadata: { name: t }, status: { conditions: [{ type: Reconciling, status: "True" }, { type: Ready, status: "True" }] } }`,
    status: 'Progressing'
  },
  // Deployment
  {
    name: 'Deployment paused → Suspended',
    yaml: deployment('paused: true', '{ observedGeneration: 2 }'),
    status: 'Suspended'
  },
  {
    name: 'Deployment ProgressDeadlineExceeded → Degraded',
    yaml: deployment(
      'replicas: 2',
      '{ observedGeneration: 2, conditions: [{ type: Progressing, status: "False", reason: ProgressDeadlineExceeded, message: "ReplicaSet web-1 has timed out progressing." }] }'
    ),
    status: 'Degraded',
    message: /ProgressDeadlineExceeded: ReplicaSet web-1 has timed out/
  },
  {
    name: 'Deployment ReplicaFailure=True within 60 s → Progressing',
    yaml: deployment(
      'replicas: 2',
      `{ observedGeneration: 2, conditions: [{ type: ReplicaFailure, status: "True", reason: FailedCreate, message: quota, lastTransitionTime: "${justNow}" }] }`
    ),
    status: 'Progressing',
    message: /FailedCreate/
  },
  {
    name: 'Deployment ReplicaFailure=True past 60 s → Degraded',
    yaml: deployment(
      'replicas: 2',
      `{ observedGeneration: 2, conditions: [{ type: ReplicaFailure, status: "True", reason: FailedCreate, message: "exceeded quota", lastTransitionTime: "${longAgo}" }] }`
    ),
    status: 'Degraded',
    message: /FailedCreate: exceeded quota/
  },
  {
    name: 'Deployment updated < desired → Progressing',
    yaml: deployment(
      'replicas: 3',
      '{ observedGeneration: 2, replicas: 3, updatedReplicas: 1, availableReplicas: 2 }'
    ),
    status: 'Progressing',
    message: /^1\/3 updated$/
  },
  {
    name: 'Deployment desired defaults to 1',
    yaml: deployment('', '{ observedGeneration: 2, replicas: 1, updatedReplicas: 0 }'),
    status: 'Progressing',
    message: /^0\/1 updated$/
  },
  {
    name: 'Deployment old replicas pending termination → Progressing',
    yaml: deployment(
      'replicas: 2',
      '{ observedGeneration: 2, replicas: 3, updatedReplicas: 2, availableReplicas: 2 }'
    ),
    status: 'Progressing',
    message: /1 old replicas pending termination/
  },
  {
    name: 'Deployment available < updated → Progressing',
    yaml: deployment(
      'replicas: 2',
      '{ observedGeneration: 2, replicas: 2, updatedReplicas: 2, availableReplicas: 1 }'
    ),
    status: 'Progressing',
    message: /^1\/2 available$/
  },
  {
    name: 'Deployment counts complete but no NewReplicaSetAvailable yet → Progressing',
    yaml: deployment(
      'replicas: 2',
      '{ observedGeneration: 2, replicas: 2, updatedReplicas: 2, availableReplicas: 2, conditions: [{ type: Progressing, status: "True", reason: ReplicaSetUpdated }, { type: Available, status: "True" }] }'
    ),
    status: 'Progressing',
    message: /rollout to complete/
  },
  {
    name: 'Deployment complete but Available not True → Progressing',
    yaml: deployment(
      'replicas: 2',
      '{ observedGeneration: 2, replicas: 2, updatedReplicas: 2, availableReplicas: 2, conditions: [{ type: Progressing, status: "True", reason: NewReplicaSetAvailable }, { type: Available, status: "False" }] }'
    ),
    status: 'Progressing',
    message: /Available=True/
  },
  {
    name: 'Deployment complete → Healthy',
    yaml: deployment(
      'replicas: 2',
      `{ observedGeneration: 2, replicas: 2, updatedReplicas: 2, availableReplicas: 2, conditions: ${completeConditions} }`
    ),
    status: 'Healthy',
    message: /2\/2 available/
  },
  {
    name: 'Deployment scaled to 0 → Healthy once observed',
    yaml: deployment('replicas: 0', '{ observedGeneration: 2 }'),
    status: 'Healthy'
  },
  {
    name: 'Deployment not yet observed by the controller → Progressing',
    yaml: deployment('replicas: 1', '{}'),
    status: 'Progressing',
    message: /controller/
  },
  // StatefulSet
  ...((): Row[] => {
    const sts = (spec: string, status: string) => `
apiVersion: apps/v1
kind: StatefulSet
metadata: { name: db, namespace: app, generation: 3 }
spec: { ${spec} }
status: ${status}`
    return [
      {
        name: 'StatefulSet OnDelete → Healthy with a warning',
        yaml: sts('replicas: 2, updateStrategy: { type: OnDelete }', '{ observedGeneration: 3 }'),
        status: 'Healthy',
        warning: /OnDelete/
      },
      {
        name: 'StatefulSet observedGeneration 0 → Progressing',
        yaml: sts('replicas: 2', '{ observedGeneration: 0 }'),
        status: 'Progressing'
      },
      {
        name: 'StatefulSet fewer replicas than desired → Progressing',
        yaml: sts('replicas: 3', '{ observedGeneration: 3, replicas: 2, readyReplicas: 2 }'),
        status: 'Progressing',
        message: /2\/3 replicas/
      },
      {
        name: 'StatefulSet extra replicas → Progressing',
        yaml: sts('replicas: 1', '{ observedGeneration: 3, replicas: 2, readyReplicas: 2 }'),
        status: 'Progressing',
        message: /extra pods/
      },
      {
        name: 'StatefulSet ready < desired → Progressing',
        yaml: sts('replicas: 2', '{ observedGeneration: 3, replicas: 2, readyReplicas: 1 }'),
        status: 'Progressing',
        message: /1\/2 ready/
      },
      {
        name: 'StatefulSet partition: updated < replicas - partition → Progressing',
        yaml: sts(
          'replicas: 4, updateStrategy: { type: RollingUpdate, rollingUpdate: { partition: 2 } }',
          '{ observedGeneration: 3, replicas: 4, readyReplicas: 4, updatedReplicas: 1 }'
        ),
        status: 'Progressing',
        message: /1\/2 updated \(partition 2\)/
      },
      {
        name: 'StatefulSet partition reached → Healthy',
        yaml: sts(
          'replicas: 4, updateStrategy: { type: RollingUpdate, rollingUpdate: { partition: 2 } }',
          '{ observedGeneration: 3, replicas: 4, readyReplicas: 4, updatedReplicas: 2 }'
        ),
        status: 'Healthy'
      },
      {
        name: 'StatefulSet currentRevision != updateRevision → Progressing',
        yaml: sts(
          'replicas: 2',
          '{ observedGeneration: 3, replicas: 2, readyReplicas: 2, updatedReplicas: 1, currentRevision: db-1, updateRevision: db-2 }'
        ),
        status: 'Progressing',
        message: /revision db-2/
      },
      {
        name: 'StatefulSet all on the update revision → Healthy',
        yaml: sts(
          'replicas: 2',
          '{ observedGeneration: 3, replicas: 2, readyReplicas: 2, updatedReplicas: 2, currentRevision: db-2, updateRevision: db-2 }'
        ),
        status: 'Healthy'
      }
    ]
  })(),
  // DaemonSet
  ...((): Row[] => {
    const ds = (spec: string, status: string, meta = 'generation: 2') => `
apiVersion: apps/v1
kind: DaemonSet
metadata: { name: agent, namespace: app, ${meta} }
spec: { ${spec} }
status: ${status}`
    return [
      {
        name: 'DaemonSet without observedGeneration → Progressing',
        yaml: ds('', '{ desiredNumberScheduled: 2 }'),
        status: 'Progressing'
      },
      {
        name: 'DaemonSet OnDelete → Healthy with a warning',
        yaml: ds('updateStrategy: { type: OnDelete }', '{ observedGeneration: 2 }'),
        status: 'Healthy',
        warning: /OnDelete/
      },
      {
        name: 'DaemonSet with no nodes → Healthy with a warning',
        yaml: ds('', '{ observedGeneration: 2, desiredNumberScheduled: 0 }'),
        status: 'Healthy',
        warning: /0/
      },
      {
        name: 'DaemonSet updated < desired → Progressing',
        yaml: ds(
          '',
          '{ observedGeneration: 2, desiredNumberScheduled: 3, updatedNumberScheduled: 1, currentNumberScheduled: 3, numberReady: 3, numberAvailable: 3 }'
        ),
        status: 'Progressing',
        message: /1\/3 updated/
      },
      {
        name: 'DaemonSet available < desired → Progressing',
        yaml: ds(
          '',
          '{ observedGeneration: 2, desiredNumberScheduled: 3, updatedNumberScheduled: 3, currentNumberScheduled: 3, numberReady: 3, numberAvailable: 2 }'
        ),
        status: 'Progressing',
        message: /2\/3 available/
      },
      {
        name: 'DaemonSet all available → Healthy',
        yaml: ds(
          '',
          '{ observedGeneration: 2, desiredNumberScheduled: 3, updatedNumberScheduled: 3, currentNumberScheduled: 3, numberReady: 3, numberAvailable: 3 }'
        ),
        status: 'Healthy'
      }
    ]
  })(),
  // ReplicaSet
  {
    name: 'ReplicaSet ReplicaFailure=True → Degraded',
    yaml: `{ apiVersion: apps/v1, kind: ReplicaSet, metadata: { name: r }, spec: { replicas: 1 }, status: { conditions: [{ type: ReplicaFailure, status: "True", reason: FailedCreate }] } }`,
    status: 'Degraded'
  },
  {
    name: 'ReplicaSet available < replicas → Progressing',
    yaml: `{ apiVersion: apps/v1, kind: ReplicaSet, metadata: { name: r }, spec: { replicas: 2 }, status: { availableReplicas: 1 } }`,
    status: 'Progressing'
  },
  {
    name: 'ReplicaSet all available → Healthy',
    yaml: `{ apiVersion: apps/v1, kind: ReplicaSet, metadata: { name: r }, spec: { replicas: 2 }, status: { availableReplicas: 2 } }`,
    status: 'Healthy'
  },
  // Pod
  {
    name: 'Pod Succeeded → Healthy',
    yaml: `{ apiVersion: v1, kind: Pod, metadata: { name: p }, spec: { restartPolicy: Never }, status: { phase: Succeeded } }`,
    status: 'Healthy'
  },
  {
    name: 'Pod Failed → Degraded with the container exit code',
    yaml: `{ apiVersion: v1, kind: Pod, metadata: { name: p }, spec: { restartPolicy: Never }, status: { phase: Failed, containerStatuses: [{ name: app, state: { terminated: { exitCode: 3, reason: Error } } }] } }`,
    status: 'Degraded',
    message: /container app exited with code 3 \(Error\)/
  },
  {
    name: 'Pod Failed with OOMKilled → Degraded saying so',
    yaml: `{ apiVersion: v1, kind: Pod, metadata: { name: p }, spec: { restartPolicy: Never }, status: { phase: Failed, containerStatuses: [{ name: app, state: { terminated: { exitCode: 137, reason: OOMKilled } } }] } }`,
    status: 'Degraded',
    message: /OOMKilled/
  },
  {
    name: 'Pod Running and Ready → Healthy',
    yaml: `{ apiVersion: v1, kind: Pod, metadata: { name: p }, status: { phase: Running, conditions: [{ type: Ready, status: "True" }] } }`,
    status: 'Healthy'
  },
  {
    name: 'Pod Running, not ready, after a crash → Degraded',
    yaml: `{ apiVersion: v1, kind: Pod, metadata: { name: p }, status: { phase: Running, conditions: [{ type: Ready, status: "False" }], containerStatuses: [{ name: app, restartCount: 1, lastState: { terminated: { exitCode: 1 } } }] } }`,
    status: 'Degraded',
    message: /container app/
  },
  {
    name: 'Pod Running, not ready yet → Progressing',
    yaml: `{ apiVersion: v1, kind: Pod, metadata: { name: p }, status: { phase: Running, conditions: [{ type: Ready, status: "False" }] } }`,
    status: 'Progressing'
  },
  {
    name: 'Pod Pending → Progressing',
    yaml: `{ apiVersion: v1, kind: Pod, metadata: { name: p }, status: { phase: Pending } }`,
    status: 'Progressing'
  },
  {
    name: 'Pod restartPolicy Never, Running and Ready → Progressing until it completes',
    yaml: `{ apiVersion: v1, kind: Pod, metadata: { name: p }, spec: { restartPolicy: Never }, status: { phase: Running, conditions: [{ type: Ready, status: "True" }] } }`,
    status: 'Progressing',
    message: /complete/
  },
  // Job
  {
    name: 'Job Complete=True → Healthy',
    yaml: `{ apiVersion: batch/v1, kind: Job, metadata: { name: j }, status: { conditions: [{ type: Complete, status: "True" }] } }`,
    status: 'Healthy'
  },
  {
    name: 'Job Failed=True → Degraded',
    yaml: `{ apiVersion: batch/v1, kind: Job, metadata: { name: j }, status: { conditions: [{ type: Failed, status: "True", reason: BackoffLimitExceeded, message: "Job has reached the specified backoff limit" }] } }`,
    status: 'Degraded',
    message: /BackoffLimitExceeded/
  },
  {
    name: 'Job FailureTarget=True → Degraded',
    yaml: `{ apiVersion: batch/v1, kind: Job, metadata: { name: j }, status: { conditions: [{ type: FailureTarget, status: "True", reason: DeadlineExceeded }] } }`,
    status: 'Degraded',
    message: /DeadlineExceeded/
  },
  {
    name: 'Job suspended → Suspended',
    yaml: `{ apiVersion: batch/v1, kind: Job, metadata: { name: j }, spec: { suspend: true }, status: { conditions: [{ type: Suspended, status: "True" }] } }`,
    status: 'Suspended'
  },
  {
    name: 'Job running → Progressing with counts',
    yaml: `{ apiVersion: batch/v1, kind: Job, metadata: { name: j }, status: { active: 1 } }`,
    status: 'Progressing',
    message: /1 active, 0 succeeded/
  },
  // Others
  {
    name: 'ConfigMap → Healthy on apply',
    yaml: `{ apiVersion: v1, kind: ConfigMap, metadata: { name: c } }`,
    status: 'Healthy'
  },
  {
    name: 'CronJob → Healthy on apply',
    yaml: `{ apiVersion: batch/v1, kind: CronJob, metadata: { name: c } }`,
    status: 'Healthy'
  },
  {
    name: 'PodDisruptionBudget → Healthy on apply',
    yaml: `{ apiVersion: policy/v1, kind: PodDisruptionBudget, metadata: { name: c } }`,
    status: 'Healthy'
  },
  {
    name: 'Service ClusterIP → Healthy',
    yaml: `{ apiVersion: v1, kind: Service, metadata: { name: s }, spec: { type: ClusterIP } }`,
    status: 'Healthy'
  },
  {
    name: 'Service LoadBalancer without the opt-in → Healthy',
    yaml: `{ apiVersion: v1, kind: Service, metadata: { name: s }, spec: { type: LoadBalancer }, status: {} }`,
    status: 'Healthy'
  },
  {
    name: 'Service LoadBalancer opted in, no address → Progressing',
    yaml: `{ apiVersion: v1, kind: Service, metadata: { name: s }, spec: { type: LoadBalancer }, status: {} }`,
    ctx: { waitForLoadBalancers: true },
    status: 'Progressing'
  },
  {
    name: 'Service LoadBalancer opted in, with an address → Healthy',
    yaml: `{ apiVersion: v1, kind: Service, metadata: { name: s }, spec: { type: LoadBalancer }, status: { loadBalancer: { ingress: [{ ip: 10.0.0.1 }] } } }`,
    ctx: { waitForLoadBalancers: true },
    status: 'Healthy'
  },
  {
    name: 'Ingress opted in, no address → Progressing',
    yaml: `{ apiVersion: networking.k8s.io/v1, kind: Ingress, metadata: { name: i }, status: {} }`,
    ctx: { waitForLoadBalancers: true },
    status: 'Progressing'
  },
  {
    name: 'PVC Bound → Healthy',
    yaml: `{ apiVersion: v1, kind: PersistentVolumeClaim, metadata: { name: c }, status: { phase: Bound } }`,
    status: 'Healthy'
  },
  {
    name: 'PVC Lost → Degraded',
    yaml: `{ apiVersion: v1, kind: PersistentVolumeClaim, metadata: { name: c }, status: { phase: Lost } }`,
    status: 'Degraded'
  },
  {
    name: 'PVC Pending → Progressing',
    yaml: `{ apiVersion: v1, kind: PersistentVolumeClaim, metadata: { name: c }, status: { phase: Pending } }`,
    status: 'Progressing'
  },
  {
    name: 'PVC Pending with WaitForFirstConsumer → Healthy',
    yaml: `{ apiVersion: v1, kind: PersistentVolumeClaim, metadata: { name: c }, status: { phase: Pending } }`,
    ctx: { pvcWaitForFirstConsumer: true },
    status: 'Healthy'
  },
  {
    name: 'CRD Established → Healthy',
    yaml: `{ apiVersion: apiextensions.k8s.io/v1, kind: CustomResourceDefinition, metadata: { name: a.b }, status: { conditions: [{ type: Established, status: "True" }] } }`,
    status: 'Healthy'
  },
  {
    name: 'CRD NamesAccepted=False within the grace → Progressing',
    yaml: `{ apiVersion: apiextensions.k8s.io/v1, kind: CustomResourceDefinition, metadata: { name: a.b }, status: { conditions: [{ type: NamesAccepted, status: "False", reason: NameConflict, lastTransitionTime: "${justNow}" }] } }`,
    status: 'Progressing'
  },
  {
    name: 'CRD NamesAccepted=False past the grace → Degraded',
    yaml: `{ apiVersion: apiextensions.k8s.io/v1, kind: CustomResourceDefinition, metadata: { name: a.b }, status: { conditions: [{ type: NamesAccepted, status: "False", reason: NameConflict, message: "plural is taken", lastTransitionTime: "${longAgo}" }] } }`,
    status: 'Degraded',
    message: /NameConflict: plural is taken/
  },
  {
    name: 'CRD Established=False while Installing → Progressing',
    yaml: `{ apiVersion: apiextensions.k8s.io/v1, kind: CustomResourceDefinition, metadata: { name: a.b }, status: { conditions: [{ type: Established, status: "False", reason: Installing, lastTransitionTime: "${longAgo}" }] } }`,
    status: 'Progressing'
  },
  {
    name: 'APIService Available=True → Healthy',
    yaml: `{ apiVersion: apiregistration.k8s.io/v1, kind: APIService, metadata: { name: v1.x }, status: { conditions: [{ type: Available, status: "True" }] } }`,
    status: 'Healthy'
  },
  {
    name: 'APIService not available → Progressing',
    yaml: `{ apiVersion: apiregistration.k8s.io/v1, kind: APIService, metadata: { name: v1.x }, status: { conditions: [{ type: Available, status: "False" }] } }`,
    status: 'Progressing'
  },
  {
    name: 'HPA failing to get metrics → Healthy with a warning (warn only)',
    yaml: `{ apiVersion: autoscaling/v2, kind: HorizontalPodAutoscaler, metadata: { name: h }, status: { conditions: [{ type: ScalingActive, status: "False", reason: FailedGetResourceMetric }] } }`,
    status: 'Healthy',
    warning: /FailedGetResourceMetric/
  },
  {
    name: 'Namespace Active → Healthy',
    yaml: `{ apiVersion: v1, kind: Namespace, metadata: { name: n }, status: { phase: Active } }`,
    status: 'Healthy'
  },
  {
    name: 'Namespace Terminating → Degraded',
    yaml: `{ apiVersion: v1, kind: Namespace, metadata: { name: n, deletionTimestamp: "${longAgo}" }, status: { phase: Terminating } }`,
    status: 'Degraded',
    message: /terminating/
  },
  // Custom resources
  {
    name: 'custom resource Ready=True → Healthy',
    yaml: `{ apiVersion: example.com/v1, kind: Thing, metadata: { name: t, generation: 2 }, status: { conditions: [{ type: Ready, status: "True", observedGeneration: 2 }] } }`,
    status: 'Healthy'
  },
  {
    name: 'custom resource Ready for an older generation → Progressing',
    yaml: `{ apiVersion: example.com/v1, kind: Thing, metadata: { name: t, generation: 3 }, status: { conditions: [{ type: Ready, status: "True", observedGeneration: 2 }] } }`,
    status: 'Progressing'
  },
  {
    name: 'custom resource Ready=False → Progressing',
    yaml: `{ apiVersion: example.com/v1, kind: Thing, metadata: { name: t }, status: { conditions: [{ type: Ready, status: "False", reason: Provisioning }] } }`,
    status: 'Progressing',
    message: /Provisioning/
  },
  {
    name: 'custom resource Ready=False with a failure reason → Degraded',
    yaml: `{ apiVersion: example.com/v1, kind: Thing, metadata: { name: t }, status: { conditions: [{ type: Ready, status: "False", reason: ReconciliationFailed, message: "boom" }] } }`,
    status: 'Degraded',
    message: /ReconciliationFailed: boom/
  },
  {
    name: 'custom resource without conditions → Healthy, not assessed',
    yaml: `{ apiVersion: example.com/v1, kind: Thing, metadata: { name: t } }`,
    status: 'Healthy',
    notAssessed: true
  },
  {
    name: 'built-in kind without a rule → Healthy, assessed',
    yaml: `{ apiVersion: v1, kind: ServiceAccount, metadata: { name: s } }`,
    status: 'Healthy',
    notAssessed: false
  }
]

describe('computeStatus', () => {
  it.each(rows)('$name', (row) => expectStatus(row))

  it('reports Missing right after apply and Degraded once missing for 30 s', () => {
    expect(computeStatus(undefined, { now, missingSince: now - 1_000 }).status).toBe('Missing')
    expect(computeStatus(undefined, { now, missingSince: now - 31_000 })).toMatchObject({
      status: 'Degraded',
      message: /not found 31s/
    })
  })
})
