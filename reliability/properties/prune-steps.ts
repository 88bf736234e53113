/**
 * Generated deploy sequences against one inventory, and the invariants prune and the ApplySet
 * inventory must keep after every step, judged from the cluster's objects as read directly
 * (never through kit). Shared by the in-memory and the real-cluster property tests
 * (reliability/__tests__/prune-properties.test.ts).
 *
 * The oracle is written out here on purpose instead of reusing kit's selector matcher or
 * identity helpers: a bug shared by kit and its own oracle would pass unseen.
 */
import fc from 'fast-check'
import type { KubeObject } from '../../shared/src/k8s/types.js'

/** A label selector a step deploys with ('' is none: everything is selected). */
export type SelectorChoice = '' | 'tier=a' | 'tier in (a,b)' | 'tier!=c'

/**
 * What a step adds besides pool objects: nothing, an object of a kind the cluster does not
 * serve (the run is refused before any write), or an object the API server rejects (the run
 * fails mid-way, after other objects were applied, and rolls back).
 */
export type Extra = 'none' | 'unknown-kind' | 'invalid-configmap' | 'invalid-deployment'

/**
 * One deploy. `objects` names pool objects: `cm-1`, or for an object whose manifest may or may
 * not name its namespace, `cm-4/implicit` or `cm-4/explicit` (the same object either way, once
 * the implicit one goes to the context's namespace).
 */
export interface Step {
  readonly objects: readonly string[]
  readonly selector: SelectorChoice
  readonly prune: boolean
  readonly extra: Extra
  /**
   * The content revision of every object (ConfigMap data, Service target port, image tag): a
   * change makes live objects `configured`, so a failed run has something to restore.
   */
  readonly revision: 1 | 2
}

type Tier = 'a' | 'b' | 'c'
type Placement = 'a' | 'b' | 'implicit' | 'either'

interface PoolItem {
  readonly name: string
  readonly kind: 'ConfigMap' | 'Service' | 'Deployment'
  readonly placement: Placement
  readonly tier?: Tier
}

/**
 * The manifest set steps draw from: three kinds over two namespaces plus the context's, with
 * every tier and one object without the label (`tier!=c` selects it, `tier=a` does not). The
 * context's namespace is namespace `a`, so implicit objects share it with explicit ones.
 */
export const pool: readonly PoolItem[] = [
  { name: 'cm-1', kind: 'ConfigMap', placement: 'a', tier: 'a' },
  { name: 'cm-2', kind: 'ConfigMap', placement: 'b', tier: 'b' },
  { name: 'cm-3', kind: 'ConfigMap', placement: 'implicit', tier: 'c' },
  { name: 'cm-4', kind: 'ConfigMap', placement: 'either', tier: 'a' },
  { name: 'cm-5', kind: 'ConfigMap', placement: 'b' },
  { name: 'svc-1', kind: 'Service', placement: 'a', tier: 'b' },
  { name: 'svc-2', kind: 'Service', placement: 'implicit', tier: 'a' },
  { name: 'svc-3', kind: 'Service', placement: 'b', tier: 'c' },
  { name: 'dep-1', kind: 'Deployment', placement: 'b', tier: 'a' },
  { name: 'dep-2', kind: 'Deployment', placement: 'either', tier: 'b' },
  { name: 'dep-3', kind: 'Deployment', placement: 'a', tier: 'c' }
]

/** The namespaces of one sequence: `a` is also the context's namespace. */
export interface Namespaces {
  readonly a: string
  readonly b: string
}

/** The inventory's part-of label. */
export const partOfLabel = 'applyset.kubernetes.io/part-of'

const selectors: readonly SelectorChoice[] = ['', 'tier=a', 'tier in (a,b)', 'tier!=c']

