/**
 * Where an object lives, decided once and the same way everywhere: a namespaced object goes
 * to its manifest's namespace, else the kubeconfig context's, else `default` (kubectl's rule);
 * a cluster-scoped object has none. Object identity, duplicate checks, the inventory and prune
 * all compare objects after this resolution, so `ConfigMap x` and `ConfigMap default/x` are one
 * object when the context has no namespace.
 */
import { InputError } from '../errors.js'
import type { KubeConfig } from './client/kubeconfig-type.js'
import { describeRef, firstDuplicate, groupOf, keyOf } from './identity.js'
import { indexByKindName } from './order.js'
import { KubeApiError, type ClusterClient, type Manifest } from './types.js'

/** The namespace used when neither the manifest nor the context names one. */
export const fallbackNamespace = 'default'

/** The namespace of a kubeconfig's current context, else `default`. */
export function contextNamespaceOf(kubeConfig: KubeConfig): string {
  const context = kubeConfig.getContextObject(kubeConfig.getCurrentContext())
  return context?.namespace || fallbackNamespace
}

/** The namespace an object without one goes to on this client's cluster. */
export function defaultNamespaceOf(client: Pick<ClusterClient, 'defaultNamespace'>): string {
  return client.defaultNamespace || fallbackNamespace
}

/**
 * Refuses two manifests that name the same object once namespaces are defaulted (before any
 * cluster is asked: both a namespaced and a cluster-scoped reading make them one object).
 */
export function checkResolvedDuplicates(
  manifests: readonly Manifest[],
  defaultNamespace: string,
  cluster: string
): void {
  const withNamespace = (m: Manifest) => ({
    ...m.object,
    metadata: { ...m.object.metadata, namespace: m.object.metadata.namespace ?? defaultNamespace }
  })
  const dup = firstDuplicate(manifests, (m) => keyOf(withNamespace(m)))
  if (!dup) return
  const { first, again } = dup
  const implicit = [first, again].some((x) => x.object.metadata.namespace === undefined)
  throw new InputError(
    `duplicate object ${describeRef(withNamespace(again))} in cluster "${cluster}" (first defined at ${first.source.file}:${first.source.line})` +
      (implicit
        ? `: a manifest without a namespace goes to the context's namespace "${defaultNamespace}"`
        : ''),
    again.source
  )
}

/**
 * The manifests with their namespace as the cluster will store them, from API discovery: set on
 * namespaced kinds, removed from cluster-scoped ones. A custom resource whose CRD comes in the
 * same set takes its scope from that CRD. A kind the cluster does not serve (and no CRD in the
 * set defines) throws the client's UnknownKind error. Two manifests that resolve to one object
 * throw an InputError naming both.
 */
export async function resolveNamespaces(
  client: ClusterClient,
  manifests: readonly Manifest[]
): Promise<Manifest[]> {
  const lookup = indexByKindName(manifests)
  const scopeCache = new Map<string, Promise<boolean>>()
  const namespaced = (apiVersion: string, kind: string): Promise<boolean> => {
    const k = `${apiVersion}|${kind}`
    let p = scopeCache.get(k)
    if (!p) {
      p = client.isNamespaced(apiVersion, kind).catch((err: unknown) => {
        const crd = lookup.crdFor(groupOf(apiVersion), kind)
        if (err instanceof KubeApiError && err.reason === 'UnknownKind' && crd)
          return (crd.object.spec as { scope?: string } | undefined)?.scope !== 'Cluster'
        throw err
      })
      scopeCache.set(k, p)
    }
    return p
  }
  const defaultNamespace = defaultNamespaceOf(client)
  const resolved = await Promise.all(
    manifests.map(async (m): Promise<Manifest> => {
      const meta = m.object.metadata
      const isNamespaced = await namespaced(m.object.apiVersion, m.object.kind)
      if (isNamespaced ? meta.namespace !== undefined : meta.namespace === undefined) return m
      const { namespace, ...rest } = meta
      void namespace
      const metadata = isNamespaced ? { ...meta, namespace: defaultNamespace } : rest
      return { ...m, object: { ...m.object, metadata } }
    })
  )
  const dup = firstDuplicate(resolved, (m) => keyOf(m.object))
  if (dup)
    throw new InputError(
      `duplicate object ${describeRef(dup.again.object)} in cluster "${client.cluster}" once namespaces are resolved (first defined at ${dup.first.source.file}:${dup.first.source.line})`,
      dup.again.source
    )
  return resolved
}
