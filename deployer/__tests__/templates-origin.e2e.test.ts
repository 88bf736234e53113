/**
 * A real deploy (runDeploy, the core the action and `kit deploy` run) of a render whose index
 * says one service owns its templates: the objects the engine reports as changed on a real
 * cluster are matched back to their output files, so the summary links them to the service
 * repository's folder at its commit, and the rows the action's log gets carry the same. The
 * repository-owned service's objects show nothing extra.
 */
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { KubernetesObjectApi } from '@kubernetes/client-node'
import { parse, stringify } from 'yaml'
import {
  fleetDefaults,
  renderSummary,
  runDeploy,
  runIdentity,
  type DeployRequest,
  type FleetRow
} from '../../shared/src/deploy/fleet/index.js'
import { Redactor } from '../../shared/src/secrets/redact.js'
import { testClusters, uniqueName, type TestCluster } from '../../testinfra/jest/clusters.js'
import { readObject } from './e2e-helpers.js'

jest.setTimeout(180_000)

const commit = '3f2a1c9d8e7b6a5f4e3d2c1b0a9f8e7d6c5b4a39'
let cluster: TestCluster
let dir: string
const ns = uniqueName('templates')

/** The cluster's kubeconfig with `ns` as its context's namespace (where namespace-less objects go). */
function kubeconfigIn(namespace: string): string {
  const config = parse(readFileSync(cluster.kubeconfigPath, 'utf8')) as {
    contexts: { context: Record<string, unknown> }[]
  }
  for (const c of config.contexts) c.context.namespace = namespace
  return stringify(config)
}

beforeAll(() => {
  cluster = testClusters()[0]
  dir = mkdtempSync(join(tmpdir(), 'kit-templates-origin-'))
  const c = cluster.name
  const files: Record<string, string> = {
    [`${c}/namespaces/namespace-${ns}.yaml`]: `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${ns}\n`,
    [`${c}/api/configmap-${ns}-api.yaml`]: `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: api\n  namespace: ${ns}\ndata:\n  LOG_LEVEL: debug\n`,
    // No namespace: the engine defaults it (to the context's) and reports it with one.
    [`${c}/api/configmap-api-settings.yaml`]: `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: api-settings\ndata:\n  FEATURE: "on"\n`,
    [`${c}/web/configmap-${ns}-web.yaml`]: `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\n  namespace: ${ns}\ndata:\n  LOG_LEVEL: info\n`
  }
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true })
    writeFileSync(join(dir, path), text)
  }
  const index = {
    kind: 'KitRenderIndex',
    version: 1,
    hash: 'sha256:0',
    disabled: [],
    images: {},
    clusters: {
      [c]: {
        hash: 'sha256:1',
        groups: [],
        labels: {},
        services: {
          api: {
            branch: 'develop',
            hash: 'sha256:2',
            files: [`${c}/api/configmap-${ns}-api.yaml`, `${c}/api/configmap-api-settings.yaml`],
            images: {},
            templates: {
              origin: 'service',
              dir: 'service-templates/api/develop',
              record: 'service-templates/api/develop.yaml',
              branch: 'develop',
              source: { repository: 'acme/api', commit, path: 'deploy/kit' }
            }
          },
          web: {
            branch: 'main',
            hash: 'sha256:3',
            files: [`${c}/web/configmap-${ns}-web.yaml`],
            images: {},
            templates: { origin: 'repository', dir: 'services/web' }
          }
        },
        skipped: []
      }
    }
  }
  writeFileSync(join(dir, 'index.json'), JSON.stringify(index, null, 2) + '\n')
})

afterAll(async () => {
  if (cluster) {
    const api = KubernetesObjectApi.makeApiClient(cluster.kubeConfig)
    await api
      .delete({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } })
      .catch(() => undefined)
  }
  if (dir) rmSync(dir, { recursive: true, force: true })
})

function request(): DeployRequest {
  return {
    manifests: dir,
    credentials: { perCluster: { [cluster.name]: kubeconfigIn(ns) } },
    fleet: { clusters: [], concurrency: 1, waves: [], clusterLabels: new Map() },
    cluster: {
      dryRun: false,
      wait: true,
      timeoutMs: 90_000,
      failFast: { graceMs: 3_000, unschedulableMs: 30_000, threshold: 0 },
      rollbackOnFailure: true,
      waitForLoadBalancers: false,
      prune: { enabled: false, max: fleetDefaults.pruneMax, allowKinds: [] },
      strategy: 'rolling-update',
      fastRollbackKeep: 2,
      lock: { waitMs: 60_000 },
      version: { rollback: false, redeploy: false },
      inventory: uniqueName('inv'),
      labels: {},
      annotations: {}
    },
    notify: { githubDeployments: false, environmentPrefix: '' }
  }
}

describe('a deploy links the objects of a service that owns its templates', () => {
  it('on a real cluster: the summary and the rows the log gets name acme/api@3f2a1c9', async () => {
    const done: FleetRow[] = []
    const quiet = { info: () => {}, warning: () => {}, debug: () => {} }
    const report = await runDeploy(request(), runIdentity({}), {
      log: quiet,
      logFor: () => quiet,
      onClusterDone: (row) => void done.push(row),
      redactor: new Redactor(),
      serverUrl: 'https://github.example.com'
    })
    expect(report.result).toBe('success')
    // The namespace-less ConfigMap really went to the context's namespace.
    expect(
      (await readObject(cluster.kubeConfig, 'v1', 'ConfigMap', 'api-settings', ns))?.data
    ).toEqual({ FEATURE: 'on' })

    const link = `[acme/api@3f2a1c9 · deploy/kit](https://github.example.com/acme/api/tree/${commit}/deploy/kit)`
    const md = renderSummary(report)
    expect(md).toContain(`➕ created \`ConfigMap ${ns}/api\` · templates from ${link}\n`)
    expect(md).toContain(`➕ created \`ConfigMap ${ns}/api-settings\` · templates from ${link}\n`)
    expect(md).toContain(`➕ created \`ConfigMap ${ns}/web\`\n`)
    expect(md).toContain(`➕ created \`Namespace ${ns}\`\n`)
    expect(md.split('templates from')).toHaveLength(3)

    expect(done).toHaveLength(1)
    expect(Object.values(done[0].templates ?? {}).map((t) => t.url)).toEqual([
      `https://github.example.com/acme/api/tree/${commit}/deploy/kit`,
      `https://github.example.com/acme/api/tree/${commit}/deploy/kit`
    ])
    expect(report.rows[0].templates).toEqual(done[0].templates)
  })
})
