/**
 * Property-based tests of prune and the ApplySet inventory: random sequences of deploys against
 * one inventory — random subsets of a manifest set, random selectors, prune on or off, some runs
 * refused before any write (a kind the cluster does not serve) or failing mid-way (an object the
 * API server rejects), objects with and without a namespace. After every step, judged from the
 * cluster's objects read directly (reliability/properties/prune-steps.ts):
 *
 * - no object in the manifests and inside the selection was deleted;
 * - nothing outside the selection was deleted (by its live labels, as `kubectl apply --prune -l`
 *   judges), nor anything kit does not own, nor anything in a run without prune;
 * - every object carrying the inventory's part-of label is in the inventory, with its namespace;
 * - the inventory lists nothing that does not exist.
 *
 * In memory the whole fleet path runs (deployFleet, the real engine, an in-memory API server),
 * many sequences from a seed (KIT_PROPERTY_SEED, else a fresh one), one property per invariant so
 * each failure shrinks to its own smallest sequence. On a real cluster runDeploy runs two
 * sequences from a fixed seed, every invariant checked after every step.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import fc from 'fast-check'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  KubernetesObjectApi,
  type KubeConfig,
  type KubernetesObject
} from '@kubernetes/client-node'
import { parse, stringify } from 'yaml'
import { deployWithClient } from '../../shared/src/deploy/cluster/deploy.js'
import type { Manifest } from '../../shared/src/deploy/cluster/types.js'
import { applySetIdFor, applySetParentNameFor } from '../../shared/src/deploy/fleet/applyset.js'
import { deployFleet, type FleetSettings } from '../../shared/src/deploy/fleet/deploy-fleet.js'
import { kitSystemNamespace } from '../../shared/src/deploy/fleet/lock.js'
import { runDeploy } from '../../shared/src/deploy/fleet/run-deploy.js'
import { runIdentity, type DeployRequest } from '../../shared/src/deploy/fleet/settings.js'
import type { FleetReport } from '../../shared/src/deploy/fleet/types.js'
import { KubeApiError, type KubeObject } from '../../shared/src/k8s/types.js'
import { Redactor } from '../../shared/src/secrets/redact.js'
import {
  FakeClusterClient,
  fakeClock,
  quietLog
} from '../../shared/__tests__/deploy-fleet/fake-client.js'
import { testClusters, uniqueName, type TestCluster } from '../../testinfra/jest/clusters.js'
import { record } from '../record.js'
import {
  checkStep,
  describeStep,
  fixedSequenceArb,
  invalidReason,
  invariantTitles,
  parseInventory,
  sequenceArb,
  snapshotOf,
  stepManifests,
  Tally,
  type Invariant,
  type Namespaces,
  type Snapshot,
  type Step,
  type StepOutcome,
  type Violation
} from '../properties/prune-steps.js'

const seed = Number(process.env.KIT_PROPERTY_SEED ?? Date.now() % 2_147_483_647)
/** Sequences per invariant in memory, each of up to `maxSteps` deploys: some 500 steps each. */
const runs = 100
const maxSteps = 12
/** The real cluster: a fixed seed, so the same sequences run every time. */
const realSeed = 20261126
const realSequences = 2
const realSteps = 8

function firstLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0].slice(0, 240)
}

/** What a step did, from its cluster's row of the fleet report. */
function outcomeOf(report: FleetReport): StepOutcome {
  const row = report.rows[0]
  if (!row) return { outcome: 'no row', pruned: 0 }
  return {
    outcome: row.outcome,
    ...(row.reason ? { reason: row.reason } : {}),
    pruned: row.changes.filter((c) => c.action === 'deleted').length
  }
}

/** The lines of a sequence up to a failing step, for the counterexample's message. */
function trace(steps: readonly Step[], outcomes: readonly StepOutcome[]): string {
  return outcomes
    .map(
      (o, i) =>
        `  ${i + 1}. ${describeStep(steps[i])} → ${o.outcome}${o.pruned ? ` (pruned ${o.pruned})` : ''}${o.reason ? `: ${o.reason.slice(0, 160)}` : ''}`
    )
    .join('\n')
}

