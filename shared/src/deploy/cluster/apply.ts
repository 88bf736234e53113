/**
 * Phase 2 of a cluster's deploy: apply the prepared objects stage by stage (../../k8s/order.ts
 * decides the stages), writing only objects that are not provably unchanged (./apply-object.ts).
 *
 * - Live state comes from one list per (apiVersion, kind, namespace) a stage touches (./live.ts),
 *   not a GET per object; objects in a namespace this run creates are absent without asking.
 * - `kit.dev/depends-on`: dependents are applied after their dependencies, and with `wait` only
 *   once those are healthy. CRDs are always waited for (Established) before later stages, wait
 *   or not: their custom resources cannot be applied before.
 * - The caller's write gate is awaited after the first reads and before the first write, so
 *   the fleet's checks run beside those reads rather than before them.
 * - A changed StatefulSet rolls its highest ordinal first (./stateful-step.ts): its stage
 *   finishes that step before anything later is applied.
 */
import { keyOf } from '../../k8s/identity.js'
import { KindRank, planStages, type ApplyStage } from '../../k8s/order.js'
import type { KubeObject } from '../../k8s/types.js'
import { plural } from '../../text/plural.js'
import { applyOne, waitTarget, type ApplyContext, type ApplyOutcome } from './apply-object.js'
import { abortReason, mapLimit } from './clock.js'
import { readLiveObjects, type LiveLookup } from './live.js'
import type { Prepared } from './prepare.js'
import { stoppedByWait, waitWithinBudget, type EngineRun, type Stopped } from './run.js'
import { finishSteps } from './stateful-step-run.js'
import type { Failure } from './types.js'

/** Objects applied at once within a stage. */
const applyConcurrency = 8

type Stage = ApplyStage<Prepared>

/** How the apply phase ended: all applied, stopped by a failure, or refused by the write gate. */
export type StagesOutcome =
  | { readonly skipped: true; readonly stopped?: undefined }
  | { readonly skipped?: false; readonly stopped?: Stopped }

/** The stages of the prepared objects, in apply order. */
export function stagesOf(prepared: Prepared[]): Stage[] {
  // Prepared objects carry their defaulted namespace: no namespace now means cluster-scoped.
  return planStages(prepared, (o) => !o.metadata.namespace)
}

/** Applies every stage in order; what it wrote is recorded in `run` as it goes. */
export async function applyStages(
  run: EngineRun,
  prepared: Prepared[],
  stages: Stage[],
  autoscaled: ReadonlyMap<string, KubeObject>
): Promise<StagesOutcome> {
  const { options, log, label } = run
  const context: ApplyContext = {
    client: run.client,
    all: prepared,
    dryRun: options.dryRun,
    absentNamespaces: new Set<string>(),
    log,
    label,
    clock: run.clock,
    signal: options.signal,
    autoscaled,
    // The step waits for its first ordinal: nothing to wait for in a dry run or without wait.
    statefulStep: options.statefulStep !== false && options.wait && !options.dryRun
  }
  const liveFor = await liveStateReader(run, prepared, stages, context.absentNamespaces)
  for (const [index, stage] of stages.entries()) {
    if (options.signal?.aborted) throw abortReason(options.signal)
    const live = await liveFor(stage)
    if (index === 0) {
      // The caller's checks ran beside the reads above; nothing is written unless they pass.
      if (options.writeGate && !(await options.writeGate())) return { skipped: true }
      log.info(
        `${label}: ${options.dryRun ? 'dry run of' : 'applying'} ${plural(prepared.length, 'object')} in ${plural(stages.length, 'stage')}`
      )
    }
    const results = await mapLimit(stage.manifests, applyConcurrency, (p) =>
      applyOne(p, live.get(keyOf(p.desired)) ?? { live: undefined }, context)
    )
    const failures = recordResults(run, stage, results, context.absentNamespaces)
    if (failures.length > 0)
      return { stopped: { failures, reason: `${failures[0].object}: ${failures[0].message}` } }
    if (options.dryRun) continue
    const stepped = await finishSteps(run, results)
    if (stepped) return { stopped: stepped }
    const stopped = await waitBeforeNextStage(run, stages, index, results)
    if (stopped) return { stopped }
  }
  return {}
}

