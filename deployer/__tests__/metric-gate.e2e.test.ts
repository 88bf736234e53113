/**
 * The metric gate end to end: the deployer action, run from its bundle as the runner does, on a
 * real local cluster with `watch` and a gate asking a real Prometheus (through a proxy that
 * requires the bearer token, as a hosted Prometheus does). The exporter Prometheus scrapes
 * follows the cluster: while a pod of the bad version (web:2.0.0) is Ready, 5 % of the requests
 * fail; otherwise none do. So a good release passes, the bad one fails the gate inside its
 * window and is rolled back, and a release whose Prometheus cannot be reached fails clearly and
 * is rolled back too. Skipped without the Prometheus binary, except in CI.
 */
import { afterAll, beforeAll, expect, it, jest } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { createServer, request, type Server } from 'node:http'
import { createServer as createTcpServer } from 'node:net'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { CoreV1Api, KubernetesObjectApi } from '@kubernetes/client-node'
import { testClusters, uniqueName, type TestCluster } from '../../testinfra/jest/clusters.js'
import { describeWithPrometheus } from '../../testinfra/prometheus/describe.js'
import { startExporter, type Exporter } from '../../testinfra/prometheus/exporter.js'
import { startPrometheus, type PrometheusServer } from '../../testinfra/prometheus/server.js'
import {
  deploymentState,
  eventually,
  runBundle,
  writeRender,
  type BundleRun
} from './e2e-helpers.js'

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const token = `prom-token-${uniqueName('t')}`
const badImage = 'registry.example/shop/web:2.0.0'

const errorRatio =
  'sum(rate(http_requests_total{cluster="{cluster}",code="500"}[10s])) / sum(rate(http_requests_total{cluster="{cluster}"}[10s]))'
const gates = `# the release gate\nerrors: ${errorRatio} < 0.01`

jest.setTimeout(300_000)

