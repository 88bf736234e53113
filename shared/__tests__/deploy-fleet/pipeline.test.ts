import { describe, expect, it } from '@jest/globals'
import type { ClusterClient, KubeObject } from '../../src/k8s/types.js'
import type {
  ClusterResult,
  DeployClusterOptions,
  Manifest
} from '../../src/deploy/cluster/types.js'
import {
  runClusterPipeline,
  type PipelineSettings
} from '../../src/deploy/fleet/cluster-pipeline.js'
import { deployIdOf, planFastRollback } from '../../src/deploy/fleet/fast-rollback.js'
import { kitApplySetId } from '../../src/deploy/fleet/applyset.js'
import { Redactor } from '../../src/secrets/redact.js'
import { FakeClusterClient, fakeClock, quietLog } from './fake-client.js'

const m = (object: KubeObject): Manifest => ({
  object,
  source: { file: `${object.kind}.yaml`, line: 1 }
})

const deployment = (
  name: string,
  image: string,
  annotations?: Record<string, string>
): KubeObject => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name, namespace: 'shop', ...(annotations ? { annotations } : {}) },
  spec: {
    selector: { matchLabels: { app: name } },
    template: { metadata: { labels: { app: name } }, spec: { containers: [{ name, image }] } }
  }
})
const service = (name: string): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name, namespace: 'shop' },
  spec: { selector: { app: name }, ports: [{ port: 80 }] }
})
const configMap = (name: string): KubeObject => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, namespace: 'shop' },
  data: { k: 'v' }
})

/**
 * A stand-in for the engine: applies with the labels, reports created / configured /
 * unchanged, and "fails" any Deployment whose image host ends in .invalid, deleting what it
 * created (as the real engine's rollback does).
 */
function fakeEngine(calls: { names: string[]; options: DeployClusterOptions }[]) {
  return async (
    client: ClusterClient,
    manifests: Manifest[],
    options: DeployClusterOptions
  ): Promise<ClusterResult> => {
    calls.push({
      names: manifests.map((x) => `${x.object.kind}/${x.object.metadata.name}`),
      options
    })
    const changes: ClusterResult['changes'] = []
    const created: KubeObject[] = []
    const writes: KubeObject[] = []
    for (const { object } of manifests) {
      const desired = structuredClone(object)
      desired.metadata.labels = { ...(desired.metadata.labels ?? {}), ...(options.labels ?? {}) }
      const live = await client.get({
        ...desired,
        name: desired.metadata.name,
        namespace: desired.metadata.namespace
      })
      const strip = (o: KubeObject) =>
        JSON.stringify({
          ...o,
          metadata: {
            ...o.metadata,
            resourceVersion: undefined,
            creationTimestamp: undefined,
            uid: undefined
          }
        })
      const action = !live ? 'created' : strip(live) === strip(desired) ? 'unchanged' : 'configured'
      if (action !== 'unchanged' && !options.dryRun) writes.push(desired)
      if (action === 'created') created.push(desired)
      changes.push({
        kind: object.kind,
        namespace: object.metadata.namespace,
        name: object.metadata.name,
        action
      })
    }
    // Like the engine: every read first, then nothing written unless the gate opens.
    if (options.writeGate && !(await options.writeGate()))
      return {
        cluster: client.cluster,
        outcome: 'skipped',
        changes: [],
        failures: [],
        durationMs: 1
      }
    for (const desired of writes) await client.apply(desired)
    const bad = manifests.find((x) => JSON.stringify(x.object).includes('.invalid/'))
    if (bad && !options.dryRun) {
      for (const o of created)
        await client.delete({ ...o, name: o.metadata.name, namespace: o.metadata.namespace })
      return {
        cluster: client.cluster,
        outcome: 'rolled-back',
        changes,
        failures: [
          {
            object: `Deployment shop/${bad.object.metadata.name}`,
            reason: 'ImagePullBackOff',
            message: 'bad image',
            events: []
          }
        ],
        durationMs: 1,
        reason: `Deployment shop/${bad.object.metadata.name}: ImagePullBackOff`,
        rolledBack: true
      }
    }
    const changed = changes.some((c) => c.action !== 'unchanged')
    return {
      cluster: client.cluster,
      outcome: changed ? 'changed' : 'unchanged',
      changes,
      failures: [],
      durationMs: 1
    }
  }
}