/** One step: each pool object absent or present (shrinks towards absent), a selector, prune, an extra. */
export const stepArb: fc.Arbitrary<Step> = fc
  .record({
    chosen: fc.tuple(
      ...pool.map((p) =>
        p.placement === 'either'
          ? fc.constantFrom(null, `${p.name}/implicit`, `${p.name}/explicit`)
          : fc.constantFrom(null, p.name)
      )
    ),
    selector: fc.constantFrom(...selectors),
    prune: fc.boolean(),
    extra: fc.oneof(
      { arbitrary: fc.constant<Extra>('none'), weight: 7 },
      { arbitrary: fc.constant<Extra>('unknown-kind'), weight: 1 },
      { arbitrary: fc.constant<Extra>('invalid-configmap'), weight: 1 },
      { arbitrary: fc.constant<Extra>('invalid-deployment'), weight: 1 }
    ),
    revision: fc.constantFrom<1 | 2>(1, 2)
  })
  .map(({ chosen, selector, prune, extra, revision }) => ({
    objects: chosen.filter((c): c is string => c !== null),
    selector,
    prune,
    extra,
    revision
  }))

/**
 * A sequence of steps against one inventory. Each slot may shrink to no step at all: an array
 * alone shrinks by dropping leading items, which would leave the steps after a violation (and
 * unrelated ones before it) in the counterexample.
 */
export function sequenceArb(minSteps: number, maxSteps: number): fc.Arbitrary<Step[]> {
  return fc
    .array(fc.option(stepArb, { nil: null, freq: 10 }), {
      minLength: minSteps,
      maxLength: maxSteps
    })
    .map((slots) => slots.filter((s): s is Step => s !== null))
}

/** Exactly `steps` steps (the real cluster runs sampled sequences, no shrinking). */
export function fixedSequenceArb(steps: number): fc.Arbitrary<Step[]> {
  return fc.array(stepArb, { minLength: steps, maxLength: steps })
}

/** The objects of a step's manifest set (the full set: kit filters by the selector itself). */
export function stepManifests(step: Step, ns: Namespaces): KubeObject[] {
  const out: KubeObject[] = []
  for (const chosen of step.objects) {
    const [name, how] = chosen.split('/')
    const item = pool.find((p) => p.name === name)
    if (!item) throw new Error(`no pool object ${name}`)
    const placement =
      item.placement === 'either' ? (how === 'explicit' ? 'a' : 'implicit') : item.placement
    const namespace = placement === 'implicit' ? undefined : ns[placement]
    out.push(poolObject(item, namespace, step.revision))
  }
  // Extras carry tier a, inside every selection, so the selector never filters them out.
  if (step.extra === 'unknown-kind')
    out.push({
      apiVersion: 'example.com/v1',
      kind: 'Widget',
      metadata: { name: 'widget', namespace: ns.a, labels: { tier: 'a' } },
      spec: { size: 1 }
    })
  if (step.extra === 'invalid-configmap')
    out.push({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'invalid-cm', namespace: ns.b, labels: { tier: 'a' } },
      data: { 'bad key!': 'x' }
    })
  if (step.extra === 'invalid-deployment')
    out.push({
      ...poolObject(
        { name: 'invalid-dep', kind: 'Deployment', placement: 'a', tier: 'a' },
        ns.a,
        step.revision
      ),
      spec: { ...deploymentSpec('invalid-dep', step.revision), replicas: -1 }
    })
  return out
}

function deploymentSpec(name: string, revision: number): Record<string, unknown> {
  return {
    replicas: 1,
    selector: { matchLabels: { app: name } },
    template: {
      metadata: { labels: { app: name } },
      spec: { containers: [{ name: 'app', image: `registry.example/prune/${name}:${revision}` }] }
    }
  }
}

function poolObject(item: PoolItem, namespace: string | undefined, revision: number): KubeObject {
  const metadata = {
    name: item.name,
    ...(namespace ? { namespace } : {}),
    labels: { app: item.name, ...(item.tier ? { tier: item.tier } : {}) }
  }
  switch (item.kind) {
    case 'ConfigMap':
      return {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata,
        data: { owner: item.name, revision: String(revision) }
      }
    case 'Service':
      return {
        apiVersion: 'v1',
        kind: 'Service',
        metadata,
        spec: { selector: { app: item.name }, ports: [{ port: 80, targetPort: 8080 + revision }] }
      }
    case 'Deployment':
      return {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata,
        spec: deploymentSpec(item.name, revision)
      }
  }
}

