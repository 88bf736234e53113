/**
 * What the fault-injection cases share: a small render per cluster on disk, `kit deploy` run
 * from its bundle as a user runs it, direct reads of the real clusters (raw HTTPS with the
 * cluster's own token and CA, independent of kit's client), and a list of named checks that
 * becomes one record and one precise assertion.
 */
import { spawn } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parse, stringify } from 'yaml'
import { apiRequest, type LocalCluster } from '../../testinfra/clusters/local-clusters.js'

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..')

/** What one cluster gets: a namespace, config maps, a Service and one Deployment. */
export interface AppSpec {
  readonly namespace: string
  /** Written into every ConfigMap (data.version): a new version changes each of them. */
  readonly version: string
  readonly image: string
  readonly replicas?: number
  /** Keeps a rollout busy for this long after its pods are Ready (a window to strike in). */
  readonly minReadySeconds?: number
  /** ConfigMaps besides app-config (default 4). */
  readonly extraConfigMaps?: number
}

/** Label on every object of the app, for counting what is there. */
export const appLabel = 'kit.dev/fault-case'

/** The names of the ConfigMaps an AppSpec renders. */
export function configMapNames(spec: AppSpec): string[] {
  return [
    'app-config',
    ...Array.from({ length: spec.extraConfigMaps ?? 4 }, (_, i) => `extra-${i + 1}`)
  ]
}

/** Objects per cluster an AppSpec renders. */
export function objectCount(spec: AppSpec): number {
  return 1 + configMapNames(spec).length + 2
}

/** Writes `<dir>/<cluster>/app.yaml` for every cluster (the deployer's input layout). */
export function writeApp(dir: string, specs: Readonly<Record<string, AppSpec>>): string {
  for (const [cluster, spec] of Object.entries(specs)) {
    const ns = spec.namespace
    const labels = { [appLabel]: ns }
    const docs: unknown[] = [
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, labels } },
      ...configMapNames(spec).map((name) => ({
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name, namespace: ns, labels },
        data: { version: spec.version, cluster }
      })),
      {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'web', namespace: ns, labels },
        spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] }
      },
      {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'web', namespace: ns, labels },
        spec: {
          replicas: spec.replicas ?? 2,
          minReadySeconds: spec.minReadySeconds ?? 0,
          selector: { matchLabels: { app: 'web' } },
          strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
          template: {
            metadata: { labels: { app: 'web' } },
            spec: {
              containers: [{ name: 'web', image: spec.image, ports: [{ containerPort: 8080 }] }]
            }
          }
        }
      }
    ]
    mkdirSync(join(dir, cluster), { recursive: true })
    writeFileSync(join(dir, cluster, 'app.yaml'), docs.map((d) => stringify(d)).join('---\n'))
  }
  return dir
}

/** One cluster row of `kit deploy --json`. */
export interface ClusterRow {
  readonly cluster: string
  readonly result: 'changed' | 'unchanged' | 'failed' | 'rolled-back' | 'skipped'
  readonly objectsChanged: number
  readonly durationMs: number
  readonly reason?: string
  readonly counts: Record<string, number>
  readonly failures: { object: string; reason: string; message: string; pod?: string }[]
}

/** What `kit deploy --json` prints: the deployer's outputs (shared/src/outputs/table.ts). */
export interface KitJson {
  readonly result: 'success' | 'failure'
  readonly changed: boolean
  readonly clusters: string[]
  readonly 'changed-clusters': string[]
  readonly 'failed-clusters': string[]
  readonly 'skipped-clusters': string[]
  readonly 'cluster-results': ClusterRow[]
}

export interface KitRun {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
  readonly json?: KitJson
  readonly wallMs: number
  row(cluster: string): ClusterRow
}

/**
 * Runs `node cli/dist/kit.js <args>` (the bundle users run) and parses `--json` output. The
 * returned promise settles when the process exits; `started` is called once it runs.
 */
export function runKit(
  args: readonly string[],
  options: { env?: Record<string, string>; timeoutMs?: number } = {}
): Promise<KitRun> {
  const started = Date.now()
  const child = spawn(process.execPath, [join(repoRoot, 'cli', 'dist', 'kit.js'), ...args], {
    cwd: repoRoot,
    env: { ...process.env, NO_COLOR: '1', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d))
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 300_000)
  return new Promise((resolve) => {
    child.on('close', (code) => {
      clearTimeout(timer)
      let json: KitJson | undefined
      try {
        json = JSON.parse(stdout) as KitJson
      } catch {
        json = undefined
      }
      resolve({
        code: code ?? 1,
        stdout,
        stderr,
        json,
        wallMs: Date.now() - started,
        row(cluster) {
          const r = json?.['cluster-results'].find((c) => c.cluster === cluster)
          if (!r)
            throw new Error(
              `kit deploy reported no row for ${cluster} (exit ${code}):\n${stdout.slice(0, 2000)}\n${stderr.slice(-3000)}`
            )
          return r
        }
      })
    })
  })
}

