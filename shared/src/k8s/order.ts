/**
 * Apply order. Objects go in stages: first by dependency depth (the `kit.dev/depends-on`
 * annotation, plus the implicit dependencies of an object on its Namespace and of a custom
 * resource on its CRD when those are in the same set), then by kind rank within a depth —
 * Namespaces and CRDs, cluster-scoped objects, config, Services, workloads, the rest, webhooks
 * last (after fluxcd/pkg ssa `ReconcileOrder`). Pure.
 */
import { InputError } from '../errors.js'
import { describeRef, groupOf } from './identity.js'
import type { KubeObject, Manifest } from './types.js'

/** The annotation declaring explicit dependencies: `Kind/name` or `Kind/namespace/name`, comma- or newline-separated. */
export const dependsOnAnnotation = 'kit.dev/depends-on'

/** Rank of each kind tier; lower goes first. */
export const KindRank = {
  NamespacesAndCrds: 0,
  ClusterScoped: 1,
  Config: 2,
  Services: 3,
  Workloads: 4,
  Rest: 5,
  Webhooks: 6
} as const
export type KindRank = (typeof KindRank)[keyof typeof KindRank]

const configKinds = new Set([
  'ResourceQuota',
  'LimitRange',
  'ServiceAccount',
  'Role',
  'RoleBinding',
  'ConfigMap',
  'Secret',
  'PersistentVolumeClaim',
  'NetworkPolicy'
])
const clusterScopedKinds = new Set([
  'ClusterRole',
  'ClusterRoleBinding',
  'PriorityClass',
  'StorageClass',
  'PersistentVolume',
  'IngressClass',
  'RuntimeClass',
  'ValidatingAdmissionPolicy',
  'ValidatingAdmissionPolicyBinding'
])
const workloadKinds = new Set([
  'Deployment',
  'StatefulSet',
  'DaemonSet',
  'ReplicaSet',
  'ReplicationController',
  'Job',
  'CronJob',
  'Pod'
])
const webhookKinds = new Set(['MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration'])

/**
 * The tier of an object. `clusterScoped` tells apart unknown kinds without a namespace that are
 * cluster-scoped (from API discovery); without it, an object lacking a namespace is not assumed
 * cluster-scoped unless its kind is a known cluster-scoped kind.
 */
export function kindRank(object: KubeObject, clusterScoped?: (o: KubeObject) => boolean): KindRank {
  const kind = object.kind
  if (kind === 'Namespace' || kind === 'CustomResourceDefinition') return KindRank.NamespacesAndCrds
  if (webhookKinds.has(kind)) return KindRank.Webhooks
  if (clusterScopedKinds.has(kind)) return KindRank.ClusterScoped
  if (configKinds.has(kind)) return KindRank.Config
  if (kind === 'Service') return KindRank.Services
  if (workloadKinds.has(kind)) return KindRank.Workloads
  if (clusterScoped?.(object)) return KindRank.ClusterScoped
  return KindRank.Rest
}

/** One step of the apply: objects that can be applied together (concurrently). */
export interface ApplyStage<T extends Manifest = Manifest> {
  readonly depth: number
  readonly rank: KindRank
  readonly manifests: T[]
}

/** The parsed `kit.dev/depends-on` references of one object. */
export interface DependencyRef {
  readonly kind: string
  readonly namespace?: string
  readonly name: string
}

/**
 * Parses a depends-on value: entries separated by commas or newlines, each `Kind/name`
 * (same namespace as the object, or cluster-scoped) or `Kind/namespace/name`.
 * Throws an InputError (at `source`) for malformed entries.
 */
export function parseDependsOn(
  value: string,
  source: { file: string; line: number }
): DependencyRef[] {
  const refs: DependencyRef[] = []
  for (const raw of value.split(/[,\n]/)) {
    const entry = raw.trim()
    if (entry === '') continue
    const parts = entry.split('/')
    if (parts.length < 2 || parts.length > 3 || parts.some((p) => p.trim() === ''))
      throw new InputError(
        `${dependsOnAnnotation}: "${entry}" is not Kind/name or Kind/namespace/name`,
        source
      )
    const [kind, a, b] = parts.map((p) => p.trim())
    refs.push(b === undefined ? { kind, name: a } : { kind, namespace: a, name: b })
  }
  return refs
}