/**
 * The API server's validation of what steps can send, for the in-memory cluster: ConfigMap data
 * keys must be valid config keys, a Deployment's replicas not negative. Returns the message of
 * the 422 Invalid the server would answer, or undefined.
 */
export function invalidReason(object: KubeObject): string | undefined {
  if (object.kind === 'ConfigMap')
    for (const k of Object.keys((object.data ?? {}) as Record<string, unknown>))
      if (!/^[-._a-zA-Z0-9]+$/.test(k))
        return `ConfigMap "${object.metadata.name}" is invalid: data[${k}]: Invalid value: "${k}": a valid config key must consist of alphanumeric characters, '-', '_' or '.'`
  if (object.kind === 'Deployment') {
    const replicas = (object.spec as { replicas?: number } | undefined)?.replicas
    if (replicas !== undefined && replicas < 0)
      return `Deployment.apps "${object.metadata.name}" is invalid: spec.replicas: Invalid value: ${replicas}: must be greater than or equal to 0`
  }
  return undefined
}

/** Whether labels are inside a step's selection (no selector: everything is). */
export function selects(
  selector: SelectorChoice,
  labels: Readonly<Record<string, string>>
): boolean {
  const tier = Object.prototype.hasOwnProperty.call(labels, 'tier') ? labels.tier : undefined
  switch (selector) {
    case '':
      return true
    case 'tier=a':
      return tier === 'a'
    case 'tier in (a,b)':
      return tier === 'a' || tier === 'b'
    case 'tier!=c':
      // As in Kubernetes, `!=` also selects objects without the key.
      return tier !== 'c'
  }
}

/** An object's identity: API group, kind, namespace ('' for none), name. */
export function identity(o: {
  readonly apiVersion: string
  readonly kind: string
  readonly namespace?: string
  readonly name: string
}): string {
  const group = o.apiVersion.includes('/') ? o.apiVersion.split('/')[0] : ''
  return `${group}/${o.kind}/${o.namespace ?? ''}/${o.name}`
}

/** One live object as the test read it from the cluster. */
export interface LiveObject {
  readonly apiVersion: string
  readonly kind: string
  readonly namespace?: string
  readonly name: string
  readonly labels: Readonly<Record<string, string>>
}

export function liveObject(o: KubeObject): LiveObject {
  return {
    apiVersion: o.apiVersion,
    kind: o.kind,
    ...(o.metadata.namespace ? { namespace: o.metadata.namespace } : {}),
    name: o.metadata.name,
    labels: { ...(o.metadata.labels ?? {}) }
  }
}

/** The live objects outside kit-system, by identity. */
export type Snapshot = ReadonlyMap<string, LiveObject>

export function snapshotOf(objects: Iterable<KubeObject>, ignoreNamespace: string): Snapshot {
  const out = new Map<string, LiveObject>()
  for (const o of objects) {
    if (o.metadata.namespace === ignoreNamespace) continue
    const l = liveObject(o)
    out.set(identity(l), l)
  }
  return out
}

/** One entry of the parent's data.inventory. */
export interface InventoryEntry {
  readonly apiVersion: string
  readonly kind: string
  readonly namespace?: string
  readonly name: string
}

/** The parent's data.inventory ([] when there is no parent yet). */
export function parseInventory(parent: KubeObject | undefined): InventoryEntry[] {
  const text = (parent?.data as Record<string, string> | undefined)?.inventory
  return text ? (JSON.parse(text) as InventoryEntry[]) : []
}

/** The four invariants, each checked on its own so each shrinks to its own counterexample. */
export type Invariant = 'wanted-kept' | 'outside-kept' | 'created-listed' | 'listed-exists'

export const invariantTitles: Record<Invariant, string> = {
  'wanted-kept': 'no object in the manifests and inside the selection is deleted',
  'outside-kept':
    'nothing outside the selection (or not kit’s, or in a run without prune) is deleted',
  'created-listed': 'every object kit created is in the inventory, with its namespace',
  'listed-exists': 'the inventory lists nothing that does not exist'
}

export interface Violation {
  readonly invariant: Invariant
  readonly message: string
}

