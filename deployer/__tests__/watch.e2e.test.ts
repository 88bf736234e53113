/**
 * The watch window after healthy on real local clusters, in two waves (the first two clusters).
 * The fake kubelet makes an image tagged `-degrade-<N>s` Ready, then crash-looping N seconds
 * after its pod was created (docs/local-clusters.md), which is the release that passes every
 * health check and fails later:
 *
 * - with a 40 s window it is rolled back on the first wave's cluster, reported "degraded N s
 *   after healthy" with the pod, container, reason and counts, and the second wave never starts
 *   (the action from its bundle, outputs and summary included);
 * - a healthy release with the same window passes, and the second wave starts only once the
 *   first wave's window has passed;
 * - without a window (watch: 0, the default) the same degrading release is deployed as before.
 *
 * The summaries are printed for the record. Clusters started before the fake kubelet had the
 * degrade stage cannot run the first case (the release never degrades there).
 */
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { KubernetesObjectApi } from '@kubernetes/client-node'
import {
  fleetDefaults,
  renderSummary,
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
  resourceVersions,
  runBundle,
  writeRender
} from './e2e-helpers.js'

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const image = (tag: string) => `registry.example/shop/web:${tag}`

let clusters: TestCluster[]
let first: string
let second: string
let kubeconfig: string
const kc = (name: string) => clusters.find((c) => c.name === name)!.kubeConfig
const namespaces: string[] = []
const ns = (prefix: string): string => {
  const name = uniqueName(prefix)
  namespaces.push(name)
  return name
}

beforeAll(() => {
  execFileSync(process.execPath, [join(repo, 'scripts', 'bundle.mjs')], {
    cwd: repo,
    stdio: 'ignore'
  })
  clusters = testClusters()
  if (clusters.length < 2) throw new Error('the watch window suite needs two clusters (two waves)')
  ;[first, second] = clusters.map((c) => c.name)
  kubeconfig = readFileSync(testKubeconfigPath(), 'utf8')
})

afterAll(async () => {
  for (const c of clusters ?? []) {
    const api = KubernetesObjectApi.makeApiClient(c.kubeConfig)
    await Promise.all(
      namespaces.map((name) =>
        api
          .delete({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } })
          .catch(() => undefined)
      )
    )
  }
})

// Rollouts, a 40 s window per wave and a rollback on real clusters.
jest.setTimeout(300_000)

/** The web service (a Deployment of 2 replicas, its Service, config and secret) on both clusters. */
const render = (namespace: string, tag: string) =>
  writeRender([first, second], { namespace, services: ['web'], image: () => image(tag) })

/**
 * Runs the core in-process with a window, keeping every log line with its time and every
 * request; on both clusters in two waves unless `only` names the clusters (one wave).
 */
async function deploy(
  manifests: string,
  inventory: string,
  watchMs: number,
  only?: string[]
): Promise<{
  report: FleetReport
  lines: { at: number; text: string }[]
  requests: { at: number; cluster: string; method: string; path: string }[]
}> {
  const lines: { at: number; text: string }[] = []
  const requests: { at: number; cluster: string; method: string; path: string }[] = []
  const push = (text: string) => void lines.push({ at: Date.now(), text })
  const request: DeployRequest = {
    manifests,
    credentials: { kubeconfig },
    fleet: {
      clusters: only ?? [first, second],
      concurrency: 2,
      waves: only ? [] : [first, second],
      clusterLabels: new Map()
    },
    cluster: {
      dryRun: false,
      wait: true,
      timeoutMs: 120_000,
      failFast: { graceMs: 3_000, unschedulableMs: 30_000, threshold: 0 },
      rollbackOnFailure: true,
      waitForLoadBalancers: false,
      watch: { windowMs: watchMs, maxRestarts: 0, maxWarnings: 5 },
      prune: { enabled: false, max: fleetDefaults.pruneMax, allowKinds: [] },
      strategy: 'rolling-update',
      fastRollbackKeep: 2,
      lock: { waitMs: 60_000 },
      version: { rollback: false, redeploy: false },
      inventory,
      labels: {},
      annotations: {}
    },
    notify: { githubDeployments: false, environmentPrefix: '' }
  }
  const report = await runDeploy(request, runIdentity({}), {
    log: { info: push, warning: (m) => push(`warning: ${m}`), debug: () => {} },
    logFor: (c) => ({
      info: (m: string) => push(`[${c}] ${m}`),
      warning: (m: string) => push(`[${c}] warning: ${m}`),
      debug: () => {}
    }),
    redactor: new Redactor(),
    heartbeatMs: 10_000,
    onRequest: (cluster, method, path) => requests.push({ at: Date.now(), cluster, method, path })
  })
  return { report, lines, requests }
}

