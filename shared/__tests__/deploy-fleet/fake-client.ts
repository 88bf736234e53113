/**
 * An in-memory ClusterClient with the API server's concurrency rules that the fleet relies
 * on: create fails with 409 when the object exists, replace fails with 409 on a stale
 * resourceVersion, every write bumps resourceVersion. Enough for lock, state, ApplySet and
 * fast-rollback unit tests; the real behaviour is covered by the e2e suites.
 */
import {
  KubeApiError,
  type ClusterClient,
  type KubeObject,
  type ObjectRef
} from '../../src/k8s/types.js'

function key(ref: ObjectRef): string {
  const group = ref.apiVersion.includes('/') ? ref.apiVersion.split('/')[0] : ''
  return `${group}/${ref.kind}/${ref.namespace ?? ''}/${ref.name}`
}

function refOf(o: KubeObject): ObjectRef {
  return {
    apiVersion: o.apiVersion,
    kind: o.kind,
    namespace: o.metadata.namespace,
    name: o.metadata.name
  }
}

export class FakeClusterClient implements ClusterClient {
  readonly objects = new Map<string, KubeObject>()
  /** Every mutating call, in order, e.g. `create Lease kit-system/kit-deploy-lock`. */
  readonly writes: string[] = []
  private version = 1
  private created = 0
  /** Creating into a namespace that has no Namespace object fails with 404, as on a cluster. */
  requireNamespaces = false
  /** Every call, reads included, e.g. `get Lease kit-system/kit-deploy-lock`. */
  readonly calls: string[] = []

  constructor(readonly cluster = 'fake') {}

  seed(...objects: KubeObject[]): void {
    for (const o of objects) this.store(structuredClone(o))
  }

  private store(o: KubeObject): KubeObject {
    o.metadata.resourceVersion = String(++this.version)
    o.metadata.uid ??= `uid-${this.version}`
    o.metadata.creationTimestamp ??= new Date(
      Date.UTC(2026, 0, 1, 0, 0, ++this.created)
    ).toISOString()
    this.objects.set(key(refOf(o)), o)
    return structuredClone(o)
  }

  private record(verb: string, ref: ObjectRef): void {
    const line = `${verb} ${ref.kind} ${ref.namespace ? `${ref.namespace}/` : ''}${ref.name}`
    this.writes.push(line)
    this.calls.push(line)
  }

  async get(ref: ObjectRef): Promise<KubeObject | undefined> {
    this.calls.push(`get ${ref.kind} ${ref.namespace ? `${ref.namespace}/` : ''}${ref.name}`)
    const o = this.objects.get(key(ref))
    return o && structuredClone(o)
  }

  async list(
    apiVersion: string,
    kind: string,
    options: { namespace?: string; labelSelector?: string } = {}
  ): Promise<KubeObject[]> {
    this.calls.push(`list ${kind}${options.namespace ? ` ${options.namespace}` : ''}`)
    const wanted = (options.labelSelector ?? '')
      .split(',')
      .filter(Boolean)
      .map((p) => p.split('='))
    return [...this.objects.values()]
      .filter((o) => o.kind === kind && o.apiVersion === apiVersion)
      .filter((o) => options.namespace === undefined || o.metadata.namespace === options.namespace)
      .filter((o) => wanted.every(([k, v]) => o.metadata.labels?.[k] === v))
      .map((o) => structuredClone(o))
  }

  async apply(object: KubeObject, options: { dryRun?: boolean } = {}): Promise<KubeObject> {
    const existing = this.objects.get(key(refOf(object)))
    const merged: KubeObject = structuredClone({
      ...object,
      metadata: {
        ...object.metadata,
        creationTimestamp: existing?.metadata.creationTimestamp
      }
    })
    if (options.dryRun) return merged
    this.record('apply', refOf(object))
    return this.store(merged)
  }

  async create(object: KubeObject): Promise<KubeObject> {
    const ns = object.metadata.namespace
    if (
      this.requireNamespaces &&
      ns &&
      !this.objects.has(key({ apiVersion: 'v1', kind: 'Namespace', name: ns }))
    )
      throw new KubeApiError(`namespaces "${ns}" not found`, 404, 'NotFound')
    if (this.objects.has(key(refOf(object))))
      throw new KubeApiError(
        `${object.kind} ${object.metadata.name} already exists`,
        409,
        'AlreadyExists'
      )
    this.record('create', refOf(object))
    return this.store(structuredClone(object))
  }

  async replace(object: KubeObject): Promise<KubeObject> {
    const existing = this.objects.get(key(refOf(object)))
    if (!existing) throw new KubeApiError('not found', 404, 'NotFound')
    if (
      object.metadata.resourceVersion &&
      object.metadata.resourceVersion !== existing.metadata.resourceVersion
    )
      throw new KubeApiError('the object has been modified', 409, 'Conflict')
    this.record('replace', refOf(object))
    return this.store(structuredClone(object))
  }

  async delete(
    ref: ObjectRef,
    options: { preconditions?: { uid?: string; resourceVersion?: string } } = {}
  ): Promise<boolean> {
    const live = this.objects.get(key(ref))
    const p = options.preconditions
    if (
      live &&
      p &&
      ((p.uid !== undefined && p.uid !== live.metadata.uid) ||
        (p.resourceVersion !== undefined && p.resourceVersion !== live.metadata.resourceVersion))
    )
      throw new KubeApiError('Precondition failed', 409, 'Conflict')
    const had = this.objects.delete(key(ref))
    if (had) this.record('delete', ref)
    return had
  }

  async listEvents(): Promise<never[]> {
    return []
  }

  async isNamespaced(_apiVersion: string, kind: string): Promise<boolean> {
    return !['Namespace', 'CustomResourceDefinition', 'ClusterRole'].includes(kind)
  }

  resetDiscovery(): void {}
}

/** A clock whose sleep advances time instantly. */
export function fakeClock(start = Date.UTC(2026, 10, 26, 7, 0, 0)): {
  now(): number
  sleep(ms: number): Promise<void>
  advance(ms: number): void
} {
  let t = start
  return {
    now: () => t,
    sleep: async (ms: number) => {
      t += ms
    },
    advance: (ms: number) => {
      t += ms
    }
  }
}

export const quietLog = { info: () => {}, warning: () => {}, debug: () => {} }