export interface StepObservation {
  readonly step: Step
  /** The step's manifests (full set). */
  readonly manifests: readonly KubeObject[]
  /** Where objects without a namespace go (the context's namespace). */
  readonly defaultNamespace: string
  readonly before: Snapshot
  readonly after: Snapshot
  /** The parent's inventory after the step. */
  readonly inventory: readonly InventoryEntry[]
  /** The part-of value of kit's objects in this inventory. */
  readonly partOf: string
}

const kinds = new Set(['ConfigMap', 'Service', 'Deployment'])

/**
 * The invariants after one step. Deleted = live before the step, gone after it: an object this
 * step created and its rollback deleted again was never live before, so it is not counted.
 */
export function checkStep(o: StepObservation): Violation[] {
  const out: Violation[] = []
  const push = (invariant: Invariant, message: string) => out.push({ invariant, message })
  const sel = o.step.selector
  const selText = sel === '' ? 'no selector' : `selector '${sel}'`
  const wanted = new Map<string, KubeObject>()
  for (const m of o.manifests) {
    const namespace = m.metadata.namespace ?? o.defaultNamespace
    wanted.set(identity({ ...m, namespace, name: m.metadata.name }), m)
  }
  for (const [id, was] of o.before) {
    if (o.after.has(id)) continue
    const manifest = wanted.get(id)
    if (manifest && selects(sel, manifest.metadata.labels ?? {}))
      push(
        'wanted-kept',
        `deleted ${id}, which the manifests hold inside the selection (${selText})`
      )
    if (!selects(sel, was.labels))
      push(
        'outside-kept',
        `deleted ${id}, whose live labels (tier=${was.labels.tier ?? '<none>'}) are outside the selection (${selText})`
      )
    else if (was.labels[partOfLabel] !== o.partOf)
      push('outside-kept', `deleted ${id}, which does not carry this inventory's part-of label`)
    else if (!o.step.prune) push('outside-kept', `deleted ${id} in a run without prune`)
  }
  const listed = new Set(o.inventory.map(identity))
  for (const [id, live] of o.after) {
    if (live.labels[partOfLabel] !== o.partOf || listed.has(id)) continue
    const bare = identity({ ...live, namespace: undefined })
    push(
      'created-listed',
      listed.has(bare)
        ? `${id} is listed without its namespace (as ${bare})`
        : `${id} carries kit's part-of label but the inventory does not list it`
    )
  }
  for (const e of o.inventory) {
    const id = identity(e)
    if (o.after.has(id)) continue
    push(
      'listed-exists',
      e.namespace === undefined && kinds.has(e.kind)
        ? `the inventory lists ${id} without a namespace: no object has that identity`
        : `the inventory lists ${id}, which does not exist`
    )
  }
  return out
}

/** A step in one line, for traces. */
export function describeStep(step: Step): string {
  return [
    `[${step.objects.join(', ')}]`,
    step.selector ? `-l '${step.selector}'` : 'no selector',
    step.prune ? 'prune' : 'no prune',
    `revision ${step.revision}`,
    ...(step.extra === 'none' ? [] : [`+ ${step.extra}`])
  ].join(' ')
}

/** What happened in one step, from the fleet report's row. */
export interface StepOutcome {
  readonly outcome: string
  readonly reason?: string
  readonly pruned: number
}

/** Figures of a run of many sequences. */
export class Tally {
  sequences = 0
  steps = 0
  refused = 0
  failedMidway = 0
  pruned = 0

  count(step: Step, outcome: StepOutcome): void {
    this.steps++
    const succeeded = outcome.outcome === 'changed' || outcome.outcome === 'unchanged'
    if (step.extra === 'unknown-kind' && !succeeded) this.refused++
    else if (step.extra !== 'none' && !succeeded) this.failedMidway++
    if (outcome.pruned > 0) this.pruned++
  }

  text(): string {
    return `${this.sequences} sequences, ${this.steps} steps (${this.refused} refused for an unknown kind, ${this.failedMidway} failed mid-way, ${this.pruned} pruned something)`
  }

  figures(): Record<string, number> {
    return {
      runs: this.sequences,
      steps: this.steps,
      refused: this.refused,
      failedMidway: this.failedMidway,
      pruned: this.pruned
    }
  }
}
