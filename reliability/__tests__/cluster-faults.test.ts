/**
 * Fault injection on real local clusters (docs/reliability.md, "Faults"): a set of three
 * clusters of its own (ports 20000+, never the shared test clusters), deployed to as users
 * deploy — `kit deploy` and the deployer action, both from their bundles — while one API
 * server is killed, a proxy in front of another injects 5xx, 429, resets and latency, the
 * shared etcd restarts, and a cluster answers but never makes its pods Ready. Each case
 * records what the product did, with figures, before asserting the behaviour the docs promise
 * (docs/deployer.md).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  clusterStatus,
  downClusters,
  startComponent,
  stopComponent,
  upClusters,
  waitUntilServing,
  type ClusterSet,
  type LocalCluster
} from '../../testinfra/clusters/local-clusters.js'
import { uniqueName } from '../../testinfra/jest/clusters.js'
import { runAction } from '../../testinfra/runner/run-action.js'
import { record } from '../record.js'
import {
  decideFault,
  startFaultProxy,
  summarize,
  type FaultPlan,
  type FaultProxy,
  type ProxyLogEntry
} from '../faults/fault-proxy.js'
import {
  Checks,
  configMapNames,
  eventually,
  getJson,
  objectCount,
  readApp,
  repoRoot,
  rolledOut,
  runKit,
  withServer,
  writeApp,
  type AppSpec,
  type AppState,
  type ClusterRow,
  type KitRun
} from '../faults/fleet.js'

const names = ['fault-1', 'fault-2', 'fault-3']
const root = join(tmpdir(), 'kit-fault-clusters')
const basePort = 20000
const image = (tag: string) => `registry.example/faults/web:${tag}`

describe('the fault plan (pure)', () => {
  const plan: FaultPlan = {
    failureRate: 0.2,
    kinds: ['http-500', 'http-503', 'http-429', 'reset'],
    latencyRate: 0.2,
    latencyMs: 200,
    seed: 'unit'
  }

  it('decides the same way for the same request and occurrence, whatever the order', () => {
    const a = decideFault(plan, 'GET', '/api/v1/namespaces/x', 3)
    decideFault(plan, 'PATCH', '/apis/apps/v1/namespaces/x/deployments/web', 1)
    expect(decideFault(plan, 'GET', '/api/v1/namespaces/x', 3)).toEqual(a)
  })

  it('fails close to the set rate, spread over every kind, and delays independently', () => {
    const decisions = Array.from({ length: 20_000 }, (_, i) =>
      decideFault(plan, i % 2 ? 'GET' : 'PATCH', `/api/v1/namespaces/ns-${i % 97}/x`, i)
    )
    const failed = decisions.filter((d) => d.failure)
    expect(failed.length / decisions.length).toBeGreaterThan(0.18)
    expect(failed.length / decisions.length).toBeLessThan(0.22)
    for (const k of plan.kinds)
      expect(failed.filter((d) => d.failure === k).length).toBeGreaterThan(failed.length / 5)
    const delayed = decisions.filter((d) => d.delayMs === 200).length / decisions.length
    expect(delayed).toBeGreaterThan(0.18)
    expect(delayed).toBeLessThan(0.22)
  })

  it('fails nothing outside its match and everything at rate 1', () => {
    const only: FaultPlan = { ...plan, failureRate: 1, match: (m) => m === 'POST' }
    expect(decideFault(only, 'GET', '/x', 1).failure).toBeUndefined()
    expect(decideFault(only, 'POST', '/x', 1).failure).toBeDefined()
  })

  it('counts a failure as retried only when the same request comes again', () => {
    const at = 0
    const log: ProxyLogEntry[] = [
      {
        at,
        method: 'GET',
        url: '/a',
        occurrence: 1,
        failure: 'http-503',
        delayMs: 0,
        forwarded: false
      },
      { at, method: 'GET', url: '/a', occurrence: 2, delayMs: 0, forwarded: true, status: 200 },
      {
        at,
        method: 'POST',
        url: '/b',
        occurrence: 1,
        failure: 'reset',
        delayMs: 0,
        forwarded: false
      }
    ]
    const s = summarize(log)
    expect(s).toMatchObject({ requests: 3, forwarded: 1, failures: 2, retried: 1 })
    expect(s.notRetried).toEqual(['reset on POST /b'])
  })
})

describe('faults on real local clusters', () => {
  let set: ClusterSet
  let proxy: FaultProxy | undefined
  /** Renders and kubeconfigs of this run (made in beforeAll, removed in afterAll). */
  let work = ''
  const cluster = (name: string): LocalCluster => set.clusters.find((c) => c.name === name)!

  beforeAll(async () => {
    // Users run the bundles: build them from this source.
    execFileSync(process.execPath, [join(repoRoot, 'scripts', 'bundle.mjs')], {
      cwd: repoRoot,
      stdio: 'ignore'
    })
    work = mkdtempSync(join(tmpdir(), 'kit-faults-'))
    // A set left behind by a crashed run of this file (never anyone else's: own root, own ports).
    await downClusters({ root })
    set = await upClusters({
      names,
      root,
      basePort,
      nodes: 1,
      log: (line) => process.stderr.write(`[fault clusters] ${line}\n`)
    })
  }, 600_000)

  afterAll(async () => {
    await proxy?.close()
    await downClusters({ root })
    // Renders and the proxied kubeconfig (it holds a cluster token) go with the clusters.
    if (work) rmSync(work, { recursive: true, force: true })
  }, 120_000)

  /** A case that failed half-way must not leave the next one without an API server or etcd. */
  async function ensureServing(): Promise<void> {
    const status = await clusterStatus({ root })
    if (status.etcd && !status.etcd.alive) await startComponent({ root, component: 'etcd' })
    for (const c of status.clusters) {
      const api = c.processes.find((p) => p.component === 'kube-apiserver')
      if (api && !api.alive)
        await startComponent({ root, cluster: c.name, component: 'kube-apiserver' })
    }
  }

  function deployArgs(
    dir: string,
    o: {
      inventory: string
      timeout: string
      lockTimeout?: string
      kubeconfig?: string
      clusters?: string
    }
  ): string[] {
    return [
      'deploy',
      dir,
      '--kubeconfig',
      o.kubeconfig ?? set.kubeconfigPath,
      '--json',
      '--timeout',
      o.timeout,
      '--lock-timeout',
      o.lockTimeout ?? '2m',
      '--fail-fast-grace',
      '5s',
      '--concurrency',
      '3',
      '--inventory',
      o.inventory,
      ...(o.clusters ? ['--clusters', o.clusters] : [])
    ]
  }

  /** A render of the same app for every cluster (per-cluster overrides allowed). */
  function render(
    spec: AppSpec,
    per: Partial<Record<string, Partial<AppSpec>>> = {},
    only: readonly string[] = names
  ): string {
    const dir = mkdtempSync(join(work, 'render-'))
    return writeApp(dir, Object.fromEntries(only.map((n) => [n, { ...spec, ...per[n] }])))
  }

  const brief = (run: KitRun): string =>
    `exit ${run.code}; ${run.json ? run.json['cluster-results'].map((r) => `${r.cluster} ${r.result}${r.reason ? ` (${r.reason})` : ''}`).join('; ') : `no JSON; stderr: ${run.stderr.slice(-1500)}`}`

  const rows = (run: KitRun): ClusterRow[] => run.json?.['cluster-results'] ?? []

  /** resourceVersion of every app object: equal before and after means nothing was written. */
  const versions = (s: AppState): Record<string, string> =>
    Object.fromEntries(
      [
        ...s.configMaps.map((o) => [`ConfigMap/${o.metadata.name}`, o.metadata.resourceVersion]),
        ...s.services.map((o) => [`Service/${o.metadata.name}`, o.metadata.resourceVersion]),
        ['Deployment/web generation', String(s.deployment?.metadata.generation ?? '')]
      ].sort()
    )

  /** Forwarded, successful, non-dry-run writes per object path in one namespace (proxy log). */
  const writesPerObject = (log: readonly ProxyLogEntry[], ns: string): Record<string, number> => {
    const out: Record<string, number> = {}
    for (const e of log) {
      if (!e.forwarded || (e.status ?? 0) >= 300 || e.method === 'GET') continue
      if (e.url.includes('dryRun=') || !e.url.includes(`/namespaces/${ns}/`)) continue
      const path = e.url.split('?')[0]
      out[path] = (out[path] ?? 0) + 1
    }
    return out
  }

  it('1. kube-apiserver killed in the middle of a deploy: that cluster fails clearly, the others finish, a rerun converges', async () => {
    await ensureServing()
    const ns = uniqueName('crash')
    const inventory = 'crash'
    const spec: AppSpec = { namespace: ns, version: 'v1', image: image('1.0'), minReadySeconds: 6 }
    const checks = new Checks()
    const first = await runKit(deployArgs(render(spec), { inventory, timeout: '90s' }))
    checks.add('baseline v1 deploy succeeds', first.code === 0, brief(first))

    const victim = cluster('fault-1')
    const v2 = render({ ...spec, version: 'v2', image: image('2.0') })
    const started = Date.now()
    const running = runKit(deployArgs(v2, { inventory, timeout: '60s', lockTimeout: '20s' }))
    // Strike when the first object of the new version lands on the victim: mid-apply or early
    // in the health wait (minReadySeconds keeps the rollout busy for seconds after that).
    const seen = await eventually(
      () =>
        getJson<{ data?: { version?: string } }>(
          victim,
          `/api/v1/namespaces/${ns}/configmaps/app-config`
        ),
      (cm) => cm?.data?.version === 'v2',
      60_000,
      20
    )
    checks.add('the new version reached the victim before the kill', seen?.data?.version === 'v2')
    await stopComponent({ root, cluster: victim.name, component: 'kube-apiserver' })
    const killedAfterMs = Date.now() - started
    const during = await running

    const vrow = during.json ? during.row(victim.name) : undefined
    checks
      .add('the run exits 1', during.code === 1, brief(during))
      .add('the killed cluster is reported failed', vrow?.result === 'failed', vrow)
      .add(
        'its reason names the cluster and the network error',
        !!vrow?.reason?.includes(victim.name) &&
          /ECONNREFUSED|ECONNRESET|unreachable|socket/i.test(vrow.reason),
        vrow?.reason
      )
      .add(
        'it fails within its timeout (60s)',
        (vrow?.durationMs ?? Infinity) < 60_000,
        vrow?.durationMs
      )
    for (const other of ['fault-2', 'fault-3']) {
      const r = during.json ? during.row(other) : undefined
      const state = await readApp(cluster(other), ns)
      checks
        .add(`${other} finishes changed`, r?.result === 'changed', r)
        .add(
          `${other} runs v2, every replica ready`,
          rolledOut(state, image('2.0')),
          state.deployment?.status
        )
    }

    const restartStarted = Date.now()
    await startComponent({ root, cluster: victim.name, component: 'kube-apiserver' })
    const restartMs = Date.now() - restartStarted
    const before = await readApp(victim, ns)
    const cmsBehind = before.configMaps.filter((c) => c.data?.version !== 'v2').length
    const deploymentBehind =
      before.deployment?.spec.template.spec.containers[0]?.image === image('2.0') ? 0 : 1
    const expectedChanged = cmsBehind + deploymentBehind
    const leaseLeft = before.lease?.spec.holderIdentity
    const leaseLive =
      !!before.lease &&
      Date.parse(before.lease.spec.renewTime ?? '') +
        (before.lease.spec.leaseDurationSeconds ?? 0) * 1000 >
        Date.now()

    const rerun = await runKit(deployArgs(v2, { inventory, timeout: '90s', lockTimeout: '2m' }))
    const rrow = rerun.json ? rerun.row(victim.name) : undefined
    checks
      .add('the rerun succeeds', rerun.code === 0 && rerun.json?.result === 'success', brief(rerun))
      .add(
        'the rerun reports exactly the objects the crash left behind as changed',
        rrow?.objectsChanged === expectedChanged &&
          rrow.result === (expectedChanged > 0 ? 'changed' : 'unchanged'),
        { expectedChanged, row: rrow }
      )
      .add(
        'the other clusters are unchanged on the rerun',
        ['fault-2', 'fault-3'].every((n) => rerun.json && rerun.row(n).result === 'unchanged'),
        brief(rerun)
      )
    if (leaseLive)
      checks.add(
        'the crashed run’s live lock is taken over after its expiry, with a warning',
        /taking over the expired deploy lock/.test(rerun.stderr),
        rerun.stderr.slice(-1000)
      )
    const after = await eventually(
      () => readApp(victim, ns),
      (s) =>
        rolledOut(s, image('2.0')) &&
        s.replicaSets.every((rs) => (rs.status?.replicas ?? 0) === rs.spec.replicas),
      60_000
    )
    const liveRs = after.replicaSets.filter((rs) => rs.spec.replicas > 0)
    checks
      .add(
        'every ConfigMap exists once, at v2',
        after.configMaps.length === configMapNames(spec).length &&
          after.configMaps.every((c) => c.data?.version === 'v2'),
        after.configMaps.map((c) => `${c.metadata.name}=${c.data?.version}`)
      )
      .add('the Service exists once', after.services.length === 1, after.services.length)
      .add(
        'the Deployment runs v2, every replica ready',
        rolledOut(after, image('2.0')),
        after.deployment?.status
      )
      .add(
        'two ReplicaSets (v1 scaled to 0, v2 live): nothing duplicated by the half-applied rollout',
        after.replicaSets.length === 2 &&
          liveRs.length === 1 &&
          liveRs[0].spec.template.spec.containers[0].image === image('2.0'),
        after.replicaSets.map(
          (rs) =>
            `${rs.metadata.name} ${rs.spec.template.spec.containers[0].image} x${rs.spec.replicas}`
        )
      )
      .add('no lock is left on the cluster', after.lease === undefined, after.lease?.spec)

    const third = await runKit(deployArgs(v2, { inventory, timeout: '90s' }))
    checks.add(
      'a third run changes nothing anywhere',
      third.code === 0 &&
        rows(third).every((r) => r.result === 'unchanged' && r.objectsChanged === 0),
      brief(third)
    )

    record({
      section: 'faults',
      name: 'kube-apiserver killed mid-deploy (SIGKILL), restarted, rerun',
      target: 'kit deploy (CLI bundle), 3 clusters',
      observed: `${victim.name} failed after ${((vrow?.durationMs ?? 0) / 1000).toFixed(1)}s: ${vrow?.reason ?? '(no row)'}; fault-2, fault-3 changed and healthy; rerun: ${victim.name} ${rrow?.result ?? '?'} (${rrow?.objectsChanged ?? '?'} objects the crash left behind)${leaseLeft ? `, lock of the crashed run ${leaseLive ? 'taken over after expiry' : 'expired'}` : ''}; nothing duplicated${checks.ok ? '' : `; FAILED: ${checks.failed().join('; ')}`}`,
      ok: checks.ok,
      figures: {
        killedAfterMs,
        failedAfterMs: vrow?.durationMs ?? -1,
        apiserverRestartMs: restartMs,
        objectsBehindAtRestart: expectedChanged,
        rerunMs: rerun.wallMs,
        replicaSets: after.replicaSets.length,
        checks: checks.count
      }
    })
    expect(checks.failed()).toEqual([])
  }, 420_000)

  describe('2. a fault-injecting proxy in front of one API server', () => {
    let kubeconfig: string
    // A fixed name (the set is new each run): the URLs, and so the requests the hash picks to
    // fail, stay the same from run to run.
    const ns = 'flaky'
    const inventory = 'flaky'
    const spec: AppSpec = { namespace: ns, version: 'v1', image: image('1.0'), extraConfigMaps: 8 }
    const target = () => cluster('fault-2')
    const mix: FaultPlan = {
      failureRate: 0.2,
      kinds: ['http-500', 'http-503', 'http-429', 'reset'],
      latencyRate: 0.2,
      latencyMs: 200,
      retryAfterSeconds: 1,
      kindOrder: 'rotate',
      seed: 'kit-faults-mix-1'
    }

    beforeAll(async () => {
      await ensureServing()
      const certs = join(target().dir, 'certs')
      const chain = readFileSync(join(certs, 'apiserver.crt'))
      proxy = await startFaultProxy({
        upstream: target().server,
        ca: chain,
        cert: chain,
        key: readFileSync(join(certs, 'apiserver.key'))
      })
      kubeconfig = join(work, 'kubeconfig-proxied')
      writeFileSync(
        kubeconfig,
        withServer(readFileSync(set.kubeconfigPath, 'utf8'), target().name, proxy.url),
        { mode: 0o600 }
      )
    })

    it('20 % of requests fail (500, 503, 429 + Retry-After, resets), 20 % slowed by 200 ms: the deploy succeeds within its retry budget, writing each object once', async () => {
      proxy!.setPlan(mix)
      const checks = new Checks()
      const run = await runKit(deployArgs(render(spec), { inventory, timeout: '90s', kubeconfig }))
      const stats = proxy!.stats()
      const row = run.json ? run.row(target().name) : undefined
      const state = await readApp(target(), ns)
      const writes = writesPerObject(proxy!.log, ns)
      checks
        .add(
          'faults of every kind were injected',
          Object.entries(stats.byKind)
            .filter(([k]) => mix.kinds.includes(k as never))
            .every(([, n]) => n > 0),
          stats.byKind
        )
        .add('requests were slowed', stats.delayed > 0, stats.delayed)
        .add('the deploy succeeds', run.code === 0 && run.json?.result === 'success', brief(run))
        .add(
          'the proxied cluster changed every object',
          row?.result === 'changed' && row.objectsChanged === objectCount(spec),
          row
        )
        .add('every failed request was retried', stats.notRetried.length === 0, stats.notRetried)
        .add('within the 90s timeout', (row?.durationMs ?? Infinity) < 90_000, row?.durationMs)
        .add(
          'each object was written once',
          Object.values(writes).every((n) => n === 1) &&
            Object.keys(writes).length === objectCount(spec) - 1,
          writes
        )
        .add(
          'the Deployment was created once (generation 1, one ReplicaSet)',
          state.deployment?.metadata.generation === 1 && state.replicaSets.length === 1,
          { generation: state.deployment?.metadata.generation, rs: state.replicaSets.length }
        )
      record({
        section: 'faults',
        name: 'proxy: 20 % 500/503/429/reset + 20 % 200 ms latency on one API server',
        target: 'kit deploy (CLI bundle), 3 clusters, 1 proxied',
        observed: `${target().name} ${row?.result ?? '?'} in ${((row?.durationMs ?? 0) / 1000).toFixed(1)}s; ${stats.failures} of ${stats.requests} requests failed, ${stats.retried} retried${stats.notRetried.length ? `, NOT retried: ${stats.notRetried.join(', ')}` : ''}; each object written once${checks.ok ? '' : `; FAILED: ${checks.failed().join('; ')}`}`,
        ok: checks.ok,
        figures: {
          requests: stats.requests,
          failures: stats.failures,
          http500: stats.byKind['http-500'],
          http503: stats.byKind['http-503'],
          http429: stats.byKind['http-429'],
          resets: stats.byKind.reset,
          delayed: stats.delayed,
          retried: stats.retried,
          durationMs: row?.durationMs ?? -1
        }
      })
      expect(checks.failed()).toEqual([])
    }, 300_000)

    it('the same faults on an unchanged redeploy: nothing changes on the cluster', async () => {
      const before = versions(await readApp(target(), ns))
      proxy!.setPlan({ ...mix, seed: 'kit-faults-mix-2' })
      const run = await runKit(deployArgs(render(spec), { inventory, timeout: '90s', kubeconfig }))
      const stats = proxy!.stats()
      const row = run.json ? run.row(target().name) : undefined
      const after = versions(await readApp(target(), ns))
      // An apply the engine cannot prove unchanged beforehand is sent and judged by its result;
      // the server writes nothing for it (resourceVersions below), so it is counted, not failed.
      const noOpApplies = Object.values(writesPerObject(proxy!.log, ns)).reduce((a, b) => a + b, 0)
      const checks = new Checks()
        .add('faults were injected', stats.failures > 0, stats)
        .add('every failed request was retried', stats.notRetried.length === 0, stats.notRetried)
        .add('the deploy succeeds', run.code === 0, brief(run))
        .add(
          'every cluster reports unchanged',
          rows(run).length === 3 && rows(run).every((r) => r.result === 'unchanged'),
          brief(run)
        )
        .add(
          'resourceVersions and generation unchanged',
          JSON.stringify(before) === JSON.stringify(after),
          { before, after }
        )
      record({
        section: 'faults',
        name: 'proxy: 20 % faults on an unchanged redeploy',
        target: 'kit deploy (CLI bundle)',
        observed: `${target().name} ${row?.result ?? '?'}; ${stats.failures} of ${stats.requests} requests failed, ${stats.retried} retried; ${noOpApplies} no-op apply sent, no resourceVersion or generation changed${checks.ok ? '' : `; FAILED: ${checks.failed().join('; ')}`}`,
        ok: checks.ok,
        figures: {
          requests: stats.requests,
          failures: stats.failures,
          retried: stats.retried,
          noOpApplies,
          durationMs: row?.durationMs ?? -1
        }
      })
      expect(checks.failed()).toEqual([])
    }, 300_000)

    it('100 % of requests fail: that cluster fails clearly within its timeout, nothing half-applied, the others succeed (action bundle)', async () => {
      const before = versions(await readApp(target(), ns))
      proxy!.setPlan({ ...mix, failureRate: 1, latencyRate: 0, seed: 'kit-faults-all' })
      const v2 = render({ ...spec, version: 'v2', image: image('2.0') })
      const run = await runAction(repoRoot, 'deployer', {
        inputs: {
          manifests: v2,
          kubeconfig: readFileSync(kubeconfig, 'utf8'),
          timeout: '30s',
          'lock-timeout': '30s',
          'fail-fast-grace': '5s',
          inventory
        },
        env: { GITHUB_SHA: undefined },
        timeoutMs: 240_000
      })
      const stats = proxy!.stats()
      const outputRows = JSON.parse(run.outputs['cluster-results'] ?? '[]') as ClusterRow[]
      const row = outputRows.find((r) => r.cluster === target().name)
      const annotation = run.annotations.find(
        (a) => a.level === 'error' && `${a.properties} ${a.message}`.includes(target().name)
      )
      const after = versions(await readApp(target(), ns))
      const lastError = /injected by the fault proxy|ECONNRESET|reset|socket|unreachable/i
      const checks = new Checks()
        .add(
          'the action exits 1 with result failure',
          run.exitCode === 1 && run.outputs.result === 'failure',
          { exit: run.exitCode, result: run.outputs.result, stderr: run.stderr.slice(-800) }
        )
        .add(
          'only the proxied cluster failed',
          run.outputs['failed-clusters'] === JSON.stringify([target().name]),
          run.outputs['failed-clusters']
        )
        .add(
          'the others changed',
          run.outputs['changed-clusters'] === JSON.stringify(['fault-1', 'fault-3']),
          run.outputs['changed-clusters']
        )
        .add(
          'its reason is the last error',
          !!row?.reason && lastError.test(row.reason),
          row?.reason
        )
        .add(
          'an error annotation names the cluster and the error',
          !!annotation && lastError.test(annotation.message),
          run.annotations
        )
        .add(
          'it fails within its 30s timeout',
          (row?.durationMs ?? Infinity) < 30_000,
          row?.durationMs
        )
        .add('nothing reached the API server', stats.forwarded === 0, stats.forwarded)
        .add('nothing on the cluster changed', JSON.stringify(before) === JSON.stringify(after), {
          before,
          after
        })
      record({
        section: 'faults',
        name: 'proxy: 100 % of requests fail on one API server',
        target: 'deployer action (bundle), 3 clusters, 1 proxied',
        observed: `${target().name} ${row?.result ?? '?'} after ${((row?.durationMs ?? 0) / 1000).toFixed(1)}s (${stats.requests} attempts): ${row?.reason ?? '(no row)'}; fault-1, fault-3: ${run.outputs['changed-clusters']}${checks.ok ? '' : `; FAILED: ${checks.failed().join('; ')}`}`,
        ok: checks.ok,
        figures: {
          attempts: stats.requests,
          failedAfterMs: row?.durationMs ?? -1,
          timeoutMs: 30_000
        }
      })
      expect(checks.failed()).toEqual([])
    }, 300_000)

    it('a connection reset on the lock’s create (POST Lease, never processed) is survived', async () => {
      proxy!.setPlan({
        failureRate: 1,
        kinds: ['reset'],
        maxFailures: 1,
        seed: 'lease',
        match: (m, url) => m === 'POST' && url.includes('/leases')
      })
      const v2 = render({ ...spec, version: 'v2', image: image('2.0') }, {}, [target().name])
      const run = await runKit(deployArgs(v2, { inventory, timeout: '60s', kubeconfig }))
      const stats = proxy!.stats()
      const row = run.json ? run.row(target().name) : undefined
      const state = await readApp(target(), ns)
      const checks = new Checks()
        .add(
          'the reset was injected on the Lease create',
          stats.byKind.reset === 1,
          proxy!.log.filter((e) => e.failure)
        )
        .add('the deploy succeeds', run.code === 0 && row?.result === 'changed', brief(run))
        .add('no lock is left behind', state.lease === undefined, state.lease?.spec)
      record({
        section: 'faults',
        name: 'proxy: connection reset on the deploy lock’s create (POST Lease)',
        target: 'kit deploy (CLI bundle)',
        observed: `${target().name} ${row?.result ?? '?'}${row?.reason ? `: ${row.reason}` : ''}; lock left: ${state.lease ? 'yes' : 'no'}${checks.ok ? '' : `; FAILED: ${checks.failed().join('; ')}`}`,
        ok: checks.ok,
        figures: { requests: stats.requests, durationMs: row?.durationMs ?? -1 }
      })
      expect(checks.failed()).toEqual([])
    }, 300_000)

    it('a reply lost after the Deployment’s apply was processed: the retry rewrites nothing', async () => {
      const before = await readApp(target(), ns)
      proxy!.setPlan({
        failureRate: 1,
        kinds: ['response-lost'],
        maxFailures: 1,
        seed: 'lost',
        match: (m, url) =>
          m === 'PATCH' &&
          !url.includes('dryRun=') &&
          url.split('?')[0].endsWith('/deployments/web')
      })
      const v3 = render({ ...spec, version: 'v3', image: image('3.0') }, {}, [target().name])
      const run = await runKit(deployArgs(v3, { inventory, timeout: '60s', kubeconfig }))
      const row = run.json ? run.row(target().name) : undefined
      const after = await readApp(target(), ns)
      const writes = writesPerObject(proxy!.log, ns)
      const deploymentPath = `/apis/apps/v1/namespaces/${ns}/deployments/web`
      const gen0 = before.deployment?.metadata.generation ?? 0
      const checks = new Checks()
        .add(
          'the reply of a processed apply was lost',
          proxy!.log.some((e) => e.failure === 'response-lost' && e.forwarded),
          proxy!.log.filter((e) => e.failure)
        )
        .add('the deploy succeeds', run.code === 0 && row?.result === 'changed', brief(run))
        .add('the apply was sent again (retried)', writes[deploymentPath] === 2, writes)
        .add(
          'the Deployment changed once (generation +1)',
          after.deployment?.metadata.generation === gen0 + 1,
          { before: gen0, after: after.deployment?.metadata.generation }
        )
        .add(
          'one new ReplicaSet, none duplicated',
          after.replicaSets.length === before.replicaSets.length + 1,
          after.replicaSets.map((r) => r.metadata.name)
        )
        .add('v3 rolled out', rolledOut(after, image('3.0')), after.deployment?.status)
      record({
        section: 'faults',
        name: 'proxy: reply lost after a processed apply (connection reset after forwarding)',
        target: 'kit deploy (CLI bundle)',
        observed: `${target().name} ${row?.result ?? '?'}; apply sent ${writes[deploymentPath] ?? 0}x, Deployment generation ${gen0} → ${after.deployment?.metadata.generation ?? '?'}, ReplicaSets ${before.replicaSets.length} → ${after.replicaSets.length}${checks.ok ? '' : `; FAILED: ${checks.failed().join('; ')}`}`,
        ok: checks.ok,
        figures: {
          applies: writes[deploymentPath] ?? 0,
          generationDelta: (after.deployment?.metadata.generation ?? 0) - gen0
        }
      })
      expect(checks.failed()).toEqual([])
    }, 300_000)
  })

  it('3. the shared etcd restarted during the health wait: the deploy rides it out or fails clearly; a rerun converges', async () => {
    await ensureServing()
    const ns = uniqueName('etcd')
    const inventory = 'etcd'
    const spec: AppSpec = { namespace: ns, version: 'v1', image: image('1.0'), minReadySeconds: 8 }
    const dir = render(spec)
    const checks = new Checks()
    const started = Date.now()
    const running = runKit(deployArgs(dir, { inventory, timeout: '90s', lockTimeout: '2m' }))
    // The Deployment is the last object applied: once it exists everywhere, every cluster waits.
    await eventually(
      async () =>
        Promise.all(
          set.clusters.map((c) =>
            getJson(c, `/apis/apps/v1/namespaces/${ns}/deployments/web`).catch(() => undefined)
          )
        ),
      (ds) => ds.every((d) => d !== undefined),
      60_000,
      100
    )
    await new Promise((r) => setTimeout(r, 1000))
    const stopAt = Date.now()
    await stopComponent({ root, component: 'etcd' }, { signal: 'SIGTERM' })
    await new Promise((r) => setTimeout(r, 3000))
    await startComponent({ root, component: 'etcd' })
    for (const c of set.clusters)
      await waitUntilServing({ root, cluster: c.name, component: 'kube-apiserver' }, 240_000)
    const downMs = Date.now() - stopAt
    const during = await running
    const rodeItOut = during.code === 0 && during.json?.result === 'success'
    if (!rodeItOut)
      for (const r of rows(during).filter(
        (x) => x.result !== 'changed' && x.result !== 'unchanged'
      ))
        checks.add(
          `${r.cluster} fails clearly (its reason names the cluster or the object, and the error)`,
          !!r.reason &&
            (r.reason.includes(r.cluster) ||
              /Deployment|ConfigMap|Service|Namespace/.test(r.reason)),
          r
        )
    checks.add('every cluster is reported', rows(during).length === 3, brief(during))

    const rerun = await runKit(deployArgs(dir, { inventory, timeout: '90s', lockTimeout: '2m' }))
    checks.add(
      'the rerun succeeds',
      rerun.code === 0 && rerun.json?.result === 'success',
      brief(rerun)
    )
    for (const c of set.clusters) {
      const s = await eventually(
        () => readApp(c, ns),
        (x) => rolledOut(x, image('1.0')),
        60_000
      )
      checks
        .add(
          `${c.name}: every object present once`,
          s.configMaps.length === configMapNames(spec).length &&
            s.services.length === 1 &&
            s.deployment !== undefined,
          { cms: s.configMaps.length, svcs: s.services.length }
        )
        .add(
          `${c.name}: healthy, one ReplicaSet`,
          rolledOut(s, image('1.0')) && s.replicaSets.length === 1,
          { status: s.deployment?.status, rs: s.replicaSets.length }
        )
        .add(`${c.name}: no lock left`, s.lease === undefined, s.lease?.spec)
    }
    if (rodeItOut)
      checks.add(
        'after riding it out, the rerun changes nothing',
        rows(rerun).every((r) => r.result === 'unchanged'),
        brief(rerun)
      )
    record({
      section: 'faults',
      name: 'shared etcd restarted (SIGTERM, 3 s down) during the health wait',
      target: 'kit deploy (CLI bundle), 3 clusters',
      observed: `${
        rodeItOut
          ? 'rode it out: every cluster changed'
          : `failed: ${rows(during)
              .map((r) => `${r.cluster} ${r.result}${r.reason ? ` (${r.reason})` : ''}`)
              .join('; ')}`
      }; rerun ${rerun.json?.result ?? '?'} (${rows(rerun)
        .map((r) => `${r.cluster} ${r.result}`)
        .join(', ')}), converged${checks.ok ? '' : `; FAILED: ${checks.failed().join('; ')}`}`,
      ok: checks.ok,
      figures: {
        outcome: rodeItOut ? 'rode it out' : 'failed clearly',
        etcdStoppedAfterMs: stopAt - started,
        etcdAndApiServersBackMs: downMs,
        deployMs: during.wallMs,
        rerunMs: rerun.wallMs
      }
    })
    expect(checks.failed()).toEqual([])
  }, 420_000)

  it('4. a cluster that answers but never makes pods Ready: timeout path with the named object and reason, then rollback (action bundle)', async () => {
    await ensureServing()
    const ns = uniqueName('stuck')
    const inventory = 'stuck'
    const spec: AppSpec = { namespace: ns, version: 'v1', image: image('1.0') }
    const checks = new Checks()
    const first = await runKit(deployArgs(render(spec), { inventory, timeout: '90s' }))
    checks.add('baseline v1 deploy succeeds', first.code === 0, brief(first))
    const stuck = cluster('fault-3')
    const v2 = render(
      { ...spec, version: 'v2', image: image('2.0') },
      { [stuck.name]: { image: image('2.0-neverready') } }
    )
    const timeoutS = 30
    const run = await runAction(repoRoot, 'deployer', {
      inputs: {
        manifests: v2,
        kubeconfig: readFileSync(set.kubeconfigPath, 'utf8'),
        timeout: `${timeoutS}s`,
        'fail-fast-grace': '5s',
        'lock-timeout': '30s',
        inventory
      },
      env: { GITHUB_SHA: undefined },
      timeoutMs: 300_000
    })
    const outputRows = JSON.parse(run.outputs['cluster-results'] ?? '[]') as ClusterRow[]
    const row = outputRows.find((r) => r.cluster === stuck.name)
    const failure = row?.failures[0]
    const annotation = run.annotations.find(
      (a) => a.level === 'error' && `${a.properties} ${a.message}`.includes(stuck.name)
    )
    // The wait starts after the apply, so it reports the seconds it waited: up to the timeout.
    const timedOut = /timed out after (\d+)s/
    const waitedS = Number(timedOut.exec(row?.reason ?? '')?.[1] ?? -1)
    checks
      .add('the action exits 1', run.exitCode === 1 && run.outputs.result === 'failure', {
        exit: run.exitCode,
        stderr: run.stderr.slice(-800)
      })
      .add(
        'the stuck cluster is rolled back',
        row?.result === 'rolled-back' &&
          run.outputs['failed-clusters'] === JSON.stringify([stuck.name]),
        row
      )
      .add(
        'the others changed',
        run.outputs['changed-clusters'] === JSON.stringify(['fault-1', 'fault-2']),
        run.outputs['changed-clusters']
      )
      .add(
        'the reason names the Deployment and the timeout',
        !!row?.reason &&
          row.reason.includes(`Deployment/${ns}/web`) &&
          waitedS > timeoutS - 10 &&
          waitedS <= timeoutS &&
          /rolled back/.test(row.reason),
        row?.reason
      )
      .add(
        'the failure entry is the Deployment, reason Timeout',
        failure?.object === `Deployment/${ns}/web` &&
          failure.reason === 'Timeout' &&
          timedOut.test(failure.message),
        failure
      )
      .add(
        'an error annotation names the cluster (title), the Deployment and the timeout',
        !!annotation &&
          annotation.message.includes(`Deployment/${ns}/web`) &&
          /Timeout|timed out/.test(annotation.message),
        run.annotations
      )
      .add(
        'it ends after the timeout, with room only for the rollback',
        (row?.durationMs ?? 0) >= timeoutS * 1000 &&
          (row?.durationMs ?? Infinity) < (2 * timeoutS + 30) * 1000,
        row?.durationMs
      )
    const after = await eventually(
      () => readApp(stuck, ns),
      (s) =>
        rolledOut(s, image('1.0')) &&
        s.replicaSets.every((rs) => (rs.status?.replicas ?? 0) === rs.spec.replicas),
      60_000
    )
    const bad = after.replicaSets.find(
      (rs) => rs.spec.template.spec.containers[0].image === image('2.0-neverready')
    )
    checks
      .add(
        'the stuck cluster runs v1 again, every replica ready',
        rolledOut(after, image('1.0')),
        after.deployment?.status
      )
      .add(
        'the never-ready ReplicaSet is scaled to 0',
        bad !== undefined && bad.spec.replicas === 0,
        after.replicaSets.map(
          (rs) => `${rs.spec.template.spec.containers[0].image} x${rs.spec.replicas}`
        )
      )
      .add('no lock left', after.lease === undefined, after.lease?.spec)
    for (const other of ['fault-1', 'fault-2']) {
      const s = await readApp(cluster(other), ns)
      checks.add(`${other} runs v2, ready`, rolledOut(s, image('2.0')), s.deployment?.status)
    }
    record({
      section: 'faults',
      name: 'pods Running but never Ready (no failure reason anywhere)',
      target: 'deployer action (bundle), 3 clusters, 1 stuck',
      observed: `${stuck.name} ${row?.result ?? '?'} after ${((row?.durationMs ?? 0) / 1000).toFixed(1)}s: ${row?.reason ?? '(no row)'}${checks.ok ? '' : `; FAILED: ${checks.failed().join('; ')}`}`,
      ok: checks.ok,
      figures: { timeoutMs: timeoutS * 1000, endedAfterMs: row?.durationMs ?? -1 }
    })
    expect(checks.failed()).toEqual([])
  }, 420_000)
})
