/**
 * Ownership and pruning through the Kubernetes ApplySet convention (KEP-3659): a parent
 * ConfigMap in kit-system carries `applyset.kubernetes.io/id`, every object kit applies
 * carries `applyset.kubernetes.io/part-of: <id>`, and the parent lists the group-kinds and
 * namespaces its members live in. kit additionally keeps the exact member list (the
 * inventory) in the parent's data, and prunes only objects that are in the previous
 * inventory, not in the manifests, inside the run's selection, and still carry our part-of
 * label — an object someone else created, even one copying our labels, is never touched, and
 * neither is anything the manifests still hold, selected or not.
 */
import { createHash } from 'node:crypto'
import { groupOf, keyOf } from '../../k8s/identity.js'
import { defaultNamespaceOf } from '../../k8s/namespace.js'
import { KubeApiError, type ClusterClient, type KubeObject } from '../../k8s/types.js'
import { mapLimit } from '../cluster/clock.js'
import { kitSystemNamespace } from './lock.js'
import { matchesSelector, type Requirement } from './selector.js'
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

/** `Deployment.apps`, or just `ConfigMap` for the core group (the annotation's format). */
export function groupKind(e: Pick<InventoryEntry, 'apiVersion' | 'kind'>): string {
  const g = groupOf(e.apiVersion)
  return g ? `${e.kind}.${g}` : e.kind
}

