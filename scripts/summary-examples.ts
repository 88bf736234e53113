/**
 * The job summaries shown in docs/deployer.md (docs/images/summary-*.png), made by the current
 * code from fixed input, so the pictures can be checked against the code
 * (`node scripts/summary-screenshot.mjs --docs --check`) and remade by one command
 * (`node scripts/summary-screenshot.mjs --docs`).
 *
 * What is real: the render is a real render of examples/manifests-repo (the deploymentizer's
 * summary is what the action writes for it); the deploy summaries go through the fleet runner
 * (waves, skips), the summary renderer and the diff renderer, with the rendered objects as the
 * desired state and, as the live state, the same objects as an API server returns them (its
 * key order, its bookkeeping fields, the previous image). What is fixed: what the clusters
 * answered (durations, the pod that crashed and its events). No cluster is involved, so every
 * run gives the same bytes.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { summarize } from '../shared/src/deploy/cluster/run.js'
import type { ChangeEntry, ClusterResult, Failure } from '../shared/src/deploy/cluster/types.js'
import { renderSummary } from '../shared/src/deploy/fleet/report.js'
import { readIndex } from '../shared/src/deploy/fleet/run-deploy.js'
import { runFleet } from '../shared/src/deploy/fleet/runner.js'
import {
  objectTemplates,
  withTemplates,
  type ObjectTemplates
} from '../shared/src/deploy/fleet/templates-origin.js'
import { planWaves } from '../shared/src/deploy/fleet/waves.js'
import { comparable, renderDiff } from '../shared/src/k8s/diff.js'
import { describeRef } from '../shared/src/k8s/identity.js'
import { loadManifestsDir } from '../shared/src/k8s/manifests.js'
import { kindRank } from '../shared/src/k8s/order.js'
import type { KubeObject } from '../shared/src/k8s/types.js'
import { runRender } from '../shared/src/render/pipeline.js'
import { renderSummaryMarkdown } from '../shared/src/render/report.js'
import { Redactor } from '../shared/src/secrets/index.js'

/** One picture: the summary markdown and how scripts/summary-screenshot.mjs shows it. */
export interface DocsSummary {
  /** docs/images/<name>.png (and <name>.md, the markdown it shows). */
  readonly name: string
  /** The job name above the summary, as on a run's page. */
  readonly title: string
  readonly markdown: string
  readonly expand?: boolean
  readonly expandOuter?: boolean
  readonly width: number
  readonly height: number
}

const clusters = ['staging-us', 'prod-eu', 'prod-us']
const waves = planWaves(clusters, { kind: 'list', entries: ['staging-*', 'prod-*'] })
/** What each cluster took, in the pictures (fixed, so the pictures do not change run to run). */
const durations: Record<string, number> = {
  'staging-us': 6_240,
  'prod-eu': 8_910,
  'prod-us': 7_480
}
const databaseUrl = 'postgres://shop:example-only@db.internal:5432/shop'

/** A rendered copy of the example repository, with `edit` applied first. */
interface RenderedExample {
  /** The deploymentizer's summary. */
  readonly summary: string
  /** Cluster → its objects, in apply order. */
  readonly objects: Map<string, KubeObject[]>
  /** Where the objects of a service with its own templates came from, as a deploy finds it. */
  readonly templates: ObjectTemplates
}

