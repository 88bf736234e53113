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
import { ClusterDeadline } from '../../src/deploy/fleet/deadline.js'
import { deployIdOf, planFastRollback } from '../../src/deploy/fleet/fast-rollback.js'
import { kitApplySetId } from '../../src/deploy/fleet/applyset.js'
import { parseSelector } from '../../src/deploy/fleet/selector.js'
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
  it("runs the engine to the cluster's deadline and cleans up within one more timeout", async () => {
    const { calls, deps } = setup()
    const detachedAt: (number | undefined)[] = []
    class BoundedClient extends FakeClusterClient {
      detached(deadlineAt?: number) {
        detachedAt.push(deadlineAt)
        return this
      }
    }
    const client = new BoundedClient('c1')
    const deadline = new ClusterDeadline(deps.clock.now, 60_000)
    const started = deps.clock.now()
    const r = await runClusterPipeline(client, [m(configMap('a'))], settings(), {
      ...deps,
      deadline
    })
    expect(r.outcome).toBe('changed')
    // The engine's apply and wait end at the cluster's deadline, counted from its start.
    expect(calls[0].options.deadlineAt).toBe(started + 60_000)
    // The lock is released through a client bounded by the clean-up budget, not the deadline.
    expect(detachedAt).toEqual([started + 120_000])
    expect(client.writes.at(-1)).toBe('delete Lease kit-system/kit-deploy-lock')
  })

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