/** A kubeconfig (YAML text) with one cluster's server replaced, e.g. by a proxy's URL. */
export function withServer(kubeconfig: string, cluster: string, server: string): string {
  const doc = parse(kubeconfig) as { clusters: { name: string; cluster: { server: string } }[] }
  const entry = doc.clusters.find((c) => c.name === cluster)
  if (!entry) throw new Error(`no cluster ${cluster} in the kubeconfig`)
  entry.cluster.server = server
  return stringify(doc)
}

/** GET a path on a real cluster (undefined on 404; throws on anything else but 200). */
export async function getJson<T = Record<string, unknown>>(
  c: LocalCluster,
  path: string
): Promise<T | undefined> {
  const res = await apiRequest(c, 'GET', path)
  if (res.status === 404) return undefined
  if (res.status !== 200)
    throw new Error(`GET ${path} on ${c.name}: HTTP ${res.status} ${res.body.slice(0, 200)}`)
  return JSON.parse(res.body) as T
}

export interface ObjectMeta {
  name: string
  namespace?: string
  resourceVersion: string
  generation?: number
  uid: string
  labels?: Record<string, string>
  ownerReferences?: { name: string }[]
  annotations?: Record<string, string>
}

export interface DeploymentView {
  metadata: ObjectMeta
  spec: {
    replicas: number
    template: { spec: { containers: { image: string }[] } }
  }
  status?: {
    observedGeneration?: number
    replicas?: number
    updatedReplicas?: number
    readyReplicas?: number
    availableReplicas?: number
  }
}

export interface ReplicaSetView {
  metadata: ObjectMeta
  spec: { replicas: number; template: { spec: { containers: { image: string }[] } } }
  status?: { replicas?: number; readyReplicas?: number }
}

/** What a cluster holds of one app: its objects as the API server has them. */
export interface AppState {
  readonly configMaps: { metadata: ObjectMeta; data?: Record<string, string> }[]
  readonly deployment?: DeploymentView
  readonly replicaSets: ReplicaSetView[]
  readonly services: { metadata: ObjectMeta }[]
  readonly lease?: {
    metadata: ObjectMeta
    spec: { holderIdentity?: string; renewTime?: string; leaseDurationSeconds?: number }
  }
}

export async function readApp(c: LocalCluster, ns: string): Promise<AppState> {
  const sel = `labelSelector=${encodeURIComponent(`${appLabel}=${ns}`)}`
  const list = async <T>(path: string) =>
    ((await getJson<{ items: T[] }>(c, path))?.items ?? []) as T[]
  return {
    configMaps: await list(`/api/v1/namespaces/${ns}/configmaps?${sel}`),
    services: await list(`/api/v1/namespaces/${ns}/services?${sel}`),
    deployment: await getJson<DeploymentView>(c, `/apis/apps/v1/namespaces/${ns}/deployments/web`),
    replicaSets: (await list<ReplicaSetView>(`/apis/apps/v1/namespaces/${ns}/replicasets`)).filter(
      (rs) => rs.metadata.ownerReferences?.some((o) => o.name === 'web')
    ),
    lease: await getJson(
      c,
      '/apis/coordination.k8s.io/v1/namespaces/kit-system/leases/kit-deploy-lock'
    )
  }
}

/** Whether the app's Deployment has fully rolled out `image` (all replicas updated and ready). */
export function rolledOut(state: AppState, image: string): boolean {
  const d = state.deployment
  if (!d) return false
  const s = d.status ?? {}
  return (
    d.spec.template.spec.containers[0]?.image === image &&
    (s.observedGeneration ?? 0) >= (d.metadata.generation ?? 0) &&
    s.updatedReplicas === d.spec.replicas &&
    s.readyReplicas === d.spec.replicas &&
    s.availableReplicas === d.spec.replicas &&
    (s.replicas ?? 0) === d.spec.replicas
  )
}

/** Polls until `check` holds or the time is up; returns the last value either way. */
export async function eventually<T>(
  read: () => Promise<T>,
  check: (v: T) => boolean,
  timeoutMs = 60_000,
  everyMs = 500
): Promise<T> {
  const deadline = Date.now() + timeoutMs
  let value = await read()
  while (!check(value) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, everyMs))
    value = await read()
  }
  return value
}

/** Named pass/fail checks: one record names the ones that failed, one assertion shows them. */
export class Checks {
  private readonly items: { what: string; pass: boolean; detail?: string }[] = []

  add(what: string, pass: boolean, detail?: unknown): this {
    this.items.push({
      what,
      pass,
      ...(pass ? {} : { detail: typeof detail === 'string' ? detail : JSON.stringify(detail) })
    })
    return this
  }

  get ok(): boolean {
    return this.items.every((i) => i.pass)
  }

  /** The failed checks, each with what was seen instead (empty when all passed). */
  failed(): string[] {
    return this.items
      .filter((i) => !i.pass)
      .map((i) => `${i.what}${i.detail !== undefined ? ` — got ${i.detail.slice(0, 500)}` : ''}`)
  }

  get count(): number {
    return this.items.length
  }
}
