/**
 * examples/manifests-repo/.github/workflows/deploy-matrix.yml, run as a workflow end to end
 * (testinfra/runner/run-workflow.ts: needs, matrices from job outputs, environments, job
 * outputs, if:) with kit's action bundles, against three real local clusters standing in for
 * staging-us, prod-eu and prod-us. Each cluster's kubeconfig is the CLUSTER_KUBECONFIG secret of
 * the GitHub environment named after it, as the workflow's header tells users to set up.
 *
 * Two changes to what a user would run, both because the clusters are shared with the other
 * suites: the example's namespace `shop` becomes a namespace of this run's own (in api's
 * service-owned copies too, recorded again: ./example-checkout.ts), and the deployer
 * steps get an inventory name of their own (an extra input; the workflow sets none).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { CoreV1Api, KubernetesObjectApi } from '@kubernetes/client-node'
import { dump, load } from 'js-yaml'
import { testClusters, uniqueName, type TestCluster } from '../../testinfra/jest/clusters.js'
import { runWorkflow, type JobRun } from '../../testinfra/runner/run-workflow.js'
import { exampleCheckout } from './example-checkout.js'

const root = process.cwd()
const workflow = readFileSync(
  join(root, 'examples', 'manifests-repo', '.github', 'workflows', 'deploy-matrix.yml'),
  'utf8'
)
const names = ['staging-us', 'prod-eu', 'prod-us']
const namespace = uniqueName('shop')
const inventory = uniqueName('inv')
const secrets = {
  API_DATABASE_URL_STAGING: 'postgres://shop:st4ging-Pa55@db.staging:5432/shop',
  API_DATABASE_URL_PRODUCTION: 'postgres://shop:pr0d-Pa55@db.prod:5432/shop'
}

let checkout: string
let clusters: TestCluster[]
let environments: Record<string, Record<string, string>>

function run(envs: Record<string, Record<string, string>>): Promise<JobRun[]> {
  return runWorkflow(workflow, {
    repoRoot: root,
    checkout,
    secrets,
    environments: envs,
    // No GITHUB_SHA: the checkout is not a git repository (as in the other example suites).
    env: { GITHUB_SHA: undefined },
    extraInputs: (action): Record<string, string> => (action === 'deployer' ? { inventory } : {}),
    stepTimeoutMs: 240_000
  })
}

const jobOf = (runs: JobRun[], job: string) => runs.filter((r) => r.job === job)
const explain = (runs: JobRun[]) =>
  runs
    .filter((r) => r.result === 'failure')
    .flatMap((r) => r.steps.filter((s) => s.outcome === 'failure').map((s) => `${r.job}: ${s.log}`))
    .join('\n')

beforeAll(() => {
  checkout = exampleCheckout('kit-example-matrix-', namespace)
  clusters = testClusters()
  expect(clusters.length).toBeGreaterThanOrEqual(3)
  environments = Object.fromEntries(
    names.map((n, i) => [n, { CLUSTER_KUBECONFIG: readFileSync(clusters[i].kubeconfigPath, 'utf8') }])
  )
})

afterAll(async () => {
  for (const c of clusters ?? []) {
    const api = KubernetesObjectApi.makeApiClient(c.kubeConfig)
    await api
      .delete({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } })
      .catch(() => undefined)
  }
  rmSync(checkout, { recursive: true, force: true })
})

describe('deploy-matrix.yml on three real clusters', () => {
  let runs: JobRun[]

  beforeAll(async () => {
    runs = await run(environments)
  }, 900_000)

  it('plans one matrix per wave from the deploymentizer, one entry per cluster', () => {
    const [plan] = jobOf(runs, 'plan')
    expect(plan.result).toBe('success')
    expect(Object.fromEntries(Object.entries(plan.outputs).map(([k, v]) => [k, JSON.parse(v)]))).toEqual({
      staging: { include: [{ cluster: 'staging-us' }] },
      'production-eu': { include: [{ cluster: 'prod-eu' }] },
      production: { include: [{ cluster: 'prod-us' }] }
    })
  })

  it('runs one job per cluster, wave after wave, each in the environment named after it', () => {
    expect(explain(runs)).toBe('')
    expect(runs.map((r) => [r.job, r.matrix?.cluster ?? '', r.environment ?? '', r.result])).toEqual([
      ['plan', '', '', 'success'],
      ['staging', 'staging-us', 'staging-us', 'success'],
      ['production-eu', 'prod-eu', 'prod-eu', 'success'],
      ['production', 'prod-us', 'prod-us', 'success']
    ])
    for (const r of runs.slice(1)) {
      const deploy = r.steps.find((s) => s.name.startsWith('Deploy '))
      expect(deploy?.outputs.result).toBe('success')
      // The rendered output (it holds a Secret) is removed at the end of each job.
      expect(r.steps.at(-1)).toMatchObject({ name: 'Clean up the rendered output', outcome: 'success' })
    }
  })

  it("put each cluster's own render on the cluster its environment's credentials reach", async () => {
    for (const [i, name] of names.entries()) {
      const core = clusters[i].kubeConfig.makeApiClient(CoreV1Api)
      const ns = await core.readNamespace({ name: namespace })
      expect([name, ns.metadata?.labels?.['kit.example/cluster']]).toEqual([name, name])
      const secret = await core.readNamespacedSecret({ name: 'api-credentials', namespace })
      const url = Buffer.from(secret.data?.DATABASE_URL ?? '', 'base64').toString()
      expect([name, url]).toEqual([
        name,
        name === 'staging-us' ? secrets.API_DATABASE_URL_STAGING : secrets.API_DATABASE_URL_PRODUCTION
      ])
    }
  })

  it('a failing wave stops the later waves: production jobs never start', async () => {
    const config = load(environments['staging-us'].CLUSTER_KUBECONFIG) as {
      clusters: { cluster: { server: string } }[]
    }
    config.clusters[0].cluster.server = 'https://127.0.0.1:9' // nothing listens on the discard port
    const failing = await run({
      ...environments,
      'staging-us': { CLUSTER_KUBECONFIG: dump(config) }
    })
    expect(failing.map((r) => [r.job, r.result])).toEqual([
      ['plan', 'success'],
      ['staging', 'failure'],
      ['production-eu', 'skipped'],
      ['production', 'skipped']
    ])
    const deploy = jobOf(failing, 'staging')[0].steps.find((s) => s.name.startsWith('Deploy '))
    expect(deploy?.outputs.result).toBe('failure')
    expect(deploy?.log).toMatch(/staging-us.*unreachable/)
  }, 600_000)
})
