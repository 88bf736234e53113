/**
 * kit's fast-rollback strategy, rebuilt on server-side apply. A Deployment opted in (by the
 * annotation `kit.dev/strategy: fast-rollback`, or for all Deployments by the run's strategy)
 * is deployed as a new Deployment `<name>-<deploy id>`, where the deploy id is a hash of the
 * Deployment as written: the same spec always gets the same name, so an unchanged redeploy
 * touches nothing and a rollback to an earlier spec finds its Deployment still running.
 *
 * Traffic: every Service whose selector picks the Deployment's pods gets the selector label
 * `kit.dev/deploy-id: <id>`, and those Services are applied only after the new Deployment is
 * healthy. A bad version therefore never receives traffic: its Deployment fails, is deleted
 * by the engine's rollback, and the Services keep pointing at the previous one.
 *
 * Kept versions: the previous `keep` Deployments stay at their full replica count (hot
 * standbys, like kit's), so a rollback is a Service selector switch, not a scale-up.
 */
import { createHash } from 'node:crypto'
import { InputError } from '../../errors.js'
import type { ClusterClient, KubeObject } from '../../k8s/types.js'
import type { ChangeEntry, Manifest } from '../cluster/types.js'
import { applySetIdFor, applySetPartOfLabel, type InventoryEntry } from './applyset.js'

export const strategyAnnotation = 'kit.dev/strategy'
export const deployIdLabel = 'kit.dev/deploy-id'
export const fastRollbackOfLabel = 'kit.dev/fast-rollback-of'
export const originalNameAnnotation = 'kit.dev/original-name'

export type Strategy = 'rolling-update' | 'fast-rollback'

/** JSON with object keys sorted, so a hash depends on content, never on key order. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`
  }
  return JSON.stringify(value)
}

/** The deploy id of a Deployment: 8 hex characters of the hash of its manifest. */
export function deployIdOf(deployment: KubeObject): string {
  return createHash('sha256').update(canonicalJson(deployment)).digest('hex').slice(0, 8)
}

/** One Deployment deployed the fast-rollback way. */
export interface FastRollbackDeployment {
  readonly namespace: string
  /** The name in the manifests. */
  readonly baseName: string
  readonly deployId: string
  /** `<baseName>-<deployId>`. */
  readonly name: string
}

export interface FastRollbackPlan {
  /** Applied first (and waited for): everything except the switched Services. */
  readonly first: Manifest[]
  /** Applied once `first` is healthy: Services with their selector switched to the new ids. */
  readonly switched: Manifest[]
  readonly deployments: FastRollbackDeployment[]
}

function labelsMatch(selector: Record<string, string>, labels: Record<string, string>): boolean {
  const keys = Object.keys(selector)
  return keys.length > 0 && keys.every((k) => labels[k] === selector[k])
}

/**
 * Rewrites the manifests for fast-rollback (pure). Deployments not opted in, and everything
 * else, pass through unchanged.
 */
