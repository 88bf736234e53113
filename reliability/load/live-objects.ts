/**
 * What is live on a cluster after a load deploy, read with kubectl (a client independent of the
 * deployer's own): every generated object with its resourceVersion, generation and field
 * managers, so the tests can tell that everything arrived healthy and that a second, unchanged
 * deploy wrote nothing.
 */
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import type { LoadObject } from './deploy-manifests.js'

const run = promisify(execFile)

interface ManagedField {
  readonly manager?: string
  readonly operation?: string
  readonly subresource?: string
  readonly time?: string
}

/** A live object as kubectl returns it (only the fields the checks read). */
export interface LiveObject {
  readonly kind: string
  readonly metadata: {
    readonly name: string
    readonly namespace?: string
    readonly resourceVersion: string
    readonly generation?: number
    readonly managedFields?: readonly ManagedField[]
  }
  readonly status?: Record<string, unknown>
}

/** kind/name → live object. */
export type Snapshot = ReadonlyMap<string, LiveObject>

const key = (kind: string, name: string): string => `${kind}/${name}`

/** Reads the Namespace and every object of the load mix in it (by the generator's label). */
export async function snapshot(
  kubectl: string,
  kubeconfig: string,
  namespace: string
): Promise<Snapshot> {
  const get = async (args: string[]): Promise<LiveObject[]> => {
    const { stdout } = await run(
      kubectl,
      ['--kubeconfig', kubeconfig, 'get', ...args, '-o', 'json'],
      {
        maxBuffer: 256 * 1024 * 1024
      }
    )
    const parsed = JSON.parse(stdout) as { kind: string; items?: LiveObject[] } & LiveObject
    return parsed.kind === 'List' ? (parsed.items ?? []) : [parsed]
  }
  const [ns, objects] = await Promise.all([
    get(['namespace', namespace, '--ignore-not-found']).catch(() => []),
    get([
      'configmaps,secrets,services,deployments,statefulsets,jobs',
      '-n',
      namespace,
      '-l',
      'app.kubernetes.io/part-of=kit-load'
    ])
  ])
  return new Map([...ns, ...objects].map((o) => [key(o.kind, o.metadata.name), o]))
}

/** Objects of the manifests that are not live. */
export function missing(expected: readonly LoadObject[], live: Snapshot): string[] {
  return expected.map((o) => key(o.kind, o.metadata.name)).filter((k) => !live.has(k))
}

/** Workloads that are not healthy: Deployments and StatefulSets not Ready, Jobs not complete. */
export function unhealthy(live: Snapshot): string[] {
  const bad: string[] = []
  for (const [k, o] of live) {
    const s = o.status ?? {}
    if (
      (o.kind === 'Deployment' || o.kind === 'StatefulSet') &&
      (s.readyReplicas !== 1 || s.updatedReplicas !== 1)
    )
      bad.push(`${k} (ready ${String(s.readyReplicas ?? 0)}/1)`)
    if (o.kind === 'Job' && s.succeeded !== 1)
      bad.push(`${k} (succeeded ${String(s.succeeded ?? 0)})`)
  }
  return bad
}

/** The field-manager entries a deployer run owns (kit's manager names all start with "kit"). */
function kitEntries(o: LiveObject): string {
  return JSON.stringify(
    (o.metadata.managedFields ?? [])
      .filter((m) => m.manager?.startsWith('kit'))
      .map((m) => [m.manager, m.operation, m.subresource ?? '', m.time])
  )
}

export interface WriteCheck {
  /** Objects compared. */
  readonly compared: number
  /** Objects whose resourceVersion changed for any reason (controllers write status too). */
  readonly versionChanges: number
  /** Objects the deployer wrote: a new generation or a new entry/time under kit's field manager. */
  readonly written: string[]
  /** Objects gone between the two snapshots. */
  readonly vanished: string[]
}

/**
 * Which objects a deploy wrote between two snapshots. A changed resourceVersion alone is not
 * proof (the Deployment and Job controllers write status); a write by the deployer shows as a
 * new generation (spec) or a changed field-manager entry of kit's (any apply that changes
 * something re-stamps the manager's entry).
 */
export function writesBetween(before: Snapshot, after: Snapshot): WriteCheck {
  const written: string[] = []
  const vanished: string[] = []
  let versionChanges = 0
  for (const [k, b] of before) {
    const a = after.get(k)
    if (!a) {
      vanished.push(k)
      continue
    }
    if (a.metadata.resourceVersion === b.metadata.resourceVersion) continue
    versionChanges++
    if (a.metadata.generation !== b.metadata.generation || kitEntries(a) !== kitEntries(b))
      written.push(k)
  }
  return { compared: before.size, versionChanges, written, vanished }
}
