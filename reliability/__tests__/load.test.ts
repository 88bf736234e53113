/**
 * Load: kit at fleet size, measured and checked for correctness.
 *
 * 1. Ten real local clusters (a set of this suite's own, ports 21000+) each get a Namespace and
 *    300 objects (ConfigMaps, Secrets, Services, Deployments, StatefulSets, Jobs) in one
 *    `kit deploy` with the health wait, then the same again unchanged. Done at 1, 3 and 10
 *    clusters so the records show how time and the deployer's peak memory grow with clusters.
 * 2. A manifests repository of 50 services rendered for 10, 25 and 50 clusters with `kit render`
 *    and with the deploymentizer action's bundle, twice each: complete and byte-identical.
 *
 * Time is recorded, never asserted (speed claims belong to bench/). What is asserted is
 * correctness (healthy, complete, nothing written when nothing changed, deterministic output)
 * and memory bounds generous enough to pass on any machine yet low enough to catch a leak.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { record } from '../record.js'
import { writeDeployManifests } from '../load/deploy-manifests.js'
import { kitCli, kitDeploy, repoRoot, tail, type DeployRun } from '../load/kit-cli.js'
import { requestCounts, requestDelta, type RequestCounts } from '../load/api-requests.js'
import { missing, snapshot, unhealthy, writesBetween, type Snapshot } from '../load/live-objects.js'
import { measured, round, runNode, type Measured } from '../load/measure.js'
import {
  generateRenderRepo,
  renderProblems,
  secretEnvName,
  treeDigest,
  type ExpectedRender
} from '../load/render-repo.js'
import {
  downClusters,
  ensureBinaries,
  upClusters,
  type ClusterSet,
  type LocalCluster
} from '../../testinfra/clusters/local-clusters.js'
import { runAction } from '../../testinfra/runner/run-action.js'

const clusterCount = 10
const objectsPerCluster = 300
const deploySizes = [1, 3, clusterCount]
const renderServices = 50
const renderSizes = [10, 25, 50]
const basePort = 21000
/** Fixed, so a run that died without its afterAll is found (and stopped) by the next one. */
const clusterRoot = join(tmpdir(), 'kit-load-clusters')

/**
 * Peak RSS cap for the deployer at 10 clusters × 300 objects (3,000 objects). What it must hold:
 * Node and the CLI bundle, every manifest parsed (3,000 objects of ~1 KiB), the live copies it
 * compares with, and per cluster a client and the poll results of the health wait: a deploy to
 * one cluster peaks around 130 MiB and each further cluster adds about 10 MiB on the machines
 * this was written on. 1 GiB is several times that, so an honest run never reaches it, while a
 * leak that keeps every response or poll result of a multi-minute wait does.
 */
const deployRssCapMiB = 1024
/**
 * Growth bound: memory per extra cluster between 1 and 10 clusters. One cluster's share is its
 * 300 manifests, their live copies and a client: about 10 MiB. 40 MiB per cluster would mean
 * ~130 KiB kept per object, i.e. retained responses, not working data.
 */
const deployMiBPerClusterCap = 40
/**
 * Peak RSS cap for a render of 50 services × 50 clusters (7,750 files, ~4 MB of output). The
 * renderer streams one cluster at a time (docs/manifests-format.md); even one that kept every
 * cluster's parsed output would need well under 256 MiB on top of Node's ~60 MiB. 512 MiB
 * passes any honest run and catches a render that keeps copies per cluster and service.
 */
const renderRssCapMiB = 512

/**
 * Per-cluster apply + wait limit. The local control planes share two cores with everything else
 * on the machine; when it is oversubscribed their controllers take minutes to roll out what
 * takes seconds on an idle one. A rollout that never converges still fails (the engine's own
 * no-progress and fail-fast rules fire well before this), so a generous limit only keeps a slow
 * machine from passing for a product failure.
 */
const deployTimeout = '20m'
/** Jest's limit for one deploy case (two deploys of up to deployTimeout each, plus reads). */
const deployCaseMs = 50 * 60_000

/**
 * Render memory growth bound: peak RSS at 5× the clusters below twice the peak at the smallest
 * size. The renderer writes one cluster at a time (docs/manifests-format.md: memory does not
 * grow with the number of clusters), so Node's baseline and the loaded repository, the same at
 * every size, dominate. Doubling from ~130 MiB would mean ~20 KiB kept for every extra rendered
 * file (6,200 more at 50 clusters than at 10): output retained, not streamed.
 */
