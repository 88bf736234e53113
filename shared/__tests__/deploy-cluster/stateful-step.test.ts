/**
 * The StatefulSet step on the in-memory cluster: when a changed StatefulSet rolls its highest
 * ordinal first and when it does not, what a failure at the step leaves untouched, and the
 * rollback that deletes the pod a StatefulSet controller would wait for forever.
 *
 * The fake plays the StatefulSet controller the way it matters here (OrderedReady): pods at or
 * above the partition move to the update revision, a Ready pod on another revision is replaced,
 * and a pod that is not Ready is never touched until someone deletes it.
 */
import { describe, expect, it } from '@jest/globals'
import { createHash } from 'node:crypto'
import { deployWithClient } from '../../src/deploy/cluster/deploy.js'
import { stepPartition } from '../../src/deploy/cluster/stateful-step.js'
import { appliedHashAnnotation } from '../../src/k8s/change.js'
import { keyOf } from '../../src/k8s/identity.js'
import type { KubeObject } from '../../src/k8s/types.js'
import { FakeCluster, fakeClock } from './fake-cluster.js'
import { fastOptions, manifestsFrom } from './helpers.js'

interface SetShape {
  readonly image?: string
  readonly replicas?: number
  readonly strategy?: string
  readonly labels?: string
}

/** The StatefulSet shop/db as a manifest. */
const db = (s: SetShape = {}) =>
  manifestsFrom(`
apiVersion: apps/v1
kind: StatefulSet
metadata: { name: db, namespace: shop${s.labels ? `, labels: { ${s.labels} }` : ''} }
spec:
  replicas: ${s.replicas ?? 3}
  serviceName: db
  selector: { matchLabels: { app: db } }
${s.strategy ? `  updateStrategy: ${s.strategy}\n` : ''}  template:
    metadata: { labels: { app: db } }
    spec: { containers: [{ name: db, image: "${s.image ?? 'db:1'}" }] }
`)

type Spec = {
  replicas?: number
  template: { spec: { containers: { image: string }[] } }
  updateStrategy?: { type?: string; rollingUpdate?: { partition?: number } }
}
const specOf = (o: KubeObject) => o.spec as Spec

/** Ready, or crash-looping when its image's tag says `crash`. */
function podFor(set: KubeObject, ordinal: number, revision: string, image: string): KubeObject {
  const ready = !image.includes('crash')
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: `db-${ordinal}`,
      namespace: 'shop',
      uid: `pod-${ordinal}-${revision}-${Math.random().toString(36).slice(2, 8)}`,
      labels: { app: 'db', 'controller-revision-hash': revision },
      ownerReferences: [
        { apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'db', uid: set.metadata.uid! }
      ]
    },
    status: ready
      ? {
          phase: 'Running',
          conditions: [{ type: 'Ready', status: 'True' }],
          containerStatuses: [{ name: 'db', ready: true, restartCount: 0, state: { running: {} } }]
        }
      : {
          phase: 'Running',
          conditions: [{ type: 'Ready', status: 'False' }],
          containerStatuses: [
            {
              name: 'db',
              ready: false,
              restartCount: 3,
              state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off restarting' } },
              lastState: { terminated: { exitCode: 1, reason: 'Error' } }
            }
          ]
        }
  }
}

/**
 * A FakeCluster whose StatefulSet controller runs on every read of the set. `history` holds
 * every pod it created, as `db-<ordinal>@<image>`.
 */
function clusterWithController() {
  const cluster = new FakeCluster()
  const images = new Map<string, string>()
  const history: string[] = []
  let current: string | undefined
  const revisionOf = (o: KubeObject) => {
    const rev = `db-${createHash('sha256')
      .update(JSON.stringify(specOf(o).template))
      .digest('hex')
      .slice(0, 8)}`
    images.set(rev, specOf(o).template.spec.containers[0].image)
    return rev
  }
  const podKey = (ordinal: number) =>
    keyOf({ apiVersion: 'v1', kind: 'Pod', namespace: 'shop', name: `db-${ordinal}` })
  cluster.controller = (o) => {
    if (o.kind !== 'StatefulSet') return o
    const spec = specOf(o)
    const rev = revisionOf(o)
    current ??= rev
    const replicas = spec.replicas ?? 1
    const onDelete = spec.updateStrategy?.type === 'OnDelete'
    const partition = spec.updateStrategy?.rollingUpdate?.partition ?? 0
    const ready = (p: KubeObject) =>
      (p.status as { conditions: { status: string }[] }).conditions[0].status === 'True'
    const create = (i: number, revision: string) => {
      const pod = podFor(o, i, revision, images.get(revision)!)
      history.push(`db-${i}@${images.get(revision)}`)
      cluster.objects.set(podKey(i), pod)
    }
    for (let i = 0; i < replicas; i++)
      if (!cluster.objects.has(podKey(i))) create(i, i >= partition ? rev : current)
    // One pod per look, highest ordinal first; a pod that is not Ready holds everything.
    for (let i = replicas - 1; i >= partition && !onDelete; i--) {
      const pod = cluster.objects.get(podKey(i))!
      if (!ready(pod)) break
      if (pod.metadata.labels?.['controller-revision-hash'] !== rev) {
        create(i, rev)
        break
      }
    }
    const pods = [...Array(replicas).keys()].map((i) => cluster.objects.get(podKey(i))!)
    const revs = pods.map((p) => p.metadata.labels!['controller-revision-hash'])
    const readyPods = pods.filter(ready).length
    if (revs.every((r) => r === rev)) current = rev
    return {
      ...o,
      status: {
        observedGeneration: o.metadata.generation,
        replicas,
        readyReplicas: readyPods,
        availableReplicas: readyPods,
        updatedReplicas: revs.filter((r) => r === rev).length,
        currentRevision: current,
        updateRevision: rev
      }
    }
  }
  /** Every body applied to the StatefulSet (dry runs included), in order. */
  const bodies: { dryRun: boolean; object: KubeObject }[] = []
  const apply = cluster.apply.bind(cluster)
  cluster.apply = async (object, options = {}) => {
    if (object.kind === 'StatefulSet')
      bodies.push({ dryRun: options.dryRun ?? false, object: structuredClone(object) })
    return apply(object, options)
  }
  const podImages = () =>
    [0, 1, 2].map((i) => {
      const p = cluster.objects.get(podKey(i))
      return p ? images.get(p.metadata.labels!['controller-revision-hash']) : undefined
    })
  return { cluster, bodies, history, podImages }
}

