/**
 * The example's preview workflow, end to end on real clusters: the deploymentizer bundle
 * renders examples/manifests-repo, and the deployer bundle dry-runs it against three real
 * local control planes standing in for staging-us, prod-eu and prod-us (one kubeconfig per
 * cluster, as the `kubeconfigs` input takes them). Also the two credential mistakes a new user
 * makes first, with the exact reasons docs/troubleshooting.md quotes.
 *
 * Dry runs only: nothing is applied and nothing is recorded on the shared test clusters.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { load, dump } from 'js-yaml'
import { testClusters } from '../../testinfra/jest/clusters.js'
import { runAction, type ActionRun } from '../../testinfra/runner/run-action.js'

const root = process.cwd()
const databaseUrl = 'postgres://shop:pr3view-Pa55@db.internal:5432/shop'
const names = ['staging-us', 'prod-eu', 'prod-us']

interface ClusterRow {
  cluster: string
  result: string
  objectsChanged: number
  reason?: string
}

let dir: string
let kubeconfigs: Record<string, string>

function diff(inputs: Record<string, string>): Promise<ActionRun> {
  return runAction(root, 'deployer', {
    inputs: { manifests: 'generated', 'dry-run': 'true', ...inputs },
    // No GITHUB_SHA: the checkout here is not a git repository, and a dry run records nothing.
    env: { GITHUB_WORKSPACE: dir, GITHUB_SHA: undefined },
    cwd: dir,
    timeoutMs: 180_000
  })
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kit-example-preview-'))
  cpSync(join(root, 'examples', 'manifests-repo'), dir, { recursive: true })
  const render = await runAction(root, 'deploymentizer', {
    env: { GITHUB_WORKSPACE: dir, API_DATABASE_URL: databaseUrl },
    cwd: dir,
    timeoutMs: 60_000
  })
  expect(render.exitCode).toBe(0)
  const clusters = testClusters()
  expect(clusters.length).toBeGreaterThanOrEqual(3)
  kubeconfigs = Object.fromEntries(
    names.map((n, i) => [n, readFileSync(clusters[i].kubeconfigPath, 'utf8')])
  )
})

afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('preview of the example on three real clusters', () => {
  let run: ActionRun
  let rows: ClusterRow[]

  beforeAll(async () => {
    run = await diff({ kubeconfigs: JSON.stringify(kubeconfigs) })
    rows = JSON.parse(run.outputs['cluster-results'] ?? '[]') as ClusterRow[]
  })

  it('asks every cluster and succeeds without changing anything', () => {
    expect(run.exitCode).toBe(0)
    expect(run.outputs.result).toBe('success')
    expect(rows.map((r) => r.cluster).sort()).toEqual([...names].sort())
    // A preview says whether the push would change anything, as 'true'/'false' like every kit step.
    expect(run.outputs.changed).toBe('true')
    expect(JSON.parse(run.outputs['changed-clusters']).sort()).toEqual([...names].sort())
  })

  it('reports per cluster what would change: the ten objects of the example, new there', () => {
    for (const r of rows) expect(r).toMatchObject({ result: 'changed', objectsChanged: 10 })
    expect(run.summary).toMatch(/\| staging-us \|/)
    expect(run.summary).toMatch(/\| prod-eu \|/)
    expect(run.summary).toMatch(/Deployment shop\/api/)
  })

  it("links api's objects to the service repository's templates of the build each cluster runs", () => {
    // api's templates are service-owned: staging renders those of the develop build, production
    // those of the main build (the records in service-templates/api/).
    const links = [
      ...run.summary.matchAll(/`(\w+) shop\/([\w-]+)` · templates from \[([^\]]+)\]\(([^)]+)\)/g)
    ]
    const tree = (commit: string) => `https://github.com/acme/api/tree/${commit}/deploy/kit`
    const develop = [
      'acme/api@78d3833 · deploy/kit',
      tree('78d3833516d0a3043cb9a81e2d957965c0904d9c')
    ]
    const main = ['acme/api@f72515a · deploy/kit', tree('f72515a47ae0a98c0ebaa849cabd8a2de7cc9c98')]
    const objects = ['Deployment api', 'Secret api-credentials', 'Service api']
    const linked = (origin: string[]) =>
      links
        .filter((m) => m[3] === origin[0] && m[4] === origin[1])
        .map((m) => `${m[1]} ${m[2]}`)
        .sort()
    expect(linked(develop)).toEqual(objects) // staging-us
    expect(linked(main)).toEqual([...objects, ...objects].sort()) // prod-eu and prod-us
    expect(links).toHaveLength(9) // web, worker and the namespace are repository-owned: no link
  })

  it('never shows the Secret value, in any form, anywhere', () => {
    const encoded = Buffer.from(databaseUrl).toString('base64')
    for (const text of [run.summary, run.stdout, run.stderr, JSON.stringify(run.outputs)]) {
      expect(text).not.toContain(databaseUrl)
      expect(text).not.toContain(encoded)
    }
  })
})

describe('credential mistakes, as the deployer reports them', () => {
  it('a cluster with manifests but no credentials fails, and the others still run', async () => {
    const run = await diff({
      kubeconfigs: JSON.stringify({
        'staging-us': kubeconfigs['staging-us'],
        'prod-eu': kubeconfigs['prod-eu']
      })
    })
    expect(run.exitCode).not.toBe(0)
    const rows = JSON.parse(run.outputs['cluster-results']) as ClusterRow[]
    expect(rows.find((r) => r.cluster === 'prod-us')).toMatchObject({
      result: 'failed',
      reason:
        'has manifests but no credentials (no kubeconfig context, kubeconfigs entry or kubeconfig-dir file for it)'
    })
    expect(
      rows
        .filter((r) => r.result === 'changed')
        .map((r) => r.cluster)
        .sort()
    ).toEqual(['prod-eu', 'staging-us'])
  })

  it('an unreachable cluster fails with the network error, and the others still run', async () => {
    const config = load(kubeconfigs['prod-us']) as { clusters: { cluster: { server: string } }[] }
    config.clusters[0].cluster.server = 'https://127.0.0.1:9' // nothing listens on the discard port
    const run = await diff({
      kubeconfigs: JSON.stringify({ ...kubeconfigs, 'prod-us': dump(config) })
    })
    expect(run.exitCode).not.toBe(0)
    const rows = JSON.parse(run.outputs['cluster-results']) as ClusterRow[]
    const prodUs = rows.find((r) => r.cluster === 'prod-us')
    expect(prodUs?.result).toBe('failed')
    // The part in brackets is the network error as the client saw it (it varies by failure).
    expect(prodUs?.reason).toMatch(/^cluster "prod-us" is unreachable \(.+\) after \d+ attempts?$/)
    expect(rows.filter((r) => r.result === 'changed')).toHaveLength(2)
  })
})
