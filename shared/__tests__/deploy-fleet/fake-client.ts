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
import { matchesSelector, parseSelector } from '../../src/deploy/fleet/selector.js'

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

function namespacedKind(kind: string): boolean {
  return !['Namespace', 'CustomResourceDefinition', 'ClusterRole'].includes(kind)
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
  /**
   * The context's namespace, as the real client has it. When set, a ref or object of a
   * namespaced kind without a namespace is read and written there, as the real client does;
   * unset, the fake keeps such objects under an empty namespace (what the older tests expect).
   */
  defaultNamespace: string | undefined
  /**
   * Kinds the API server does not serve (no CRD): every call about them fails with the real
   * client's 404 UnknownKind, discovery included.
   */
  readonly unknownKinds = new Set<string>()
  /**
   * The API server's validation: an error returned here rejects the apply (dry runs too) or
   * create, as a 422 Invalid from the server would.
   */
  rejectApply: ((object: KubeObject) => KubeApiError | undefined) | undefined
  /**
   * Label selectors in the full grammar (set-based and `!=` too) instead of `k=v` pairs only;
   * off by default so the older tests see the fake they were written against.
   */
  fullSelectors = false

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

  /** The real client's answer for a kind the cluster does not serve. */
  private checkKind(apiVersion: string, kind: string): void {
    if (this.unknownKinds.has(kind))
      throw new KubeApiError(
        `the cluster does not know kind ${kind} in ${apiVersion} (is its CRD installed?)`,
        404,
        'UnknownKind'
      )
  }

  /** A ref with the context's namespace filled in, where the real client would fill it in. */
  private resolve(ref: ObjectRef): ObjectRef {
    this.checkKind(ref.apiVersion, ref.kind)
    if (this.defaultNamespace === undefined || ref.namespace || !namespacedKind(ref.kind))
      return ref
    return { ...ref, namespace: this.defaultNamespace }
  }

  /** An object with the context's namespace filled in, as the API server stores it. */
  private resolveObject(object: KubeObject): KubeObject {
    const ns = this.resolve(refOf(object)).namespace
    if (ns === object.metadata.namespace) return object
    return { ...object, metadata: { ...object.metadata, namespace: ns } }
  }

  async get(ref: ObjectRef): Promise<KubeObject | undefined> {
    ref = this.resolve(ref)
    this.calls.push(`get ${ref.kind} ${ref.namespace ? `${ref.namespace}/` : ''}${ref.name}`)
    const o = this.objects.get(key(ref))
    return o && structuredClone(o)
  }

  async list(
    apiVersion: string,
    kind: string,
    options: { namespace?: string; labelSelector?: string } = {}
  ): Promise<KubeObject[]> {
    this.checkKind(apiVersion, kind)
    this.calls.push(`list ${kind}${options.namespace ? ` ${options.namespace}` : ''}`)
    const wanted = (options.labelSelector ?? '')
      .split(',')
      .filter(Boolean)
      .map((p) => p.split('='))
    const requirements =
      this.fullSelectors && options.labelSelector ? parseSelector(options.labelSelector) : undefined
    const selected = (o: KubeObject): boolean =>
      requirements
        ? matchesSelector(o.metadata.labels ?? {}, requirements)
        : wanted.every(([k, v]) => o.metadata.labels?.[k] === v)
    return [...this.objects.values()]
      .filter((o) => o.kind === kind && o.apiVersion === apiVersion)
      .filter((o) => options.namespace === undefined || o.metadata.namespace === options.namespace)
      .filter(selected)
      .map((o) => structuredClone(o))
  }

  async apply(object: KubeObject, options: { dryRun?: boolean } = {}): Promise<KubeObject> {
    object = this.resolveObject(object)
    const rejected = this.rejectApply?.(object)
    if (rejected) throw rejected
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
    object = this.resolveObject(object)
    const rejected = this.rejectApply?.(object)
    if (rejected) throw rejected
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
    object = this.resolveObject(object)
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
    ref = this.resolve(ref)
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

  async isNamespaced(apiVersion: string, kind: string): Promise<boolean> {
    this.checkKind(apiVersion, kind)
    return namespacedKind(kind)
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