describeWithPrometheus('the metric gate on a real cluster', (binary) => {
  let cluster: TestCluster
  let kubeconfig: string
  let exporter: Exporter
  let prometheus: PrometheusServer
  let proxy: Server
  let proxyUrl: string
  const asked = { ok: 0, refused: 0 }
  const namespace = uniqueName('metric')
  let follower: ReturnType<typeof setInterval> | undefined
  /** Whether a Ready pod of the bad version serves, at each look. */
  const serving: boolean[] = []

  /** The exporter's traffic for what serves now: 5 % errors while the bad version is Ready. */
  const follow = async () => {
    const pods = await cluster.kubeConfig
      .makeApiClient(CoreV1Api)
      .listNamespacedPod({ namespace, labelSelector: 'app=web' })
      .catch(() => undefined)
    if (!pods) return
    const bad = pods.items.some(
      (p) =>
        p.spec?.containers.some((c) => c.image === badImage) &&
        p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')
    )
    serving.push(bad)
    const labels = (code: string) => ({ cluster: cluster.name, code })
    exporter.setRate('http_requests_total', labels('200'), bad ? 95 : 100)
    exporter.setRate('http_requests_total', labels('500'), bad ? 5 : 0)
  }

  const deploy = (image: string, metricsUrl: string): Promise<BundleRun> => {
    const manifests = writeRender([cluster.name], {
      namespace,
      services: ['web'],
      image: () => image
    })
    return runBundle({
      manifests,
      kubeconfig,
      inventory: namespace,
      timeout: '2m',
      'fail-fast-grace': '3s',
      watch: '15s',
      'metrics-url': metricsUrl,
      'metrics-token': token,
      'metric-gates': gates,
      'metric-interval': '3s'
    })
  }

  /**
   * What the run printed and wrote, but the runner's own masking command: the action hands
   * the token to the runner's log masking (::add-mask::), and nothing else may show it.
   */
  const everywhere = (run: BundleRun) => {
    expect(run.stdout).toContain(`::add-mask::${token}`)
    const printed = run.stdout
      .split('\n')
      .filter((l) => !l.startsWith('::add-mask::'))
      .join('\n')
    return [printed, run.stderr, run.summary, JSON.stringify(run.outputs)].join('\n')
  }

  beforeAll(async () => {
    // The suite runs the action as the runner does, from its bundle: build it from this source.
    execFileSync(process.execPath, [join(repo, 'scripts', 'bundle.mjs')], {
      cwd: repo,
      stdio: 'ignore'
    })
    cluster = testClusters()[0]
    kubeconfig = readFileSync(cluster.kubeconfigPath, 'utf8')
    exporter = await startExporter()
    exporter.counter('http_requests_total', 'Requests served, by cluster and status code.')
    exporter.setRate('http_requests_total', { cluster: cluster.name, code: '200' }, 100)
    exporter.setRate('http_requests_total', { cluster: cluster.name, code: '500' }, 0)
    prometheus = await startPrometheus({ binary, targets: [exporter.target] })
    await prometheus.waitForTargets()
    const target = new URL(prometheus.url)
    proxy = createServer((req, res) => {
      if (req.headers.authorization !== `Bearer ${token}`) {
        asked.refused++
        res.writeHead(401).end('unauthorized')
        return
      }
      if (req.url?.startsWith('/api/v1/query?')) asked.ok++
      request(
        { host: target.hostname, port: target.port, path: req.url, headers: req.headers },
        (r) => {
          res.writeHead(r.statusCode ?? 502, r.headers)
          r.pipe(res)
        }
      ).end()
    })
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve))
    proxyUrl = `http://127.0.0.1:${(proxy.address() as { port: number }).port}`
    follower = setInterval(() => void follow(), 500)
  }, 180_000)

  afterAll(async () => {
    if (follower) clearInterval(follower)
    if (cluster)
      await KubernetesObjectApi.makeApiClient(cluster.kubeConfig)
        .delete({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } })
        .catch(() => undefined)
    await new Promise((r) => (proxy ? proxy.close(r) : r(undefined)))
    await prometheus?.stop()
    await exporter?.close()
  })

  it('passes a good release: the gate holds through the window', async () => {
    const started = Date.now()
    const run = await deploy('registry.example/shop/web:1.0.0', proxyUrl)
    expect({ code: run.code, result: run.outputs.result }).toEqual({ code: 0, result: 'success' })
    expect(JSON.parse(run.outputs['degraded-clusters'])).toEqual([])
    // Asked during the 15 s window every 3 s and once at its end, always with the token.
    expect(asked.ok).toBeGreaterThanOrEqual(4)
    expect(asked.refused).toBe(0)
    expect(Date.now() - started).toBeGreaterThanOrEqual(15_000)
    expect(await deploymentState(cluster.kubeConfig, namespace, 'web')).toMatchObject({
      image: 'registry.example/shop/web:1.0.0'
    })
    expect(everywhere(run)).not.toContain(token)
  })

  it('fails a release that answers 5 % errors in its window, and rolls it back', async () => {
    const before = asked.ok
    const run = await deploy(badImage, proxyUrl)
    expect(run.code).toBe(1)
    expect(run.outputs.result).toBe('failure')
    expect(JSON.parse(run.outputs['failed-clusters'])).toEqual([cluster.name])
    expect(JSON.parse(run.outputs['degraded-clusters'])).toEqual([cluster.name])
    // The bad version did serve (and the exporter followed it), and the gate was asked.
    expect(serving).toContain(true)
    expect(asked.ok).toBeGreaterThan(before)
    const query = errorRatio.replaceAll('{cluster}', cluster.name)
    // As the summary renders (markdown escapes undone): the gate, its value against the
    // condition, and its query for this cluster. The ratio is between 1 % and 5 %: the 10 s
    // rate window was still filling with the bad version's errors when the gate failed it.
    const rendered = run.summary.replace(/\\(.)/g, '$1').replaceAll('&lt;', '<')
    const verdict = /metric gate errors\*\*: .*?([\d.]+), not < 0\.01 — query (.*)$/m.exec(rendered)
    expect(verdict?.[2]).toBe(query)
    expect(Number(verdict?.[1])).toBeGreaterThan(0.01)
    expect(Number(verdict?.[1])).toBeLessThanOrEqual(0.0501)
    const text = `${run.summary}\n${run.stdout}`
    expect(text).toMatch(/degraded \d+ s after healthy/)
    // The table's one-line reason names the gate, its value and the condition.
    expect(rendered).toMatch(
      /\| degraded \d+ s after healthy: metric gate errors: [\d.]+, not < 0\.01 \|/
    )
    // Rolled back: the good version runs again, all of it ready.
    const state = await eventually(
      () => deploymentState(cluster.kubeConfig, namespace, 'web'),
      (d) => d?.image === 'registry.example/shop/web:1.0.0' && d.ready === d.replicas
    )
    expect(state).toMatchObject({ image: 'registry.example/shop/web:1.0.0', ready: 2 })
    expect(everywhere(run)).not.toContain(token)
  })

  it('fails clearly when Prometheus cannot be reached, and rolls the release back', async () => {
    const closed = createTcpServer()
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve))
    const port = (closed.address() as { port: number }).port
    await new Promise((r) => closed.close(r))
    const run = await deploy('registry.example/shop/web:1.1.0', `http://127.0.0.1:${port}`)
    expect(run.code).toBe(1)
    expect(JSON.parse(run.outputs['degraded-clusters'])).toEqual([cluster.name])
    expect(`${run.summary}\n${run.stdout}`).toContain(
      `cannot reach http://127.0.0.1:${port}/api/v1/query: connection refused (ECONNREFUSED)`
    )
    const state = await eventually(
      () => deploymentState(cluster.kubeConfig, namespace, 'web'),
      (d) => d?.image === 'registry.example/shop/web:1.0.0' && d.ready === d.replicas
    )
    expect(state?.image).toBe('registry.example/shop/web:1.0.0')
    expect(everywhere(run)).not.toContain(token)
  })
})
