/**
 * The end-to-end flow of the secret-leak scan: a manifests repository shaped like
 * examples/manifests-repo (services with a Secret filled from env.*, groups, clusters named
 * after the shared test clusters), the secret values planted in it, a kubeconfig whose
 * credentials are known, and the CLI run the way a user runs it.
 */
import { execFile, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { parse, stringify } from 'yaml'
import type { PlantedSecret } from './scan.js'

const run = promisify(execFile)

/** A marker unique to this run inside every planted value: found in any encoding of a fragment. */
export function marker(): string {
  return `kitleak${randomBytes(6).toString('hex')}`
}

/** The env.* values of one render: a URL with special characters, a token, a multi-line key. */
export interface EnvSecrets {
  readonly LEAK_DATABASE_URL: string
  readonly LEAK_API_TOKEN: string
  readonly LEAK_TLS_KEY: string
}

/** A fresh set of env.* values (every render generation gets its own, all planted). */
export function envSecrets(): EnvSecrets {
  const m = marker()
  return {
    // Quotes, $, backticks, %, &, ;, <>, spaces and a #: everything a shell, URL or YAML
    // writer would have to escape.
    LEAK_DATABASE_URL: `postgres://shop:P@ss "w0rd" $HOME \`id\` 100%&x=1;<b>#${m}@db.shop.svc:5432/shop?ssl=require`,
    LEAK_API_TOKEN: `sk_live_${randomBytes(18).toString('hex')}`,
    LEAK_TLS_KEY: [
      '-----BEGIN PRIVATE KEY-----',
      ...Array.from({ length: 4 }, () => randomBytes(48).toString('base64')),
      `${m}${randomBytes(12).toString('base64')}`,
      '-----END PRIVATE KEY-----'
    ].join('\n')
  }
}

/** The planted forms of a set of env values (each Secret data value is one of them). */
export function plantedEnv(env: EnvSecrets, generation: string): PlantedSecret[] {
  return Object.entries(env).map(([k, v]) => ({ label: `env.${k} (${generation})`, value: v }))
}

/** The manifests repository's files for the shared test clusters and one namespace. */
export function manifestsRepoFiles(
  namespace: string,
  clusters: readonly string[]
): Record<string, string> {
  const files: Record<string, string> = {
    '.gitignore': 'generated/\n',
    'kit.yaml': [
      'paths:',
      '  output: generated',
      'defaults:',
      '  branch: main',
      '  missingImage: error',
      ''
    ].join('\n'),
    'groups/staging.yaml': 'description: first wave\nvalues:\n  logLevel: debug\n',
    'groups/production.yaml': 'description: second wave\nvalues:\n  logLevel: info\n',
    'services/namespace/namespace.yaml': [
      'apiVersion: v1',
      'kind: Namespace',
      'metadata:',
      `  name: ${namespace}`,
      '  labels:',
      '    kit.example/cluster: ${{ cluster.name }}',
      ''
    ].join('\n'),
    'services/api/kit.yaml':
      'description: API with credentials from the build environment\nimage: api\n',
    'services/api/values.yaml': 'replicas: 1\nlogLevel: info\n',
    'services/api/secret.yaml': [
      '# Secret values come from the environment of the render step, never from git.',
      'apiVersion: v1',
      'kind: Secret',
      'metadata:',
      '  name: api-credentials',
      `  namespace: ${namespace}`,
      'type: Opaque',
      'data:',
      '  DATABASE_URL: ${{ env.LEAK_DATABASE_URL | base64 }}',
      '  TLS_KEY: ${{ env.LEAK_TLS_KEY | base64 }}',
      'stringData:',
      '  API_TOKEN: ${{ env.LEAK_API_TOKEN }}',
      '  TLS_KEY_PEM: ${{ env.LEAK_TLS_KEY }}',
      ''
    ].join('\n'),
    'services/api/configmap.yaml': [
      'apiVersion: v1',
      'kind: ConfigMap',
      'metadata:',
      '  name: api-config',
      `  namespace: ${namespace}`,
      'data:',
      '  LOG_LEVEL: ${{ values.logLevel }}',
      '  CLUSTER: ${{ cluster.name }}',
      ''
    ].join('\n'),
    'services/api/deployment.yaml': [
      'apiVersion: apps/v1',
      'kind: Deployment',
      'metadata:',
      '  name: api',
      `  namespace: ${namespace}`,
      '  labels: {app: api}',
      'spec:',
      '  replicas: ${{ values.replicas }}',
      '  selector: {matchLabels: {app: api}}',
      '  template:',
      '    metadata: {labels: {app: api}}',
      '    spec:',
      '      containers:',
      '        - name: api',
      '          image: ${{ image }}',
      '          envFrom:',
      '            - configMapRef: {name: api-config}',
      '            - secretRef: {name: api-credentials}',
      ''
    ].join('\n')
  }
  clusters.forEach((c, i) => {
    files[`clusters/${c}.yaml`] = [
      `description: test cluster ${c}`,
      `groups: [${i === 0 ? 'staging' : 'production'}]`,
      'labels:',
      `  tier: ${i === 0 ? 'staging' : 'production'}`,
      ''
    ].join('\n')
  })
  return files
}

/** A self-signed client certificate and its key (PEM), made with openssl. */
export async function clientCertificate(): Promise<{ cert: string; key: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'kit-leak-cert-'))
  try {
    await run('openssl', [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      join(dir, 'key.pem'),
      '-out',
      join(dir, 'cert.pem'),
      '-days',
      '1',
      '-subj',
      '/CN=kit-leak-check'
    ])
    return {
      cert: readFileSync(join(dir, 'cert.pem'), 'utf8'),
      key: readFileSync(join(dir, 'key.pem'), 'utf8')
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/**
 * The shared clusters' kubeconfig with a client certificate and key added to every user (the
 * API servers authenticate the token; the certificate is carried, as in many real kubeconfigs),
 * and the credentials it holds, to plant: each token, the key, and their base64 forms.
 */
export function kubeconfigWithKnownCredentials(
  kubeconfigText: string,
  client: { cert: string; key: string }
): { text: string; secrets: PlantedSecret[] } {
  const doc = parse(kubeconfigText) as {
    users: { name: string; user: Record<string, string> }[]
  }
  const secrets: PlantedSecret[] = []
  for (const u of doc.users) {
    u.user['client-certificate-data'] = Buffer.from(client.cert).toString('base64')
    u.user['client-key-data'] = Buffer.from(client.key).toString('base64')
    if (u.user.token) secrets.push({ label: `kubeconfig token of ${u.name}`, value: u.user.token })
  }
  secrets.push({ label: 'kubeconfig client key (PEM)', value: client.key })
  secrets.push({
    label: 'kubeconfig client-key-data',
    value: Buffer.from(client.key).toString('base64')
  })
  return { text: stringify(doc), secrets }
}

/** One CLI run: `node cli/dist/kit.js ...` with plain output. */
export interface CliRun {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

export function runKit(
  repoRoot: string,
  args: readonly string[],
  options: { cwd: string; env?: Record<string, string>; timeoutMs?: number }
): Promise<CliRun> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(repoRoot, 'cli', 'dist', 'kit.js'), ...args], {
      cwd: options.cwd,
      env: { ...process.env, CI: '1', NO_COLOR: '1', ...options.env },
      stdio: ['ignore', 'pipe', 'pipe']
    })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d))
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 300_000)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code: code ?? 1, stdout, stderr })
    })
  })
}

/** `git clone` of the manifests repository with the token in a per-command header only. */
export async function cloneWithToken(url: string, token: string, dir: string): Promise<void> {
  await run('git', [
    '-c',
    `http.extraHeader=Authorization: Bearer ${token}`,
    'clone',
    '-q',
    url,
    dir
  ])
}

/** `git pull --ff-only` the same way. */
export async function pullWithToken(dir: string, token: string): Promise<void> {
  await run('git', [
    '-C',
    dir,
    '-c',
    `http.extraHeader=Authorization: Bearer ${token}`,
    'pull',
    '-q',
    '--ff-only'
  ])
}

export async function gitText(dir: string, args: readonly string[]): Promise<string> {
  return (await run('git', ['-C', dir, ...args])).stdout.trim()
}