describe('prune and the inventory never lose what is wanted', () => {
  const prune = { enabled: true, max: 10, allowKinds: [] }
  const labelled = (name: string, tier: string, namespace?: string): KubeObject => ({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name, ...(namespace ? { namespace } : {}), labels: { tier } },
    data: { k: 'v' }
  })
  const cm = (client: FakeClusterClient, name: string, namespace = 'shop') =>
    client.get({ apiVersion: 'v1', kind: 'ConfigMap', namespace, name })
  const parent = async (client: FakeClusterClient) => {
    const p = await client.get({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      namespace: 'kit-system',
      name: 'kit-applyset'
    })
    return p
      ? {
          inventory: JSON.parse((p.data as { inventory: string }).inventory) as {
            kind: string
            namespace?: string
            name: string
          }[],
          groupKinds: p.metadata.annotations?.['applyset.kubernetes.io/contains-group-kinds'],
          namespaces: p.metadata.annotations?.['applyset.kubernetes.io/additional-namespaces']
        }
      : undefined
  }
  const names = (inv: { kind: string; namespace?: string; name: string }[] | undefined) =>
    (inv ?? []).map((e) => `${e.kind}/${e.namespace ?? ''}/${e.name}`)

  it('with a selector, prunes only live objects inside it, and never one the manifests hold', async () => {
    const { client, deps } = setup()
    const a = labelled('a', 'a', 'shop')
    const b = labelled('b', 'b', 'shop')
    await runClusterPipeline(client, [m(a), m(b)], settings({ prune }), deps)
    const tierA = parseSelector('tier=a')
    // b is in the manifests but outside the selection: not a candidate, in a dry run or not.
    for (const dryRun of [true, false]) {
      const r = await runClusterPipeline(
        client,
        [m(a), m(b)],
        settings({ prune, selector: tierA, dryRun }),
        deps
      )
      expect(r.changes.filter((c) => c.action === 'deleted')).toEqual([])
    }
    expect(await cm(client, 'b')).toBeDefined()
    // b leaves the manifests: a tier=a run still leaves it (outside its selection) and keeps
    // it in the inventory; a tier=b run prunes it.
    const onlyA = await runClusterPipeline(
      client,
      [m(a)],
      settings({ prune, selector: tierA }),
      deps
    )
    expect(onlyA.changes.filter((c) => c.action === 'deleted')).toEqual([])
    expect(await cm(client, 'b')).toBeDefined()
    expect(names((await parent(client))?.inventory)).toContain('ConfigMap/shop/b')
    const asB = await runClusterPipeline(
      client,
      [m(a)],
      settings({ prune, selector: parseSelector('tier=b') }),
      deps
    )
    expect(asB.changes.filter((c) => c.action === 'deleted').map((c) => c.name)).toEqual(['b'])
    expect(await cm(client, 'b')).toBeUndefined()
    expect(await cm(client, 'a')).toBeDefined()
    expect(names((await parent(client))?.inventory)).toEqual(['ConfigMap/shop/a'])
  })

  it('a run refused for a kind the cluster does not serve leaves the inventory as it was', async () => {
    const { client, calls, deps } = setup()
    client.unknownKinds.add('Widget')
    await runClusterPipeline(client, [m(configMap('keep'))], settings({ prune }), deps)
    const before = await parent(client)
    const widget: KubeObject = {
      apiVersion: 'example.com/v1',
      kind: 'Widget',
      metadata: { name: 'w', namespace: 'shop' }
    }
    const r = await runClusterPipeline(
      client,
      [m(configMap('keep')), m(widget)],
      settings({ prune }),
      deps
    )
    expect(r.outcome).toBe('failed')
    expect(r.reason).toMatch(/does not know kind Widget/)
    expect(calls).toHaveLength(1)
    expect(await parent(client)).toEqual(before)
  })

  it('a parent that lists a kind no longer served heals on the next good run, with a warning', async () => {
    const { client, deps } = setup()
    const warnings: string[] = []
    const log = { ...quietLog, warning: (m: string) => void warnings.push(m) }
    await runClusterPipeline(
      client,
      [
        m(configMap('keep')),
        m({ ...configMap('w'), apiVersion: 'example.com/v1', kind: 'Widget' })
      ],
      settings(),
      { ...deps, log }
    )
    expect((await parent(client))?.groupKinds).toBe('ConfigMap,Widget.example.com')
    client.unknownKinds.add('Widget')
    const r = await runClusterPipeline(client, [m(configMap('keep'))], settings({ prune }), {
      ...deps,
      log
    })
    expect(r.outcome).toBe('unchanged')
    expect(warnings.join('\n')).toMatch(
      /the inventory lists Widget shop\/w, but the cluster no longer serves Widget/
    )
    expect(await parent(client)).toMatchObject({
      inventory: [{ kind: 'ConfigMap', namespace: 'shop', name: 'keep' }],
      groupKinds: 'ConfigMap'
    })
  })

  it('after a failed deploy, the inventory lists only what exists', async () => {
    const { client, deps } = setup()
    await runClusterPipeline(client, [m(configMap('old'))], settings(), deps)
    const r = await runClusterPipeline(
      client,
      [m(configMap('old')), m(configMap('new')), m(deployment('web', 'bad.invalid/web:2'))],
      settings(),
      deps
    )
    expect(r.outcome).toBe('rolled-back')
    expect(await cm(client, 'new')).toBeUndefined()
    expect(names((await parent(client))?.inventory)).toEqual(['ConfigMap/shop/old'])
  })

  it("records members in the context's namespace, and lists it among the parent's namespaces", async () => {
    const { client, deps } = setup()
    client.defaultNamespace = 'team'
    const r = await runClusterPipeline(client, [m(labelled('x', 'a'))], settings(), deps)
    expect(r.outcome).toBe('changed')
    expect(await cm(client, 'x', 'team')).toBeDefined()
    expect(await parent(client)).toMatchObject({
      inventory: [{ kind: 'ConfigMap', namespace: 'team', name: 'x' }],
      namespaces: 'team'
    })
  })

  it('treats an implicit and an explicit default namespace as one object: a duplicate', async () => {
    const { client, calls, deps } = setup()
    const r = await runClusterPipeline(
      client,
      [m(labelled('x', 'a')), m(labelled('x', 'a', 'default'))],
      settings(),
      deps
    )
    expect(r.outcome).toBe('failed')
    expect(r.reason).toMatch(/duplicate object ConfigMap\/default\/x/)
    expect(calls).toHaveLength(0)
    expect(client.writes.filter((w) => !w.includes('Lease'))).toEqual([])
  })

  it('heals members an older kit recorded without their namespace, so prune still finds them', async () => {
    const { client, deps } = setup()
    client.defaultNamespace = 'team'
    client.seed(
      {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: {
          name: 'kit-applyset',
          namespace: 'kit-system',
          labels: { 'applyset.kubernetes.io/id': kitApplySetId }
        },
        data: {
          inventory: JSON.stringify([
            { apiVersion: 'v1', kind: 'ConfigMap', name: 'old' },
            { apiVersion: 'v1', kind: 'ConfigMap', name: 'x' }
          ])
        }
      },
      {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: {
          name: 'old',
          namespace: 'team',
          labels: { 'applyset.kubernetes.io/part-of': kitApplySetId }
        }
      }
    )
    const r = await runClusterPipeline(client, [m(labelled('x', 'a'))], settings({ prune }), deps)
    expect(r.changes.filter((c) => c.action === 'deleted')).toEqual([
      expect.objectContaining({ kind: 'ConfigMap', namespace: 'team', name: 'old' })
    ])
    expect(names((await parent(client))?.inventory)).toEqual(['ConfigMap/team/x'])
  })
})