describe('prune and the inventory over random deploy sequences (in memory, deployFleet)', () => {
  const cluster = 'prop-1'
  const inventoryName = 'props'
  const partOf = applySetIdFor(inventoryName)
  const ns: Namespaces = { a: 'ns-a', b: 'ns-b' }
  /** Someone else's object inside every selection: kit must never delete it. */
  const foreign: KubeObject = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'foreign', namespace: ns.a, labels: { tier: 'a' } },
    data: { owner: 'someone else' }
  }

  /** The in-memory API server, as the real one behaves for what the steps send. */
  function newCluster(): FakeClusterClient {
    const client = new FakeClusterClient(cluster)
    client.defaultNamespace = ns.a
    client.unknownKinds.add('Widget')
    client.fullSelectors = true
    client.rejectApply = (object) => {
      const why = invalidReason(object)
      return why ? new KubeApiError(why, 422, 'Invalid', [{ message: why }]) : undefined
    }
    client.seed(foreign)
    return client
  }

  function settings(step: Step): FleetSettings {
    return {
      fleet: {
        clusters: [],
        ...(step.selector ? { selector: step.selector } : {}),
        concurrency: 1,
        waves: [],
        clusterLabels: new Map()
      },
      cluster: {
        dryRun: false,
        // The in-memory cluster runs no controllers: nothing would ever become healthy.
        wait: false,
        timeoutMs: 60_000,
        failFast: { graceMs: 1_000, unschedulableMs: 1_000, threshold: 1 },
        rollbackOnFailure: true,
        prune: { enabled: step.prune, max: 100, allowKinds: [] },
        strategy: 'rolling-update',
        fastRollbackKeep: 2,
        lock: { identity: 'prune-properties', description: 'property test', waitMs: 1_000 },
        version: { rollback: false, redeploy: false },
        inventory: inventoryName
      }
    }
  }

  const snapshot = (client: FakeClusterClient): Snapshot =>
    snapshotOf(client.objects.values(), kitSystemNamespace)

  const inventoryOf = (client: FakeClusterClient) =>
    parseInventory(
      [...client.objects.values()].find(
        (o) =>
          o.kind === 'ConfigMap' &&
          o.metadata.namespace === kitSystemNamespace &&
          o.metadata.name === applySetParentNameFor(inventoryName)
      )
    )

  /** Runs a sequence, checking one invariant after each step; throws at the first violation. */
  async function runSequence(
    steps: readonly Step[],
    invariant: Invariant,
    tally: Tally | undefined
  ): Promise<void> {
    const client = newCluster()
    const clock = fakeClock()
    const outcomes: StepOutcome[] = []
    for (const [i, step] of steps.entries()) {
      const objects = stepManifests(step, ns)
      const manifests: Manifest[] = objects.map((object, n) => ({
        object,
        source: { file: `step-${i + 1}/${n}.yaml`, line: 1 }
      }))
      const before = snapshot(client)
      const report = await deployFleet(settings(step), {
        manifests: new Map([[cluster, manifests]]),
        credentialSources: new Map([[cluster, 'the property test']]),
        connect: () => client,
        engine: deployWithClient,
        log: quietLog,
        logFor: () => quietLog,
        redactor: new Redactor(),
        clock
      })
      const outcome = outcomeOf(report)
      outcomes.push(outcome)
      tally?.count(step, outcome)
      const violations = checkStep({
        step,
        manifests: objects,
        defaultNamespace: ns.a,
        before,
        after: snapshot(client),
        inventory: inventoryOf(client),
        partOf
      }).filter((v) => v.invariant === invariant)
      if (violations.length > 0)
        throw new Error(
          `after step ${i + 1} of ${steps.length}: ${violations.map((v) => v.message).join('; ')}\n${trace(steps, outcomes)}`
        )
    }
  }

  const invariants = Object.keys(invariantTitles) as Invariant[]
  it.each(invariants)('%s', async (invariant) => {
    const tally = new Tally()
    // Figures count the generated sequences only, not the replays of shrinking.
    let shrinking = false
    const details = await fc.check(
      fc.asyncProperty(sequenceArb(1, maxSteps), async (steps) => {
        if (!shrinking) tally.sequences++
        try {
          await runSequence(steps, invariant, shrinking ? undefined : tally)
        } catch (err) {
          shrinking = true
          throw err
        }
      }),
      { numRuns: runs, seed }
    )
    const ok = !details.failed
    record({
      section: 'properties',
      name: `prune and inventory: ${invariantTitles[invariant]}`,
      target: 'deployFleet + engine, in-memory cluster',
      observed: ok
        ? `held over ${tally.text()} (seed ${seed})`
        : `FAILED — seed ${seed}, path ${details.counterexamplePath}: ${firstLine(details.errorInstance)}`,
      ok,
      figures: tally.figures()
    })
    if (!ok)
      throw new Error(
        `${fc.defaultReportMessage(details) ?? `failed (seed ${seed})`}\n\nThe shrunk sequence, ${
          details.errorInstance instanceof Error
            ? details.errorInstance.message
            : String(details.errorInstance)
        }`
      )
    expect(details.numRuns).toBe(runs)
  })
})

