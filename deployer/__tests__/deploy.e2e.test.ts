/**
 * The deployer's eleven acceptance scenarios on the three real local clusters.
 * Scenarios 1-3 and 5 run the action from its bundle exactly as the runner does; the others
 * call the same core in-process (runDeploy) so they can inspect logs and race two runs.
 * Each scenario works in namespaces and an inventory of its own, so suites sharing the
 * clusters never see each other's objects.
 */
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { KubernetesObjectApi } from '@kubernetes/client-node'
import { parse, stringify } from 'yaml'
import {
  applySetIdFor,
  fleetDefaults,
  runDeploy,
  runIdentity,
  type DeployRequest,
  type FleetReport
} from '../../shared/src/deploy/fleet/index.js'
import { Redactor } from '../../shared/src/secrets/redact.js'
import {
  testClusters,
  testKubeconfigPath,
  uniqueName,
  type TestCluster
} from '../../testinfra/jest/clusters.js'
import {
  deploymentState,
  eventually,
  listObjects,
  readObject,
  resourceVersions,
  runBundle,
  writeRender
} from './e2e-helpers.js'

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..')

let clusters: TestCluster[]
let names: string[]
let kubeconfig: string
const kc = (name: string) => clusters.find((c) => c.name === name)!.kubeConfig

/** Namespaces (and CRDs) the scenarios create, removed at the end: the clusters are shared and finite. */
const namespaces: string[] = []
const crds: string[] = []
const ns = (prefix: string): string => {
  const name = uniqueName(prefix)
  namespaces.push(name)
  return name
}

afterAll(async () => {
  for (const c of clusters ?? []) {
    const api = KubernetesObjectApi.makeApiClient(c.kubeConfig)
    const gone = [
      ...namespaces.map((name) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } })),
      ...crds.map((name) => ({
        apiVersion: 'apiextensions.k8s.io/v1',
        kind: 'CustomResourceDefinition',
        metadata: { name }
      }))
    ]
    await Promise.all(gone.map((o) => api.delete(o).catch(() => undefined)))
  }
})

beforeAll(() => {
  // The suite runs the action as the runner does, from its bundle: build it from this source.
  execFileSync(process.execPath, [join(repo, 'scripts', 'bundle.mjs')], {
    cwd: repo,
    stdio: 'ignore'
  })
  clusters = testClusters()
  names = clusters.map((c) => c.name)
  kubeconfig = readFileSync(testKubeconfigPath(), 'utf8')
})

/** What scenarios override, by the deploy option names they test. */
interface Over {
  readonly manifests: string
  readonly credentials?: DeployRequest['credentials']
  readonly waves?: string[]
  readonly timeoutMs?: number
  readonly prune?: DeployRequest['cluster']['prune']
  readonly strategy?: DeployRequest['cluster']['strategy']
  readonly lockTimeoutMs?: number
  readonly commit?: string
  readonly commitTime?: string
  readonly rollback?: boolean
  readonly redeploy?: boolean
  readonly inventory?: string
}

/** A request with fast test timings; scenarios override what they test. */
function request(over: Over): DeployRequest {
  return {
    manifests: over.manifests,
    credentials: over.credentials ?? { kubeconfig },
    fleet: { clusters: [], concurrency: 3, waves: over.waves ?? [], clusterLabels: new Map() },
    cluster: {
      dryRun: false,
      wait: true,
      timeoutMs: over.timeoutMs ?? 90_000,
      failFast: { graceMs: 3_000, unschedulableMs: 30_000, threshold: 0 },
      rollbackOnFailure: true,
      waitForLoadBalancers: false,
      prune: over.prune ?? { enabled: false, max: fleetDefaults.pruneMax, allowKinds: [] },
      strategy: over.strategy ?? 'rolling-update',
      fastRollbackKeep: 2,
      lock: { waitMs: over.lockTimeoutMs ?? 60_000 },
      version: {
        commit: over.commit,
        commitTime: over.commitTime,
        rollback: over.rollback ?? false,
        redeploy: over.redeploy ?? false
      },
      inventory: over.inventory ?? uniqueName('inv'),
      labels: {},
      annotations: {}
    },
    notify: { githubDeployments: false, environmentPrefix: '' }
  }
}