const renderGrowthCap = 2
/** Jest's limit for one render case (four renders of up to 2,500 services on a busy machine). */
const renderCaseMs = 20 * 60_000

const log = (line: string): void => void process.stderr.write(`[load] ${line}\n`)
const runId = randomBytes(3).toString('hex')
let work = ''
let set: ClusterSet | undefined
let kubectl = ''

beforeAll(async () => {
  for (const bundle of [kitCli, join(repoRoot, 'deploymentizer', 'dist', 'index.js')])
    if (!existsSync(bundle)) throw new Error(`${bundle} is missing: run node scripts/bundle.mjs`)
  work = mkdtempSync(join(tmpdir(), 'kit-load-'))
  kubectl = join(ensureBinaries(log), 'kubectl')
}, 600_000)

afterAll(async () => {
  // Also after a failed start: downClusters stops whatever the state file still lists (only
  // this suite's processes) and is a no-op when nothing is recorded.
  await downClusters({ root: clusterRoot, log })
  if (work) rmSync(work, { recursive: true, force: true })
}, 120_000)

describe(`deploy: ${clusterCount} local clusters × ${objectsPerCluster} objects`, () => {
  type Measure = Pick<Measured, 'seconds' | 'cpuSeconds' | 'peakRssMiB'>
  const measures = new Map<number, { first: Measure; unchanged: Measure }>()

  beforeAll(async () => {
    const started = Date.now()
    // Ten control planes starting at once on a shared 2-core machine can starve etcd long enough
    // for a controller-manager to give up on its first health check; upClusters stops what it
    // started when that happens, so starting again is safe. Two attempts, then the error stands.
    for (let attempt = 1; !set; attempt++) {
      try {
        set = await upClusters({
          names: Array.from({ length: clusterCount }, (_, i) => `load-${i + 1}`),
          root: clusterRoot,
          basePort,
          // One fake node holds 1,000 pods; fewer kwok heartbeats on a busy machine.
          nodes: 1,
          log
        })
      } catch (e) {
        if (attempt >= 2) throw e
        log(`cluster start failed, trying once more: ${String(e).split('\n')[0]}`)
      }
    }
    log(`${clusterCount} clusters up in ${((Date.now() - started) / 1000).toFixed(0)} s`)
    // Warm-up: a small deploy (12 objects) to every cluster creates kit's own bookkeeping
    // (kit-system, the lock, the ApplySet parent) and warms the disk cache, so the measured runs
    // compare like with like (a 1-cluster run must not carry first-use costs the others do not).
    const dir = join(work, 'warm-up')
    writeDeployManifests(
      dir,
      set.clusters.map((c) => c.name),
      `load-warm-${runId}`,
      12
    )
    const warm = await kitDeploy(dir, set.kubeconfigPath, {
      concurrency: clusterCount,
      timeout: deployTimeout
    })
    if (warm.code !== 0)
      throw new Error(`warm-up deploy failed (exit ${warm.code}):\n${warm.stdout}\n${tail(warm)}`)
  }, deployCaseMs)

  // The render cases below need no clusters: give their memory and CPU back first.
  afterAll(async () => {
    await downClusters({ root: clusterRoot, log })
  }, 120_000)

  /** cluster → result (the CLI sorts its rows by name, load-10 before load-2). */
  const results = (run: DeployRun): Record<string, string> =>
    Object.fromEntries((run.outputs?.['cluster-results'] ?? []).map((r) => [r.cluster, r.result]))
  const all = (clusters: readonly LocalCluster[], result: string): Record<string, string> =>
    Object.fromEntries(clusters.map((c) => [c.name, result]))
  /** "exit 1: 9 changed, 1 rolled-back; load-9 rolled-back (reason)": the odd rows spelled out. */
  const outcome = (run: DeployRun, expected: string): string => {
    if (!run.outputs) return `exit ${run.code}, no JSON output: ${tail(run, 3)}`
    const tally = new Map<string, number>()
    for (const r of run.outputs['cluster-results'])
      tally.set(r.result, (tally.get(r.result) ?? 0) + 1)
    return [
      `exit ${run.code}: ${[...tally].map(([k, v]) => `${v} ${k}`).join(', ')}`,
      ...run.outputs['cluster-results']
        .filter((r) => r.result !== expected)
        .map((r) => `${r.cluster} ${r.result}${r.reason ? ` (${r.reason})` : ''}`)
    ].join('; ')
  }
  const counts = (clusters: readonly LocalCluster[]): Promise<RequestCounts[]> =>
    Promise.all(clusters.map((c) => requestCounts(kubectl, c.kubeconfigPath)))
  /** Requests per cluster of one deploy, for the record. */
  const perCluster = (d: RequestCounts, n: number): Record<string, number> => ({
    readsPerCluster: Math.round(d.reads / n),
    dryRunAppliesPerCluster: Math.round(d.dryRunApplies / n),
    appliesPerCluster: Math.round(d.applies / n)
  })

  test.each(deploySizes)(
    '%i cluster(s): one deploy with the health wait, then an unchanged deploy that writes nothing',
    async (n) => {
      const clusters = set!.clusters.slice(0, n)
      const namespace = `load-${n}c-${runId}`
      const dir = join(work, `deploy-${n}`)
      const expected = writeDeployManifests(
        dir,
        clusters.map((c) => c.name),
        namespace,
        objectsPerCluster
      )
      const options = { concurrency: clusterCount, timeout: deployTimeout }
      const label = `${n} cluster${n === 1 ? '' : 's'} × ${objectsPerCluster} objects`

      // --- the first deploy: everything created and healthy --------------------------------
      const requests0 = await counts(clusters)
      const first = await kitDeploy(dir, set!.kubeconfigPath, options)
      const firstRequests = requestDelta(requests0, await counts(clusters))
      const live: Snapshot[] = await Promise.all(
        clusters.map((c) => snapshot(kubectl, c.kubeconfigPath, namespace))
      )
      const absent = live.flatMap((l, i) =>
        missing(expected, l).map((k) => `${clusters[i].name}:${k}`)
      )
      const sick = live.flatMap((l, i) => unhealthy(l).map((k) => `${clusters[i].name}:${k}`))
      const rows = first.outputs?.['cluster-results'] ?? []
      const allChanged = rows.length === n && rows.every((r) => r.result === 'changed')
      const healthy =
        first.code === 0 &&
        first.outputs?.result === 'success' &&
        allChanged &&
        absent.length === 0 &&
        sick.length === 0
      const present = live.reduce((sum, l) => sum + l.size, 0)
      const withinCap = first.peakRssMiB < deployRssCapMiB
      record({
        section: 'load',
        name: `${label}: first deploy with health wait`,
        target: 'kit deploy (CLI bundle)',
        observed: healthy
          ? `${label}: all healthy, ${present} of ${n * expected.length} objects present, every cluster changed`
          : `${outcome(first, 'changed')}; missing ${absent.length} (${absent.slice(0, 3).join(', ')}), unhealthy ${sick.length} (${sick.slice(0, 3).join(', ')})`,
        ok: healthy && withinCap,
        figures: {
          clusters: n,
          objects: n * objectsPerCluster,
          seconds: round.seconds(first.seconds),
          cpuSeconds: round.seconds(first.cpuSeconds),
          peakRssMiB: round.mib(first.peakRssMiB),
          ...perCluster(firstRequests, n)
        }
      })
      expect({ code: first.code, result: first.outputs?.result, rows: results(first) }).toEqual({
        code: 0,
        result: 'success',
        rows: all(clusters, 'changed')
      })
      expect(absent).toEqual([])
      expect(sick).toEqual([])
      expect(first.peakRssMiB).toBeLessThan(deployRssCapMiB)

      // --- the same manifests again: nothing written, reported unchanged --------------------
      const requests1 = await counts(clusters)
      const second = await kitDeploy(dir, set!.kubeconfigPath, options)
      const secondRequests = requestDelta(requests1, await counts(clusters))
      const after: Snapshot[] = await Promise.all(
        clusters.map((c) => snapshot(kubectl, c.kubeconfigPath, namespace))
      )
      const checks = live.map((before, i) => writesBetween(before, after[i]))
      const written = checks.flatMap((c, i) => c.written.map((k) => `${clusters[i].name}:${k}`))
      const vanished = checks.flatMap((c, i) => c.vanished.map((k) => `${clusters[i].name}:${k}`))
      const compared = checks.reduce((sum, c) => sum + c.compared, 0)
      const versionChanges = checks.reduce((sum, c) => sum + c.versionChanges, 0)
      const secondRows = second.outputs?.['cluster-results'] ?? []
      const reportedUnchanged =
        secondRows.length === n &&
        secondRows.every((r) => r.result === 'unchanged' && r.objectsChanged === 0)
      const unchanged =
        second.code === 0 && reportedUnchanged && written.length === 0 && vanished.length === 0
      record({
        section: 'load',
        name: `${label}: unchanged redeploy`,
        target: 'kit deploy (CLI bundle)',
        observed: unchanged
          ? `${label}: every cluster reported unchanged, 0 of ${compared} live objects written (resourceVersions compared)`
          : `${outcome(second, 'unchanged')}; written ${written.length} (${written.slice(0, 3).join(', ')}), vanished ${vanished.length}`,
        ok: unchanged && second.peakRssMiB < deployRssCapMiB,
        figures: {
          clusters: n,
          objects: n * objectsPerCluster,
          seconds: round.seconds(second.seconds),
          cpuSeconds: round.seconds(second.cpuSeconds),
          peakRssMiB: round.mib(second.peakRssMiB),
          writes: written.length,
          statusOnlyChanges: versionChanges - written.length,
          ...perCluster(secondRequests, n)
        }
      })
      expect({ code: second.code, rows: results(second) }).toEqual({
        code: 0,
        rows: all(clusters, 'unchanged')
      })
      expect(secondRows.map((r) => r.objectsChanged)).toEqual(clusters.map(() => 0))
      expect(written).toEqual([])
      expect(vanished).toEqual([])
      expect(compared).toBe(n * expected.length)
      expect(second.peakRssMiB).toBeLessThan(deployRssCapMiB)
      const keep = (m: Measure): Measure => ({
        seconds: m.seconds,
        cpuSeconds: m.cpuSeconds,
        peakRssMiB: m.peakRssMiB
      })
      measures.set(n, { first: keep(first), unchanged: keep(second) })
    },
    deployCaseMs
  )

  test(`growth: time and memory from ${deploySizes.join(' → ')} clusters`, () => {
    const [small, , large] = deploySizes
    const a = measures.get(small)
    const b = measures.get(large)
    const sizes = deploySizes.filter((n) => measures.has(n))
    const ratio = (f: (m: { first: Measure; unchanged: Measure }) => number, n: number): number =>
      round.ratio(f(measures.get(n)!) / f(a!))
    const perCluster = a && b ? (b.first.peakRssMiB - a.first.peakRssMiB) / (large - small) : NaN
    const ok = sizes.length === deploySizes.length && perCluster < deployMiBPerClusterCap
    const figures: Record<string, number | string> = {}
    if (a)
      for (const n of sizes.slice(1)) {
        figures[`deploy time ${n}:${small}`] = ratio((m) => m.first.seconds, n)
        figures[`deploy CPU ${n}:${small}`] = ratio((m) => m.first.cpuSeconds, n)
        figures[`unchanged time ${n}:${small}`] = ratio((m) => m.unchanged.seconds, n)
        figures[`unchanged CPU ${n}:${small}`] = ratio((m) => m.unchanged.cpuSeconds, n)
        figures[`peak RSS ${n}:${small}`] = ratio((m) => m.first.peakRssMiB, n)
      }
    if (a && b) figures['MiB per extra cluster'] = round.ratio(perCluster)
    record({
      section: 'load',
      name: `deploy growth, ${deploySizes.join(' → ')} clusters × ${objectsPerCluster} objects`,
      target: 'kit deploy (CLI bundle)',
      observed:
        a && b
          ? `${large / small}× the clusters: deploy time ×${ratio((m) => m.first.seconds, large)} (CPU ×${ratio((m) => m.first.cpuSeconds, large)}), unchanged time ×${ratio((m) => m.unchanged.seconds, large)} (CPU ×${ratio((m) => m.unchanged.cpuSeconds, large)}), peak RSS ×${ratio((m) => m.first.peakRssMiB, large)} (${round.mib(a.first.peakRssMiB)} → ${round.mib(b.first.peakRssMiB)} MiB, ${round.ratio(perCluster)} MiB per extra cluster)`
          : `measured only at ${sizes.join(', ') || 'no'} cluster count(s): an earlier case failed`,
      ok,
      figures
    })
    expect(sizes).toEqual(deploySizes)
    expect(perCluster).toBeLessThan(deployMiBPerClusterCap)
  })
})

