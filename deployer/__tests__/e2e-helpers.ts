/**
 * Helpers for the deployer's end-to-end suites: realistic renders on disk, the action run from
 * its bundle exactly as the runner calls it, and direct reads of the real clusters through
 * client-node (independent of kit's own client).
 */
import { spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import {
  KubernetesObjectApi,
  type KubeConfig,
  type KubernetesObject
} from '@kubernetes/client-node'
import { parse } from 'yaml'

const here = dirname(fileURLToPath(import.meta.url))
export const deployerDir = join(here, '..')

/** What one cluster's render contains, per service. */
export interface RenderOptions {
  readonly namespace: string
  /** Image of the web Deployment per cluster. */
  readonly image?: (cluster: string) => string
  /** Services rendered (default web and worker). */
  readonly services?: readonly ('web' | 'worker')[]
  readonly secretValue?: string
  /** Extra YAML documents per cluster. */
  readonly extra?: (cluster: string) => string
  /** Annotations on the web Deployment. */
  readonly webAnnotations?: Record<string, string>
  readonly replicas?: number
}

/** A realistic deploymentizer-style render: <dir>/<cluster>/<service>/*.yaml. */
export function writeRender(
  clusters: readonly string[],
  options: RenderOptions,
  dir = mkdtempSync(join(tmpdir(), 'kit-render-'))
): string {
  const ns = options.namespace
  for (const c of clusters) {
    const services = options.services ?? ['web', 'worker']
    mkdirSync(join(dir, c, 'namespaces'), { recursive: true })
    writeFileSync(
      join(dir, c, 'namespaces', 'namespace.yaml'),
      `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${ns}\n`
    )
    if (services.includes('web')) {
      mkdirSync(join(dir, c, 'web'), { recursive: true })
      const ann = options.webAnnotations
        ? `  annotations:\n${Object.entries(options.webAnnotations)
            .map(([k, v]) => `    ${k}: ${JSON.stringify(v)}`)
            .join('\n')}\n`
        : ''
      writeFileSync(
        join(dir, c, 'web', 'web.yaml'),
        `apiVersion: v1
kind: ServiceAccount
metadata:
  name: web
  namespace: ${ns}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: web-config
  namespace: ${ns}
  labels: {app: web}
data:
  cluster: ${c}
  LOG_LEVEL: info
---
apiVersion: v1
kind: Secret
metadata:
  name: web-secret
  namespace: ${ns}
  labels: {app: web}
stringData:
  DATABASE_PASSWORD: ${options.secretValue ?? 'sw0rdfish-db-password'}
---
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: ${ns}
  labels: {app: web}
spec:
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: 8080}]
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: ${ns}
  labels: {app: web}
${ann}spec:
  replicas: ${options.replicas ?? 2}
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      serviceAccountName: web
      containers:
      - name: web
        image: ${options.image?.(c) ?? 'registry.example/shop/web:1.0.0'}
        ports: [{containerPort: 8080}]
        envFrom: [{configMapRef: {name: web-config}}, {secretRef: {name: web-secret}}]
`
      )
    }
    if (services.includes('worker')) {
      mkdirSync(join(dir, c, 'worker'), { recursive: true })
      writeFileSync(
        join(dir, c, 'worker', 'worker.yaml'),
        `apiVersion: v1
kind: ConfigMap
metadata:
  name: worker-config
  namespace: ${ns}
  labels: {app: worker}
data: {QUEUE: jobs}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: worker
  namespace: ${ns}
  labels: {app: worker}
spec:
  replicas: 1
  selector: {matchLabels: {app: worker}}
  template:
    metadata: {labels: {app: worker}}
    spec:
      containers:
      - name: worker
        image: registry.example/shop/worker:2.1.0
`
      )
    }
    if (options.extra) {
      mkdirSync(join(dir, c, 'extra'), { recursive: true })
      writeFileSync(join(dir, c, 'extra', 'extra.yaml'), options.extra(c))
    }
  }
  return dir
}

/** The action's declared defaults, which the runner injects as INPUT_* (a bare node run would not). */
function actionDefaults(): Record<string, string> {
  const action = parse(readFileSync(join(deployerDir, 'action.yml'), 'utf8')) as {
    inputs: Record<string, { default?: string }>
  }
  const env: Record<string, string> = {}
  for (const [name, input] of Object.entries(action.inputs)) {
    if (input.default !== undefined && !input.default.includes('${{'))
      env[`INPUT_${name.toUpperCase()}`] = input.default
  }
  return env
}

export interface BundleRun {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
  readonly outputs: Record<string, string>
  readonly summary: string
}

/** Parses the runner's GITHUB_OUTPUT file (`name<<delimiter` blocks). */
export function parseOutputFile(text: string): Record<string, string> {
  const out: Record<string, string> = {}
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const m = lines[i].match(/^([^<]+)<<(.+)$/)
    if (!m) continue
    const value: string[] = []
    for (i++; i < lines.length && lines[i] !== m[2]; i++) value.push(lines[i])
    out[m[1]] = value.join('\n')
  }
  return out
}

