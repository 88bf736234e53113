/**
 * examples/manifests-repo/.github/workflows/drift.yml, run as a workflow end to end
 * (testinfra/runner/run-workflow.ts) with kit's action bundles against three real local clusters
 * standing in for staging-us, prod-eu and prod-us. The secret KUBECONFIG is one kubeconfig with
 * a context per cluster named like it, as the workflow's header and examples/README.md ask.
 *
 * The example is deployed first (its two renders and the deployer, as deploy.yml would), then the
 * workflow runs: with nothing changed it passes and says no cluster drifted; after a hand edit on
 * prod-eu it fails, its deployer step's outputs and the job's name prod-eu alone, the summary lists
 * the edited object under Drift, the step after it names the cluster to redeploy, the rendered
 * output is removed, and nothing on the clusters was written (resourceVersions before and after;
 * deployer/__tests__/drift.e2e.test.ts follows every write through watch streams).
 *
 * As in deploy-matrix.e2e.test.ts, two changes to what a user would run, because the clusters are
 * shared with the other suites: the example's namespace `shop` becomes a namespace of this run's
 * own (./example-checkout.ts), and the deployer steps get an inventory name of their own (an
 * extra input).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { KubernetesObjectApi, PatchStrategy } from '@kubernetes/client-node'
import { dump, load } from 'js-yaml'
import { testClusters, uniqueName, type TestCluster } from '../../testinfra/jest/clusters.js'
import { runAction } from '../../testinfra/runner/run-action.js'
import { runWorkflow, type JobRun } from '../../testinfra/runner/run-workflow.js'
import { exampleCheckout } from './example-checkout.js'

const root = process.cwd()
const workflow = readFileSync(
  join(root, 'examples', 'manifests-repo', '.github', 'workflows', 'drift.yml'),
  'utf8'
)
const names = ['staging-us', 'prod-eu', 'prod-us']
const namespace = uniqueName('shop')
const inventory = uniqueName('inv')
const databaseUrls = {
  API_DATABASE_URL_STAGING: 'postgres://shop:st4ging-Pa55@db.staging:5432/shop',
  API_DATABASE_URL_PRODUCTION: 'postgres://shop:pr0d-Pa55@db.prod:5432/shop'
}

let checkout: string
let clusters: TestCluster[]
let kubeconfig: string

interface KubeconfigFile {
  clusters: { name: string; cluster: unknown }[]
  users: { name: string; user: unknown }[]
  contexts: { name: string; context: { cluster: string; user: string; namespace?: string } }[]
}

/** One kubeconfig with a context per example cluster, each reaching one of the test clusters. */
function mergedKubeconfig(): string {
  const merged: KubeconfigFile & Record<string, unknown> = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [],
    users: [],
    contexts: [],
    'current-context': names[0]
  }
  for (const [i, name] of names.entries()) {
    const one = load(readFileSync(clusters[i].kubeconfigPath, 'utf8')) as KubeconfigFile
    const ctx = one.contexts[0].context
    merged.clusters.push({ name, cluster: one.clusters.find((c) => c.name === ctx.cluster)!.cluster })
    merged.users.push({ name, user: one.users.find((u) => u.name === ctx.user)!.user })
    merged.contexts.push({ name, context: { cluster: name, user: name } })
  }
  return dump(merged)
}

const secrets = (): Record<string, string> => ({ ...databaseUrls, KUBECONFIG: kubeconfig })

function run(): Promise<JobRun[]> {
  return runWorkflow(workflow, {
    repoRoot: root,
    checkout,
    secrets: secrets(),
    environments: {},
    // No GITHUB_SHA: the checkout is not a git repository (as in the other example suites).
    env: { GITHUB_SHA: undefined },
    extraInputs: (action): Record<string, string> => (action === 'deployer' ? { inventory } : {}),
    stepTimeoutMs: 240_000
  })
}

/** A write fingerprint of the example's objects and this run's inventory on a cluster. */
async function fingerprint(c: TestCluster): Promise<Record<string, string>> {
  const api = KubernetesObjectApi.makeApiClient(c.kubeConfig)
  const out: Record<string, string> = {}
  const kinds = [
    ['v1', 'ConfigMap', namespace],
    ['v1', 'Secret', namespace],
    ['v1', 'Service', namespace],
    ['batch/v1', 'CronJob', namespace],
    ['autoscaling/v2', 'HorizontalPodAutoscaler', namespace],
    ['v1', 'ConfigMap', 'kit-system']
  ] as const
  for (const [apiVersion, kind, ns] of kinds)
    for (const o of (await api.list(apiVersion, kind, ns)).items) {
      const name = o.metadata?.name ?? ''
      if (ns === 'kit-system' && !name.endsWith(inventory)) continue
      if (kind === 'HorizontalPodAutoscaler') {
        // Its status is the controller's: its spec's generation is what a write changes.
        out[`${kind}/${name}`] = `generation ${o.metadata?.generation}`
        continue
      }
      out[`${kind}/${ns}/${name}`] = o.metadata?.resourceVersion ?? ''
    }
  // A Deployment's generation moves when its HPA scales it; kit's own field-manager entry and
  // the annotations move only when kit (or someone) writes what kit applied.
  for (const o of (await api.list('apps/v1', 'Deployment', namespace)).items) {
    const kit = (o.metadata?.managedFields ?? []).filter((f) => f.manager === 'kit' && !f.subresource)
    out[`Deployment/${o.metadata?.name}`] =
      `kit wrote at ${kit.map((f) => String(f.time)).join(',')}, ${JSON.stringify(o.metadata?.annotations)}`
  }
  return out
}

const explain = (runs: JobRun[]): string =>
  runs.flatMap((r) => r.steps.map((s) => `${r.job} / ${s.name}: ${s.outcome}\n${s.log}`)).join('\n')