describe(`render: ${renderServices} services × ${renderSizes.join(' / ')} clusters`, () => {
  type Measure = Pick<Measured, 'seconds' | 'cpuSeconds' | 'peakRssMiB'>
  interface RenderMeasure {
    cli: Measure
    action: Measure
  }
  const measures = new Map<number, RenderMeasure>()
  // A value the Secrets read from the environment, as a GitHub secret would be passed.
  const secretEnv = { [secretEnvName]: `load-${randomBytes(8).toString('hex')}` }

  test.each(renderSizes)(
    '%i clusters: kit render and the deploymentizer action, twice each, complete and byte-identical',
    async (n) => {
      const base = join(work, `render-${n}`)
      mkdirSync(base, { recursive: true })
      const expected: ExpectedRender = generateRenderRepo(join(base, 'repo'), renderServices, n)
      const files = n * expected.filesPerCluster
      const label = `${n} clusters × ${renderServices} services`

      // --- kit render (CLI bundle), twice into the same folder ------------------------------
      const cliOut = join(base, 'out-cli')
      const cliRender = () =>
        runNode([kitCli, 'render', join(base, 'repo'), '--output', cliOut, '--json'], {
          env: secretEnv
        })
      const cli1 = await cliRender()
      const cliProblems = cli1.code === 0 ? renderProblems(cliOut, expected) : []
      const cliDigest1 = cli1.code === 0 ? treeDigest(cliOut) : undefined
      const cli2 = await cliRender()
      const cliDigest2 = cli2.code === 0 ? treeDigest(cliOut) : undefined
      const cliCounts =
        cli1.code === 0 ? (JSON.parse(cli1.stdout) as { rendered: { files: number } }) : undefined

      // --- the deploymentizer action from its bundle, twice into fresh folders --------------
      const action = (output: string) =>
        measured((probeEnv) =>
          runAction(repoRoot, 'deploymentizer', {
            inputs: { path: 'repo', output },
            cwd: base,
            env: { ...secretEnv, ...probeEnv }
          })
        )
      const act1 = await action('out-action-1')
      const act2 = await action('out-action-2')
      const actProblems = renderProblems(join(base, 'out-action-1'), expected)
      const actDigest1 =
        act1.result.exitCode === 0 ? treeDigest(join(base, 'out-action-1')) : undefined
      const actDigest2 =
        act2.result.exitCode === 0 ? treeDigest(join(base, 'out-action-2')) : undefined
      const actRendered = act1.result.outputs.rendered
        ? (JSON.parse(act1.result.outputs.rendered) as { files: number; clusters: number })
        : undefined

      const cliOk =
        cli1.code === 0 &&
        cli2.code === 0 &&
        cliProblems.length === 0 &&
        cliDigest1?.files === files + 1 &&
        cliDigest1.digest === cliDigest2?.digest &&
        cliCounts?.rendered.files === files
      const cliPeak = Math.max(cli1.peakRssMiB, cli2.peakRssMiB)
      record({
        section: 'load',
        name: `kit render, ${label}`,
        target: 'kit render (CLI bundle)',
        observed: cliOk
          ? `${files} files and the index, complete; second run byte-identical (sha256 ${cliDigest1?.digest.slice(0, 12)})`
          : `exit ${cli1.code}/${cli2.code}; ${cliProblems.slice(0, 3).join('; ') || `files ${cliDigest1?.files}, identical ${cliDigest1?.digest === cliDigest2?.digest}`}; ${tail(cli1, 2)}`,
        ok: cliOk && cliPeak < renderRssCapMiB,
        figures: {
          clusters: n,
          services: renderServices,
          files,
          seconds: round.seconds(cli1.seconds),
          cpuSeconds: round.seconds(cli1.cpuSeconds),
          peakRssMiB: round.mib(cliPeak)
        }
      })
      const actOk =
        act1.result.exitCode === 0 &&
        act2.result.exitCode === 0 &&
        actProblems.length === 0 &&
        actDigest1?.files === files + 1 &&
        actDigest1.digest === actDigest2?.digest &&
        actRendered?.files === files &&
        actRendered.clusters === n
      const sameAsCli = actDigest1 !== undefined && actDigest1.digest === cliDigest1?.digest
      const actPeak = Math.max(act1.peakRssMiB, act2.peakRssMiB)
      record({
        section: 'load',
        name: `deploymentizer action, ${label}`,
        target: 'deploymentizer (action bundle)',
        observed: actOk
          ? `${files} files and the index, complete; second run byte-identical${sameAsCli ? ' and identical to kit render' : ', but differs from kit render'}`
          : `exit ${act1.result.exitCode}/${act2.result.exitCode}; ${actProblems.slice(0, 3).join('; ') || `files ${actDigest1?.files}, identical ${actDigest1?.digest === actDigest2?.digest}`}; ${act1.result.stderr.trim().split('\n').slice(-2).join(' ')}`,
        ok: actOk && sameAsCli && actPeak < renderRssCapMiB,
        figures: {
          clusters: n,
          services: renderServices,
          files,
          seconds: round.seconds(act1.seconds),
          cpuSeconds: round.seconds(act1.cpuSeconds),
          peakRssMiB: round.mib(actPeak)
        }
      })

      expect({
        cli: [cli1.code, cli2.code],
        action: [act1.result.exitCode, act2.result.exitCode]
      }).toEqual({
        cli: [0, 0],
        action: [0, 0]
      })
      expect(cliProblems).toEqual([])
      expect(actProblems).toEqual([])
      expect(cliDigest1?.files).toBe(files + 1)
      expect(cliCounts?.rendered.files).toBe(files)
      expect(actRendered).toMatchObject({ files, clusters: n })
      expect(cliDigest2?.digest).toBe(cliDigest1?.digest)
      expect(actDigest2?.digest).toBe(actDigest1?.digest)
      expect(actDigest1?.digest).toBe(cliDigest1?.digest)
      expect(cliPeak).toBeLessThan(renderRssCapMiB)
      expect(actPeak).toBeLessThan(renderRssCapMiB)
      measures.set(n, {
        cli: { seconds: cli1.seconds, cpuSeconds: cli1.cpuSeconds, peakRssMiB: cliPeak },
        action: { seconds: act1.seconds, cpuSeconds: act1.cpuSeconds, peakRssMiB: actPeak }
      })
      rmSync(base, { recursive: true, force: true })
    },
    renderCaseMs
  )

  test(`growth: time and memory from ${renderSizes.join(' → ')} clusters`, () => {
    const sizes = renderSizes.filter((n) => measures.has(n))
    const a = measures.get(renderSizes[0])
    const figures: Record<string, number | string> = {}
    if (a)
      for (const n of sizes.slice(1)) {
        const m = measures.get(n)!
        figures[`render time ${n}:${renderSizes[0]}`] = round.ratio(m.cli.seconds / a.cli.seconds)
        figures[`render CPU ${n}:${renderSizes[0]}`] = round.ratio(
          m.cli.cpuSeconds / a.cli.cpuSeconds
        )
        figures[`render peak RSS ${n}:${renderSizes[0]}`] = round.ratio(
          m.cli.peakRssMiB / a.cli.peakRssMiB
        )
        figures[`action time ${n}:${renderSizes[0]}`] = round.ratio(
          m.action.seconds / a.action.seconds
        )
        figures[`action CPU ${n}:${renderSizes[0]}`] = round.ratio(
          m.action.cpuSeconds / a.action.cpuSeconds
        )
        figures[`action peak RSS ${n}:${renderSizes[0]}`] = round.ratio(
          m.action.peakRssMiB / a.action.peakRssMiB
        )
      }
    const last = measures.get(renderSizes[renderSizes.length - 1])
    const growth = {
      cli: a && last ? last.cli.peakRssMiB / a.cli.peakRssMiB : Number.NaN,
      action: a && last ? last.action.peakRssMiB / a.action.peakRssMiB : Number.NaN
    }
    const first = renderSizes[0]
    const lastN = renderSizes[renderSizes.length - 1]
    record({
      section: 'load',
      name: `render growth, ${renderSizes.join(' → ')} clusters × ${renderServices} services`,
      target: 'kit render and the deploymentizer action',
      observed:
        a && last
          ? `${lastN / first}× the clusters: kit render time ×${round.ratio(last.cli.seconds / a.cli.seconds)} (CPU ×${round.ratio(last.cli.cpuSeconds / a.cli.cpuSeconds)}), peak RSS ×${round.ratio(last.cli.peakRssMiB / a.cli.peakRssMiB)} (${round.mib(a.cli.peakRssMiB)} → ${round.mib(last.cli.peakRssMiB)} MiB); action time ×${round.ratio(last.action.seconds / a.action.seconds)} (CPU ×${round.ratio(last.action.cpuSeconds / a.action.cpuSeconds)}), peak RSS ×${round.ratio(last.action.peakRssMiB / a.action.peakRssMiB)}`
          : `measured only at ${sizes.join(', ') || 'no'} cluster count(s): an earlier case failed`,
      ok:
        sizes.length === renderSizes.length &&
        growth.cli < renderGrowthCap &&
        growth.action < renderGrowthCap,
      figures
    })
    expect(sizes).toEqual(renderSizes)
    expect(growth.cli).toBeLessThan(renderGrowthCap)
    expect(growth.action).toBeLessThan(renderGrowthCap)
  })
})
