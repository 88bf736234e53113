import { describe, expect, it } from '@jest/globals'
import {
  applySetId,
  applySetParentObject,
  entryKey,
  executePrune,
  existingEntries,
  groupKind,
  inventoryOf,
  kitApplySetId,
  normalizeInventory,
  planPrune,
  pruneCandidates,
  readApplySetParent,
  writeApplySetParent,
  type InventoryEntry
} from '../../src/deploy/fleet/applyset.js'
import { parseSelector } from '../../src/deploy/fleet/selector.js'
import { KubeApiError, type KubeObject } from '../../src/k8s/types.js'
import { FakeClusterClient } from './fake-client.js'

const e = (kind: string, name: string, namespace?: string, apiVersion = 'v1'): InventoryEntry => ({
  apiVersion,
  kind,
  name,
  ...(namespace ? { namespace } : {})
})

describe('applySetId', () => {
  it('matches the id kubectl computes for a known parent (kubectl apply_test.go)', () => {
    expect(applySetId({ name: 'my-set', namespace: 'test', kind: 'Secret', group: '' })).toBe(
      'applyset-0eFHV8ySqp7XoShsGvyWFQD3s96yqwHmzc4e0HR1dsY-v1'
    )
  })
  it('is a valid label value (63 chars max, alphanumeric ends)', () => {
    expect(kitApplySetId).toMatch(/^[A-Za-z0-9][-A-Za-z0-9_.]{0,61}[A-Za-z0-9]$/)
  })
})

describe('inventory', () => {
  it('identifies members by group, kind, namespace and name, sorted and unique', () => {
    const inv = inventoryOf([
      { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'shop' } },
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } },
      { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'shop' } }
    ])
    expect(inv).toEqual([e('Namespace', 'shop'), e('Deployment', 'web', 'shop', 'apps/v1')])
    expect(inv.map(groupKind)).toEqual(['Namespace', 'Deployment.apps'])
  })
  it('builds a parent listing group-kinds and the member namespaces', () => {
    const parent = applySetParentObject([
      e('Deployment', 'web', 'shop', 'apps/v1'),
      e('ConfigMap', 'c', 'ops'),
      e('Namespace', 'shop')
    ])
    expect(parent.metadata.labels?.['applyset.kubernetes.io/id']).toBe(kitApplySetId)
    expect(parent.metadata.annotations).toEqual({
      'applyset.kubernetes.io/tooling': 'kit/v1',
      'applyset.kubernetes.io/contains-group-kinds': 'ConfigMap,Deployment.apps,Namespace',
      'applyset.kubernetes.io/additional-namespaces': 'ops,shop'
    })
  })
})

const ours = { 'applyset.kubernetes.io/part-of': kitApplySetId }
const live = (
  kind: string,
  name: string,
  namespace?: string,
  labels: Record<string, string> = ours,
  apiVersion = 'v1'
): KubeObject => ({
  apiVersion,
  kind,
  metadata: { name, ...(namespace ? { namespace } : {}), labels }
})
const scope = { max: 10, allowKinds: [] as string[] }

describe('pruneCandidates', () => {
  it('is what the run does not want, regardless of API version', () => {
    const previous = [
      e('Service', 'old', 'a'),
      e('CronJob', 'j', 'a', 'batch/v1beta1'),
      e('ConfigMap', 'kept', 'a')
    ]
    const wanted = new Set([
      entryKey(e('ConfigMap', 'kept', 'a')),
      entryKey(e('CronJob', 'j', 'a', 'batch/v1'))
    ])
    expect(pruneCandidates(previous, wanted)).toEqual([e('Service', 'old', 'a')])
  })
})

