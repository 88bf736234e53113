/** The deploy engine over an in-memory cluster: writes, waits, heartbeats, rollback, aborts. */
import { describe, expect, it } from '@jest/globals'
import { deployWithClient } from '../../src/deploy/cluster/deploy.js'
import { KubeApiError, type KubeEvent, type KubeObject } from '../../src/k8s/types.js'
import { KubeConfig } from '@kubernetes/client-node'
import { createServer } from 'node:net'
import type { AddressInfo } from 'node:net'
import { deployCluster } from '../../src/deploy/cluster/deploy.js'
import { FakeCluster, fakeClock } from './fake-cluster.js'
import { expectOutcome, fastOptions, manifestsFrom } from './helpers.js'

const healthyDeployment = (o: KubeObject): KubeObject =>
  o.kind === 'Deployment'
    ? {
        ...o,
        status: {
          observedGeneration: o.metadata.generation,
          replicas: 1,
          updatedReplicas: 1,
          availableReplicas: 1,
          conditions: [
            { type: 'Progressing', status: 'True', reason: 'NewReplicaSetAvailable' },
            { type: 'Available', status: 'True' }
          ]
        }
      }
    : o

const app = (data: string, image = 'web:1') =>
  manifestsFrom(`
apiVersion: v1
kind: ConfigMap
metadata: { name: cfg, namespace: app }
data: { value: "${data}" }
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: web, namespace: app }
spec:
  replicas: 1
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec: { containers: [{ name: web, image: "${image}" }] }
`)