/** Runs deployer/dist/index.js as the runner does: INPUT_* env, output and summary files. */
export async function runBundle(
  inputs: Record<string, string>,
  extraEnv: Record<string, string> = {}
): Promise<BundleRun> {
  const work = mkdtempSync(join(tmpdir(), 'kit-runner-'))
  const outputFile = join(work, 'output')
  const summaryFile = join(work, 'summary')
  writeFileSync(outputFile, '')
  writeFileSync(summaryFile, '')
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? work,
    GITHUB_OUTPUT: outputFile,
    GITHUB_STEP_SUMMARY: summaryFile,
    RUNNER_TEMP: work,
    GITHUB_WORKSPACE: work,
    ...actionDefaults(),
    ...Object.fromEntries(Object.entries(inputs).map(([k, v]) => [`INPUT_${k.toUpperCase()}`, v])),
    ...extraEnv
  }
  const child = spawn(process.execPath, [join(deployerDir, 'dist', 'index.js')], { env, cwd: work })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
  const code = await new Promise<number>((resolve) => child.on('close', (c) => resolve(c ?? -1)))
  return {
    code,
    stdout,
    stderr,
    outputs: parseOutputFile(readFileSync(outputFile, 'utf8')),
    summary: readFileSync(summaryFile, 'utf8')
  }
}

/** Reads one object straight from a cluster (undefined when absent). */
export async function readObject(
  kc: KubeConfig,
  apiVersion: string,
  kind: string,
  name: string,
  namespace?: string
): Promise<(KubernetesObject & Record<string, unknown>) | undefined> {
  const api = KubernetesObjectApi.makeApiClient(kc)
  try {
    return (await api.read({
      apiVersion,
      kind,
      metadata: { name, namespace }
    })) as KubernetesObject & Record<string, unknown>
  } catch (err) {
    if ((err as { code?: number }).code === 404) return undefined
    throw err
  }
}

/** Lists objects of a kind in a namespace straight from a cluster. */
export async function listObjects(
  kc: KubeConfig,
  apiVersion: string,
  kind: string,
  namespace: string,
  labelSelector?: string
): Promise<(KubernetesObject & Record<string, unknown>)[]> {
  const api = KubernetesObjectApi.makeApiClient(kc)
  const list = await api.list(
    apiVersion,
    kind,
    namespace,
    undefined,
    undefined,
    undefined,
    undefined,
    labelSelector
  )
  return list.items as (KubernetesObject & Record<string, unknown>)[]
}

/**
 * A write fingerprint of every object kit deployed in a namespace, keyed by kind/name: the
 * resourceVersion, except for Deployments, whose status the controllers keep updating (every
 * status write bumps resourceVersion); there it is the generation and the time of kit's
 * field-manager entry, which change exactly when someone writes the object (not its status).
 */
export async function resourceVersions(
  kc: KubeConfig,
  namespace: string
): Promise<Record<string, string>> {
  const out: Record<string, string> = {}
  for (const [apiVersion, kind] of [
    ['v1', 'ConfigMap'],
    ['v1', 'Secret'],
    ['v1', 'Service'],
    ['v1', 'ServiceAccount'],
    ['apps/v1', 'Deployment']
  ]) {
    for (const o of await listObjects(kc, apiVersion, kind, namespace)) {
      if (o.metadata?.name === 'kube-root-ca.crt' || o.metadata?.name === 'default') continue
      const kit = (o.metadata?.managedFields ?? []).filter(
        (f) => f.manager === 'kit' && !f.subresource
      )
      out[`${kind}/${o.metadata?.name}`] =
        kind === 'Deployment'
          ? `generation ${o.metadata?.generation}, kit wrote at ${kit.map((f) => String(f.time)).join(',')}`
          : (o.metadata?.resourceVersion ?? '')
    }
  }
  const ns = await readObject(kc, 'v1', 'Namespace', namespace)
  out[`Namespace/${namespace}`] = ns?.metadata?.resourceVersion ?? ''
  return out
}

/** Polls until `check` holds (the clusters run real controllers; status converges, not jumps). */
export async function eventually<T>(
  read: () => Promise<T>,
  check: (v: T) => boolean,
  timeoutMs = 60_000
): Promise<T> {
  const deadline = Date.now() + timeoutMs
  let value = await read()
  while (!check(value) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 500))
    value = await read()
  }
  return value
}

/** A Deployment's image and ready replicas. */
export async function deploymentState(
  kc: KubeConfig,
  namespace: string,
  name: string
): Promise<{ image?: string; ready: number; replicas: number } | undefined> {
  const d = await readObject(kc, 'apps/v1', 'Deployment', name, namespace)
  if (!d) return undefined
  const spec = d.spec as {
    replicas?: number
    template: { spec: { containers: { image: string }[] } }
  }
  const status = (d.status ?? {}) as { readyReplicas?: number }
  return {
    image: spec.template.spec.containers[0]?.image,
    ready: status.readyReplicas ?? 0,
    replicas: spec.replicas ?? 1
  }
}