const settings = (over: Partial<PipelineSettings> = {}): PipelineSettings => ({
  dryRun: false,
  wait: true,
  timeoutMs: 60_000,
  failFast: { graceMs: 1000, unschedulableMs: 1000, threshold: 1 },
  rollbackOnFailure: true,
  prune: { enabled: false, max: 50, allowKinds: [] },
  strategy: 'rolling-update',
  fastRollbackKeep: 2,
  lock: { identity: 'run-1', description: 'test run', waitMs: 1000 },
  version: {
    commit: 'c1',
    commitTime: '2026-11-26T07:00:00Z',
    rollback: false,
    redeploy: false,
    runUrl: 'https://ci/1'
  },
  ...over
})

function setup() {
  const client = new FakeClusterClient('c1')
  const calls: { names: string[]; options: DeployClusterOptions }[] = []
  const deps = {
    engine: fakeEngine(calls),
    log: quietLog,
    redactor: new Redactor(),
    clock: fakeClock()
  }
  return { client, calls, deps }
}

/** The writes of a run that changes nothing: the lock's Lease, taken and released. */
const lockOnly = [
  'create Lease kit-system/kit-deploy-lock',
  'delete Lease kit-system/kit-deploy-lock'
]

describe('runClusterPipeline', () => {
  it('labels every object part-of kit, records the commit and releases the lock', async () => {
    const { client, calls, deps } = setup()
    const r = await runClusterPipeline(
      client,
      [m(configMap('a')), m(service('web'))],
      settings(),
      deps
    )
    expect(r.outcome).toBe('changed')
    expect(calls[0].options.labels).toEqual({ 'applyset.kubernetes.io/part-of': kitApplySetId })
    expect(
      (
        await client.get({
          apiVersion: 'v1',
          kind: 'ConfigMap',
          namespace: 'kit-system',
          name: 'kit-deploy-state'
        })
      )?.data
    ).toMatchObject({
      commit: 'c1',
      runUrl: 'https://ci/1'
    })
    expect(
      await client.get({
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        namespace: 'kit-system',
        name: 'kit-deploy-lock'
      })
    ).toBeUndefined()
  })

  it('writes nothing but the lock on an unchanged redeploy', async () => {
    const { client, deps } = setup()
    const manifests = [m(configMap('a'))]
    await runClusterPipeline(client, manifests, settings(), deps)
    client.writes.length = 0
    client.calls.length = 0
    const again = await runClusterPipeline(client, manifests, settings(), deps)
    expect(again.outcome).toBe('unchanged')
    expect(client.writes).toEqual(lockOnly)
    // The fleet's own bookkeeping costs four requests: lock, two records read at once, unlock.
    expect(client.calls.filter((c) => c.includes('kit-system/'))).toEqual([
      'create Lease kit-system/kit-deploy-lock',
      'get ConfigMap kit-system/kit-deploy-state',
      'get ConfigMap kit-system/kit-applyset',
      'delete Lease kit-system/kit-deploy-lock'
    ])
  })

  it('reads live state while the records are read, and applies nothing before the parent lists it', async () => {
    const { calls, deps } = setup()
    // Slow records: the engine's reads must not wait for them, its writes must.
    const client = new (class extends FakeClusterClient {
      override async get(ref: Parameters<FakeClusterClient['get']>[0]) {
        if (ref.namespace === 'kit-system') await new Promise((r) => setTimeout(r, 20))
        return super.get(ref)
      }
    })('c1')
    const r = await runClusterPipeline(
      client,
      [m(configMap('a')), m(service('web'))],
      settings(),
      deps
    )
    expect(r.outcome).toBe('changed')
    expect(calls).toHaveLength(1)
    const at = (line: string): number => client.calls.indexOf(line)
    const parentWritten = at('apply ConfigMap kit-system/kit-applyset')
    expect(parentWritten).toBeGreaterThan(0)
    expect(at('get ConfigMap shop/a')).toBeLessThan(at('get ConfigMap kit-system/kit-applyset'))
    expect(at('apply ConfigMap shop/a')).toBeGreaterThan(parentWritten)
    expect(at('apply Service shop/web')).toBeGreaterThan(parentWritten)
  })

  it('skips a cluster whose recorded commit is newer, touching nothing', async () => {
    const { client, deps } = setup()
    await runClusterPipeline(client, [m(configMap('a'))], settings(), deps)
    const older = settings({
      version: {
        commit: 'c0',
        commitTime: '2026-11-25T07:00:00Z',
        rollback: false,
        redeploy: false
      }
    })
    client.writes.length = 0
    const r = await runClusterPipeline(client, [m(configMap('b'))], older, deps)
    expect(r.outcome).toBe('skipped')
    expect(r.reason).toMatch(/^refused: commit c0/)
    // The engine read while the guard was checked, and wrote nothing.
    expect(client.writes).toEqual(lockOnly)
    const allowed = await runClusterPipeline(
      client,
      [m(configMap('b'))],
      { ...older, version: { ...older.version, rollback: true } },
      deps
    )
    expect(allowed.outcome).toBe('changed')
  })

  it('prunes what left the manifests but never what someone else created with look-alike labels', async () => {
    const { client, deps } = setup()
    const prune = { enabled: true, max: 10, allowKinds: [] }
    await runClusterPipeline(
      client,
      [m(configMap('keep')), m(configMap('old')), m(service('old'))],
      settings({ prune }),
      deps
    )
    client.seed({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: {
        name: 'theirs',
        namespace: 'shop',
        labels: { 'applyset.kubernetes.io/part-of': kitApplySetId }
      }
    })
    const dry = await runClusterPipeline(
      client,
      [m(configMap('keep'))],
      settings({ prune, dryRun: true }),
      deps
    )
    expect(
      dry.changes
        .filter((c) => c.action === 'deleted')
        .map((c) => `${c.kind}/${c.name}: ${c.message}`)
    ).toEqual([
      'ConfigMap/old: would be pruned (dry run)',
      'Service/old: would be pruned (dry run)'
    ])
    expect(
      await client.get({ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'shop', name: 'old' })
    ).toBeDefined()
    const r = await runClusterPipeline(client, [m(configMap('keep'))], settings({ prune }), deps)
    expect(r.outcome).toBe('changed')
    expect(
      await client.get({ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'shop', name: 'old' })
    ).toBeUndefined()
    expect(
      await client.get({ apiVersion: 'v1', kind: 'Service', namespace: 'shop', name: 'old' })
    ).toBeUndefined()
    expect(
      await client.get({ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'shop', name: 'theirs' })
    ).toBeDefined()
  })

  it('refuses to prune with an empty manifest set, before touching the cluster', async () => {
    const { client, deps } = setup()
    const r = await runClusterPipeline(
      client,
      [],
      settings({ prune: { enabled: true, max: 10, allowKinds: [] } }),
      deps
    )
    expect(r.outcome).toBe('failed')
    expect(r.reason).toMatch(/refusing to prune: the manifest set for this cluster is empty/)
    expect(client.writes).toEqual([])
  })

  it('never prunes or records after a failed deploy', async () => {
    const { client, deps } = setup()
    const prune = { enabled: true, max: 10, allowKinds: [] }
    await runClusterPipeline(
      client,
      [m(configMap('old')), m(deployment('web', 'r.example/web:1'))],
      settings({ prune }),
      deps
    )
    const bad = settings({
      prune,
      version: {
        commit: 'c2',
        commitTime: '2026-11-27T00:00:00Z',
        rollback: false,
        redeploy: false
      }
    })
    const r = await runClusterPipeline(
      client,
      [m(deployment('web', 'bad.invalid/web:2'))],
      bad,
      deps
    )
    expect(r.outcome).toBe('rolled-back')
    expect(
      await client.get({ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'shop', name: 'old' })
    ).toBeDefined()
    expect(
      (
        await client.get({
          apiVersion: 'v1',
          kind: 'ConfigMap',
          namespace: 'kit-system',
          name: 'kit-deploy-state'
        })
      )?.data
    ).toMatchObject({ commit: 'c1' })
  })
})