/**
 * Live state, read once per dependency depth for all its stages at once: within a depth
 * nothing one stage applies changes what another reads (objects in a namespace this run
 * creates, and custom resources of a CRD it creates, sit one depth deeper). Without CRDs in
 * the run, every depth is read at once up front, and a deeper depth keeps that reading as long
 * as nothing before it changed — the common redeploy (an unchanged Namespace, then its
 * contents) then costs one round of reads instead of one per depth.
 */
async function liveStateReader(
  run: EngineRun,
  prepared: Prepared[],
  stages: Stage[],
  absentNamespaces: Set<string>
): Promise<(stage: Stage) => Promise<Map<string, LiveLookup>>> {
  const speculative =
    stages.length > 1 &&
    stages.at(-1)!.depth > 0 &&
    !prepared.some((p) => p.desired.kind === 'CustomResourceDefinition')
      ? await readLiveObjects(
          run.client,
          prepared.map((p) => p.desired),
          absentNamespaces
        )
      : undefined
  let live = new Map<string, LiveLookup>()
  let liveDepth = -1
  return async (stage) => {
    if (stage.depth === liveDepth) return live
    liveDepth = stage.depth
    const unchangedSoFar = run.changes.every((c) => c.action === 'unchanged')
    live =
      speculative && unchangedSoFar
        ? speculative
        : await readLiveObjects(
            run.client,
            stages
              .filter((s) => s.depth === stage.depth)
              .flatMap((s) => s.manifests.map((p) => p.desired)),
            absentNamespaces
          )
    return live
  }
}

/** Adds a stage's results to the run and returns its failures. */
function recordResults(
  run: EngineRun,
  stage: Stage,
  results: ApplyOutcome[],
  absentNamespaces: Set<string>
): Failure[] {
  const failures: Failure[] = []
  for (const [i, r] of results.entries()) {
    run.changes.push(r.entry)
    if (r.applied) run.applied.push(r.applied)
    if (r.failure) failures.push(r.failure)
    // Whatever goes into a namespace that was not there before is absent: no need to ask.
    const desired = stage.manifests[i].desired
    if (desired.kind === 'Namespace' && r.entry.action === 'created')
      absentNamespaces.add(desired.metadata.name)
  }
  return failures
}

/**
 * What must be healthy before the next stage is applied: CRDs this stage created (always:
 * their custom resources cannot be applied before), and with `wait`, everything of this depth
 * when the next stage is deeper (its objects depend on them).
 */
async function waitBeforeNextStage(
  run: EngineRun,
  stages: Stage[],
  index: number,
  results: ApplyOutcome[]
): Promise<Stopped | undefined> {
  const stage = stages[index]
  const crds = results.flatMap((r) =>
    r.applied?.prepared.desired.kind === 'CustomResourceDefinition' ? [r.applied] : []
  )
  if (stage.rank === KindRank.NamespacesAndCrds && crds.length > 0) {
    const w = await waitWithinBudget(run, crds.map(waitTarget))
    run.client.resetDiscovery()
    if (!w.ok)
      return {
        failures: w.failures,
        reason: `CustomResourceDefinition not established: ${w.failures[0]?.message ?? ''}`
      }
  }
  const next = stages[index + 1]
  if (run.options.wait && next && next.depth > stage.depth) {
    const sameDepth = run.applied.filter((a) =>
      stages.some((s) => s.depth === stage.depth && s.manifests.includes(a.prepared))
    )
    const w = await waitWithinBudget(run, sameDepth.map(waitTarget))
    if (!w.ok) return stoppedByWait(w)
  }
  return undefined
}
