/**
 * The watch window inside the deploy engine, over the in-memory cluster: a degraded window is
 * rolled back like a failed rollout and reported "degraded N s after healthy" with its
 * evidence; a window that holds leaves the deploy as it was; no window (watch 0, a dry run, no
 * changed workload) opens no stream; a window that cannot fit in the cluster's time fails up
 * front instead of being cut short.
 */
import { describe, expect, it } from '@jest/globals'
import { deployWithClient } from '../../src/deploy/cluster/deploy.js'
import type { DeployClusterOptions } from '../../src/deploy/cluster/types.js'
import type { WatchSettings } from '../../src/deploy/cluster/watch.js'
import { keyOf } from '../../src/k8s/identity.js'
import type { KubeObject, WatchEvent, WatchRequest } from '../../src/k8s/types.js'
import { FakeCluster, fakeClock } from './fake-cluster.js'
import { expectOutcome, fastOptions, manifestsFrom } from './helpers.js'
import { pod } from './watch-fakes.js'

const healthy = (o: KubeObject): KubeObject =>
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

const app = (image: string, configValue = '1') =>
  manifestsFrom(`
apiVersion: v1
kind: ConfigMap
metadata: { name: cfg, namespace: app }
data: { value: "${configValue}" }
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

/** The in-memory cluster with watch streams: each stream sends what `script` gives its kind, then stays open. */
class WatchingCluster extends FakeCluster {
  readonly watched: string[] = []
  script: (kind: string) => WatchEvent[] = () => []

  async watch(
    _apiVersion: string,
    kind: string,
    request: WatchRequest
  ): Promise<AsyncIterable<WatchEvent>> {
    this.watched.push(
      `${kind} ${request.namespace ?? ''} ${request.labelSelector ?? request.fieldSelector ?? ''}`
    )
    const events = this.script(kind)
    return {
      async *[Symbol.asyncIterator]() {
        for (const e of events) yield e
        if (request.signal?.aborted) return
        await new Promise<void>((resolve) =>
          request.signal?.addEventListener('abort', () => resolve())
        )
      }
    }
  }
}

const window = (over: Partial<WatchSettings> = {}): WatchSettings => ({
  windowMs: 60_000,
  maxRestarts: 0,
  maxWarnings: 5,
  ...over
})

function options(over: Partial<DeployClusterOptions> = {}) {
  return fastOptions({ clock: fakeClock(), timeoutMs: 300_000, ...over })
}

const image = (cluster: FakeCluster) =>
  (
    cluster.objects.get(
      keyOf({ apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'app', name: 'web' })
    )?.spec as { template: { spec: { containers: { image: string }[] } } }
  ).template.spec.containers[0].image

describe('the watch window in the deploy engine', () => {
  it('rolls a degraded release back to what ran before and reports when and why', async () => {
    const cluster = new WatchingCluster()
    cluster.controller = healthy
    expect((await deployWithClient(cluster, app('web:1'), options())).outcome).toBe('changed')
    cluster.script = (kind) =>
      kind === 'Pod'
        ? [
            { type: 'ADDED', object: pod('web-2a', { ns: 'app' }) },
            {
              type: 'MODIFIED',
              object: pod('web-2a', {
                ns: 'app',
                ready: false,
                restarts: 1,
                waiting: { reason: 'CrashLoopBackOff' },
                last: { reason: 'Error', exitCode: 1 }
              })
            }
          ]
        : []
    const o = options({ watch: window() })
    const result = await deployWithClient(cluster, app('web:2', '2'), o)
    expectOutcome(result, o, 'rolled-back')
    // This clock's sleeps pass at once, so how long after healthy is not meaningful here
    // (./watch.test.ts times it); what matters is the report's shape.
    expect(result.reason).toMatch(
      /^degraded \d+ s after healthy: Pod\/app\/web-2a container web: CrashLoopBackOff \(restarts 0→1, more than watch-max-restarts \(0\); last run exited with code 1 \(Error\)\); rolled back$/
    )
    expect(result.degraded).toEqual({
      afterMs: expect.any(Number) as unknown,
      evidence: [
        {
          object: 'Pod/app/web-2a',
          workload: 'Deployment/app/web',
          container: 'web',
          reason: 'CrashLoopBackOff',
          detail:
            'restarts 0→1, more than watch-max-restarts (0); last run exited with code 1 (Error)'
        }
      ]
    })
    expect(result.failures).toEqual([
      {
        object: 'Deployment/app/web',
        pod: 'web-2a',
        container: 'web',
        reason: 'CrashLoopBackOff',
        message:
          'restarts 0→1, more than watch-max-restarts (0); last run exited with code 1 (Error)',
        events: []
      }
    ])
    expect(image(cluster)).toBe('web:1')
    expect(cluster.watched).toEqual(['Deployment app ', 'Pod app ', 'Event app type=Warning'])
    expect(o.log.text()).toContain('fake: healthy; watching Deployment/app/web for 1m')
  })

  it('leaves a release that holds deployed, and opens no stream without a window, in a dry run, or when no workload changed', async () => {
    const cluster = new WatchingCluster()
    cluster.controller = healthy
    cluster.script = (kind) =>
      kind === 'Pod' ? [{ type: 'ADDED', object: pod('web-1', { ns: 'app' }) }] : []
    const held = options({ watch: window() })
    expectOutcome(await deployWithClient(cluster, app('web:1'), held), held, 'changed')
    expect(held.log.text()).toContain('the watch window of 1m passed')
    expect(cluster.watched).toHaveLength(3)

    cluster.watched.length = 0
    const off = options({ watch: window({ windowMs: 0 }) })
    expectOutcome(await deployWithClient(cluster, app('web:2'), off), off, 'changed')
    expectOutcome(await deployWithClient(cluster, app('web:3'), options()), off, 'changed')
    const dry = options({ watch: window(), dryRun: true })
    expectOutcome(await deployWithClient(cluster, app('web:4'), dry), dry, 'changed')
    // Only the ConfigMap changes: no workload to watch.
    const config = options({ watch: window() })
    expectOutcome(await deployWithClient(cluster, app('web:3', 'x'), config), config, 'changed')
    expect(cluster.watched).toEqual([])
    expect(config.log.text()).not.toContain('watching')
  })

  it('fails, and rolls back, when the window no longer fits in the time the cluster has left', async () => {
    const cluster = new WatchingCluster()
    cluster.controller = healthy
    const clock = fakeClock()
    const o = options({ clock, timeoutMs: 120_000, watch: window({ windowMs: 100_000 }) })
    // The rollout itself takes 30 s of the cluster's 120 s.
    const slow = cluster.controller
    let reads = 0
    cluster.controller = (obj) => {
      if (obj.kind === 'Deployment' && reads++ === 0) clock.advance(30_000)
      return slow(obj)
    }
    const result = await deployWithClient(cluster, app('web:1'), o)
    expectOutcome(result, o, 'rolled-back')
    expect(result.reason).toMatch(
      /^the watch window of 100s does not fit in the 9\d s left of the cluster's timeout of 2m \(the rollout took 3\d s\): raise timeout or shorten watch; rolled back$/
    )
    expect(result.degraded).toBeUndefined()
    expect(cluster.watched).toEqual([])
  })
})