export function planFastRollback(
  manifests: readonly Manifest[],
  strategy: Strategy
): FastRollbackPlan {
  const first: Manifest[] = []
  const deployments: (FastRollbackDeployment & { templateLabels: Record<string, string> })[] = []
  const optedIn = (o: KubeObject): boolean => {
    const a = o.metadata.annotations?.[strategyAnnotation]
    if (a !== undefined && a !== 'fast-rollback' && a !== 'rolling-update')
      throw new InputError(
        `${o.kind} ${o.metadata.name}: annotation ${strategyAnnotation} must be fast-rollback or rolling-update, got '${a}'`
      )
    return a === 'fast-rollback' || (a === undefined && strategy === 'fast-rollback')
  }
  for (const m of manifests) {
    const o = m.object
    if (o.kind !== 'Deployment' || !o.apiVersion.startsWith('apps/') || !optedIn(o)) {
      if (o.kind !== 'Service') first.push(m)
      continue
    }
    const spec = (o.spec ?? {}) as {
      selector?: { matchLabels?: Record<string, string>; matchExpressions?: unknown[] }
      template?: { metadata?: { labels?: Record<string, string> } }
    }
    for (const label of [deployIdLabel, fastRollbackOfLabel]) {
      if (
        o.metadata.labels?.[label] !== undefined ||
        spec.template?.metadata?.labels?.[label] !== undefined
      )
        throw new InputError(
          `Deployment ${o.metadata.name}: label ${label} is reserved for fast-rollback`,
          m.source
        )
    }
    const deployId = deployIdOf(o)
    const namespace = o.metadata.namespace ?? 'default'
    const name = `${o.metadata.name}-${deployId}`
    if (name.length > 253)
      throw new InputError(
        `Deployment ${o.metadata.name}: name too long for fast-rollback`,
        m.source
      )
    const templateLabels = { ...(spec.template?.metadata?.labels ?? {}) }
    const copy = structuredClone(o)
    const cspec = copy.spec as typeof spec
    copy.metadata.name = name
    copy.metadata.labels = {
      ...(copy.metadata.labels ?? {}),
      [deployIdLabel]: deployId,
      [fastRollbackOfLabel]: o.metadata.name
    }
    copy.metadata.annotations = {
      ...(copy.metadata.annotations ?? {}),
      [originalNameAnnotation]: o.metadata.name
    }
    cspec.selector = {
      ...(cspec.selector ?? {}),
      matchLabels: { ...(cspec.selector?.matchLabels ?? {}), [deployIdLabel]: deployId }
    }
    cspec.template = {
      ...(cspec.template ?? {}),
      metadata: {
        ...(cspec.template?.metadata ?? {}),
        labels: { ...templateLabels, [deployIdLabel]: deployId }
      }
    }
    first.push({ object: copy, source: m.source })
    deployments.push({ namespace, baseName: o.metadata.name, deployId, name, templateLabels })
  }
  const switched: Manifest[] = []
  for (const m of manifests.filter((x) => x.object.kind === 'Service')) {
    const svc = m.object
    const selector = ((svc.spec ?? {}) as { selector?: Record<string, string> }).selector ?? {}
    const namespace = svc.metadata.namespace ?? 'default'
    const targets = deployments.filter(
      (d) => d.namespace === namespace && labelsMatch(selector, d.templateLabels)
    )
    if (targets.length === 0) {
      first.push(m)
      continue
    }
    if (targets.length > 1)
      throw new InputError(
        `Service ${svc.metadata.name} selects the pods of several fast-rollback Deployments (${targets.map((t) => t.baseName).join(', ')}); give each its own Service selector`,
        m.source
      )
    const copy = structuredClone(svc)
    ;(copy.spec as { selector: Record<string, string> }).selector = {
      ...selector,
      [deployIdLabel]: targets[0].deployId
    }
    switched.push({ object: copy, source: m.source })
  }
  return {
    first,
    switched,
    deployments: deployments.map(({ namespace, baseName, deployId, name }) => ({
      namespace,
      baseName,
      deployId,
      name
    }))
  }
}

/** What the clean-up after a switch did: deletions, and the kept versions (still kit's). */
export interface FastRollbackCleanup {
  readonly changes: ChangeEntry[]
  readonly retained: InventoryEntry[]
}

/**
 * After the Services switched: keeps the `keep` most recent previous versions of each
 * fast-rollback Deployment and deletes older ones, plus a plain rolling-update Deployment of
 * the same name that kit deployed before the strategy changed. Only objects carrying kit's
 * ApplySet label are ever deleted.
 */
export async function cleanUpFastRollback(
  client: ClusterClient,
  deployments: readonly FastRollbackDeployment[],
  keep: number,
  dryRun: boolean,
  inventoryName?: string
): Promise<FastRollbackCleanup> {
  const kitApplySetId = applySetIdFor(inventoryName)
  const changes: ChangeEntry[] = []
  const retained: InventoryEntry[] = []
  for (const d of deployments) {
    const versions = (
      await client.list('apps/v1', 'Deployment', {
        namespace: d.namespace,
        labelSelector: `${fastRollbackOfLabel}=${d.baseName}`
      })
    ).filter(
      (o) =>
        o.metadata.name !== d.name && o.metadata.labels?.[applySetPartOfLabel] === kitApplySetId
    )
    versions.sort((a, b) =>
      (b.metadata.creationTimestamp ?? '').localeCompare(a.metadata.creationTimestamp ?? '')
    )
    const doomed = versions.slice(keep)
    for (const o of versions.slice(0, keep))
      retained.push({
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        namespace: d.namespace,
        name: o.metadata.name
      })
    const plain = await client.get({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      namespace: d.namespace,
      name: d.baseName
    })
    if (plain && plain.metadata.labels?.[applySetPartOfLabel] === kitApplySetId) doomed.push(plain)
    for (const o of doomed) {
      if (!dryRun)
        await client.delete(
          {
            apiVersion: 'apps/v1',
            kind: 'Deployment',
            namespace: d.namespace,
            name: o.metadata.name
          },
          { propagationPolicy: 'Background' }
        )
      changes.push({
        kind: 'Deployment',
        namespace: d.namespace,
        name: o.metadata.name,
        action: 'deleted',
        message: `${dryRun ? 'would be removed' : 'removed'}: older than the ${keep} kept fast-rollback versions of ${d.baseName}`
      })
    }
  }
  return { changes, retained }
}
