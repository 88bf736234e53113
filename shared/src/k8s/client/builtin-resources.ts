/**
 * The REST resources of built-in kinds whose group/version, plural and scope are fixed in every
 * Kubernetes release kit supports (all GA by 1.16): the Lease and ConfigMaps kit itself writes
 * on every run, and the kinds most manifests are made of. No CRD or aggregated API can take
 * over a built-in group, so asking discovery about these only costs a round trip — one that
 * used to stand between connecting and taking the deploy lock. Kinds of newer or optional APIs
 * (CronJob's batch/v1, Ingress, CRDs, custom resources) still come from discovery.
 */
export interface BuiltinResource {
  /** The plural name in the URL path. */
  readonly name: string
  readonly kind: string
  readonly namespaced: boolean
}

const namespaced = true
const clusterScoped = false

const byGroupVersion: Readonly<Record<string, Readonly<Record<string, BuiltinResource>>>> = {
  v1: table({
    Namespace: ['namespaces', clusterScoped],
    Node: ['nodes', clusterScoped],
    PersistentVolume: ['persistentvolumes', clusterScoped],
    ConfigMap: ['configmaps', namespaced],
    Secret: ['secrets', namespaced],
    Service: ['services', namespaced],
    ServiceAccount: ['serviceaccounts', namespaced],
    Pod: ['pods', namespaced],
    PersistentVolumeClaim: ['persistentvolumeclaims', namespaced],
    Event: ['events', namespaced],
    Endpoints: ['endpoints', namespaced],
    LimitRange: ['limitranges', namespaced],
    ResourceQuota: ['resourcequotas', namespaced]
  }),
  'apps/v1': table({
    Deployment: ['deployments', namespaced],
    StatefulSet: ['statefulsets', namespaced],
    DaemonSet: ['daemonsets', namespaced],
    ReplicaSet: ['replicasets', namespaced],
    ControllerRevision: ['controllerrevisions', namespaced]
  }),
  'batch/v1': table({ Job: ['jobs', namespaced] }),
  'coordination.k8s.io/v1': table({ Lease: ['leases', namespaced] }),
  'rbac.authorization.k8s.io/v1': table({
    Role: ['roles', namespaced],
    RoleBinding: ['rolebindings', namespaced],
    ClusterRole: ['clusterroles', clusterScoped],
    ClusterRoleBinding: ['clusterrolebindings', clusterScoped]
  })
}

function table(
  entries: Record<string, readonly [name: string, namespaced: boolean]>
): Record<string, BuiltinResource> {
  return Object.fromEntries(
    Object.entries(entries).map(([kind, [name, isNamespaced]]) => [
      kind,
      { name, kind, namespaced: isNamespaced }
    ])
  )
}

/** The resource of a built-in kind in the table above, or undefined (ask discovery). */
export function builtinResource(apiVersion: string, kind: string): BuiltinResource | undefined {
  const kinds = byGroupVersion[apiVersion]
  return kinds && Object.hasOwn(kinds, kind) ? kinds[kind] : undefined
}