describe('planPrune', () => {
  const seeded = () => {
    const client = new FakeClusterClient()
    client.seed(
      live('Service', 'old', 'a', { ...ours, tier: 'a' }),
      live('Deployment', 'old', 'a', { ...ours, tier: 'b' }, 'apps/v1'),
      live('Namespace', 'gone'),
      live('Service', 'adopted', 'a', { app: 'x' })
    )
    return client
  }
  const candidates = [
    e('Service', 'old', 'a'),
    e('Deployment', 'old', 'a', 'apps/v1'),
    e('Namespace', 'gone'),
    e('Service', 'adopted', 'a'),
    e('Service', 'vanished', 'a')
  ]
  it("deletes what is live and kit's, reports the rest, and protects Namespaces, PVCs and CRDs", async () => {
    const plan = await planPrune(seeded(), candidates, scope)
    expect(plan.delete.map((x) => x.kind + '/' + x.name)).toEqual(['Service/old', 'Deployment/old'])
    expect(plan.skipped.map((o) => [o.entry.name, o.message, o.forget])).toEqual([
      ['gone', 'not pruned: Namespace is protected (allow it with prune-allow-kinds)', false],
      ['adopted', 'not pruned: no longer carries applyset.kubernetes.io/part-of', true],
      ['vanished', 'already gone', true]
    ])
    expect(plan.refusal).toBeUndefined()
  })
  it('prunes a protected kind when allowed', async () => {
    const plan = await planPrune(seeded(), candidates, { max: 10, allowKinds: ['Namespace'] })
    expect(plan.delete).toContainEqual(e('Namespace', 'gone'))
  })
  it('never deletes a live object outside the selection (kubectl apply --prune -l)', async () => {
    const plan = await planPrune(seeded(), candidates, {
      ...scope,
      selector: parseSelector('tier=a')
    })
    expect(plan.delete).toEqual([e('Service', 'old', 'a')])
    // Outside the selection is neither deleted nor reported: it stays in the inventory.
    expect(plan.skipped.map((o) => o.entry.name)).toEqual(['adopted', 'vanished'])
  })
  it('leaves what another part of the run manages', async () => {
    const plan = await planPrune(seeded(), candidates, {
      ...scope,
      managedElsewhere: (o) => o.kind === 'Deployment'
    })
    expect(plan.delete).toEqual([e('Service', 'old', 'a')])
  })
  it('refuses the whole prune above the cap, counting only real deletions', async () => {
    const plan = await planPrune(seeded(), candidates, { max: 1, allowKinds: [] })
    expect(plan.delete).toEqual([])
    expect(plan.refusal).toBe(
      'prune would delete 2 objects, more than prune-max 1; nothing was pruned'
    )
    const selected = await planPrune(seeded(), candidates, {
      max: 1,
      allowKinds: [],
      selector: parseSelector('tier=b')
    })
    expect(selected.refusal).toBeUndefined()
    expect(selected.delete).toEqual([e('Deployment', 'old', 'a', 'apps/v1')])
  })
})

describe('executePrune', () => {
  it('deletes the planned objects; a dry run deletes nothing and says what would happen', async () => {
    const client = new FakeClusterClient()
    client.seed(live('Service', 'ours', 'a'), live('Namespace', 'n'))
    const plan = await planPrune(
      client,
      [e('Service', 'ours', 'a'), e('Service', 'vanished', 'a'), e('Namespace', 'n')],
      scope
    )
    const dry = await executePrune(client, plan, true)
    expect(client.writes).toEqual([])
    expect(dry.map((o) => [o.entry.name, o.action, o.message])).toEqual([
      ['ours', 'deleted', 'would be pruned (dry run)'],
      ['vanished', 'skipped', 'already gone'],
      ['n', 'skipped', 'not pruned: Namespace is protected (allow it with prune-allow-kinds)']
    ])
    await executePrune(client, plan, false)
    expect(client.writes).toEqual(['delete Service a/ours'])
  })
})

describe('normalizeInventory', () => {
  it('gives namespaced members the default namespace and sets apart kinds no longer served', async () => {
    const client = new FakeClusterClient()
    const served = client.isNamespaced.bind(client)
    client.isNamespaced = async (apiVersion: string, kind: string) => {
      if (kind === 'Widget')
        throw new KubeApiError('the cluster does not know kind Widget', 404, 'UnknownKind')
      return served(apiVersion, kind)
    }
    const n = await normalizeInventory(client, [
      e('ConfigMap', 'implicit'),
      e('ConfigMap', 'implicit', 'default'),
      e('Namespace', 'shop'),
      e('Widget', 'w', 'shop', 'example.com/v1')
    ])
    expect(n.entries).toEqual([e('ConfigMap', 'implicit', 'default'), e('Namespace', 'shop')])
    expect(n.unserved).toEqual([e('Widget', 'w', 'shop', 'example.com/v1')])
  })
})

describe('existingEntries', () => {
  it('keeps the entries whose objects exist', async () => {
    const client = new FakeClusterClient()
    client.seed(live('ConfigMap', 'here', 'a'))
    expect(
      await existingEntries(client, [e('ConfigMap', 'here', 'a'), e('ConfigMap', 'gone', 'a')])
    ).toEqual([e('ConfigMap', 'here', 'a')])
  })
})

describe('ApplySet parent', () => {
  it('writes only when the inventory changes, and refuses a foreign parent', async () => {
    const client = new FakeClusterClient()
    const empty = await readApplySetParent(client)
    expect(empty.exists).toBe(false)
    const inv = [e('ConfigMap', 'c', 'a')]
    expect(await writeApplySetParent(client, empty, inv)).toBe(true)
    const read = await readApplySetParent(client)
    expect(read.inventory).toEqual(inv)
    expect(read.groupKinds).toEqual(['ConfigMap'])
    expect(await writeApplySetParent(client, read, inv)).toBe(false)
    const foreign = new FakeClusterClient()
    foreign.seed({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'kit-applyset', namespace: 'kit-system' }
    })
    await expect(readApplySetParent(foreign)).rejects.toThrow("is not kit's ApplySet parent")
  })
})
