import { describe, expect, it } from '@jest/globals'
import {
  applySetId,
  applySetParentObject,
  executePrune,
  groupKind,
  inventoryOf,
  kitApplySetId,
  planPrune,
  readApplySetParent,
  writeApplySetParent,
  type InventoryEntry
} from '../../src/deploy/fleet/applyset.js'
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
    expect(inv).toEqual([e('Deployment', 'web', 'shop', 'apps/v1'), e('Namespace', 'shop')])
    expect(inv.map(groupKind)).toEqual(['Deployment.apps', 'Namespace'])
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

describe('planPrune', () => {
  const previous = [
    e('Service', 'old', 'a'),
    e('Deployment', 'old', 'a', 'apps/v1'),
    e('Namespace', 'gone'),
    e('ConfigMap', 'kept', 'a')
  ]
  const current = [e('ConfigMap', 'kept', 'a')]
  it('deletes what left the manifests and protects Namespaces, PVCs and CRDs', () => {
    const plan = planPrune(previous, current, { max: 10, allowKinds: [] })
    expect(plan.delete.map((x) => x.name + x.kind)).toEqual(['oldService', 'oldDeployment'])
    expect(plan.protected).toEqual([e('Namespace', 'gone')])
    expect(plan.refusal).toBeUndefined()
  })
  it('prunes a protected kind when allowed', () => {
    expect(
      planPrune(previous, current, { max: 10, allowKinds: ['Namespace'] }).delete
    ).toContainEqual(e('Namespace', 'gone'))
  })
  it('ignores the API version when comparing (a v1beta1 → v1 move is not a removal)', () => {
    const plan = planPrune(
      [e('CronJob', 'j', 'a', 'batch/v1beta1')],
      [e('CronJob', 'j', 'a', 'batch/v1')],
      { max: 10, allowKinds: [] }
    )
    expect(plan.delete).toEqual([])
  })
  it('refuses the whole prune above the cap', () => {
    const plan = planPrune(previous, current, { max: 1, allowKinds: [] })
    expect(plan.delete).toEqual([])
    expect(plan.refusal).toBe(
      'prune would delete 2 objects, more than prune-max 1; nothing was pruned'
    )
  })
})

describe('executePrune', () => {
  it('deletes only live objects that still carry our part-of label', async () => {
    const client = new FakeClusterClient()
    client.seed(
      {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: {
          name: 'ours',
          namespace: 'a',
          labels: { 'applyset.kubernetes.io/part-of': kitApplySetId }
        }
      },
      {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'adopted', namespace: 'a', labels: { app: 'x' } }
      }
    )
    const plan = {
      delete: [
        e('Service', 'ours', 'a'),
        e('Service', 'adopted', 'a'),
        e('Service', 'vanished', 'a')
      ],
      protected: [e('Namespace', 'n')]
    }
    const dry = await executePrune(client, plan, true)
    expect(client.writes).toEqual([])
    expect(dry.map((o) => [o.entry.name, o.action, o.message])).toEqual([
      ['ours', 'deleted', 'would be pruned (dry run)'],
      ['adopted', 'skipped', 'not pruned: no longer carries applyset.kubernetes.io/part-of'],
      ['vanished', 'skipped', 'already gone'],
      ['n', 'skipped', 'not pruned: Namespace is protected (allow it with prune-allow-kinds)']
    ])
    await executePrune(client, plan, false)
    expect(client.writes).toEqual(['delete Service a/ours'])
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
