/**
 * Ownership and pruning through the Kubernetes ApplySet convention (KEP-3659): a parent
 * ConfigMap in kit-system carries `applyset.kubernetes.io/id`, every object kit applies
 * carries `applyset.kubernetes.io/part-of: <id>`, and the parent lists the group-kinds and
 * namespaces its members live in. kit additionally keeps the exact member list (the
 * inventory) in the parent's data, and prunes only objects that are in the previous
 * inventory, not in the new manifests, and still carry our part-of label — an object someone
 * else created, even one copying our labels, is never touched (PEERS.md §4.5).
 */
import { createHash } from 'node:crypto'
import type { ClusterClient, KubeObject } from '../../k8s/types.js'
import { kitSystemNamespace } from './lock.js'
import { plural } from '../../text/plural.js'

export const applySetParentName = 'kit-applyset'
export const applySetIdLabel = 'applyset.kubernetes.io/id'
export const applySetPartOfLabel = 'applyset.kubernetes.io/part-of'
export const applySetToolingAnnotation = 'applyset.kubernetes.io/tooling'
export const applySetGroupKindsAnnotation = 'applyset.kubernetes.io/contains-group-kinds'
export const applySetNamespacesAnnotation = 'applyset.kubernetes.io/additional-namespaces'
export const applySetTooling = 'kit/v1'
/** Kinds never pruned unless the run allows them: deleting them destroys data or whole apps. */
export const protectedKinds: readonly string[] = [
  'Namespace',
  'PersistentVolumeClaim',
  'CustomResourceDefinition'
]

/**
 * The ApplySet id of a parent object, per the spec:
 * `applyset-` + base64url(sha256(`<name>.<namespace>.<kind>.<group>`)) without padding + `-v1`.
 */
export function applySetId(parent: {
  name: string
  namespace: string
  kind: string
  group: string
}): string {
  const hash = createHash('sha256')
    .update([parent.name, parent.namespace, parent.kind, parent.group].join('.'))
    .digest('base64url')
  return `applyset-${hash}-v1`
}

/**
 * The parent's name for an inventory name: `kit-applyset`, or `kit-applyset-<name>` when
 * separate pipelines (say two manifests repositories) deploy to the same clusters and must
 * not prune each other's objects.
 */
export function applySetParentNameFor(inventory?: string): string {
  return inventory ? `${applySetParentName}-${inventory}` : applySetParentName
}

/** The ApplySet id of kit's parent for an inventory name. */
export function applySetIdFor(inventory?: string): string {
  return applySetId({
    name: applySetParentNameFor(inventory),
    namespace: kitSystemNamespace,
    kind: 'ConfigMap',
    group: ''
  })
}

/** kit's default ApplySet id on every cluster (parent kit-system/kit-applyset). */
export const kitApplySetId = applySetIdFor()

/** Inventory names: short DNS-label fragments, so the parent's name stays valid. */
export function inventoryNameProblem(name: string): string | undefined {
  return /^[a-z0-9]([-a-z0-9]{0,38}[a-z0-9])?$/.test(name)
    ? undefined
    : 'must be up to 40 lower-case letters, digits or "-", starting and ending with a letter or digit'
}

/** One member of the inventory. */
export interface InventoryEntry {
  readonly apiVersion: string
  readonly kind: string
  readonly namespace?: string
  readonly name: string
}

/** `apps/v1` → `apps`; `v1` → `` (the core group). */
export function groupOf(apiVersion: string): string {
  return apiVersion.includes('/') ? apiVersion.split('/')[0] : ''
}

/** `Deployment.apps`, or just `ConfigMap` for the core group (the annotation's format). */
export function groupKind(e: Pick<InventoryEntry, 'apiVersion' | 'kind'>): string {
  const g = groupOf(e.apiVersion)
  return g ? `${e.kind}.${g}` : e.kind
}

/** Identity regardless of API version: group, kind, namespace, name. */
export function entryKey(e: InventoryEntry): string {
  return `${groupKind(e)}/${e.namespace ?? ''}/${e.name}`
}

/** The inventory of a set of objects: unique, sorted by identity. */
export function inventoryOf(objects: readonly KubeObject[]): InventoryEntry[] {
  const byKey = new Map<string, InventoryEntry>()
  for (const o of objects) {
    const e: InventoryEntry = {
      apiVersion: o.apiVersion,
      kind: o.kind,
      ...(o.metadata.namespace ? { namespace: o.metadata.namespace } : {}),
      name: o.metadata.name
    }
    byKey.set(entryKey(e), e)
  }
  return [...byKey.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([, e]) => e)
}

/** Merges inventories (later entries win for the API version). */
export function unionInventory(...lists: readonly (readonly InventoryEntry[])[]): InventoryEntry[] {
  const byKey = new Map<string, InventoryEntry>()
  for (const list of lists) for (const e of list) byKey.set(entryKey(e), e)
  return [...byKey.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([, e]) => e)
}

/** What a prune would do, decided before touching anything. */
export interface PrunePlan {
  /** Objects to delete (if they still exist and still carry our part-of label). */
  readonly delete: InventoryEntry[]
  /** Removed from the manifests but of a protected kind: kept, and reported. */
  readonly protected: InventoryEntry[]
  /** Set when the plan must not run at all (cap exceeded). */
  readonly refusal?: string
}

export interface PruneSettings {
  /** At most this many deletions per cluster; above it nothing is pruned and the cluster fails. */
  readonly max: number
  /** Protected kinds this run may prune anyway (e.g. `Namespace`). */
  readonly allowKinds: readonly string[]
}