/** Identity regardless of API version: group, kind, namespace, name (the one object key). */
export function entryKey(e: InventoryEntry): string {
  return keyOf(e)
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

/** Reads of the cluster at most this many at once while a prune or a settle inspects it. */
const inspectConcurrency = 8

export interface PruneSettings {
  /** At most this many deletions per cluster; above it nothing is pruned and the cluster fails. */
  readonly max: number
  /** Protected kinds this run may prune anyway (e.g. `Namespace`). */
  readonly allowKinds: readonly string[]
}

/** What a prune needs to know about the run besides the inventory. */
export interface PruneScope extends PruneSettings {
  /** The run's label selection: only live objects whose labels match are ever deleted. */
  readonly selector?: readonly Requirement[]
  /** The inventory name (whose part-of label marks kit's objects). */
  readonly inventoryName?: string
  /**
   * Live objects another part of the run manages (fast-rollback's kept versions and strategy
   * transitions): never prune candidates.
   */
  readonly managedElsewhere?: (live: KubeObject) => boolean
}

/** What happened, or would happen, to one inventory entry that left the manifests. */
export interface PruneOutcome {
  readonly entry: InventoryEntry
  readonly action: 'deleted' | 'skipped'
  readonly message: string
  /** Whether the entry leaves the inventory (deleted, already gone, or no longer kit's). */
  readonly forget: boolean
}

/** What a prune will do, decided from live reads before anything is deleted. */
export interface PrunePlan {
  /** Live, kit's, inside the selection, not protected: deleted when the plan runs. */
  readonly delete: InventoryEntry[]
  /** Reported without deleting (gone, no longer kit's, protected). */
  readonly skipped: PruneOutcome[]
  /** Set when the plan must not run at all (cap exceeded): nothing is deleted. */
  readonly refusal?: string
}

/** The entries of `previous` that the run does not want (pure). */
export function pruneCandidates(
  previous: readonly InventoryEntry[],
  wanted: ReadonlySet<string>
): InventoryEntry[] {
  return previous.filter((e) => !wanted.has(entryKey(e)))
}

function isProtected(e: InventoryEntry, allowKinds: readonly string[]): boolean {
  return (
    protectedKinds.includes(e.kind) && !allowKinds.some((k) => k === e.kind || k === groupKind(e))
  )
}

/**
 * Plans a prune (reads only): each candidate's live object must exist, still carry this
 * inventory's part-of label, and match the run's selection, as `kubectl apply --prune -l`
 * judges the live labels. A candidate outside the selection is not this run's to delete: it
 * stays in the inventory, unreported. The cap counts only what would really be deleted.
 */
export async function planPrune(
  client: ClusterClient,
  candidates: readonly InventoryEntry[],
  scope: PruneScope
): Promise<PrunePlan> {
  const id = applySetIdFor(scope.inventoryName)
  const verdicts = await mapLimit(
    candidates,
    inspectConcurrency,
    async (entry): Promise<PruneOutcome | 'delete' | 'outside'> => {
      const live = await client.get(entry)
      if (!live) return { entry, action: 'skipped', message: 'already gone', forget: true }
      const labels = live.metadata.labels ?? {}
      if (labels[applySetPartOfLabel] !== id)
        return {
          entry,
          action: 'skipped',
          message: `not pruned: no longer carries ${applySetPartOfLabel}`,
          forget: true
        }
      if (scope.selector && !matchesSelector(labels, scope.selector)) return 'outside'
      if (scope.managedElsewhere?.(live)) return 'outside'
      if (isProtected(entry, scope.allowKinds))
        return {
          entry,
          action: 'skipped',
          message: `not pruned: ${entry.kind} is protected (allow it with prune-allow-kinds)`,
          forget: false
        }
      return 'delete'
    }
  )
  const toDelete = candidates.filter((_, i) => verdicts[i] === 'delete')
  const skipped = verdicts.filter((v): v is PruneOutcome => typeof v === 'object')
  if (toDelete.length > scope.max)
    return {
      delete: [],
      skipped: skipped.filter((o) => !o.forget),
      refusal: `prune would delete ${plural(toDelete.length, 'object')}, more than prune-max ${scope.max}; nothing was pruned`
    }
  return { delete: toDelete, skipped }
}

/** Deletes what the plan confirmed; in a dry run each entry says what would happen. */
export async function executePrune(
  client: ClusterClient,
  plan: PrunePlan,
  dryRun: boolean
): Promise<PruneOutcome[]> {
  const out: PruneOutcome[] = []
  for (const entry of plan.delete) {
    if (dryRun) {
      out.push({ entry, action: 'deleted', message: 'would be pruned (dry run)', forget: true })
      continue
    }
    const existed = await client.delete(entry, { propagationPolicy: 'Background' })
    out.push(
      existed
        ? { entry, action: 'deleted', message: 'pruned: no longer in the manifests', forget: true }
        : { entry, action: 'skipped', message: 'already gone', forget: true }
    )
  }
  return [...out, ...plan.skipped]
}

/** An inventory as read, made comparable: every namespaced member with its namespace. */
export interface NormalizedInventory {
  readonly entries: InventoryEntry[]
  /** Members of kinds the cluster no longer serves (a CRD removed since): nothing to delete. */
  readonly unserved: InventoryEntry[]
}

/**
 * Gives every namespaced member without a namespace the one it was applied to (the context's:
 * kit once recorded such members without it), and sets apart members of kinds the cluster no
 * longer serves, which hold nothing left to delete. Discovery is cached by the client.
 */
export async function normalizeInventory(
  client: ClusterClient,
  entries: readonly InventoryEntry[]
): Promise<NormalizedInventory> {
  const served: InventoryEntry[] = []
  const unserved: InventoryEntry[] = []
  const scopes = await Promise.all(
    entries.map((e) =>
      client.isNamespaced(e.apiVersion, e.kind).catch((err: unknown) => {
        if (err instanceof KubeApiError && err.reason === 'UnknownKind') return 'unserved' as const
        throw err
      })
    )
  )
  for (const [i, e] of entries.entries()) {
    const scope = scopes[i]
    if (scope === 'unserved') unserved.push(e)
    else if (scope && !e.namespace) served.push({ ...e, namespace: defaultNamespaceOf(client) })
    else if (!scope && e.namespace) {
      const { namespace, ...clusterScoped } = e
      void namespace
      served.push(clusterScoped)
    } else served.push(e)
  }
  return { entries: unionInventory(served), unserved }
}

/** The entries whose objects exist now (reads only; a kind no longer served holds nothing). */
export async function existingEntries(
  client: ClusterClient,
  entries: readonly InventoryEntry[]
): Promise<InventoryEntry[]> {
  const found = await mapLimit(entries, inspectConcurrency, async (e) => {
    try {
      return (await client.get(e)) !== undefined
    } catch (err) {
      if (err instanceof KubeApiError && err.reason === 'UnknownKind') return false
      throw err
    }
  })
  return entries.filter((_, i) => found[i])
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
