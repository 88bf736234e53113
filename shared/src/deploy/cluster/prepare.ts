/**
 * Phase 1 of a cluster's deploy: turn the manifests into the objects to apply. Every
 * namespace is resolved from discovery (../../k8s/namespace.ts), the run's labels and
 * annotations are added, and the applied hash is stamped last so the next run can tell
 * "unchanged" without asking. Also here: what must be known before the first request
 * (Secret values for the redactor) and said before the first write (progress deadlines the
 * timeout cuts short).
 */
import { withAppliedHash } from '../../k8s/change.js'
import { cloneObject, describeRef } from '../../k8s/identity.js'
import { resolveNamespaces } from '../../k8s/namespace.js'
import type { ClusterClient, KubeObject, Manifest } from '../../k8s/types.js'
import { plural } from '../../text/plural.js'
import type { DeployClusterOptions } from './types.js'

/**
 * A manifest ready to apply: `object` (= `desired`) is the manifest with its namespace defaulted
 * and the run's labels and annotations added.
 */
export interface Prepared extends Manifest {
  readonly desired: KubeObject
}

/** Resolves every namespace and adds the run's labels and annotations. */
export async function prepare(
  client: ClusterClient,
  manifests: Manifest[],
  options: Pick<DeployClusterOptions, 'labels' | 'annotations'>
): Promise<Prepared[]> {
  const resolved = await resolveNamespaces(client, manifests)
  return resolved.map((m) => {
    const desired = cloneObject(m.object)
    const meta = desired.metadata
    if (options.labels) meta.labels = { ...meta.labels, ...options.labels }
    if (options.annotations) meta.annotations = { ...meta.annotations, ...options.annotations }
    // The hash of exactly what is applied, so the next run can tell "unchanged" without asking.
    const stamped = withAppliedHash(desired)
    return { object: stamped, desired: stamped, source: m.source }
  })
}

/** Secret values (base64 and decoded) are registered so no log, diff or error can show them. */
export function registerSecretValues(
  object: KubeObject,
  redactor: { add(v: string | undefined): void }
): void {
  if (object.kind !== 'Secret') return
  const data = (object.data ?? {}) as Record<string, unknown>
  for (const v of Object.values(data))
    if (typeof v === 'string') {
      redactor.add(v)
      redactor.add(Buffer.from(v, 'base64').toString('utf8'))
    }
  const stringData = (object.stringData ?? {}) as Record<string, unknown>
  for (const v of Object.values(stringData))
    if (typeof v === 'string') {
      redactor.add(v)
      redactor.add(Buffer.from(v, 'utf8').toString('base64'))
    }
}

/**
 * A Deployment's own failure signal is its progress deadline (API default 600 s). When that is
 * longer than the cluster's timeout, a stuck rollout that no pod rule catches ends as a timeout
 * instead of ProgressDeadlineExceeded: say so up front (see docs/health-rules.md). One warning
 * per cluster, naming a few: a fleet of 30 Deployments must not print 30 lines.
 */
export function warnAboutProgressDeadlines(
  prepared: Prepared[],
  timeoutMs: number,
  log: { warning(m: string): void },
  label: string
): void {
  const timeoutSeconds = Math.round(timeoutMs / 1000)
  const over: string[] = []
  for (const p of prepared) {
    if (p.desired.kind !== 'Deployment') continue
    const seconds =
      (p.desired.spec as { progressDeadlineSeconds?: number } | undefined)
        ?.progressDeadlineSeconds ?? 600
    if (seconds * 1000 > timeoutMs) over.push(`${describeRef(p.desired)} (${seconds}s)`)
  }
  if (over.length === 0) return
  const named =
    over.length > 3 ? `${over.slice(0, 3).join(', ')} and ${over.length - 3} more` : over.join(', ')
  log.warning(
    `${label}: progressDeadlineSeconds longer than the cluster timeout (${timeoutSeconds}s) on ${plural(over.length, 'Deployment')}: ${named}; a stalled rollout there will be reported as a timeout`
  )
}