/** Runs the core in-process, keeping every log line with its time. */
async function deploy(
  req: DeployRequest,
  identity = runIdentity({})
): Promise<{ report: FleetReport; lines: { at: number; text: string }[] }> {
  const lines: { at: number; text: string }[] = []
  const push = (text: string) => void lines.push({ at: Date.now(), text })
  const logFor = (c: string) => ({
    info: (m: string) => push(`[${c}] ${m}`),
    warning: (m: string) => push(`[${c}] warning: ${m}`),
    debug: () => {}
  })
  const report = await runDeploy(req, identity, {
    log: { info: push, warning: (m) => push(`warning: ${m}`), debug: () => {} },
    logFor,
    redactor: new Redactor(),
    heartbeatMs: 5_000
  })
  return { report, lines }
}

// Real rollouts on shared, busy clusters: give each scenario room (they finish in seconds when idle).
jest.setTimeout(300_000)

/** A Deployment's state once its ready replicas match its replicas (or after 60 s). */
const settled = (k: Parameters<typeof deploymentState>[0], namespace: string, name: string) =>
  eventually(
    () => deploymentState(k, namespace, name),
    (d) => d !== undefined && d.ready === d.replicas
  )

const row = (report: FleetReport, cluster: string) =>
  report.rows.find((r) => r.cluster === cluster)!

const bundleInputs = (
  manifests: string,
  inventory: string,
  extra: Record<string, string> = {}
) => ({
  manifests,
  kubeconfig,
  inventory,
  timeout: '90s',
  'fail-fast-grace': '3s',
  ...extra
})