/**
 * Orders manifests into stages (see the module comment). An unknown depends-on reference or a
 * dependency cycle is an InputError naming the object and its file.
 */
export function planStages<T extends Manifest>(
  manifests: readonly T[],
  clusterScoped?: (o: KubeObject) => boolean
): ApplyStage<T>[] {
  const lookup = indexByKindName(manifests)
  const deps = new Map<T, T[]>()
  for (const m of manifests) deps.set(m, dependenciesOf(m, lookup))

  const depth = new Map<T, number>()
  const visiting = new Set<T>()
  const visit = (m: T, path: T[]): number => {
    const known = depth.get(m)
    if (known !== undefined) return known
    if (visiting.has(m)) {
      const cycle = [...path.slice(path.indexOf(m)), m].map((x) => describeRef(x.object))
      throw new InputError(`dependency cycle: ${cycle.join(' → ')}`, m.source)
    }
    visiting.add(m)
    let d = 0
    for (const dep of deps.get(m) ?? []) d = Math.max(d, visit(dep, [...path, m]) + 1)
    visiting.delete(m)
    depth.set(m, d)
    return d
  }
  for (const m of manifests) visit(m, [])

  const stages = new Map<string, ApplyStage<T>>()
  for (const m of manifests) {
    const d = depth.get(m) ?? 0
    const r = kindRank(m.object, clusterScoped)
    const id = `${String(d).padStart(4, '0')}:${r}`
    const stage = stages.get(id) ?? { depth: d, rank: r, manifests: [] }
    stage.manifests.push(m)
    stages.set(id, stage)
  }
  return [...stages.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, s]) => s)
}

/** The manifests `m` depends on: declared ones, its Namespace, and its CRD (when present in the set). */
export function dependenciesOf<T extends Manifest>(m: T, lookup: KindNameIndex<T>): T[] {
  const o = m.object
  const out = new Set<T>()
  const declared = o.metadata.annotations?.[dependsOnAnnotation]
  if (declared) {
    for (const ref of parseDependsOn(declared, m.source)) {
      const target =
        lookup.find(ref.kind, ref.namespace ?? o.metadata.namespace, ref.name) ??
        (ref.namespace === undefined ? lookup.find(ref.kind, undefined, ref.name) : undefined)
      if (!target)
        throw new InputError(
          `${describeRef(o)}: ${dependsOnAnnotation} names ${ref.kind}/${ref.namespace ? `${ref.namespace}/` : ''}${ref.name}, which is not among this cluster's manifests`,
          m.source
        )
      if (target === m) throw new InputError(`${describeRef(o)} depends on itself`, m.source)
      out.add(target)
    }
  }
  if (o.metadata.namespace) {
    const ns = lookup.find('Namespace', undefined, o.metadata.namespace)
    if (ns) out.add(ns)
  }
  const crd = lookup.crdFor(groupOf(o.apiVersion), o.kind)
  if (crd && crd !== m) out.add(crd)
  return [...out]
}

/** Finds manifests by kind (case-insensitive), namespace and name, and CRDs by group and kind. */
export interface KindNameIndex<T> {
  find(kind: string, namespace: string | undefined, name: string): T | undefined
  crdFor(group: string, kind: string): T | undefined
}

export function indexByKindName<T extends Manifest>(manifests: readonly T[]): KindNameIndex<T> {
  const byName = new Map<string, T>()
  const crds = new Map<string, T>()
  for (const m of manifests) {
    const o = m.object
    byName.set(`${o.kind.toLowerCase()}|${o.metadata.namespace ?? ''}|${o.metadata.name}`, m)
    if (o.kind === 'CustomResourceDefinition') {
      const spec = (o.spec ?? {}) as { group?: string; names?: { kind?: string } }
      if (spec.group && spec.names?.kind) crds.set(`${spec.group}|${spec.names.kind}`, m)
    }
  }
  return {
    find: (kind, namespace, name) => byName.get(`${kind.toLowerCase()}|${namespace ?? ''}|${name}`),
    crdFor: (group, kind) => crds.get(`${group}|${kind}`)
  }
}