beforeAll(async () => {
  checkout = exampleCheckout('kit-example-drift-', namespace)
  clusters = testClusters()
  expect(clusters.length).toBeGreaterThanOrEqual(3)
  kubeconfig = mergedKubeconfig()
  // The example deployed as deploy.yml deploys it: both renders, then the deployer.
  for (const [groups, url] of [
    ['staging', databaseUrls.API_DATABASE_URL_STAGING],
    ['production', databaseUrls.API_DATABASE_URL_PRODUCTION]
  ]) {
    const render = await runAction(root, 'deploymentizer', {
      inputs: { groups },
      env: { GITHUB_WORKSPACE: checkout, API_DATABASE_URL: url },
      cwd: checkout,
      timeoutMs: 120_000
    })
    expect([groups, render.exitCode, render.stderr]).toEqual([groups, 0, ''])
  }
  const deploy = await runAction(root, 'deployer', {
    inputs: { manifests: 'generated', kubeconfig, inventory, timeout: '4m' },
    env: { GITHUB_WORKSPACE: checkout, GITHUB_SHA: undefined },
    cwd: checkout,
    timeoutMs: 300_000
  })
  expect([
    deploy.exitCode,
    deploy.outputs['changed-clusters'],
    deploy.exitCode === 0 ? '' : deploy.stdout + deploy.stderr
  ]).toEqual([0, JSON.stringify([...names].sort()), ''])
  rmSync(join(checkout, 'generated'), { recursive: true, force: true })
}, 600_000)

afterAll(async () => {
  for (const c of clusters ?? []) {
    const api = KubernetesObjectApi.makeApiClient(c.kubeConfig)
    await Promise.all(
      [
        { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } },
        ...[`kit-applyset-${inventory}`, `kit-deploy-state-${inventory}`].map((name) => ({
          apiVersion: 'v1',
          kind: 'ConfigMap',
          metadata: { name, namespace: 'kit-system' }
        }))
      ].map((o) => api.delete(o).catch(() => undefined))
    )
  }
  rmSync(checkout, { recursive: true, force: true })
})

describe('drift.yml on three real clusters', () => {
  it('passes when every cluster matches git, saying so', async () => {
    const runs = await run()
    expect(runs.map((r) => [r.job, r.result, r.result === 'success' ? '' : explain(runs)])).toEqual([
      ['drift', 'success', '']
    ])
    const [job] = runs
    expect(job.outputs).toEqual({ drifted: 'false', 'drifted-clusters': '[]' })
    expect(job.steps.map((s) => [s.name, s.outcome])).toEqual([
      ['actions/checkout@08c6903cd8c0fde910a37f88322edcfb5dd907a8', 'success'],
      ['Render the staging clusters', 'success'],
      ['Render the production clusters', 'success'],
      ['What differs from git on each cluster', 'success'],
      ['How to bring the drifted clusters back to git', 'skipped'],
      ['Clean up the rendered output', 'success']
    ])
    const summary = job.steps[3].summary ?? ''
    expect(summary).toContain('(dry run): no drift on 3 clusters')
  }, 600_000)

  it('fails on a hand edit, names the cluster and the object, and writes nothing', async () => {
    const prodEu = clusters[names.indexOf('prod-eu')]
    await KubernetesObjectApi.makeApiClient(prodEu.kubeConfig).patch(
      {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'web-config', namespace },
        // Turned on by hand, on one cluster.
        data: { FEATURE_NEW_CHECKOUT: 'true' }
      },
      undefined,
      undefined,
      'kubectl-patch',
      undefined,
      PatchStrategy.MergePatch
    )
    const before = await Promise.all(clusters.slice(0, 3).map(fingerprint))

    const runs = await run()
    expect(runs.map((r) => [r.job, r.result, r.result === 'failure' ? '' : explain(runs)])).toEqual([
      ['drift', 'failure', '']
    ])
    const [job] = runs
    expect(job.outputs).toEqual({ drifted: 'true', 'drifted-clusters': '["prod-eu"]' })
    const [, , , drift, fix, cleanup] = job.steps
    expect([drift.outcome, drift.outputs.result, drift.outputs['failed-clusters']]).toEqual([
      'failure',
      'failure',
      '[]'
    ])
    const summary = drift.summary ?? ''
    writeFileSync(
      join(tmpdir(), 'kit-drift-workflow-evidence.txt'),
      `job outputs: ${JSON.stringify(job.outputs)}\nsteps: ${JSON.stringify(job.steps.map((s) => [s.name, s.outcome]))}\n\n${summary}\n${fix.summary ?? ''}`
    )
    expect(summary.split('\n')[0]).toBe('### ❌ kit deploy (dry run): 1 of 3 clusters drifted')
    const section = summary.slice(summary.indexOf('#### Drift'), summary.indexOf('#### What would change'))
    expect(section).toContain('**prod-eu**: 1 object')
    expect(section).toContain(`- ✏️ differs from the manifests: \`ConfigMap ${namespace}/web-config\``)
    expect(section).not.toMatch(/staging-us|prod-us/)
    // The diff shows what a deploy would put back.
    expect(summary).toContain(
      "-   FEATURE_NEW_CHECKOUT: 'true'\n+   FEATURE_NEW_CHECKOUT: 'false'\n"
    )

    expect([fix.outcome, fix.summary]).toEqual([
      'success',
      expect.stringContaining('with clusters `prod-eu` and dry run off')
    ])
    expect([cleanup.name, cleanup.outcome]).toEqual(['Clean up the rendered output', 'success'])

    // Nothing written: the hand edit is still there, and no object or record moved.
    expect(await Promise.all(clusters.slice(0, 3).map(fingerprint))).toEqual(before)
  }, 600_000)
})