const bundleInputs = (
  manifests: string,
  inventory: string,
  extra: Record<string, string> = {}
) => ({
  manifests,
  kubeconfig,
  inventory,
  clusters: `${first},${second}`,
  timeout: '2m',
  'fail-fast-grace': '3s',
  ...extra
})

describe('the watch window after healthy on real clusters', () => {
  it('rolls back a release that degrades inside the window, says when and why, and never starts the next wave', async () => {
    const namespace = ns('watch-bad')
    const inventory = uniqueName('inv')
    const v1 = await runBundle(bundleInputs(render(namespace, '1.0'), inventory))
    expect(v1.code).toBe(0)
    const secondBefore = await resourceVersions(kc(second), namespace)

    const started = Date.now()
    const run = await runBundle(
      bundleInputs(render(namespace, '2.0-degrade-15s'), inventory, {
        watch: '40s',
        waves: `${first}\n${second}`
      })
    )
    console.log(`degrading release, watch: 40s — summary:\n${run.summary}`)
    expect(run.code).toBe(1)
    expect(run.outputs.result).toBe('failure')
    expect(JSON.parse(run.outputs['degraded-clusters'])).toEqual([first])
    expect(JSON.parse(run.outputs['failed-clusters'])).toEqual([first])
    expect(JSON.parse(run.outputs['skipped-clusters'])).toEqual([second])
    const rows = JSON.parse(run.outputs['cluster-results']) as {
      cluster: string
      result: string
      reason: string
      failures: {
        object: string
        pod?: string
        container?: string
        reason: string
        message: string
      }[]
    }[]
    const bad = rows.find((r) => r.cluster === first)!
    expect(bad.result).toBe('rolled-back')
    const m =
      /^degraded (\d+) s after healthy: Pod\/[a-z0-9-]+\/(web-[a-z0-9]+-[a-z0-9]+) container web: CrashLoopBackOff \(restarts 0→1, more than watch-max-restarts \(0\); last run exited with code 1 \(Error\)\)(?: \(and \d+ more\))?; rolled back$/.exec(
        bad.reason
      )
    expect(m).not.toBeNull()
    // The pod failed 15 s after it was created; the rollout was healthy a few seconds earlier.
    const after = Number(m![1])
    expect(after).toBeGreaterThanOrEqual(5)
    expect(after).toBeLessThan(40)
    expect(bad.failures[0]).toEqual({
      object: `Deployment/${namespace}/web`,
      pod: m![2],
      container: 'web',
      reason: 'CrashLoopBackOff',
      message:
        'restarts 0→1, more than watch-max-restarts (0); last run exited with code 1 (Error)',
      events: expect.any(Array) as unknown
    })
    expect(rows.find((r) => r.cluster === second)!.reason).toBe(
      `not started: wave 1 (${first}) did not succeed (${first})`
    )
    expect(run.summary).toContain(
      `degraded ${after} s after healthy: Deployment/${namespace}/web: CrashLoopBackOff`
    )
    expect(run.summary).toContain(`pod \`${m![2]}\`, container \`web\`: **CrashLoopBackOff**`)
    // Well before the window's end: degraded is final at once.
    expect(Date.now() - started).toBeLessThan(90_000)

    // The first cluster runs the previous release again; the second was never touched.
    const restored = await eventually(
      () => deploymentState(kc(first), namespace, 'web'),
      (d) => d?.image === image('1.0') && d.ready === 2
    )
    expect(restored).toMatchObject({ image: image('1.0'), ready: 2 })
    expect(await resourceVersions(kc(second), namespace)).toEqual(secondBefore)
    expect((await deploymentState(kc(second), namespace, 'web'))?.image).toBe(image('1.0'))
  })

  it('passes a healthy release with the same window, starting the next wave only after the first wave’s window', async () => {
    const namespace = ns('watch-good')
    const { report, lines, requests } = await deploy(
      render(namespace, '3.0'),
      uniqueName('inv'),
      40_000
    )
    console.log(`healthy release, watch: 40s — summary:\n${renderSummary(report)}`)
    expect(report.rows.map((r) => [r.cluster, r.outcome, r.degraded])).toEqual([
      [first, 'changed', undefined],
      [second, 'changed', undefined]
    ])
    const at = (cluster: string, text: string) =>
      lines.find((l) => l.text.startsWith(`[${cluster}] `) && l.text.includes(text))?.at
    const windows = [first, second].map((c) => ({
      cluster: c,
      opened: at(c, `${c}: healthy; watching Deployment/${namespace}/web for 40s`),
      passed: at(c, `${c}: the watch window of 40s passed`),
      started: lines.find((l) => l.text.startsWith(`[${c}] `))?.at
    }))
    for (const w of windows) {
      expect(w.opened).toBeDefined()
      expect(w.passed! - w.opened!).toBeGreaterThanOrEqual(40_000)
    }
    expect(windows[1].started!).toBeGreaterThanOrEqual(windows[0].passed!)
    // What the window cost each cluster's API server: its three streams, opened once, and
    // the deploy lock's renewals (a replace every 20 s while the cluster is being deployed) and
    // its release, which can land in the same millisecond as the window's last line.
    for (const w of windows) {
      const during = requests.filter(
        (r) => r.cluster === w.cluster && r.at >= w.opened! && r.at <= w.passed!
      )
      const byMethod: Record<string, number> = {}
      for (const r of during) byMethod[r.method] = (byMethod[r.method] ?? 0) + 1
      console.log(`${w.cluster}: requests during its 40 s window: ${JSON.stringify(byMethod)}`)
      expect(byMethod.WATCH).toBe(3)
      const others = during.filter((r) => r.method !== 'WATCH')
      expect(others.length).toBeLessThanOrEqual(3)
      for (const r of others)
        expect(`${r.method} ${r.path}`).toMatch(
          /^(PUT|DELETE) \/apis\/coordination\.k8s\.io\/v1\/namespaces\/kit-system\/leases\//
        )
    }
  })

  it('opens every stream at once with changed workloads in 15 namespaces: none waits, no lock renewal queues', async () => {
    // One Deployment in each of 15 namespaces of one cluster: 45 streams, more than the 32
    // connections the cluster's requests share. Every one must open when the window starts
    // (all 15 pods followed), none be opened again, and the lock's renewals go through.
    const spaces = Array.from({ length: 15 }, (_, i) => ns(`watch-many-${i}`))
    const dir = mkdtempSync(join(tmpdir(), 'kit-render-'))
    for (const space of spaces) {
      mkdirSync(join(dir, first, space), { recursive: true })
      writeFileSync(
        join(dir, first, space, 'app.yaml'),
        `apiVersion: v1
kind: Namespace
metadata: {name: ${space}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: app, namespace: ${space}, labels: {app: app}}
spec:
  replicas: 1
  selector: {matchLabels: {app: app}}
  template:
    metadata: {labels: {app: app}}
    spec:
      containers: [{name: app, image: '${image('4.0')}'}]
`
      )
    }
    const { report, lines, requests } = await deploy(dir, uniqueName('inv'), 45_000, [first])
    console.log(`15 namespaces, watch: 45s — summary:\n${renderSummary(report)}`)
    expect(report.rows.map((r) => [r.cluster, r.outcome, r.degraded])).toEqual([
      [first, 'changed', undefined]
    ])
    const opened = lines.find((l) => l.text.includes(`${first}: healthy; watching `))?.at
    const passed = lines.find((l) =>
      l.text.includes(`${first}: the watch window of 45s passed`)
    )?.at
    expect(opened).toBeDefined()
    expect(passed).toBeDefined()
    // Heartbeats every 10 s: each one follows the 15 pods, from the first on.
    const beats = lines.filter((l) => / watching \d+ pods?: /.test(l.text))
    const watches = requests.filter(
      (r) => r.method === 'WATCH' && r.at >= opened! && r.at <= passed!
    )
    const troubles = lines.filter((l) =>
      /renew the deploy lock|watch of .* keeps ending/.test(l.text)
    )
    console.log(
      [
        ...beats.map((l) => l.text),
        `WATCH requests during the window: ${watches.length}`,
        ...troubles.map((l) => l.text)
      ].join('\n')
    )
    expect(beats.length).toBeGreaterThanOrEqual(3)
    for (const b of beats) expect(b.text).toContain(' watching 15 pods: ')
    expect(watches.length).toBe(45)
    expect(troubles).toEqual([])
  })

  it('deploys the same degrading release as before without a window (watch: 0)', async () => {
    const namespace = ns('watch-off')
    const { report, lines } = await deploy(
      render(namespace, '2.0-degrade-15s'),
      uniqueName('inv'),
      0
    )
    expect(report.rows.map((r) => [r.cluster, r.outcome])).toEqual([
      [first, 'changed'],
      [second, 'changed']
    ])
    expect(lines.filter((l) => /watching|watch window|degraded/.test(l.text))).toEqual([])
  })
})