describe('fast-rollback transitions and kept versions', () => {
  const fr = { 'kit.dev/strategy': 'fast-rollback' }
  const at = (n: number) =>
    settings({
      version: {
        commit: `c${n}`,
        commitTime: `2026-11-${10 + n}T00:00:00Z`,
        rollback: true,
        redeploy: false
      }
    })
  const selector = async (client: FakeClusterClient) =>
    (
      (await client.get({ apiVersion: 'v1', kind: 'Service', namespace: 'shop', name: 'web' }))
        ?.spec as { selector: Record<string, string> }
    ).selector
  const deploymentsOf = async (client: FakeClusterClient) =>
    (await client.list('apps/v1', 'Deployment', { namespace: 'shop' }))
      .map((o) => o.metadata.name)
      .sort()

  it('keeps the versions that served most recently, so a rollback keeps the one it replaced', async () => {
    const { client, deps } = setup()
    const [v1, v2, v3] = [1, 2, 3].map((v) => deployment('web', `r.example/web:${v}`, fr))
    const id = (d: KubeObject) => `web-${deployIdOf(d)}`
    let n = 0
    for (const d of [v1, v2, v1, v3]) {
      deps.clock.advance(60_000)
      const r = await runClusterPipeline(
        client,
        [m(d), m(service('web'))],
        { ...at(++n), fastRollbackKeep: 1 },
        deps
      )
      expect(r.outcome).toBe('changed')
    }
    // v1 served just before v3 (the rollback made it the newest to serve): it is the one kept.
    expect(await deploymentsOf(client)).toEqual([id(v1), id(v3)].sort())
    expect(await selector(client)).toEqual({ app: 'web', 'kit.dev/deploy-id': deployIdOf(v3) })
  })

  it('refuses fast-rollback without wait as bad input', async () => {
    const { client, deps } = setup()
    await expect(
      runClusterPipeline(
        client,
        [m(deployment('web', 'r/web:1', fr))],
        settings({ wait: false }),
        deps
      )
    ).rejects.toThrow(/fast-rollback Deployments \(web\) need wait/)
    expect(client.writes).toEqual([])
  })

  it('leaving fast-rollback: the plain Deployment first, then the Service, then every version goes', async () => {
    const { client, calls, deps } = setup()
    const [v1, v2] = [1, 2].map((v) => deployment('web', `r.example/web:${v}`, fr))
    await runClusterPipeline(client, [m(v1), m(service('web'))], at(1), deps)
    await runClusterPipeline(client, [m(v2), m(service('web'))], at(2), deps)
    // Roll back to v1: v2 becomes a standby the user rolled back from.
    await runClusterPipeline(client, [m(v1), m(service('web'))], at(3), deps)
    expect(await deploymentsOf(client)).toHaveLength(2)
    calls.length = 0
    const plain = deployment('web', 'r.example/web:3')
    for (const dryRun of [true, false]) {
      const r = await runClusterPipeline(
        client,
        [m(plain), m(service('web'))],
        { ...at(4), dryRun },
        deps
      )
      expect(r.outcome).toBe('changed')
      expect(
        r.changes.filter((c) => c.action === 'deleted').map((c) => `${c.name}: ${c.message}`)
      ).toEqual([
        `web-${deployIdOf(v2)}: ${dryRun ? 'would be removed' : 'removed'}: web left fast-rollback (a standby version)`,
        `web-${deployIdOf(v1)}: ${dryRun ? 'would be removed' : 'removed'}: web left fast-rollback (served until its Services switched to the new Deployment)`
      ])
    }
    // The real run: the plain Deployment alone first (the Service still on v1), then the Service.
    expect(calls.slice(-2).map((c) => c.names)).toEqual([['Deployment/web'], ['Service/web']])
    expect(await deploymentsOf(client)).toEqual(['web'])
    expect(await selector(client)).toEqual({ app: 'web' })
  })

  it('entering fast-rollback removes the plain Deployment once its Service has switched', async () => {
    const { client, deps } = setup()
    await runClusterPipeline(
      client,
      [m(deployment('web', 'r.example/web:1')), m(service('web'))],
      at(1),
      deps
    )
    const v2 = deployment('web', 'r.example/web:2', fr)
    const r = await runClusterPipeline(client, [m(v2), m(service('web'))], at(2), deps)
    expect(r.changes.filter((c) => c.action === 'deleted').map((c) => c.message)).toEqual([
      `removed: web moved to fast-rollback (now served by web-${deployIdOf(v2)})`
    ])
    expect(await deploymentsOf(client)).toEqual([`web-${deployIdOf(v2)}`])
  })
})