const partitionOf = (o: KubeObject) => specOf(o).updateStrategy?.rollingUpdate?.partition

/** A cluster where db:1 runs with the given shape, and the bodies/history from then on. */
async function running(shape: SetShape = {}) {
  const c = clusterWithController()
  const first = await deployWithClient(c.cluster, db(shape), fastOptions({ clock: fakeClock() }))
  expect(first.outcome).toBe('changed')
  c.bodies.length = 0
  c.history.length = 0
  return c
}

describe('stepPartition', () => {
  const live = (spec: Partial<Spec> = {}): KubeObject => ({
    ...db()[0].object,
    spec: { ...(db()[0].object.spec as object), ...spec }
  })
  it.each([
    ['a changed 3-replica set', db()[0].object, live(), 2],
    ['a set this run creates', db()[0].object, undefined, undefined],
    ['one replica', db({ replicas: 1 })[0].object, live(), undefined],
    [
      'OnDelete in the manifest',
      db({ strategy: '{ type: OnDelete }' })[0].object,
      live(),
      undefined
    ],
    [
      'OnDelete live, not in the manifest',
      db()[0].object,
      live({ updateStrategy: { type: 'OnDelete' } }),
      undefined
    ],
    [
      'a partition in the manifest',
      db({ strategy: '{ rollingUpdate: { partition: 1 } }' })[0].object,
      live(),
      undefined
    ],
    [
      'a partition set live by hand',
      db()[0].object,
      live({ updateStrategy: { rollingUpdate: { partition: 1 } } }),
      undefined
    ],
    [
      'partition 0 in the manifest',
      db({ strategy: '{ type: RollingUpdate, rollingUpdate: { partition: 0 } }' })[0].object,
      live(),
      2
    ],
    ['five replicas', db({ replicas: 5 })[0].object, live(), 4],
    ['a Deployment', { ...db()[0].object, kind: 'Deployment' }, live(), undefined]
  ])('%s', (_what, desired, liveObject, expected) => {
    expect(stepPartition(desired, liveObject)).toBe(expected)
  })
})