/** Plans a prune from the previous inventory and the new one (pure). */
export function planPrune(
  previous: readonly InventoryEntry[],
  current: readonly InventoryEntry[],
  settings: PruneSettings
): PrunePlan {
  const keep = new Set(current.map(entryKey))
  const gone = previous.filter((e) => !keep.has(entryKey(e)))
  const isProtected = (e: InventoryEntry): boolean =>
    protectedKinds.includes(e.kind) &&
    !settings.allowKinds.some((k) => k === e.kind || k === groupKind(e))
  const toDelete = gone.filter((e) => !isProtected(e))
  const kept = gone.filter(isProtected)
  if (toDelete.length > settings.max) {
    return {
      delete: [],
      protected: kept,
      refusal: `prune would delete ${plural(toDelete.length, 'object')}, more than prune-max ${settings.max}; nothing was pruned`
    }
  }
  return { delete: toDelete, protected: kept }
}

/** The ApplySet parent as kit reads it. */
export interface ApplySetParent {
  readonly inventory: InventoryEntry[]
  readonly groupKinds: string[]
  readonly namespaces: string[]
  readonly exists: boolean
}

const parentRef = (inventory?: string) => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  namespace: kitSystemNamespace,
  name: applySetParentNameFor(inventory)
})

/** Reads the parent; an absent parent is an empty inventory (kit never deployed here). */
export async function readApplySetParent(
  client: ClusterClient,
  inventoryName?: string
): Promise<ApplySetParent> {
  const applySetParentName = applySetParentNameFor(inventoryName)
  const cm = await client.get(parentRef(inventoryName))
  if (!cm) return { inventory: [], groupKinds: [], namespaces: [], exists: false }
  if (cm.metadata.labels?.[applySetIdLabel] !== applySetIdFor(inventoryName))
    throw new Error(
      `${kitSystemNamespace}/${applySetParentName} exists but is not kit's ApplySet parent (label ${applySetIdLabel}); refusing to use it`
    )
  const data = (cm.data ?? {}) as Record<string, string>
  let inventory: InventoryEntry[]
  try {
    inventory = data.inventory ? (JSON.parse(data.inventory) as InventoryEntry[]) : []
  } catch (err) {
    throw new Error(
      `the inventory in ${kitSystemNamespace}/${applySetParentName} is not valid JSON`,
      { cause: err }
    )
  }
  const split = (v: string | undefined): string[] => (v ? v.split(',').filter(Boolean) : [])
  return {
    inventory,
    groupKinds: split(cm.metadata.annotations?.[applySetGroupKindsAnnotation]),
    namespaces: split(cm.metadata.annotations?.[applySetNamespacesAnnotation]),
    exists: true
  }
}

/** The parent object for an inventory (group-kinds and namespaces derived from it). */
export function applySetParentObject(
  inventory: readonly InventoryEntry[],
  inventoryName?: string
): KubeObject {
  const groupKinds = [...new Set(inventory.map(groupKind))].sort()
  const namespaces = [
    ...new Set(
      inventory.map((e) => e.namespace).filter((n): n is string => !!n && n !== kitSystemNamespace)
    )
  ].sort()
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name: applySetParentNameFor(inventoryName),
      namespace: kitSystemNamespace,
      labels: {
        [applySetIdLabel]: applySetIdFor(inventoryName),
        'app.kubernetes.io/managed-by': 'kit'
      },
      annotations: {
        [applySetToolingAnnotation]: applySetTooling,
        [applySetGroupKindsAnnotation]: groupKinds.join(','),
        [applySetNamespacesAnnotation]: namespaces.join(',')
      }
    },
    data: { inventory: JSON.stringify(inventory) }
  }
}

/**
 * Writes the parent when its inventory differs from `inventory` (an unchanged redeploy
 * writes nothing). Returns whether it wrote.
 */
export async function writeApplySetParent(
  client: ClusterClient,
  previous: ApplySetParent,
  inventory: readonly InventoryEntry[],
  inventoryName?: string
): Promise<boolean> {
  if (previous.exists && JSON.stringify(previous.inventory) === JSON.stringify(inventory))
    return false
  await client.apply(applySetParentObject(inventory, inventoryName))
  return true
}

/** What happened to one planned deletion. */
export interface PruneOutcome {
  readonly entry: InventoryEntry
  readonly action: 'deleted' | 'skipped'
  readonly message: string
  /** Whether the entry leaves the inventory (deleted, already gone, or no longer kit's). */
  readonly forget: boolean
}

/**
 * Deletes the plan's objects, re-checking each live object first: it must still exist and
 * still carry our part-of label (someone may have adopted it since). In a dry run nothing is
 * deleted and each entry says what would happen.
 */
export async function executePrune(
  client: ClusterClient,
  plan: PrunePlan,
  dryRun: boolean,
  inventoryName?: string
): Promise<PruneOutcome[]> {
  const id = applySetIdFor(inventoryName)
  const out: PruneOutcome[] = []
  for (const entry of plan.delete) {
    const live = await client.get(entry)
    if (!live) {
      out.push({ entry, action: 'skipped', message: 'already gone', forget: true })
      continue
    }
    if (live.metadata.labels?.[applySetPartOfLabel] !== id) {
      out.push({
        entry,
        action: 'skipped',
        message: `not pruned: no longer carries ${applySetPartOfLabel}`,
        forget: true
      })
      continue
    }
    if (dryRun) {
      out.push({ entry, action: 'deleted', message: 'would be pruned (dry run)', forget: true })
      continue
    }
    await client.delete(entry, { propagationPolicy: 'Background' })
    out.push({
      entry,
      action: 'deleted',
      message: 'pruned: no longer in the manifests',
      forget: true
    })
  }
  for (const entry of plan.protected) {
    out.push({
      entry,
      action: 'skipped',
      message: `not pruned: ${entry.kind} is protected (allow it with prune-allow-kinds)`,
      forget: false
    })
  }
  return out
}
