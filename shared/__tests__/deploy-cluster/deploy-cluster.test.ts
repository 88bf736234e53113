/** The deploy engine over an in-memory cluster: writes, waits, heartbeats, rollback, aborts. */
import { describe, expect, it } from '@jest/globals'
import { deployWithClient } from '../../src/deploy/cluster/deploy.js'
import { appliedHashAnnotation, withoutAppliedHash } from '../../src/k8s/change.js'
import {
  ClusterUnreachableError,
  KubeApiError,
  type KubeEvent,
  type KubeObject
} from '../../src/k8s/types.js'
import { KubeConfig } from '@kubernetes/client-node'
import { createServer } from 'node:net'
import type { AddressInfo } from 'node:net'
import { deployCluster } from '../../src/deploy/cluster/deploy.js'
import { FakeCluster, fakeClock } from './fake-cluster.js'
import { expectOutcome, fastOptions, manifestsFrom } from './helpers.js'
import type { Manifest } from '../../src/deploy/cluster/types.js'

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

/** A Namespace and two ConfigMaps in it: two dependency depths. */
function namespaceAndTwoConfigMaps(): Manifest[] {
  return manifestsFrom(`
apiVersion: v1
kind: Namespace
metadata: { name: fresh }
---
apiVersion: v1
kind: ConfigMap
metadata: { name: a, namespace: fresh }
---
apiVersion: v1
kind: ConfigMap
metadata: { name: b, namespace: fresh }
`)
}

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
    expect(third.changes[0].diff).toContain("+   value: '2'")
  })

  it('shows a created object whole as its diff, rendered when first read, Secret values masked', async () => {
    const cluster = new FakeCluster()
    const options = fastOptions({ clock: fakeClock() })
    const result = await deployWithClient(
      cluster,
      manifestsFrom(`
apiVersion: v1
kind: ConfigMap
metadata: { name: settings, namespace: app }
data: { mode: fast }
---
apiVersion: v1
kind: Secret
metadata: { name: creds, namespace: app }
stringData: { token: created-secret-value }
`),
      options
    )
    expect(result.changes.map((c) => `${c.kind}:${c.action}`)).toEqual([
      'ConfigMap:created',
      'Secret:created'
    ])
    // Not rendered by the deploy: only a reader (the step summary) pays for it.
    for (const c of result.changes)
      expect(typeof Object.getOwnPropertyDescriptor(c, 'diff')?.get).toBe('function')
    const [config, secret] = result.changes
    expect(config.diff).toContain('+ kind: ConfigMap')
    expect(config.diff).toContain('+   mode: fast')
    expect(config.diff).toBe(config.diff)
    expect(secret.diff).toContain('+ kind: Secret')
    expect(secret.diff).not.toContain('created-secret-value')
    expect(JSON.stringify(result.changes)).not.toContain('created-secret-value')
    expect(JSON.parse(JSON.stringify(result.changes))[0].diff).toBe(config.diff)
  })

  it('reads before its write gate opens, and writes nothing when it stays shut', async () => {
    for (const dryRun of [false, true]) {
      const cluster = new FakeCluster()
      const seen: string[][] = []
      const result = await deployWithClient(
        cluster,
        app('1'),
        fastOptions({
          clock: fakeClock(),
          dryRun,
          writeGate: async () => {
            seen.push([...cluster.requests])
            return false
          }
        })
      )
      expect(result.outcome).toBe('skipped')
      expect(seen).toHaveLength(1)
      expect(seen[0]).toEqual(['get |ConfigMap|app|cfg', 'get apps|Deployment|app|web'])
      expect(cluster.requests.filter((r) => /^(apply|dry-run|delete) /.test(r))).toEqual([])
      expect(cluster.writes).toEqual([])
    }
    const cluster = new FakeCluster()
    const opened = await deployWithClient(
      cluster,
      app('1'),
      fastOptions({ clock: fakeClock(), wait: false, writeGate: async () => true })
    )
    expect(opened.outcome).toBe('changed')
    expect(cluster.writes).toHaveLength(2)
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

  it("ends the wait at the cluster's deadline when the caller gives one (time spent before the engine counts)", async () => {
    const cluster = new FakeCluster()
    const clock = fakeClock()
    cluster.controller = (o) =>
      o.kind === 'Deployment'
        ? { ...o, status: { observedGeneration: 1, replicas: 1, updatedReplicas: 0 } }
        : o
    // The cluster started 45 s ago (lock, discovery): 15 s of its 60 s are left.
    const started = clock.now()
    const options = fastOptions({
      clock,
      timeoutMs: 60_000,
      deadlineAt: started + 15_000,
      pollMs: 2_000,
      rollbackOnFailure: false
    })
    const result = await deployWithClient(cluster, app('1'), options)
    expect(result.outcome).toBe('failed')
    expect(clock.now() - started).toBeGreaterThanOrEqual(15_000)
    expect(clock.now() - started).toBeLessThan(20_000)
    // Reported against the cluster's timeout, which is what ran out.
    expect(result.failures[0].message).toMatch(/timed out after 60s: 0\/1 updated/)
  })

  it('a poll cut off by a client bounded by the same deadline is still a wait timeout, described', async () => {
    const cluster = new FakeCluster()
    const clock = fakeClock()
    cluster.controller = (o) =>
      o.kind === 'Deployment'
        ? { ...o, status: { observedGeneration: 1, replicas: 1, updatedReplicas: 0 } }
        : o
    const deadlineAt = clock.now() + 60_000
    const reporterAt: (number | undefined)[] = []
    // The client as the fleet makes it: no request once the deadline is reached; its detached
    // sibling (the reporter, the rollback) has a budget of its own.
    const bounded = new Proxy(cluster, {
      get(target, key, receiver) {
        if (key === 'detached')
          return (at?: number) => {
            reporterAt.push(at)
            return cluster
          }
        const value = Reflect.get(target, key, receiver) as unknown
        if ((key !== 'get' && key !== 'list') || typeof value !== 'function') return value
        return (...args: unknown[]) =>
          clock.now() >= deadlineAt
            ? Promise.reject(
                new ClusterUnreachableError(
                  `cluster "fake": the cluster's timeout of 60s was reached before ${String(key)} was sent`,
                  'fake',
                  'DeadlineExceeded'
                )
              )
            : (value as (...a: unknown[]) => unknown).apply(target, args)
      }
    })
    const options = fastOptions({
      clock,
      timeoutMs: 60_000,
      deadlineAt,
      pollMs: 2_000,
      rollbackOnFailure: false
    })
    const result = await deployWithClient(bounded, app('1'), options)
    expect(result.failures[0]).toMatchObject({ object: 'Deployment/app/web', reason: 'Timeout' })
    expect(result.failures[0].message).toMatch(/timed out after 60s: 0\/1 updated/)
    // Described within the clean-up budget: one more timeout after the deadline at most.
    expect(reporterAt[0]).toBe(deadlineAt + 60_000)
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
      "-   value: '1'\n+   value: '2'"
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
    expect(result.reason).toBe(
      `cluster "gone" is unreachable (ECONNREFUSED 127.0.0.1:${port}) after 3 attempts`
    )
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

  it('reads live state with one list per kind and namespace, and writes nothing when nothing changed', async () => {
    const cluster = new FakeCluster()
    cluster.controller = healthyDeployment
    const manifests = [
      ...app('1'),
      ...manifestsFrom(
        '{ apiVersion: v1, kind: ConfigMap, metadata: { name: cfg2, namespace: app }, data: { b: "2" } }'
      )
    ]
    await deployWithClient(cluster, manifests, fastOptions({ clock: fakeClock() }))
    cluster.requests = []
    cluster.writes = []
    const again = await deployWithClient(cluster, manifests, fastOptions({ clock: fakeClock() }))
    expect(again.outcome).toBe('unchanged')
    expect(again.changes.map((c) => c.action)).toEqual(['unchanged', 'unchanged', 'unchanged'])
    // Two ConfigMaps: one list; one Deployment: one GET. No dry run, no apply.
    expect(cluster.requests).toEqual(['list ConfigMap app', 'get apps|Deployment|app|web'])
    expect(cluster.writes).toEqual([])
  })

  it('asks nothing about the contents of a namespace it creates once it has created it', async () => {
    const cluster = new FakeCluster()
    const result = await deployWithClient(
      cluster,
      namespaceAndTwoConfigMaps(),
      fastOptions({ clock: fakeClock(), wait: false })
    )
    expect(result.changes.map((c) => c.action)).toEqual(['created', 'created', 'created'])
    // One list per kind goes out with the Namespace's read (see the next test), nothing after.
    expect(cluster.requests).toEqual([
      'get |Namespace||fresh',
      'list ConfigMap fresh',
      'apply |Namespace||fresh',
      'apply |ConfigMap|fresh|a',
      'apply |ConfigMap|fresh|b'
    ])
  })

  it('reads an unchanged Namespace and its contents in one round, not one round per depth', async () => {
    const cluster = new FakeCluster()
    const options = fastOptions({ clock: fakeClock(), wait: false })
    await deployWithClient(cluster, namespaceAndTwoConfigMaps(), options)
    const events: string[] = []
    const get = cluster.get.bind(cluster)
    cluster.get = async (ref) => {
      events.push(`get ${ref.name}`)
      const live = await get(ref)
      events.push(`got ${ref.name}`)
      return live
    }
    const list = cluster.list.bind(cluster)
    cluster.list = async (apiVersion, kind, opts) => {
      events.push(`list ${kind}`)
      return list(apiVersion, kind, opts)
    }
    cluster.requests = []
    const again = await deployWithClient(cluster, namespaceAndTwoConfigMaps(), options)
    expect(again.outcome).toBe('unchanged')
    // The ConfigMaps' list is sent before the Namespace's answer is in.
    expect(events).toEqual(['get fresh', 'list ConfigMap', 'got fresh'])
    expect(cluster.requests).toEqual(['get |Namespace||fresh', 'list ConfigMap fresh'])
  })

  it('reads the contents of a Namespace again when the run changed the Namespace', async () => {
    const cluster = new FakeCluster()
    const options = fastOptions({ clock: fakeClock(), wait: false })
    await deployWithClient(cluster, namespaceAndTwoConfigMaps(), options)
    cluster.requests = []
    const relabelled = namespaceAndTwoConfigMaps().map((m) =>
      m.object.kind === 'Namespace'
        ? {
            ...m,
            object: { ...m.object, metadata: { ...m.object.metadata, labels: { tier: 'gold' } } }
          }
        : m
    )
    const result = await deployWithClient(cluster, relabelled, options)
    expect(result.changes.map((c) => c.action)).toEqual(['configured', 'unchanged', 'unchanged'])
    expect(cluster.requests).toEqual([
      'get |Namespace||fresh',
      'list ConfigMap fresh',
      'apply |Namespace||fresh',
      'list ConfigMap fresh'
    ])
  })

  it('warns once per cluster about progress deadlines longer than its timeout', async () => {
    const deployment = (name: string, deadline?: number) => `
apiVersion: apps/v1
kind: Deployment
metadata: { name: ${name}, namespace: app }
spec:
  ${deadline ? `progressDeadlineSeconds: ${deadline}` : 'replicas: 1'}
  selector: { matchLabels: { app: ${name} } }
  template:
    metadata: { labels: { app: ${name} } }
    spec: { containers: [{ name: c, image: 'web:1' }] }
`
    const manifests = manifestsFrom(
      ['a', 'b', 'c', 'd', 'e'].map((n) => deployment(n)).join('---') +
        '---' +
        deployment('quick', 30)
    )
    const cluster = new FakeCluster()
    cluster.controller = healthyDeployment
    const options = fastOptions({ clock: fakeClock(), timeoutMs: 120_000 })
    expectOutcome(await deployWithClient(cluster, manifests, options), options, 'changed')
    const warnings = options.log.lines.filter((l) => l.startsWith('warning:'))
    expect(warnings).toEqual([
      'warning: fake: progressDeadlineSeconds longer than the cluster timeout (120s) on 5 Deployments: Deployment/app/a (600s), Deployment/app/b (600s), Deployment/app/c (600s) and 2 more; a stalled rollout there will be reported as a timeout'
    ])
  })

  it('detects drift: a live value someone changed is set back and reported', async () => {
    const cluster = new FakeCluster()
    cluster.controller = healthyDeployment
    await deployWithClient(cluster, app('1'), fastOptions({ clock: fakeClock() }))
    // Someone edits the live objects (kubectl edit): the image and a ConfigMap value.
    const dep = cluster.objects.get('apps|Deployment|app|web') as KubeObject
    const containers = (dep.spec as { template: { spec: { containers: { image: string }[] } } })
      .template.spec.containers
    containers[0].image = 'web:hotfix'
    ;(cluster.objects.get('|ConfigMap|app|cfg') as KubeObject).data = { value: 'edited' }
    cluster.writes = []
    const result = await deployWithClient(cluster, app('1'), fastOptions({ clock: fakeClock() }))
    expect(result.outcome).toBe('changed')
    expect(result.changes.map((c) => `${c.kind}:${c.action}`)).toEqual([
      'ConfigMap:configured',
      'Deployment:configured'
    ])
    expect(result.changes[0].diff).toContain("-   value: edited\n+   value: '1'")
    expect(result.changes[1].diff).toContain('-           image: web:hotfix')
    expect(JSON.stringify(cluster.objects.get('apps|Deployment|app|web'))).toContain('"web:1"')
    expect(cluster.objects.get('|ConfigMap|app|cfg')?.data).toEqual({ value: '1' })
  })

  it('applies a field or annotation removed from the manifest', async () => {
    const cluster = new FakeCluster()
    const before = manifestsFrom(
      '{ apiVersion: v1, kind: ConfigMap, metadata: { name: c, namespace: app, annotations: { note: keep-me } }, data: { a: "1", b: "2" } }'
    )
    const after = manifestsFrom(
      '{ apiVersion: v1, kind: ConfigMap, metadata: { name: c, namespace: app }, data: { a: "1" } }'
    )
    await deployWithClient(cluster, before, fastOptions({ clock: fakeClock() }))
    const result = await deployWithClient(cluster, after, fastOptions({ clock: fakeClock() }))
    // Every field the new manifest sets is already live: only the hash tells it changed.
    expect(result.changes[0]).toMatchObject({ action: 'configured' })
    expect(result.changes[0].diff).toContain("-   b: '2'")
    expect(result.changes[0].diff).toContain('-     note: keep-me')
    expect(result.changes[0].diff).not.toContain(appliedHashAnnotation)
    const stored = cluster.objects.get('|ConfigMap|app|c') as KubeObject
    expect(stored.data).toEqual({ a: '1' })
    expect(withoutAppliedHash(stored).metadata.annotations).toBeUndefined()
  })

  it('writes only the hash on an object an older kit applied, without waiting for it', async () => {
    const cluster = new FakeCluster()
    const manifests = app('1')
    // As deployed by a kit without applied hashes; the Deployment is unhealthy now.
    cluster.seed(...manifests.map((m) => structuredClone(m.object)))
    cluster.controller = (o) =>
      o.kind === 'Deployment' ? { ...o, status: { observedGeneration: 1, updatedReplicas: 0 } } : o
    const result = await deployWithClient(cluster, manifests, fastOptions({ clock: fakeClock() }))
    expect(result.outcome).toBe('changed')
    expect(result.changes.map((c) => [c.action, c.message])).toEqual([
      ['configured', expect.stringContaining("kit's change-detection annotation")],
      ['configured', expect.stringContaining("kit's change-detection annotation")]
    ])
    expect(result.failures).toEqual([])
    cluster.requests = []
    const again = await deployWithClient(cluster, manifests, fastOptions({ clock: fakeClock() }))
    expect(again.outcome).toBe('unchanged')
    expect(cluster.requests.filter((r) => !r.startsWith('get') && !r.startsWith('list'))).toEqual(
      []
    )
  })

  it('falls back to a GET per object when a kind cannot be listed', async () => {
    const cluster = new FakeCluster()
    const list = cluster.list.bind(cluster)
    cluster.list = async (apiVersion, kind, options) => {
      if (kind === 'ConfigMap') throw new KubeApiError('configmaps is forbidden', 403, 'Forbidden')
      return list(apiVersion, kind, options)
    }
    const manifests = manifestsFrom(`
apiVersion: v1
kind: ConfigMap
metadata: { name: a, namespace: app }
data: { k: "1" }
---
apiVersion: v1
kind: ConfigMap
metadata: { name: b, namespace: app }
data: { k: "2" }
`)
    await deployWithClient(cluster, manifests, fastOptions({ clock: fakeClock() }))
    cluster.requests = []
    const again = await deployWithClient(cluster, manifests, fastOptions({ clock: fakeClock() }))
    expect(again.outcome).toBe('unchanged')
    expect(cluster.requests.sort()).toEqual(['get |ConfigMap|app|a', 'get |ConfigMap|app|b'])
  })

  it('dry-runs only what is not provably unchanged', async () => {
    const cluster = new FakeCluster()
    cluster.controller = healthyDeployment
    await deployWithClient(cluster, app('1'), fastOptions({ clock: fakeClock() }))
    cluster.requests = []
    const result = await deployWithClient(
      cluster,
      app('1', 'web:2'),
      fastOptions({ clock: fakeClock(), dryRun: true })
    )
    expect(result.changes.map((c) => `${c.kind}:${c.action}`)).toEqual([
      'ConfigMap:unchanged',
      'Deployment:configured'
    ])
    expect(
      cluster.requests.filter((r) => r.startsWith('dry-run') || r.startsWith('apply'))
    ).toEqual(['dry-run apps|Deployment|app|web'])
  })

  it('leaves a Namespace it created when rolling back, so a corrected re-run succeeds', async () => {
    const cluster = new FakeCluster()
    const withImage = (image: string) =>
      manifestsFrom(`
apiVersion: v1
kind: Namespace
metadata: { name: newapp }
---
apiVersion: v1
kind: ConfigMap
metadata: { name: cfg, namespace: newapp }
data: { a: "1" }
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: web, namespace: newapp }
spec:
  replicas: 1
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec: { containers: [{ name: web, image: "${image}" }] }
`)
    cluster.controller = (o) =>
      o.kind === 'Deployment' && JSON.stringify(o.spec).includes('bad:1')
        ? {
            ...o,
            status: {
              observedGeneration: o.metadata.generation,
              conditions: [
                { type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded' }
              ]
            }
          }
        : healthyDeployment(o)
    const options = fastOptions({ clock: fakeClock() })
    const failed = await deployWithClient(cluster, withImage('bad:1'), options)
    expect(failed.outcome).toBe('rolled-back')
    expect(cluster.objects.has('|Namespace||newapp')).toBe(true)
    expect(cluster.objects.has('|ConfigMap|newapp|cfg')).toBe(false)
    expect(cluster.objects.has('apps|Deployment|newapp|web')).toBe(false)
    expect(options.log.text()).toContain(
      'rollback: left Namespace/newapp in place (created by this run): a rollback never deletes a Namespace'
    )
    const fixed = await deployWithClient(
      cluster,
      withImage('good:1'),
      fastOptions({ clock: fakeClock() })
    )
    expect(fixed.outcome).toBe('changed')
    expect(fixed.changes.map((c) => `${c.kind}:${c.action}`)).toEqual([
      'Namespace:unchanged',
      'ConfigMap:created',
      'Deployment:created'
    ])
  })
})

describe('deployWithClient with a HorizontalPodAutoscaler in the manifests', () => {
  const scaled = (image: string, withHpa = true) =>
    manifestsFrom(`
apiVersion: apps/v1
kind: Deployment
metadata: { name: web, namespace: app }
spec:
  replicas: 2
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec: { containers: [{ name: web, image: "${image}" }] }
${
  withHpa
    ? `---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: { name: web, namespace: app }
spec:
  scaleTargetRef: { apiVersion: apps/v1, kind: Deployment, name: web }
  minReplicas: 2
  maxReplicas: 10
`
    : ''
}`)
  const key = 'apps|Deployment|app|web'
  /** A Deployment healthy at whatever count it has. */
  const healthyAtScale = (o: KubeObject): KubeObject => {
    if (o.kind !== 'Deployment') return o
    const n = (o.spec as { replicas?: number }).replicas ?? 1
    const healthy = healthyDeployment(o)
    const status = healthy.status as Record<string, unknown>
    return {
      ...healthy,
      status: { ...status, replicas: n, updatedReplicas: n, availableReplicas: n }
    }
  }
  const replicas = (cluster: FakeCluster) =>
    (cluster.objects.get(key)?.spec as { replicas?: number }).replicas
  /** The autoscaler scales the Deployment (through its scale subresource). */
  const autoscale = (cluster: FakeCluster, to: number) => {
    const live = structuredClone(cluster.objects.get(key)!)
    ;(live.spec as { replicas: number }).replicas = to
    cluster.seed(live)
  }
  /** A cluster where the Deployment was created by kit and then scaled to 5 by its HPA. */
  async function scaledToFive(): Promise<FakeCluster> {
    const cluster = new FakeCluster()
    cluster.controller = healthyAtScale
    await deployWithClient(cluster, scaled('web:1'), fastOptions({ clock: fakeClock() }))
    autoscale(cluster, 5)
    cluster.writes = []
    cluster.requests = []
    return cluster
  }

  it('creates the workload with the manifest count, and says who owns it from then on', async () => {
    const cluster = new FakeCluster()
    cluster.controller = healthyAtScale
    const options = fastOptions({ clock: fakeClock() })
    const result = await deployWithClient(cluster, scaled('web:1'), options)
    expect(result.changes.map((c) => `${c.kind}:${c.action}`)).toEqual([
      'Deployment:created',
      'HorizontalPodAutoscaler:created'
    ])
    expect(replicas(cluster)).toBe(2)
    const notices = options.log.lines.filter((l) => l.includes('replica count'))
    expect(notices).toEqual([
      "info: fake: replica count left to a HorizontalPodAutoscaler of this deploy (the manifest's spec.replicas is used only on create) for 1 workload: Deployment/app/web; remove spec.replicas from the manifest to silence this"
    ])
  })

  it('writes nothing on an unchanged redeploy: the autoscaled count is not drift', async () => {
    const cluster = await scaledToFive()
    const result = await deployWithClient(
      cluster,
      scaled('web:1'),
      fastOptions({ clock: fakeClock() })
    )
    expect(result.outcome).toBe('unchanged')
    expect(cluster.writes).toEqual([])
    expect(cluster.requests.filter((r) => !r.startsWith('list ') && !r.startsWith('get '))).toEqual(
      []
    )
    expect(replicas(cluster)).toBe(5)
  })

  it('keeps the live count when the manifest changes, and the next redeploy writes nothing', async () => {
    const cluster = await scaledToFive()
    const hashBefore = cluster.objects.get(key)?.metadata.annotations?.[appliedHashAnnotation]
    const result = await deployWithClient(
      cluster,
      scaled('web:2'),
      fastOptions({ clock: fakeClock() })
    )
    expect(result.changes.map((c) => `${c.kind}:${c.action}`)).toEqual([
      'Deployment:configured',
      'HorizontalPodAutoscaler:unchanged'
    ])
    expect(cluster.writes).toEqual([`apply ${key}`])
    expect(replicas(cluster)).toBe(5)
    const diff = result.changes[0].diff ?? ''
    expect(diff).toContain('web:2')
    expect(diff).not.toContain('replicas')
    // The hash is the manifest's as written (replicas 2), not of what was sent.
    const hashAfter = cluster.objects.get(key)?.metadata.annotations?.[appliedHashAnnotation]
    expect(hashAfter).not.toBe(hashBefore)
    cluster.writes = []
    autoscale(cluster, 7)
    const again = await deployWithClient(
      cluster,
      scaled('web:2'),
      fastOptions({ clock: fakeClock() })
    )
    expect(again.outcome).toBe('unchanged')
    expect(cluster.writes).toEqual([])
    expect(replicas(cluster)).toBe(7)
  })

  it('dry-runs with the live count: nothing to show when only the count differs', async () => {
    const cluster = await scaledToFive()
    const same = await deployWithClient(
      cluster,
      scaled('web:1'),
      fastOptions({ clock: fakeClock(), dryRun: true })
    )
    expect(same.outcome).toBe('unchanged')
    expect(cluster.requests.filter((r) => r.startsWith('dry-run '))).toEqual([])
    const changed = await deployWithClient(
      cluster,
      scaled('web:2'),
      fastOptions({ clock: fakeClock(), dryRun: true })
    )
    expect(changed.changes[0]).toMatchObject({ kind: 'Deployment', action: 'configured' })
    expect(changed.changes[0].diff).toContain('web:2')
    expect(changed.changes[0].diff).not.toContain('replicas')
    expect(cluster.writes).toEqual([])
  })

  it('sets the manifest count back when no HPA of the run targets the workload', async () => {
    const cluster = await scaledToFive()
    const result = await deployWithClient(
      cluster,
      scaled('web:1', false),
      fastOptions({ clock: fakeClock() })
    )
    expect(result.changes.map((c) => `${c.kind}:${c.action}`)).toEqual(['Deployment:configured'])
    expect(replicas(cluster)).toBe(2)
  })
})