describe('fast-rollback', () => {
  const fr = { 'kit.dev/strategy': 'fast-rollback' }

  it('renames opted-in Deployments by content and holds their Services back for the switch', () => {
    const web = deployment('web', 'r.example/web:1', fr)
    const plan = planFastRollback(
      [m(web), m(service('web')), m(service('other')), m(deployment('api', 'r/api:1'))],
      'rolling-update'
    )
    const id = deployIdOf(web)
    expect(plan.deployments).toEqual([
      { namespace: 'shop', baseName: 'web', deployId: id, name: `web-${id}` }
    ])
    expect(plan.first.map((x) => x.object.metadata.name)).toEqual([`web-${id}`, 'api', 'other'])
    const switched = plan.switched.map((x) => x.object.spec)
    expect(switched).toEqual([
      { selector: { app: 'web', 'kit.dev/deploy-id': id }, ports: [{ port: 80 }] }
    ])
    const renamed = plan.first[0].object.spec as {
      selector: unknown
      template: { metadata: { labels: unknown } }
    }
    expect(renamed.selector).toEqual({ matchLabels: { app: 'web', 'kit.dev/deploy-id': id } })
    expect(renamed.template.metadata.labels).toEqual({ app: 'web', 'kit.dev/deploy-id': id })
    expect(planFastRollback([m(web)], 'rolling-update').deployments[0].deployId).toBe(id)
  })

  it('switches traffic only to a healthy version; a bad version never gets the Service', async () => {
    const { client, calls, deps } = setup()
    const good = deployment('web', 'r.example/web:1', fr)
    const goodId = deployIdOf(good)
    const s = (commit: string, t: string) =>
      settings({ version: { commit, commitTime: t, rollback: false, redeploy: false } })
    expect(
      (
        await runClusterPipeline(
          client,
          [m(good), m(service('web'))],
          s('c1', '2026-11-26T01:00:00Z'),
          deps
        )
      ).outcome
    ).toBe('changed')
    expect(calls.map((c) => c.names)).toEqual([[`Deployment/web-${goodId}`], ['Service/web']])
    const selector = async () =>
      (
        (await client.get({ apiVersion: 'v1', kind: 'Service', namespace: 'shop', name: 'web' }))
          ?.spec as { selector: Record<string, string> }
      ).selector
    expect(await selector()).toEqual({ app: 'web', 'kit.dev/deploy-id': goodId })

    const bad = deployment('web', 'bad.invalid/web:2', fr)
    const r = await runClusterPipeline(
      client,
      [m(bad), m(service('web'))],
      s('c2', '2026-11-26T02:00:00Z'),
      deps
    )
    expect(r.outcome).toBe('rolled-back')
    expect(calls).toHaveLength(3)
    expect(await selector()).toEqual({ app: 'web', 'kit.dev/deploy-id': goodId })
    expect(
      await client.get({
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        namespace: 'shop',
        name: `web-${deployIdOf(bad)}`
      })
    ).toBeUndefined()
  })

  it('keeps the previous N versions running and removes older ones', async () => {
    const { client, deps } = setup()
    const versions = [1, 2, 3, 4].map((v) => deployment('web', `r.example/web:${v}`, fr))
    let n = 0
    for (const d of versions) {
      n++
      await runClusterPipeline(
        client,
        [m(d), m(service('web'))],
        settings({
          version: {
            commit: `c${n}`,
            commitTime: `2026-11-2${n}T00:00:00Z`,
            rollback: false,
            redeploy: false
          }
        }),
        deps
      )
    }
    const live = (await client.list('apps/v1', 'Deployment', { namespace: 'shop' }))
      .map((o) => o.metadata.name)
      .sort()
    expect(live).toEqual(
      versions
        .slice(1)
        .map((d) => `web-${deployIdOf(d)}`)
        .sort()
    )
    // Rolling back to a kept version is a selector switch: no new Deployment, no deletion.
    client.writes.length = 0
    const back = await runClusterPipeline(
      client,
      [m(versions[2]), m(service('web'))],
      settings({
        version: {
          commit: 'c3',
          commitTime: '2026-11-23T00:00:00Z',
          rollback: true,
          redeploy: false
        }
      }),
      deps
    )
    expect(
      back.changes
        .filter((c) => c.action !== 'unchanged')
        .map((c) => `${c.action} ${c.kind}/${c.name}`)
    ).toEqual(['configured Service/web'])
  })

  it('refuses a Service selecting two fast-rollback Deployments, and reserved labels', () => {
    const a = deployment('a', 'r/a:1', fr)
    const b = deployment('b', 'r/b:1', fr)
    ;(
      b.spec as { template: { metadata: { labels: Record<string, string> } } }
    ).template.metadata.labels.app = 'a'
    expect(() => planFastRollback([m(a), m(b), m(service('a'))], 'rolling-update')).toThrow(
      /selects the pods of several fast-rollback Deployments \(a, b\)/
    )
    const reserved = deployment('c', 'r/c:1', fr)
    reserved.metadata.labels = { 'kit.dev/deploy-id': 'x' }
    expect(() => planFastRollback([m(reserved)], 'rolling-update')).toThrow(
      /label kit.dev\/deploy-id is reserved/
    )
  })
})