async function renderExample(
  example: string,
  edit: (dir: string) => void,
  env: Record<string, string>
): Promise<RenderedExample> {
  const dir = mkdtempSync(join(tmpdir(), 'kit-docs-summary-'))
  try {
    cpSync(example, dir, { recursive: true })
    rmSync(join(dir, 'generated'), { recursive: true, force: true })
    edit(dir)
    const result = await runRender({ root: dir, mode: 'write', env })
    const manifests = await loadManifestsDir(result.outputDir)
    const objects = new Map<string, KubeObject[]>()
    for (const [cluster, list] of manifests) {
      const sorted = [...list].sort((a, b) => kindRank(a.object) - kindRank(b.object))
      objects.set(
        cluster,
        sorted.map((m) => m.object)
      )
    }
    // The deployer's own lookup in the render index, on the server the links of the pictures
    // point at (GitHub's, as on a run there).
    const templates = objectTemplates(
      manifests,
      await readIndex(result.outputDir),
      result.outputDir,
      'https://github.com'
    )
    return { summary: renderSummaryMarkdown(result), objects, templates }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/** An image file of the example pointing at another build. */
function bumpImage(dir: string, image: string, branch: string, ref: string): void {
  const file = join(dir, 'images', image, `${branch}.yaml`)
  const text = readFileSync(file, 'utf8')
  writeFileSync(file, text.replace(/^image: .*$/m, `image: ${ref}`))
}

/**
 * The object as the API server returns it: kind before apiVersion, its bookkeeping fields in
 * metadata, and a status. The comparable form drops them again; the key order stays, which is
 * what diffs must not show as a change.
 */
function asServerReturnsIt(object: KubeObject, generation: number): KubeObject {
  const { apiVersion, kind, metadata, ...rest } = object
  return {
    kind,
    apiVersion,
    metadata: {
      ...metadata,
      uid: '0c5e3a41-8f0e-4bd6-9a57-2d1f4c6b7e90',
      resourceVersion: String(41_200 + generation),
      generation,
      creationTimestamp: '2026-12-01T09:30:00Z',
      managedFields: [{ manager: 'kit', operation: 'Apply', apiVersion }]
    },
    ...rest,
    ...(kind === 'Deployment' ? { status: { observedGeneration: generation, replicas: 2 } } : {})
  } as KubeObject
}

function entry(object: KubeObject, action: ChangeEntry['action'], diff?: string): ChangeEntry {
  const { kind, metadata } = object
  return {
    kind,
    ...(metadata.namespace ? { namespace: metadata.namespace } : {}),
    name: metadata.name,
    action,
    ...(diff === undefined ? {} : { diff })
  }
}

/**
 * The fleet runner over fixed per-cluster results, on a clock that only moves when told; each
 * row gets the templates origins of its objects as a deploy adds them.
 */
async function fleetSummary(
  deployOne: (cluster: string) => ClusterResult,
  dryRun: boolean,
  templates: ObjectTemplates,
  title?: string
): Promise<string> {
  const report = await runFleet({
    waves,
    concurrency: 5,
    clusterDeadlineMs: 600_000,
    deployOne: async (cluster) => deployOne(cluster),
    dryRun,
    redactor: new Redactor(),
    now: () => 0
  })
  const rows = report.rows.map((r) => withTemplates(r, templates))
  return renderSummary({ ...report, rows, durationMs: 22_630 }, title)
}

/** First deploy of the example: every object created on every cluster. */
async function deploySuccess({ objects, templates }: RenderedExample): Promise<string> {
  return fleetSummary(
    (cluster) => ({
      cluster,
      outcome: 'changed',
      changes: (objects.get(cluster) ?? []).map((o) =>
        entry(o, 'created', renderDiff(undefined, o))
      ),
      failures: [],
      durationMs: durations[cluster]
    }),
    false,
    templates
  )
}

/** A web build that crashes: staging is rolled back, production (the next wave) never starts. */
async function deployRolledBack(before: RenderedExample, after: RenderedExample): Promise<string> {
  const web = (m: Map<string, KubeObject[]>, c: string) =>
    (m.get(c) ?? []).find((o) => o.kind === 'Deployment' && o.metadata.name === 'web')!
  const pod = 'web-7d9f6c5b8-q2x7k'
  const crash: Failure = {
    object: describeRef(web(after.objects, 'staging-us')),
    pod,
    container: 'web',
    reason: 'CrashLoopBackOff',
    message: `back-off 40s restarting failed container=web pod=${pod}_shop`,
    events: [`Pod ${pod}: Back-off restarting failed container web in pod ${pod}_shop (x4)`]
  }
  return fleetSummary(
    (cluster) => {
      const live = asServerReturnsIt(web(before.objects, cluster), 3)
      return {
        cluster,
        outcome: 'rolled-back',
        changes: [
          entry(
            web(after.objects, cluster),
            'configured',
            renderDiff(live, web(after.objects, cluster))
          )
        ],
        failures: [crash],
        durationMs: 94_310,
        reason: summarize([crash], false),
        rolledBack: true
      }
    },
    false,
    after.templates
  )
}

/**
 * A pull request's preview: a new web image, a changed database URL (a Secret: values never
 * shown) and the worker's CronJob, new. Diffs as the dry run makes them: the comparable live
 * object against what the server's dry run returns.
 */
async function deployDryRun(before: RenderedExample, after: RenderedExample): Promise<string> {
  const key = (o: KubeObject) => describeRef(o)
  return fleetSummary(
    (cluster) => {
      const live = new Map(
        (before.objects.get(cluster) ?? [])
          .filter((o) => o.kind !== 'CronJob')
          .map((o) => [key(o), asServerReturnsIt(o, 3)])
      )
      const changes: ChangeEntry[] = []
      for (const desired of after.objects.get(cluster) ?? []) {
        const current = live.get(key(desired))
        const predicted = asServerReturnsIt(desired, current ? 4 : 1)
        const diff = renderDiff(current && comparable(current), predicted)
        if (!current) changes.push(entry(desired, 'created', diff))
        else if (/^[-+]/m.test(diff)) changes.push(entry(desired, 'configured', diff))
        else changes.push(entry(desired, 'unchanged'))
      }
      return {
        cluster,
        outcome: 'changed',
        changes,
        failures: [],
        durationMs: durations[cluster] / 3
      }
    },
    true,
    after.templates
  )
}

/** Every summary docs/deployer.md shows, from examples/manifests-repo in `root`. */
export async function docsSummaries(root: string): Promise<DocsSummary[]> {
  const example = join(root, 'examples', 'manifests-repo')
  const env = { API_DATABASE_URL: databaseUrl }
  const current = await renderExample(example, () => {}, env)
  const crashing = await renderExample(
    example,
    (dir) => bumpImage(dir, 'web', 'main', 'ghcr.io/acme/web:main-5c1d2e3'),
    env
  )
  const pullRequest = await renderExample(
    example,
    (dir) => bumpImage(dir, 'web', 'main', 'ghcr.io/acme/web:main-9f8e7d6'),
    { API_DATABASE_URL: 'postgres://shop:example-only@db-2.internal:5432/shop' }
  )
  return [
    {
      name: 'summary-deploymentizer',
      title: 'render (deploymentizer)',
      markdown: current.summary,
      width: 1200,
      height: 1040
    },
    {
      name: 'summary-deploy-success',
      title: 'deploy',
      markdown: await deploySuccess(current),
      width: 1200,
      height: 560
    },
    {
      name: 'summary-deploy-rolled-back',
      title: 'deploy',
      markdown: await deployRolledBack(current, crashing),
      width: 1200,
      height: 580
    },
    {
      name: 'summary-deploy-dry-run',
      title: 'preview',
      markdown: await deployDryRun(current, pullRequest),
      expandOuter: true,
      width: 1200,
      height: 1180
    }
  ]
}