const noClusters = process.env.KIT_NO_CLUSTERS === '1'

// Bounded: each step is a real deploy (lock, applies, prune) on a shared test cluster.
;(noClusters ? describe.skip : describe)(
  'prune and the inventory over random deploy sequences (a real cluster, runDeploy)',
  () => {
    const prefix = uniqueName('prune-prop')
    const work = mkdtempSync(join(tmpdir(), 'kit-prune-prop-'))
    let target: TestCluster
    const sequenceNamespaces = (i: number): Namespaces => ({
      a: `${prefix}-${i}-a`,
      b: `${prefix}-${i}-b`
    })
    const inventoryName = (i: number) => `${prefix}-${i}`
    // Every sequence refuses a run, fails one mid-way and prunes under a selector at least once.
    const sequences = fc.sample(
      fixedSequenceArb(realSteps).filter(
        (steps) =>
          steps.some((s) => s.extra === 'unknown-kind') &&
          steps.some((s) => s.extra === 'invalid-configmap' || s.extra === 'invalid-deployment') &&
          steps.some((s) => s.prune && s.selector !== '')
      ),
      { seed: realSeed, numRuns: realSequences }
    )

    const api = () => KubernetesObjectApi.makeApiClient(target.kubeConfig)

    beforeAll(async () => {
      target = testClusters()[0]
      for (let i = 0; i < sequences.length; i++) {
        const ns = sequenceNamespaces(i)
        for (const name of [ns.a, ns.b])
          await api().create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } })
        await api().create({
          apiVersion: 'v1',
          kind: 'ConfigMap',
          metadata: { name: 'foreign', namespace: ns.a, labels: { tier: 'a' } },
          data: { owner: 'someone else' }
        } as KubernetesObject)
      }
    })

    afterAll(async () => {
      rmSync(work, { recursive: true, force: true })
      if (!target) return
      for (let i = 0; i < sequences.length; i++) {
        const ns = sequenceNamespaces(i)
        const gone = [
          ...[ns.a, ns.b].map((name) => ({
            apiVersion: 'v1',
            kind: 'Namespace',
            metadata: { name }
          })),
          {
            apiVersion: 'v1',
            kind: 'ConfigMap',
            metadata: {
              name: applySetParentNameFor(inventoryName(i)),
              namespace: kitSystemNamespace
            }
          }
        ]
        await Promise.all(
          gone.map((o) =>
            api()
              .delete(o)
              .catch(() => undefined)
          )
        )
      }
    })

    /** A kubeconfig of the target cluster alone whose context names namespace `a`. */
    function kubeconfigWithNamespace(namespace: string): string {
      const doc = parse(readFileSync(target.kubeconfigPath, 'utf8')) as {
        contexts: { name: string; context: Record<string, string> }[]
        'current-context'?: string
      }
      doc.contexts = doc.contexts
        .filter((c) => c.name === target.name)
        .map((c) => ({ ...c, context: { ...c.context, namespace } }))
      doc['current-context'] = target.name
      return stringify(doc)
    }

    async function readSnapshot(kc: KubeConfig, ns: Namespaces): Promise<Snapshot> {
      const objects: KubeObject[] = []
      for (const namespace of [ns.a, ns.b])
        for (const [apiVersion, kind] of [
          ['v1', 'ConfigMap'],
          ['v1', 'Service'],
          ['apps/v1', 'Deployment']
        ]) {
          const list = await KubernetesObjectApi.makeApiClient(kc).list(apiVersion, kind, namespace)
          for (const item of list.items)
            objects.push({ ...(item as unknown as KubeObject), apiVersion, kind })
        }
      return snapshotOf(objects, kitSystemNamespace)
    }

    async function readParent(kc: KubeConfig, inventory: string): Promise<KubeObject | undefined> {
      try {
        return (await KubernetesObjectApi.makeApiClient(kc).read({
          apiVersion: 'v1',
          kind: 'ConfigMap',
          metadata: { name: applySetParentNameFor(inventory), namespace: kitSystemNamespace }
        })) as unknown as KubeObject
      } catch (err) {
        if ((err as { code?: number }).code === 404) return undefined
        throw err
      }
    }

    function writeManifests(dir: string, objects: readonly KubeObject[]): void {
      mkdirSync(join(dir, target.name), { recursive: true })
      objects.forEach((o, n) =>
        writeFileSync(
          join(dir, target.name, `${n}-${o.kind}-${o.metadata.name}.yaml`),
          stringify(o)
        )
      )
    }

    function request(step: Step, manifests: string, i: number): DeployRequest {
      return {
        manifests,
        credentials: { kubeconfig: kubeconfigWithNamespace(sequenceNamespaces(i).a) },
        fleet: {
          clusters: [target.name],
          ...(step.selector ? { selector: step.selector } : {}),
          concurrency: 1,
          waves: [],
          clusterLabels: new Map()
        },
        cluster: {
          dryRun: false,
          // kwok nodes run no containers worth waiting for; the invariants are about objects.
          wait: false,
          timeoutMs: 60_000,
          failFast: { graceMs: 3_000, unschedulableMs: 30_000, threshold: 0 },
          rollbackOnFailure: true,
          waitForLoadBalancers: false,
          prune: { enabled: step.prune, max: 100, allowKinds: [] },
          strategy: 'rolling-update',
          fastRollbackKeep: 2,
          lock: { waitMs: 60_000 },
          version: { rollback: false, redeploy: false },
          inventory: inventoryName(i),
          labels: {},
          annotations: {}
        },
        notify: { githubDeployments: false, environmentPrefix: '' }
      }
    }

    it(`keeps every invariant over ${realSequences} fixed-seed sequences of ${realSteps} steps`, async () => {
      const tally = new Tally()
      // A violation usually persists over the later steps: each is kept once, where it first showed.
      const found = new Map<string, { where: string; violation: Violation }>()
      const traces: string[] = []
      for (const [i, steps] of sequences.entries()) {
        tally.sequences++
        const ns = sequenceNamespaces(i)
        const partOf = applySetIdFor(inventoryName(i))
        const outcomes: StepOutcome[] = []
        for (const [s, step] of steps.entries()) {
          const objects = stepManifests(step, ns)
          const dir = join(work, `seq-${i}-step-${s}`)
          writeManifests(dir, objects)
          const before = await readSnapshot(target.kubeConfig, ns)
          const report = await runDeploy(request(step, dir, i), runIdentity({}), {
            log: quietLog,
            logFor: () => quietLog,
            redactor: new Redactor()
          })
          const outcome = outcomeOf(report)
          outcomes.push(outcome)
          tally.count(step, outcome)
          const violations = checkStep({
            step,
            manifests: objects,
            defaultNamespace: ns.a,
            before,
            after: await readSnapshot(target.kubeConfig, ns),
            inventory: parseInventory(await readParent(target.kubeConfig, inventoryName(i))),
            partOf
          })
          for (const violation of violations) {
            const key = `${violation.invariant} ${violation.message}`
            if (!found.has(key))
              found.set(key, { where: `sequence ${i + 1} step ${s + 1}`, violation })
          }
        }
        traces.push(`sequence ${i + 1}:\n${trace(steps, outcomes)}`)
      }
      const first = [...found.values()]
      const byInvariant = [...new Set(first.map((f) => f.violation.invariant))]
      const ok = first.length === 0
      record({
        section: 'properties',
        name: 'prune and inventory: all four invariants on a real cluster',
        target: 'runDeploy, real cluster',
        observed: ok
          ? `held over ${tally.text()} (seed ${realSeed})`
          : `FAILED — ${byInvariant.join(', ')}; first: ${first[0].where}: ${first[0].violation.message}`,
        ok,
        figures: tally.figures()
      })
      if (!ok)
        throw new Error(
          `${first.length} distinct violation(s), each where it first showed:\n${first
            .map((f) => `  ${f.where} [${f.violation.invariant}]: ${f.violation.message}`)
            .join('\n')}\n${traces.join('\n')}`
        )
      expect(tally.steps).toBe(realSequences * realSteps)
    })
  }
)