describe('the StatefulSet step in the engine', () => {
  it('rolls ordinal 2 first, then the rest, and a second identical deploy is unchanged', async () => {
    const { cluster, bodies, history, podImages } = await running()
    const options = fastOptions({ clock: fakeClock() })
    const result = await deployWithClient(cluster, db({ image: 'db:2' }), options)
    expect(result.outcome).toBe('changed')
    // The first write carries the partition and a hash of its own; the last is the manifest.
    expect(bodies.map((b) => partitionOf(b.object))).toEqual([2, undefined])
    const hashes = bodies.map((b) => b.object.metadata.annotations?.[appliedHashAnnotation])
    expect(hashes[0]).not.toBe(hashes[1])
    // Ordinal 2 moved alone first; 1 and 0 only after the last write.
    expect(history).toEqual(['db-2@db:2', 'db-1@db:2', 'db-0@db:2'])
    expect(podImages()).toEqual(['db:2', 'db:2', 'db:2'])
    const info = options.log.lines.filter((l) => l.startsWith('info: ') && l.includes('ordinal'))
    expect(info).toEqual([
      'info: fake: StatefulSet/shop/db: updating ordinal 2 first (partition 2)',
      'info: fake: StatefulSet/shop/db: ordinal 2 healthy; updating the rest'
    ])
    expect(result.changes).toEqual([
      expect.objectContaining({
        kind: 'StatefulSet',
        action: 'configured',
        message: 'ordinal 2 first (partition 2), then the rest'
      })
    ])
    expect(
      partitionOf(
        cluster.objects.get(
          keyOf({ apiVersion: 'apps/v1', kind: 'StatefulSet', namespace: 'shop', name: 'db' })
        )!
      )
    ).toBeUndefined()

    bodies.length = 0
    const again = await deployWithClient(
      cluster,
      db({ image: 'db:2' }),
      fastOptions({ clock: fakeClock() })
    )
    expect(again.outcome).toBe('unchanged')
    expect(bodies).toEqual([])
  })

  it.each([
    ['one replica', { replicas: 1 }, {}],
    ['OnDelete', { strategy: '{ type: OnDelete }' }, {}],
    ['a partition of its own', { strategy: '{ rollingUpdate: { partition: 1 } }' }, {}],
    ['stateful-step: false', {}, { statefulStep: false }],
    ['wait: false', {}, { wait: false }]
  ] as [string, SetShape, Parameters<typeof fastOptions>[0]][])(
    'writes the manifest once, as it is, with %s',
    async (_what, shape, overrides) => {
      const { cluster, bodies } = await running(shape)
      const options = fastOptions({ clock: fakeClock(), ...overrides })
      const result = await deployWithClient(cluster, db({ ...shape, image: 'db:2' }), options)
      expect(result.outcome).toBe('changed')
      expect(bodies.map((b) => partitionOf(b.object))).toEqual([partitionOf(db(shape)[0].object)])
      expect(options.log.text()).not.toContain('first (partition')
    }
  )

  it('writes nothing but the manifest for a set this run creates', async () => {
    const { cluster, bodies } = clusterWithController()
    const result = await deployWithClient(cluster, db(), fastOptions({ clock: fakeClock() }))
    expect(result.outcome).toBe('changed')
    expect(bodies.map((b) => partitionOf(b.object))).toEqual([undefined])
  })

  it('dry-runs the manifest as it is', async () => {
    const { cluster, bodies } = await running()
    const options = fastOptions({ clock: fakeClock(), dryRun: true })
    const result = await deployWithClient(cluster, db({ image: 'db:2' }), options)
    expect(result.outcome).toBe('changed')
    expect(bodies.map((b) => [b.dryRun, partitionOf(b.object)])).toEqual([[true, undefined]])
  })

  it('goes straight to the last write when the controller makes no new revision', async () => {
    const { cluster, bodies, history } = await running()
    const options = fastOptions({ clock: fakeClock() })
    const result = await deployWithClient(cluster, db({ labels: 'tier: data' }), options)
    expect(result.outcome).toBe('changed')
    expect(bodies.map((b) => partitionOf(b.object))).toEqual([2, undefined])
    expect(history).toEqual([])
    expect(options.log.text()).not.toContain('updating ordinal')
    expect(options.log.text()).toContain('no new revision')
    expect(result.changes[0]).toMatchObject({ action: 'configured' })
    expect(result.changes[0].message).toBeUndefined()
  })

  it('stops at ordinal 2 when it crash-loops, never touches 0 and 1, and rolls back', async () => {
    const { cluster, bodies, history, podImages } = await running()
    const options = fastOptions({ clock: fakeClock() })
    const result = await deployWithClient(cluster, db({ image: 'db:2-crash' }), options)
    expect({ outcome: result.outcome, reason: result.reason }).toEqual({
      outcome: 'rolled-back',
      reason:
        'StatefulSet/shop/db: ordinal 2 failed at the partition step (CrashLoopBackOff); ordinals 0–1 not updated; rolled back'
    })
    expect(result.failures[0]).toMatchObject({
      object: 'StatefulSet/shop/db',
      pod: 'db-2',
      container: 'db',
      reason: 'CrashLoopBackOff',
      message: 'at the partition step, ordinals 0–1 not updated: back-off restarting'
    })
    expect(result.changes[0].message).toBe(
      'stopped at the partition step: ordinals 0–1 not updated'
    )
    // The step's write, then the rollback's: the manifest as written never went out.
    expect(
      bodies.map((b) => [partitionOf(b.object), specOf(b.object).template.spec.containers[0].image])
    ).toEqual([
      [2, 'db:2-crash'],
      [undefined, 'db:1']
    ])
    // The stuck pod was deleted and came back on the restored revision.
    expect(history).toEqual(['db-2@db:2-crash', 'db-2@db:1'])
    expect(podImages()).toEqual(['db:1', 'db:1', 'db:1'])
    expect(options.log.text()).toMatch(
      /rollback: deleted pod shop\/db-2 of StatefulSet\/shop\/db: not Ready on revision db-[0-9a-f]{8}, which the StatefulSet controller would wait for forever/
    )
  })

  it('releases every stuck pod when a whole set failed without the step', async () => {
    const { cluster, history, podImages } = await running()
    const options = fastOptions({ clock: fakeClock(), statefulStep: false })
    const result = await deployWithClient(cluster, db({ image: 'db:2-crash' }), options)
    expect(result.outcome).toBe('rolled-back')
    expect(history[0]).toBe('db-2@db:2-crash')
    expect(history.at(-1)).toBe('db-2@db:1')
    expect(podImages()).toEqual(['db:1', 'db:1', 'db:1'])
  })
})