describe('deployer acceptance on real clusters', () => {
  // Scenarios 1, 2, 3 and 5 share one namespace and inventory: each builds on the previous.
  const shopNs = ns('shop')
  const inventory = uniqueName('inv')
  let firstDir: string

  it('1: deploys a realistic render to 3 clusters from the bundle: all healthy, summary and outputs right', async () => {
    firstDir = writeRender(names, { namespace: shopNs })
    const run = await runBundle(bundleInputs(firstDir, inventory))
    expect(run.stderr).toBe('')
    expect(run.code).toBe(0)
    expect(run.outputs.result).toBe('success')
    expect(run.outputs.changed).toBe('true')
    expect(JSON.parse(run.outputs['changed-clusters'])).toEqual(names)
    expect(JSON.parse(run.outputs.clusters)).toEqual(names)
    expect(JSON.parse(run.outputs['failed-clusters'])).toEqual([])
    expect(run.outputs.failed).toBe(run.outputs['failed-clusters'])
    const perCluster = JSON.parse(run.outputs['cluster-results']) as {
      cluster: string
      result: string
      objectsChanged: number
      counts: Record<string, number>
    }[]
    expect(
      perCluster.map((c) => [c.cluster, c.result, c.objectsChanged, c.counts.created])
    ).toEqual(names.map((n) => [n, 'changed', 8, 8]))
    for (const n of names) {
      expect(await settled(kc(n), shopNs, 'web')).toEqual({
        image: 'registry.example/shop/web:1.0.0',
        ready: 2,
        replicas: 2
      })
      expect((await settled(kc(n), shopNs, 'worker'))?.ready).toBe(1)
      expect(run.summary).toMatch(
        new RegExp(`\\| ${n} \\| ✅ changed \\| 8 created \\| [0-9.]+s \\|`)
      )
      expect(run.stdout).toContain(`::group::✅ ${n}: changed`)
    }
    expect(run.summary.split('\n')[0]).toBe(
      '### ✅ kit deploy: 3 clusters deployed (3 changed, 0 unchanged)'
    )
    for (const text of [run.stdout, run.summary, JSON.stringify(run.outputs)])
      expect(text).not.toContain('sw0rdfish-db-password')
  })

  it('2: deploys the same input again with zero writes (resourceVersions unchanged), reported unchanged', async () => {
    const before = await Promise.all(names.map((n) => resourceVersions(kc(n), shopNs)))
    const run = await runBundle(bundleInputs(firstDir, inventory))
    expect(run.code).toBe(0)
    const perCluster = JSON.parse(run.outputs['cluster-results']) as {
      result: string
      objectsChanged: number
    }[]
    expect(perCluster.map((c) => [c.result, c.objectsChanged])).toEqual(
      names.map(() => ['unchanged', 0])
    )
    expect(run.outputs.changed).toBe('false')
    expect(JSON.parse(run.outputs['changed-clusters'])).toEqual([])
    const after = await Promise.all(names.map((n) => resourceVersions(kc(n), shopNs)))
    expect(Object.keys(before[0])).toHaveLength(8)
    expect(after).toEqual(before)
  })

  it('3: a new image failing on one cluster rolls that cluster back with the pod reason; the others succeed; exit non-zero', async () => {
    const bad = names[1]
    const dir = writeRender(names, {
      namespace: shopNs,
      image: (c) =>
        c === bad ? 'registry.invalid/shop/web:2.0.0' : 'registry.example/shop/web:2.0.0'
    })
    const run = await runBundle(bundleInputs(dir, inventory))
    expect(run.code).toBe(1)
    expect(run.outputs.result).toBe('failure')
    const brief = (
      JSON.parse(run.outputs['cluster-results']) as {
        cluster: string
        result: string
        reason?: string
      }[]
    ).map((c) => `${c.cluster}: ${c.result}${c.reason ? ` (${c.reason})` : ''}`)
    expect(brief.filter((b) => !b.startsWith(bad))).toEqual(
      names.filter((n) => n !== bad).map((n) => `${n}: changed`)
    )
    expect(JSON.parse(run.outputs['failed-clusters'])).toEqual([bad])
    expect(run.outputs.changed).toBe('true')
    const perCluster = JSON.parse(run.outputs['cluster-results']) as {
      cluster: string
      result: string
      reason?: string
      failures: {
        object: string
        pod?: string
        container?: string
        reason: string
        message: string
      }[]
    }[]
    const failed = perCluster.find((c) => c.cluster === bad)!
    expect({ result: failed.result, reason: failed.reason }).toMatchObject({
      result: 'rolled-back'
    })
    expect(failed.reason).toMatch(/ImagePullBackOff/)
    expect(failed.failures[0]).toMatchObject({ container: 'web', reason: 'ImagePullBackOff' })
    expect(failed.failures[0].pod).toMatch(/^web-/)
    // One error annotation, for the failed cluster, with the short reason.
    // The runner's annotation syntax escapes ":" in properties as %3A.
    expect(run.stdout.match(/^::error/gm)).toHaveLength(1)
    expect(run.stdout).toMatch(
      new RegExp(
        `::error title=kit deploy%3A ${bad} rolled back::${bad}: Deployment/${shopNs}/web: ImagePullBackOff\n`
      )
    )
    // The summary: the short reason in the table, the detail once in the cluster's section.
    expect(run.summary).toContain(`#### ↩️ ${bad}: rolled back`)
    const withoutEvents = run.summary
      .split('\n')
      .filter((l) => !l.startsWith('  - '))
      .join('\n')
    expect(withoutEvents.split('ImagePullBackOff')).toHaveLength(3)
    expect(run.summary).toContain(`container \`web\`: **ImagePullBackOff** — `)
    // The failed cluster runs the previous version again, Ready; the others run the new one.
    expect(await settled(kc(bad), shopNs, 'web')).toEqual({
      image: 'registry.example/shop/web:1.0.0',
      ready: 2,
      replicas: 2
    })
    for (const n of names.filter((x) => x !== bad)) {
      expect(perCluster.find((c) => c.cluster === n)?.result).toBe('changed')
      expect(await settled(kc(n), shopNs, 'web')).toEqual({
        image: 'registry.example/shop/web:2.0.0',
        ready: 2,
        replicas: 2
      })
    }
  })

  it('5: a dry run shows a diff, changes no cluster, and never shows Secret data', async () => {
    const before = await Promise.all(names.map((n) => resourceVersions(kc(n), shopNs)))
    const dir = writeRender(names, {
      namespace: shopNs,
      image: () => 'registry.example/shop/web:3.0.0',
      secretValue: 'n3w-t0p-s3cret'
    })
    const run = await runBundle(bundleInputs(dir, inventory, { 'dry-run': 'true' }))
    expect(run.code).toBe(0)
    expect(run.summary).toContain('```diff')
    expect(run.summary).toContain('+           image: registry.example/shop/web:3.0.0')
    expect(run.summary).toContain('configured `Secret')
    for (const text of [run.stdout, run.stderr, run.summary, JSON.stringify(run.outputs)]) {
      expect(text).not.toContain('n3w-t0p-s3cret')
      expect(text).not.toContain('sw0rdfish-db-password')
      expect(text).not.toContain(Buffer.from('n3w-t0p-s3cret').toString('base64'))
      expect(text).not.toContain(Buffer.from('sw0rdfish-db-password').toString('base64'))
    }
    expect(await Promise.all(names.map((n) => resourceVersions(kc(n), shopNs)))).toEqual(before)
  })

  it('4: an unreachable cluster is reported after retries; the others succeed', async () => {
    const port = await closedPort()
    const config = parse(kubeconfig) as {
      clusters: { name: string; cluster: Record<string, unknown> }[]
      contexts: { name: string; context: Record<string, string> }[]
    }
    const gone = 'kit-e2e-gone'
    config.clusters.push({
      name: gone,
      cluster: { ...config.clusters[0].cluster, server: `https://127.0.0.1:${port}` }
    })
    config.contexts.push({ name: gone, context: { ...config.contexts[0].context, cluster: gone } })
    const ns4 = ns('reach')
    const dir = writeRender([...names, gone], { namespace: ns4, services: ['web'] })
    const started = Date.now()
    const { report } = await deploy(
      request({ manifests: dir, credentials: { kubeconfig: stringify(config) } })
    )
    expect(row(report, gone).outcome).toBe('failed')
    // The network code and the address, so a refused port reads differently from a bad host.
    expect(row(report, gone).reason).toBe(
      `cluster "${gone}" is unreachable (ECONNREFUSED 127.0.0.1:${port}) after 3 attempts`
    )
    for (const n of names) expect(row(report, n).outcome).toBe('changed')
    expect(report.result).toBe('failure')
    expect(Date.now() - started).toBeLessThan(60_000)
  })

  it('6: prune deletes a removed service, leaves a look-alike object alone, and refuses an empty manifest set', async () => {
    const target = names[0]
    const ns6 = ns('prune')
    const inv = uniqueName('inv')
    const first = await deploy(
      request({
        manifests: writeRender([target], { namespace: ns6 }),
        inventory: inv,
        prune: { enabled: true, max: 10, allowKinds: [] }
      })
    )
    expect(first.report.result).toBe('success')
    // Someone else creates an object with the same app label, even copying kit's ApplySet label.
    const api = KubernetesObjectApi.makeApiClient(kc(target))
    await api.create({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: {
        name: 'worker-extra',
        namespace: ns6,
        labels: { app: 'worker', 'applyset.kubernetes.io/part-of': applySetIdFor(inv) }
      },
      data: { owner: 'someone else' }
    } as never)
    const second = await deploy(
      request({
        manifests: writeRender([target], { namespace: ns6, services: ['web'] }),
        inventory: inv,
        prune: { enabled: true, max: 10, allowKinds: [] }
      })
    )
    expect(second.report.result).toBe('success')
    expect(
      row(second.report, target)
        .changes.filter((c) => c.action === 'deleted')
        .map((c) => `${c.kind}/${c.name}`)
        .sort()
    ).toEqual(['ConfigMap/worker-config', 'Deployment/worker'])
    expect(await readObject(kc(target), 'apps/v1', 'Deployment', 'worker', ns6)).toBeUndefined()
    expect(await readObject(kc(target), 'v1', 'ConfigMap', 'worker-config', ns6)).toBeUndefined()
    expect(await readObject(kc(target), 'v1', 'ConfigMap', 'worker-extra', ns6)).toBeDefined()
    expect((await settled(kc(target), ns6, 'web'))?.ready).toBe(2)

    const empty = mkdtempSync(join(tmpdir(), 'kit-empty-'))
    mkdirSync(join(empty, target))
    writeFileSync(join(empty, target, 'nothing.yaml'), '# every service removed\n')
    const third = await deploy(
      request({
        manifests: empty,
        inventory: inv,
        prune: { enabled: true, max: 10, allowKinds: [] }
      })
    )
    expect(row(third.report, target).outcome).toBe('failed')
    expect(row(third.report, target).reason).toMatch(
      /refusing to prune: the manifest set for this cluster is empty/
    )
    expect(await readObject(kc(target), 'apps/v1', 'Deployment', 'web', ns6)).toBeDefined()
  })

  it('7: a failure in wave 1 leaves wave 2 untouched', async () => {
    const ns7 = ns('waves')
    const [first, ...rest] = names
    const dir = writeRender(names, {
      namespace: ns7,
      services: ['web'],
      image: (c) => (c === first ? 'registry.invalid/shop/web:1' : 'registry.example/shop/web:1')
    })
    const { report } = await deploy(request({ manifests: dir, waves: [first, rest.join(', ')] }))
    expect(row(report, first).outcome).toBe('rolled-back')
    for (const n of rest) {
      expect(row(report, n)).toMatchObject({
        outcome: 'skipped',
        reason: `not started: wave 1 (${first}) did not succeed (${first})`
      })
      expect(await readObject(kc(n), 'v1', 'Namespace', ns7)).toBeUndefined()
    }
    // The rollback left the Namespace it created (never deleted, so never "terminating"):
    // the corrected re-run succeeds everywhere.
    const namespace = await readObject(kc(first), 'v1', 'Namespace', ns7)
    expect(namespace?.metadata?.deletionTimestamp).toBeUndefined()
    const fixed = writeRender(names, {
      namespace: ns7,
      services: ['web'],
      image: () => 'registry.example/shop/web:1'
    })
    const rerun = await deploy(request({ manifests: fixed, waves: [first, rest.join(', ')] }))
    expect(rerun.report.rows.map((r) => [r.cluster, r.outcome, r.reason ?? ''])).toEqual(
      names.map((n) => [n, 'changed', ''])
    )
  })

  it('8: the version guard refuses an older commit; an explicit rollback allows it', async () => {
    const target = names[2]
    const ns8 = ns('guard')
    const inv = uniqueName('inv')
    const at = (image: string) =>
      writeRender([target], { namespace: ns8, services: ['web'], image: () => image })
    const newer = await deploy(
      request({
        manifests: at('registry.example/shop/web:5'),
        inventory: inv,
        commit: 'b'.repeat(40),
        commitTime: '2026-11-26T10:00:00.000Z'
      })
    )
    expect(newer.report.result).toBe('success')
    const older = { commit: 'a'.repeat(40), commitTime: '2026-11-25T10:00:00.000Z' }
    const refused = await deploy(
      request({ manifests: at('registry.example/shop/web:4'), inventory: inv, ...older })
    )
    expect(row(refused.report, target).outcome).toBe('skipped')
    expect(row(refused.report, target).reason).toBe(
      'refused: commit aaaaaaa (2026-11-25T10:00:00.000Z) is older than the deployed commit bbbbbbb (2026-11-26T10:00:00.000Z); set rollback or redeploy to deploy it anyway'
    )
    expect((await settled(kc(target), ns8, 'web'))?.image).toBe('registry.example/shop/web:5')
    const rollback = await deploy(
      request({
        manifests: at('registry.example/shop/web:4'),
        inventory: inv,
        ...older,
        rollback: true
      })
    )
    expect(row(rollback.report, target).outcome).toBe('changed')
    expect(await settled(kc(target), ns8, 'web')).toMatchObject({
      image: 'registry.example/shop/web:4',
      ready: 2
    })
    const state = await readObject(
      kc(target),
      'v1',
      'ConfigMap',
      `kit-deploy-state-${inv}`,
      'kit-system'
    )
    expect(state?.data).toMatchObject({ commit: older.commit, commitTime: older.commitTime })
  })

  it('9: two runs started at once against one cluster never interleave; a held lock fails clearly', async () => {
    const target = names[0]
    const ns9 = ns('lock')
    const inv = uniqueName('inv')
    const dir = writeRender([target], { namespace: ns9, services: ['web'] })
    const [a, b] = await Promise.all([
      deploy(request({ manifests: dir, inventory: inv }), {
        ...runIdentity({}),
        identity: 'run-a',
        description: 'run A'
      }),
      deploy(request({ manifests: dir, inventory: inv }), {
        ...runIdentity({}),
        identity: 'run-b',
        description: 'run B'
      })
    ])
    expect([a, b].map((r) => r.report.rows.map((x) => [x.outcome, x.reason ?? '']))).toEqual([
      [[expect.stringMatching(/^(changed|unchanged)$/), '']],
      [[expect.stringMatching(/^(changed|unchanged)$/), '']]
    ])
    const waited = [a, b].find((r) =>
      r.lines.some((l) => l.text.includes('waiting for the deploy lock held by'))
    )!
    const other = waited === a ? b : a
    expect(waited.lines.find((l) => l.text.includes('waiting for the deploy lock'))?.text).toMatch(
      /held by run-[ab] \(run [AB]\)/
    )
    // Every engine line of the waiting run comes after the last line of the other run.
    const engineLines = (r: typeof a) =>
      r.lines.filter((l) => l.text.includes(`[${target}] ${target}:`))
    expect(engineLines(other).length).toBeGreaterThan(0)
    expect(Math.min(...engineLines(waited).map((l) => l.at))).toBeGreaterThanOrEqual(
      Math.max(...engineLines(other).map((l) => l.at))
    )
    expect(row(other.report, target).outcome).toBe('changed')
    expect(row(waited.report, target).outcome).toBe('unchanged')

    // A lock held (and renewed) by another run: wait up to lock-timeout, then fail naming it.
    const api = KubernetesObjectApi.makeApiClient(kc(target))
    const now = new Date().toISOString().replace('Z', '000Z')
    await api.create({
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: {
        name: 'kit-deploy-lock',
        namespace: 'kit-system',
        annotations: { 'kit.dev/lock-holder': 'https://ci.example/runs/77' }
      },
      spec: {
        holderIdentity: 'other-run-77',
        leaseDurationSeconds: 60,
        acquireTime: now,
        renewTime: now
      }
    } as never)
    try {
      const blocked = await deploy(
        request({ manifests: dir, inventory: inv, lockTimeoutMs: 1_500 })
      )
      expect(row(blocked.report, target).outcome).toBe('failed')
      expect(row(blocked.report, target).reason).toMatch(
        /^cluster kit-e2e-1 is locked by another deploy: other-run-77 \(https:\/\/ci.example\/runs\/77\), holding it since .* waited [0-9]+s \(lock-timeout\)$/
      )
    } finally {
      await api.delete({
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: { name: 'kit-deploy-lock', namespace: 'kit-system' }
      })
    }
  })

  it('10: a CRD and its custom resource, a Namespace and its contents, a Job that completes, and one that fails', async () => {
    const target = names[1]
    const ns10 = ns('kinds')
    const group = `${ns10}.kit.test`
    crds.push(`widgets.${group}`)
    const crd = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.${group}
spec:
  group: ${group}
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget, listKind: WidgetList}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec: {type: object, x-kubernetes-preserve-unknown-fields: true}
---
apiVersion: ${group}/v1
kind: Widget
metadata: {name: sprocket, namespace: ${ns10}}
spec: {size: 3}
`
    const job = (name: string, image: string) => `---
apiVersion: batch/v1
kind: Job
metadata: {name: ${name}, namespace: ${ns10}}
spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      containers: [{name: ${name}, image: '${image}'}]
`
    const ok = writeRender([target], {
      namespace: ns10,
      services: ['web'],
      extra: () => crd + job('migrate', 'registry.example/tools/migrate:1')
    })
    const first = await deploy(request({ manifests: ok }))
    expect(row(first.report, target)).toMatchObject({ outcome: 'changed' })
    expect(await readObject(kc(target), `${group}/v1`, 'Widget', 'sprocket', ns10)).toBeDefined()
    const migrate = await readObject(kc(target), 'batch/v1', 'Job', 'migrate', ns10)
    expect((migrate?.status as { succeeded?: number }).succeeded).toBe(1)

    const failing = writeRender([target], {
      namespace: ns10,
      services: ['web'],
      extra: () =>
        crd +
        job('migrate', 'registry.example/tools/migrate:1') +
        job('seed', 'registry.example/tools/seed:1-crashloop')
    })
    const second = await deploy(request({ manifests: failing, timeoutMs: 45_000 }))
    const r = row(second.report, target)
    expect(['failed', 'rolled-back']).toContain(r.outcome)
    expect(r.failures.map((f) => f.object).join(' ')).toMatch(/Job.*seed/)
  })

  it('11: fast-rollback: a bad version never receives traffic; the Service stays on the good one', async () => {
    const target = names[2]
    const ns11 = ns('fast')
    const inv = uniqueName('inv')
    const at = (image: string) =>
      writeRender([target], { namespace: ns11, services: ['web'], image: () => image })
    const good = await deploy(
      request({
        manifests: at('registry.example/shop/web:1'),
        inventory: inv,
        strategy: 'fast-rollback'
      })
    )
    expect(good.report.result).toBe('success')
    const svc = async () =>
      (
        (await readObject(kc(target), 'v1', 'Service', 'web', ns11))?.spec as {
          selector: Record<string, string>
        }
      ).selector
    const goodId = (await svc())['kit.dev/deploy-id']
    expect(goodId).toMatch(/^[0-9a-f]{8}$/)
    // The deploy itself waited for this version to be healthy; here only what traffic sees.
    expect((await deploymentState(kc(target), ns11, `web-${goodId}`))?.image).toBe(
      'registry.example/shop/web:1'
    )
    expect(await readObject(kc(target), 'apps/v1', 'Deployment', 'web', ns11)).toBeUndefined()

    const bad = await deploy(
      request({
        manifests: at('registry.invalid/shop/web:2'),
        inventory: inv,
        strategy: 'fast-rollback'
      })
    )
    expect(row(bad.report, target).outcome).toBe('rolled-back')
    expect(await svc()).toEqual({ app: 'web', 'kit.dev/deploy-id': goodId })
    const deployments = await listObjects(kc(target), 'apps/v1', 'Deployment', ns11)
    expect(deployments.map((d) => d.metadata?.name)).toEqual([`web-${goodId}`])
    expect((await deploymentState(kc(target), ns11, `web-${goodId}`))?.replicas).toBe(2)

    // A good new version switches traffic and keeps the previous one running for rollback.
    const next = await deploy(
      request({
        manifests: at('registry.example/shop/web:3'),
        inventory: inv,
        strategy: 'fast-rollback'
      })
    )
    expect(next.report.result).toBe('success')
    const nextId = (await svc())['kit.dev/deploy-id']
    expect(nextId).not.toBe(goodId)
    const live = (await listObjects(kc(target), 'apps/v1', 'Deployment', ns11))
      .map((d) => d.metadata?.name)
      .sort()
    expect(live).toEqual([`web-${goodId}`, `web-${nextId}`].sort())
  })
})

/** A loopback port nothing listens on (bound, then closed). */
async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const port = (server.address() as { port: number }).port
  await new Promise((r) => server.close(r))
  return port
}
