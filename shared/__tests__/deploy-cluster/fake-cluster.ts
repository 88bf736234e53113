/**
 * An in-memory ClusterClient for engine unit tests (not a test file). Server-side apply is
 * modelled as "the applied fields replace the stored ones"; a `controller` callback plays the
 * cluster's controllers by filling in status when objects are read.
 */
import { keyOf } from '../../src/k8s/identity.js'
import {
  KubeApiError,
  type ClusterClient,
  type KubeEvent,
  type KubeObject,
  type ObjectRef
} from '../../src/k8s/types.js'

const clusterScoped = new Set(['Namespace', 'CustomResourceDefinition', 'ClusterRole'])
const knownKinds = new Set([
  'Namespace',
  'ConfigMap',
  'Secret',
  'Service',
  'Deployment',
  'StatefulSet',
  'Job',
  'ClusterRole',
  'Pod',
  'ReplicaSet',
  'Event',
  'HorizontalPodAutoscaler'
])

export class FakeCluster implements ClusterClient {
  readonly cluster = 'fake'
  readonly defaultNamespace = 'default'
  readonly objects = new Map<string, KubeObject>()
  writes: string[] = []
  /** Every request, reads included: `get <key>`, `list <kind> <ns>`, `apply <key>`, `dry-run <key>`. */
  requests: string[] = []
  private version = 1
  /** Plays the controllers: returns the object with a status for this read. */
  controller: (o: KubeObject) => KubeObject = (o) => o
  /** Throws to simulate a rejected apply (e.g. an immutable field). */
  validate: (o: KubeObject, live: KubeObject | undefined) => void = () => undefined

  seed(...objects: KubeObject[]): void {
    for (const o of objects) this.store(structuredClone(o))
  }

  private store(o: KubeObject): KubeObject {
    o.metadata.resourceVersion = String(this.version++)
    o.metadata.uid ??= `uid-${o.metadata.name}`
    this.objects.set(keyOf(o), o)
    return o
  }

  async get(ref: ObjectRef) {
    this.requests.push(`get ${keyOf(ref)}`)
    this.known(ref.kind)
    const o = this.objects.get(keyOf(ref))
    return o ? structuredClone(this.controller(o)) : undefined
  }
  async list(_apiVersion: string, kind: string, options: { namespace?: string } = {}) {
    this.requests.push(`list ${kind} ${options.namespace ?? ''}`.trim())
    this.known(kind)
    return [...this.objects.values()]
      .filter(
        (o) => o.kind === kind && (!options.namespace || o.metadata.namespace === options.namespace)
      )
      .map((o) => structuredClone(this.controller(o)))
  }
  async apply(object: KubeObject, options: { dryRun?: boolean } = {}) {
    this.requests.push(`${options.dryRun ? 'dry-run' : 'apply'} ${keyOf(object)}`)
    this.known(object.kind)
    const live = this.objects.get(keyOf(object))
    this.validate(object, live)
    const { metadata, ...fields } = structuredClone(object)
    const next: KubeObject = {
      ...fields,
      metadata: {
        ...metadata,
        uid: live?.metadata.uid,
        resourceVersion: live?.metadata.resourceVersion,
        generation: live?.metadata.generation ?? 1
      },
      ...(live?.status ? { status: live.status } : {})
    } as KubeObject
    if (live && JSON.stringify(live.spec) !== JSON.stringify(next.spec))
      next.metadata.generation = (live.metadata.generation ?? 1) + 1
    if (options.dryRun) return next
    this.writes.push(`apply ${keyOf(object)}`)
    return structuredClone(this.store(next))
  }
  async create(object: KubeObject) {
    return this.apply(object)
  }
  async replace(object: KubeObject) {
    return this.apply(object)
  }
  async delete(ref: ObjectRef) {
    this.requests.push(`delete ${keyOf(ref)}`)
    this.writes.push(`delete ${keyOf(ref)}`)
    return this.objects.delete(keyOf(ref))
  }
  async listEvents(
    _namespace: string,
    _involved?: { kind: string; name: string; uid?: string }
  ): Promise<KubeEvent[]> {
    return []
  }
  async isNamespaced(_apiVersion: string, kind: string) {
    this.known(kind)
    return !clusterScoped.has(kind)
  }
  resetDiscovery(): void {}

  private known(kind: string): void {
    if (!knownKinds.has(kind) && !clusterScoped.has(kind))
      throw new KubeApiError(`unknown kind ${kind}`, 404, 'UnknownKind')
  }
}

/** A clock whose sleeps advance time at once, and which records when each log line was written. */
export function fakeClock(start = Date.parse('2026-01-01T00:00:00Z')) {
  let now = start
  return {
    now: () => now,
    sleep: async (ms: number, signal?: AbortSignal) => {
      if (signal?.aborted) throw new Error('aborted')
      now += ms
    },
    advance: (ms: number) => (now += ms)
  }
}