describe('deployWithClient', () => {
  it('writes changed objects only: a second identical run makes no write', async () => {
    const cluster = new FakeCluster()
    cluster.controller = healthyDeployment
    const first = await deployWithClient(cluster, app('1'), fastOptions({ clock: fakeClock() }))
    expect(first.outcome).toBe('changed')
    expect(cluster.writes).toHaveLength(2)
    const second = await deployWithClient(cluster, app('1'), fastOptions({ clock: fakeClock() }))
    expect(second.outcome).toBe('unchanged')
    expect(cluster.writes).toHaveLength(2)
    const third = await deployWithClient(cluster, app('2'), fastOptions({ clock: fakeClock() }))
    expect(third.changes.map((c) => `${c.kind}:${c.action}`)).toEqual([
      'ConfigMap:configured',
      'Deployment:unchanged'
    ])
    expect(third.changes[0].diff).toContain('+   value: "2"')
  })

  it('defaults the namespace and adds the run labels and annotations', async () => {
    const cluster = new FakeCluster()
    await deployWithClient(
      cluster,
      manifestsFrom('{ apiVersion: v1, kind: ConfigMap, metadata: { name: plain } }'),
      fastOptions({
        clock: fakeClock(),
        labels: { 'applyset.kubernetes.io/part-of': 'x' },
        annotations: { 'kit.dev/commit': 'abc' }
      })
    )
    const stored = cluster.objects.get('|ConfigMap|default|plain')
    expect(stored?.metadata).toMatchObject({
      labels: { 'applyset.kubernetes.io/part-of': 'x' },
      annotations: { 'kit.dev/commit': 'abc' }
    })
  })

  it('prints a heartbeat at least every heartbeatMs while waiting, then times out', async () => {
    const cluster = new FakeCluster()
    const clock = fakeClock()
    cluster.controller = (o) =>
      o.kind === 'Deployment'
        ? { ...o, status: { observedGeneration: 1, replicas: 1, updatedReplicas: 0 } }
        : o
    const options = fastOptions({
      clock,
      timeoutMs: 60_000,
      pollMs: 2_000,
      heartbeatMs: 10_000,
      rollbackOnFailure: false
    })
    const times: number[] = []
    const info = options.log.info
    options.log.info = (m) => {
      if (m.includes('waiting for 1 of 2 objects')) times.push(clock.now())
      info(m)
    }
    const result = await deployWithClient(cluster, app('1'), options)
    expect(result.outcome).toBe('failed')
    expect(result.failures[0]).toMatchObject({ object: 'Deployment/app/web', reason: 'Timeout' })
    expect(result.failures[0].message).toMatch(/timed out after 60s: 0\/1 updated/)
    expect(times.length).toBeGreaterThanOrEqual(5)
    const gaps = times.slice(1).map((t, i) => t - times[i])
    expect(Math.max(...gaps)).toBeLessThanOrEqual(10_000 + 2_000)
    expect(options.log.text()).toContain('Deployment/app/web 0/1 updated')
  })

  it('rolls back on failure: previous spec re-applied, objects created by the run deleted', async () => {
    const cluster = new FakeCluster()
    cluster.controller = healthyDeployment
    await deployWithClient(cluster, app('1'), fastOptions({ clock: fakeClock() }))
    cluster.writes = []
    // The new image never progresses: the controller reports the deadline as exceeded.
    cluster.controller = (o) =>
      o.kind === 'Deployment' && JSON.stringify(o.spec).includes('web:2')
        ? {
            ...o,
            status: {
              observedGeneration: o.metadata.generation,
              conditions: [
                {
                  type: 'Progressing',
                  status: 'False',
                  reason: 'ProgressDeadlineExceeded',
                  message: 'ReplicaSet "web-2" has timed out progressing.'
                }
              ]
            }
          }
        : healthyDeployment(o)
    const manifests = [
      ...app('2', 'web:2'),
      ...manifestsFrom(
        '{ apiVersion: v1, kind: Secret, metadata: { name: new-secret, namespace: app }, stringData: { token: very-secret-value } }'
      )
    ]
    const options = fastOptions({ clock: fakeClock() })
    const result = await deployWithClient(cluster, manifests, options)
    expect(result.outcome).toBe('rolled-back')
    expect(result.rolledBack).toBe(true)
    expect(result.failures[0]).toMatchObject({
      object: 'Deployment/app/web',
      reason: 'ProgressDeadlineExceeded'
    })
    expect(result.reason).toMatch(/ProgressDeadlineExceeded.*; rolled back$/)
    expect(cluster.objects.get('|Secret|app|new-secret')).toBeUndefined()
    expect(cluster.objects.get('|ConfigMap|app|cfg')?.data).toEqual({ value: '1' })
    expect(JSON.stringify(cluster.objects.get('apps|Deployment|app|web')?.spec)).toContain('web:1')
    // Newest first: the Deployment, then the config stage in reverse.
    expect(cluster.writes.slice(-3)).toEqual([
      'apply apps|Deployment|app|web',
      'delete |Secret|app|new-secret',
      'apply |ConfigMap|app|cfg'
    ])
    expect(JSON.stringify(result) + options.log.text()).not.toContain('very-secret-value')
  })

  it('fails without writing anything when a kind is unknown to the cluster', async () => {
    const cluster = new FakeCluster()
    const result = await deployWithClient(
      cluster,
      [
        ...app('1'),
        ...manifestsFrom(
          '{ apiVersion: example.com/v1, kind: Gadget, metadata: { name: g, namespace: app } }'
        )
      ],
      fastOptions({ clock: fakeClock() })
    )
    expect(result.outcome).toBe('failed')
    expect(result.reason).toMatch(/unknown kind Gadget/)
    expect(cluster.writes).toEqual([])
  })

  it('refuses an immutable-field change of a non-Job with a clear message', async () => {
    const cluster = new FakeCluster()
    cluster.seed({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'svc', namespace: 'app' },
      spec: { clusterIP: '10.0.0.1' }
    })
    cluster.validate = (o, live) => {
      if (
        live &&
        o.kind === 'Service' &&
        (o.spec as { clusterIP?: string }).clusterIP !==
          (live.spec as { clusterIP?: string }).clusterIP
      )
        throw new KubeApiError(
          'Service "svc" is invalid: spec.clusterIPs[0]: Invalid value: field is immutable',
          422,
          'Invalid',
          [{ field: 'spec.clusterIPs[0]', message: 'field is immutable' }]
        )
    }
    const result = await deployWithClient(
      cluster,
      manifestsFrom(
        '{ apiVersion: v1, kind: Service, metadata: { name: svc, namespace: app }, spec: { clusterIP: 10.0.0.2 } }'
      ),
      fastOptions({ clock: fakeClock() })
    )
    expect(result.outcome).toBe('failed')
    expect(result.failures[0].message).toMatch(
      /immutable field changed: spec\.clusterIPs\[0\]; kit does not delete and recreate a Service/
    )
  })

  it('stops waiting when aborted, and rolls back without waiting', async () => {
    const cluster = new FakeCluster()
    const controller = new AbortController()
    let reads = 0
    cluster.controller = (o) => {
      if (o.kind === 'Deployment' && ++reads === 3)
        controller.abort(new Error('cluster timeout (fleet)'))
      return o.kind === 'Deployment'
        ? { ...o, status: { observedGeneration: 1, replicas: 1, updatedReplicas: 0 } }
        : o
    }
    const options = fastOptions({ clock: fakeClock(), signal: controller.signal })
    const result = await deployWithClient(cluster, app('1'), options)
    expect(result.outcome).toBe('rolled-back')
    expect(result.failures[0]).toMatchObject({ reason: 'Aborted' })
    expect(result.failures[0].message).toMatch(/cluster timeout \(fleet\)/)
    expect(options.log.text()).toContain('not waited for')
    expect(cluster.objects.size).toBe(0)
  })

  it('returns diffs and writes nothing in a dry run', async () => {
    const cluster = new FakeCluster()
    cluster.controller = healthyDeployment
    await deployWithClient(cluster, app('1'), fastOptions({ clock: fakeClock() }))
    cluster.writes = []
    const result = await deployWithClient(
      cluster,
      app('2'),
      fastOptions({ clock: fakeClock(), dryRun: true })
    )
    expect(result.outcome).toBe('changed')
    expect(result.changes.find((c) => c.kind === 'ConfigMap')?.diff).toContain(
      '-   value: "1"\n+   value: "2"'
    )
    expect(cluster.writes).toEqual([])
  })

  it('reports failing pods with their Warning events, scrubbed of secrets', async () => {
    const cluster = new FakeCluster()
    const options = fastOptions({ clock: fakeClock(), rollbackOnFailure: false })
    options.redactor.add('db-password-123')
    cluster.controller = (o) =>
      o.kind === 'Deployment'
        ? {
            ...o,
            status: {
              observedGeneration: o.metadata.generation,
              conditions: [
                {
                  type: 'Progressing',
                  status: 'False',
                  reason: 'ProgressDeadlineExceeded',
                  message: 'timed out'
                }
              ]
            }
          }
        : o
    cluster.listEvents = async (
      _ns: string,
      involved?: { kind: string; name: string }
    ): Promise<KubeEvent[]> =>
      involved?.kind === 'Deployment'
        ? [
            {
              type: 'Normal',
              reason: 'ScalingReplicaSet',
              message: 'scaled up',
              involvedObject: { kind: 'Deployment', name: 'web' },
              count: 1,
              lastTime: '2026-01-01T00:00:01Z'
            },
            {
              type: 'Warning',
              reason: 'FailedCreate',
              message: 'env DB=db-password-123 rejected by webhook',
              involvedObject: { kind: 'Deployment', name: 'web' },
              count: 3,
              lastTime: '2026-01-01T00:00:02Z'
            }
          ]
        : []
    const result = await deployWithClient(cluster, app('1'), options)
    expect(result.failures[0].events).toEqual([
      'Deployment/web: FailedCreate: env DB=*** rejected by webhook (x3)'
    ])
  })

  it('reports an unreachable cluster as failed, after a few attempts, without throwing', async () => {
    const closed = createServer()
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve))
    const port = (closed.address() as AddressInfo).port
    await new Promise((resolve) => closed.close(resolve))
    const kc = new KubeConfig()
    kc.loadFromOptions({
      clusters: [{ name: 'gone', server: `https://127.0.0.1:${port}` }],
      users: [{ name: 'u', token: 'gone-token-value' }],
      contexts: [{ name: 'gone', cluster: 'gone', user: 'u' }],
      currentContext: 'gone'
    })
    const options = fastOptions()
    const result = await deployCluster({ name: 'gone', kubeConfig: kc }, app('1'), options)
    expect(result.outcome).toBe('failed')
    expect(result.reason).toMatch(/cluster "gone" is unreachable \(ECONNREFUSED\) after 3 attempts/)
    expect(result.failures[0]).toMatchObject({ reason: 'Unreachable' })
    expect(options.log.text()).toMatch(/retry 2 in/)
  })

  it('applies a dependent only after what it depends on is healthy (kit.dev/depends-on)', async () => {
    const cluster = new FakeCluster()
    let jobReads = 0
    const order: string[] = []
    cluster.controller = (o) => {
      if (o.kind !== 'Job') return healthyDeployment(o)
      jobReads++
      return jobReads >= 3
        ? { ...o, status: { conditions: [{ type: 'Complete', status: 'True' }] } }
        : { ...o, status: { active: 1 } }
    }
    const apply = cluster.apply.bind(cluster)
    cluster.apply = async (object, options) => {
      if (!options?.dryRun)
        order.push(`${object.kind}${object.kind === 'Deployment' ? `@jobReads=${jobReads}` : ''}`)
      return apply(object, options)
    }
    const manifests = manifestsFrom(`
apiVersion: batch/v1
kind: Job
metadata: { name: migrate, namespace: app }
spec: { template: { spec: { restartPolicy: Never, containers: [{ name: m, image: m:1 }] } } }
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: web, namespace: app, annotations: { kit.dev/depends-on: Job/migrate } }
spec:
  replicas: 1
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec: { containers: [{ name: web, image: web:1 }] }
`)
    const options = fastOptions({ clock: fakeClock() })
    const result = await deployWithClient(cluster, manifests, options)
    expectOutcome(result, options, 'changed')
    expect(order).toEqual(['Job', 'Deployment@jobReads=3'])
  })
})
