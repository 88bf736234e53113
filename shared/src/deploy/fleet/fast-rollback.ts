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
import { canonicalJson } from '../../data/canonical-json.js'
import { InputError } from '../../errors.js'
import { KubeApiError, type ClusterClient, type KubeObject } from '../../k8s/types.js'
import type { ChangeEntry, Clock, Manifest } from '../cluster/types.js'
import { applySetIdFor, applySetPartOfLabel, type InventoryEntry } from './applyset.js'

export const strategyAnnotation = 'kit.dev/strategy'
export const deployIdLabel = 'kit.dev/deploy-id'
export const fastRollbackOfLabel = 'kit.dev/fast-rollback-of'
export const originalNameAnnotation = 'kit.dev/original-name'
/**
 * When a version last started serving (its Services switched to it). Written by kit with an
 * update of its own, never by the apply, so it changes nothing an unchanged redeploy compares.
 */
export const lastServedAnnotation = 'kit.dev/last-served'

export type Strategy = 'rolling-update' | 'fast-rollback'

/** JSON with object keys sorted, so a hash depends on content: kit's one canonical JSON. */
export { canonicalJson }

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

/** Whether a manifest is a Deployment deployed the fast-rollback way (its annotation, else the run's strategy). */
export function isFastRollbackDeployment(o: KubeObject, strategy: Strategy): boolean {
  if (o.kind !== 'Deployment' || !o.apiVersion.startsWith('apps/')) return false
  const a = o.metadata.annotations?.[strategyAnnotation]
  if (a !== undefined && a !== 'fast-rollback' && a !== 'rolling-update')
    throw new InputError(
      `${o.kind} ${o.metadata.name}: annotation ${strategyAnnotation} must be fast-rollback or rolling-update, got '${a}'`
    )
  return a === 'fast-rollback' || (a === undefined && strategy === 'fast-rollback')
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
  for (const m of manifests) {
    const o = m.object
    if (!isFastRollbackDeployment(o, strategy)) {
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

/** Refuses fast-rollback without wait (bad input, before anything is touched). */
export function checkFastRollbackWait(
  plan: Pick<FastRollbackPlan, 'deployments'>,
  settings: { readonly strategy: Strategy; readonly wait: boolean; readonly dryRun: boolean }
): void {
  if (settings.wait || settings.dryRun) return
  if (settings.strategy === 'fast-rollback')
    throw new InputError(
      'the fast-rollback strategy needs wait: traffic switches only to a healthy Deployment'
    )
  if (plan.deployments.length > 0)
    throw new InputError(
      `fast-rollback Deployments (${plan.deployments.map((d) => d.baseName).join(', ')}) need wait: traffic switches only to a healthy Deployment`
    )
}

/** What the clean-up after a switch did: deletions, and the kept versions (still kit's). */
export interface FastRollbackCleanup {
  readonly changes: ChangeEntry[]
  readonly retained: InventoryEntry[]
}

const deploymentRef = (namespace: string, name: string) => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  namespace,
  name
})

/**
 * Most recently serving first: by when each version last started serving, then (versions kit
 * never saw serve) by creation. A rollback makes an older version the newest to serve, so the
 * version it replaced is the one kept for the next instant rollback.
 */
export function byLastServed(a: KubeObject, b: KubeObject): number {
  const served = (o: KubeObject) => o.metadata.annotations?.[lastServedAnnotation] ?? ''
  return (
    served(b).localeCompare(served(a)) ||
    (b.metadata.creationTimestamp ?? '').localeCompare(a.metadata.creationTimestamp ?? '')
  )
}

/**
 * After the Services switched: marks the serving version as the newest to serve (when it is
 * not already), keeps the `keep` versions that served most recently before it and deletes the
 * rest, plus a plain rolling-update Deployment of the same name that kit deployed before the
 * strategy changed. Only objects carrying kit's ApplySet label are ever deleted.
 */
export async function cleanUpFastRollback(
  client: ClusterClient,
  deployments: readonly FastRollbackDeployment[],
  keep: number,
  dryRun: boolean,
  inventoryName?: string,
  clock?: Pick<Clock, 'now'>
): Promise<FastRollbackCleanup> {
  const kitApplySetId = applySetIdFor(inventoryName)
  const changes: ChangeEntry[] = []
  const retained: InventoryEntry[] = []
  for (const d of deployments) {
    const all = (
      await client.list('apps/v1', 'Deployment', {
        namespace: d.namespace,
        labelSelector: `${fastRollbackOfLabel}=${d.baseName}`
      })
    ).filter((o) => o.metadata.labels?.[applySetPartOfLabel] === kitApplySetId)
    const current = all.find((o) => o.metadata.name === d.name)
    const versions = all.filter((o) => o !== current).sort(byLastServed)
    if (current && !dryRun && versions.some((v) => byLastServed(v, current) <= 0))
      await markServing(client, current, clock?.now() ?? Date.now())
    const doomed = versions.slice(keep)
    for (const o of versions.slice(0, keep))
      retained.push(deploymentRef(d.namespace, o.metadata.name))
    const plain = await client.get(deploymentRef(d.namespace, d.baseName))
    if (plain && plain.metadata.labels?.[applySetPartOfLabel] === kitApplySetId) doomed.push(plain)
    for (const o of doomed)
      changes.push(
        await removeVersion(
          client,
          d.namespace,
          o.metadata.name,
          dryRun,
          o === plain
            ? `${dryRun ? 'would be removed' : 'removed'}: ${d.baseName} moved to fast-rollback (now served by ${d.name})`
            : `${dryRun ? 'would be removed' : 'removed'}: not among the ${keep} most recently serving fast-rollback versions of ${d.baseName}`
        )
      )
  }
  return { changes, retained }
}

/** Deletes one fast-rollback Deployment (not in a dry run) and reports it with `message`. */
async function removeVersion(
  client: ClusterClient,
  namespace: string,
  name: string,
  dryRun: boolean,
  message: string
): Promise<ChangeEntry> {
  if (!dryRun)
    await client.delete(deploymentRef(namespace, name), { propagationPolicy: 'Background' })
  return { kind: 'Deployment', namespace, name, action: 'deleted', message }
}

/**
 * Stamps when a version started serving, by an update (not kit's apply, so the apply never
 * owns or removes it). The controllers write the Deployment's status meanwhile: a stale copy is
 * read again, a few times.
 */
async function markServing(client: ClusterClient, version: KubeObject, now: number): Promise<void> {
  let live: KubeObject | undefined = version
  for (let attempt = 0; live && attempt < 5; attempt++) {
    const stamped: KubeObject = {
      ...live,
      metadata: {
        ...live.metadata,
        annotations: {
          ...(live.metadata.annotations ?? {}),
          [lastServedAnnotation]: new Date(now).toISOString()
        }
      }
    }
    try {
      await client.replace(stamped)
      return
    } catch (err) {
      if (!(err instanceof KubeApiError && err.statusCode === 409)) throw err
      live = await client.get(deploymentRef(live.metadata.namespace ?? '', live.metadata.name))
    }
  }
}

/** A plain (rolling-update) Deployment of the manifests, with the Services that select its pods. */
export interface LeavingCandidate {
  readonly namespace: string
  readonly name: string
  readonly services: readonly Manifest[]
}

/** A Deployment leaving fast-rollback: its versions still run, its Services still pick one. */
export interface LeavingFastRollback extends LeavingCandidate {
  /** kit's fast-rollback versions of it, as listed. */
  readonly versions: readonly KubeObject[]
  /** Deploy ids the live Services select now. */
  readonly servingIds: ReadonlySet<string>
}

/** Plain Deployments of the (namespace-resolved) manifests and their Services (pure). */
export function leavingCandidates(
  manifests: readonly Manifest[],
  strategy: Strategy
): LeavingCandidate[] {
  const services = manifests.filter((m) => m.object.kind === 'Service')
  return manifests
    .filter(
      (m) =>
        m.object.kind === 'Deployment' &&
        m.object.apiVersion.startsWith('apps/') &&
        !isFastRollbackDeployment(m.object, strategy)
    )
    .map(({ object }) => {
      const namespace = object.metadata.namespace ?? 'default'
      const spec = (object.spec ?? {}) as {
        template?: { metadata?: { labels?: Record<string, string> } }
      }
      const labels = spec.template?.metadata?.labels ?? {}
      return {
        namespace,
        name: object.metadata.name,
        services: services.filter(
          (s) =>
            (s.object.metadata.namespace ?? 'default') === namespace &&
            labelsMatch(
              ((s.object.spec ?? {}) as { selector?: Record<string, string> }).selector ?? {},
              labels
            )
        )
      }
    })
}

/**
 * The candidates that really are leaving fast-rollback: the inventory lists versions of theirs
 * (`<name>-<8 hex>`), confirmed by listing kit's versions on the cluster. No request at all
 * unless the inventory lists such a name.
 */
export async function findLeavingFastRollback(
  client: ClusterClient,
  candidates: readonly LeavingCandidate[],
  inventory: readonly InventoryEntry[],
  inventoryName?: string
): Promise<LeavingFastRollback[]> {
  const id = applySetIdFor(inventoryName)
  const out: LeavingFastRollback[] = []
  for (const c of candidates) {
    const version = new RegExp(`^${c.name.replace(/[.]/g, '\\.')}-[0-9a-f]{8}$`)
    const listed = inventory.some(
      (e) =>
        e.kind === 'Deployment' &&
        (e.namespace ?? c.namespace) === c.namespace &&
        version.test(e.name)
    )
    if (!listed) continue
    const versions = (
      await client.list('apps/v1', 'Deployment', {
        namespace: c.namespace,
        labelSelector: `${fastRollbackOfLabel}=${c.name}`
      })
    ).filter((o) => o.metadata.labels?.[applySetPartOfLabel] === id && o.metadata.name !== c.name)
    if (versions.length === 0) continue
    const servingIds = new Set<string>()
    for (const s of c.services) {
      const live = await client.get({
        apiVersion: s.object.apiVersion,
        kind: 'Service',
        namespace: c.namespace,
        name: s.object.metadata.name
      })
      const selected = ((live?.spec ?? {}) as { selector?: Record<string, string> }).selector
      if (selected?.[deployIdLabel]) servingIds.add(selected[deployIdLabel])
    }
    out.push({ ...c, versions, servingIds })
  }
  return out
}

/**
 * The plan with the Services of Deployments leaving fast-rollback held back with the switched
 * ones: they keep selecting the serving version until the plain Deployment is ready.
 */
export function holdBackLeavingServices(
  plan: FastRollbackPlan,
  leaving: readonly LeavingFastRollback[]
): Pick<FastRollbackPlan, 'first' | 'switched'> {
  const held = new Set(leaving.flatMap((l) => l.services))
  if (held.size === 0) return plan
  return {
    first: plan.first.filter((m) => !held.has(m)),
    switched: [...plan.switched, ...plan.first.filter((m) => held.has(m))]
  }
}

/**
 * Removes the fast-rollback versions of Deployments that left the strategy, whether or not
 * prune is on: the standby versions before the Services switch (so the switch never sends
 * traffic to a version the user had rolled back from), the serving one right after it.
 */
export async function removeLeftVersions(
  client: ClusterClient,
  leaving: readonly LeavingFastRollback[],
  which: 'standby' | 'serving',
  dryRun: boolean
): Promise<ChangeEntry[]> {
  const changes: ChangeEntry[] = []
  for (const l of leaving) {
    for (const v of l.versions) {
      const serving = l.servingIds.has(v.metadata.labels?.[deployIdLabel] ?? '')
      if (serving !== (which === 'serving')) continue
      changes.push(
        await removeVersion(
          client,
          l.namespace,
          v.metadata.name,
          dryRun,
          `${dryRun ? 'would be removed' : 'removed'}: ${l.name} left fast-rollback (${serving ? 'served until its Services switched to the new Deployment' : 'a standby version'})`
        )
      )
    }
  }
  return changes
}
