/**
 * Reaching a cluster, through the shipped artefacts (the deployer's bundle as the runner runs
 * it, and `kit deploy` from its bundle), with real parts:
 *
 * - an API server that accepts connections and never answers (a Node TCP server): the cluster's
 *   `timeout` bounds everything, lock included, and the report keeps the cause;
 * - a TLS server whose self-signed certificate the kubeconfig does not trust: a TLS
 *   verification failure naming what to check, not "unreachable";
 * - the real local clusters with a wrong token and a wrong client certificate: the credential
 *   refused is named (its user and kind, never its value);
 * - KUBECONFIG lists, merged the way kubectl merges them, deploying to the real clusters, and a
 *   path given to the `kubeconfig` input (which takes content): one error saying what to use.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https'
import { createServer as createNetServer, type AddressInfo, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { delimiter, join } from 'node:path'
import { CoreV1Api } from '@kubernetes/client-node'
import { parse, stringify } from 'yaml'
import {
  testClusters,
  testKubeconfigPath,
  uniqueName,
  type TestCluster
} from '../../testinfra/jest/clusters.js'
import { deployerDir, readObject, runBundle } from './e2e-helpers.js'
import { selfSigned } from '../../testinfra/tls/self-signed.js'

const root = join(deployerDir, '..')
const work = mkdtempSync(join(tmpdir(), 'kit-access-'))
const wrongToken = 'wrong-token-for-kit-e2e-5d1c9a'

afterAll(() => rmSync(work, { recursive: true, force: true }))

/** Runs the bundled CLI as a user would, timing it. */
async function kit(
  args: string[],
  env: Record<string, string> = {}
): Promise<{ code: number; out: string; ms: number }> {
  const started = Date.now()
  const child = spawn(process.execPath, [join(root, 'cli', 'dist', 'kit.js'), ...args], {
    env: { PATH: process.env.PATH, HOME: work, NO_COLOR: '1', ...env },
    cwd: work
  })
  let out = ''
  child.stdout.on('data', (d: Buffer) => (out += d.toString()))
  child.stderr.on('data', (d: Buffer) => (out += d.toString()))
  const code = await new Promise<number>((resolve) => child.on('close', (c) => resolve(c ?? 1)))
  return { code, out, ms: Date.now() - started }
}

/** A manifests folder with one ConfigMap per cluster, in a namespace of its own. */
function manifests(clusters: readonly string[], namespace: string): string {
  const dir = mkdtempSync(join(work, 'manifests-'))
  for (const c of clusters) {
    mkdirSync(join(dir, c))
    writeFileSync(
      join(dir, c, 'app.yaml'),
      `apiVersion: v1\nkind: Namespace\nmetadata: {name: ${namespace}}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: access, namespace: ${namespace}}\ndata: {cluster: ${c}}\n`
    )
  }
  return dir
}

/** A one-cluster kubeconfig for `server`, with a token user. */
function kubeconfigFor(cluster: string, server: string, extra: Record<string, unknown> = {}) {
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: `${cluster}-entry`, cluster: { server, ...extra } }],
    users: [{ name: 'deployer', user: { token: wrongToken } }],
    contexts: [{ name: cluster, context: { cluster: `${cluster}-entry`, user: 'deployer' } }],
    'current-context': cluster
  })
}

describe('an API server that accepts connections and never answers', () => {
  const sockets: Socket[] = []
  const server = createNetServer((s) => void sockets.push(s))
  let url: string
  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`
  })
  afterAll(async () => {
    for (const s of sockets) s.destroy()
    await new Promise((resolve) => server.close(resolve))
  })

  // A correctness bound, not a speed claim: five attempts of 30 s took 2.5 minutes before.
  it('kit deploy --timeout 5s ends well within 20 s, saying which requests to which address timed out', async () => {
    const file = join(work, 'hang.yaml')
    writeFileSync(file, kubeconfigFor('hang', url, { 'insecure-skip-tls-verify': true }))
    const r = await kit([
      'deploy',
      manifests(['hang'], 'hang'),
      '--kubeconfig',
      file,
      '--timeout',
      '5s'
    ])
    expect(r.code).toBe(1)
    expect(r.ms).toBeLessThan(20_000)
    expect(r.out).toContain(
      `the cluster's timeout of 5s was reached: requests to ${url} timed out (create Lease/kit-deploy-lock: no answer in`
    )
  })

  it('the action with timeout 5s ends the same way, the cause in its annotation', async () => {
    const started = Date.now()
    const r = await runBundle({
      manifests: manifests(['hang'], 'hang'),
      kubeconfig: kubeconfigFor('hang', url, { 'insecure-skip-tls-verify': true }),
      timeout: '5s'
    })
    expect(Date.now() - started).toBeLessThan(20_000)
    expect(r.code).not.toBe(0)
    expect(r.outputs.result).toBe('failure')
    const errors = r.stdout.split('\n').filter((l) => l.startsWith('::error'))
    expect(errors).toHaveLength(1)
    expect(errors[0]).toContain(`requests to ${url} timed out`)
  })
})

describe('a TLS server whose certificate the kubeconfig does not trust', () => {
  let server: HttpsServer
  let url: string
  beforeAll(async () => {
    const own = selfSigned('127.0.0.1')
    server = createHttpsServer({ cert: own.cert, key: own.key }, (_req, res) => res.end('{}'))
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`
  })
  afterAll(async () => {
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
  })

  it('is reported as a TLS verification failure with what to check, by kit and by the action', async () => {
    const otherCa = Buffer.from(selfSigned('another-ca').cert).toString('base64')
    const text = kubeconfigFor('tlsc', url, { 'certificate-authority-data': otherCa })
    const file = join(work, 'tls.yaml')
    writeFileSync(file, text)
    const expected = `TLS verification failed: the certificate of ${url} is not signed by the CA in certificate-authority-data of cluster entry "tlsc-entry" (DEPTH_ZERO_SELF_SIGNED_CERT: self-signed certificate); check that CA, and that the server address is this cluster's`
    const cli = await kit(['deploy', manifests(['tlsc'], 'tlsc'), '--kubeconfig', file])
    expect(cli.code).toBe(1)
    expect(cli.out).toContain(expected)
    expect(cli.out).not.toMatch(/unreachable|--use-system-ca/)
    const action = await runBundle({ manifests: manifests(['tlsc'], 'tlsc'), kubeconfig: text })
    expect(action.outputs.result).toBe('failure')
    expect(action.stdout).toContain(expected)
  })
})

describe('a real cluster that refuses the credential', () => {
  let cluster: TestCluster
  let server: string
  beforeAll(() => {
    cluster = testClusters()[0]
    server = cluster.kubeConfig.getCurrentCluster()?.server ?? ''
  })

  /** The test cluster's kubeconfig with its user replaced. */
  function withUser(user: Record<string, unknown>): string {
    const config = parse(readFileSync(cluster.kubeconfigPath, 'utf8')) as {
      users: { name: string; user: Record<string, unknown> }[]
      contexts: { name: string; context: { user: string } }[]
    }
    const ctx = config.contexts.find((c) => c.name === cluster.name)
    const name = ctx?.context.user ?? ''
    config.users = config.users.map((u) => (u.name === name ? { name, user } : u))
    return stringify(config)
  }

  it('a wrong token: 401, naming the user and the kind of credential, never the token', async () => {
    const namespace = uniqueName('access')
    const text = withUser({ token: wrongToken })
    const file = join(work, 'wrong-token.yaml')
    writeFileSync(file, text)
    const user = cluster.kubeConfig.getCurrentUser()?.name
    const expected = `${new URL(server).origin} refused the credentials of user "${user}" (context "${cluster.name}", a bearer token) (401 Unauthorized`
    const cli = await kit(['deploy', manifests([cluster.name], namespace), '--kubeconfig', file])
    expect(cli.code).toBe(1)
    expect(cli.out).toContain(expected)
    expect(cli.out).not.toContain(wrongToken)
    const action = await runBundle({
      manifests: manifests([cluster.name], namespace),
      kubeconfig: text
    })
    expect(action.outputs.result).toBe('failure')
    expect(action.stdout).toContain(expected)
    // Masked for the runner (::add-mask::, which the runner consumes), never shown.
    const shown = `${action.stdout}${action.stderr}${action.summary}`.replace(
      /^::add-mask::.*$/gm,
      ''
    )
    expect(shown).not.toContain(wrongToken)
    expect(await readObject(cluster.kubeConfig, 'v1', 'Namespace', namespace)).toBeUndefined()
  })

  it('a client certificate the cluster does not know: the user and its certificate are named', async () => {
    const namespace = uniqueName('access')
    const mine = selfSigned('not-a-cluster-user')
    const text = withUser({
      'client-certificate-data': Buffer.from(mine.cert).toString('base64'),
      'client-key-data': Buffer.from(mine.key).toString('base64')
    })
    const file = join(work, 'wrong-cert.yaml')
    writeFileSync(file, text)
    const cli = await kit(['deploy', manifests([cluster.name], namespace), '--kubeconfig', file])
    expect(cli.code).toBe(1)
    const user = cluster.kubeConfig.getCurrentUser()?.name
    // Depending on the API server's flags it ends the handshake (bad certificate), answers 401,
    // or ignores the certificate and goes on as system:anonymous (403): each names the user.
    expect(cli.out).toMatch(
      new RegExp(
        `(refused the client certificate|refused the credentials|did not accept the credentials) of user "${user}" \\(context "${cluster.name}", a client certificate\\)`
      )
    )
    expect(cli.out).not.toContain(mine.key.split('\n')[1])
    expect(await readObject(cluster.kubeConfig, 'v1', 'Namespace', namespace)).toBeUndefined()
  })
})

describe('KUBECONFIG lists', () => {
  let clusters: TestCluster[]
  let first: string
  let second: string
  beforeAll(() => {
    clusters = testClusters().slice(0, 2)
    const all = parse(readFileSync(testKubeconfigPath(), 'utf8')) as {
      clusters: { name: string; cluster: Record<string, unknown> }[]
      users: { name: string; user: Record<string, unknown> }[]
      contexts: { name: string; context: { cluster: string; user: string } }[]
    }
    const only = (name: string) => {
      const ctx = all.contexts.find((c) => c.name === name)!
      return {
        clusters: all.clusters.filter((c) => c.name === ctx.context.cluster),
        users: all.users.filter((u) => u.name === ctx.context.user),
        contexts: [ctx]
      }
    }
    const [a, b] = clusters.map((c) => only(c.name))
    const dir = mkdtempSync(join(work, 'kubeconfigs-'))
    // The first file: cluster 1, as the test kubeconfig has it.
    first = join(dir, 'first')
    writeFileSync(
      first,
      stringify({ apiVersion: 'v1', kind: 'Config', ...a, 'current-context': clusters[0].name })
    )
    // The second: cluster 2, and another definition of cluster 1's context whose server does
    // not exist. kubectl keeps the first file's: a deploy through the second would fail.
    const deadCluster = {
      name: 'dead-entry',
      cluster: { server: 'https://127.0.0.1:1', 'insecure-skip-tls-verify': true }
    }
    second = join(dir, 'second')
    writeFileSync(
      second,
      stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [...b.clusters, deadCluster],
        users: b.users,
        contexts: [
          ...b.contexts,
          { name: clusters[0].name, context: { cluster: 'dead-entry', user: b.users[0].name } }
        ],
        'current-context': clusters[1].name
      })
    )
  })

  /** Namespaces this suite deployed (one per test, also its inventory's name): removed after. */
  const created: string[] = []
  const own = (namespace: string): string => {
    created.push(namespace)
    return namespace
  }
  afterAll(async () => {
    for (const c of clusters)
      for (const name of created) {
        const api = c.kubeConfig.makeApiClient(CoreV1Api)
        await api.deleteNamespace({ name }).catch(() => undefined)
        await api
          .deleteNamespacedConfigMap({ name: `kit-applyset-${name}`, namespace: 'kit-system' })
          .catch(() => undefined)
      }
  })

  const deployed = async (namespace: string) =>
    Promise.all(
      clusters.map(
        async (c) => (await readObject(c.kubeConfig, 'v1', 'ConfigMap', 'access', namespace))?.data
      )
    )

  it('the action uses $KUBECONFIG when no credential input is set, merged as kubectl merges it', async () => {
    const namespace = own(uniqueName('kcl'))
    const missing = join(work, 'no-such-kubeconfig')
    const r = await runBundle(
      {
        manifests: manifests(
          clusters.map((c) => c.name),
          namespace
        ),
        kubeconfig: '',
        wait: 'false',
        inventory: namespace
      },
      { KUBECONFIG: [first, missing, second].join(delimiter) }
    )
    expect(r.outputs.result).toBe('success')
    expect(await deployed(namespace)).toEqual(clusters.map((c) => ({ cluster: c.name })))
    expect(r.stdout).toContain(`credentials from $KUBECONFIG: ${first}, ${missing}, ${second}`)
    // A missing file of the list is a warning, as kubectl skips it.
    expect(r.stdout).toContain(
      `::warning::the kubeconfig file ${missing} named by $KUBECONFIG does not exist`
    )
  })

  it('kit deploy merges every file of the list, not only the first', async () => {
    const namespace = own(uniqueName('kcl'))
    const r = await kit(
      [
        'deploy',
        manifests(
          clusters.map((c) => c.name),
          namespace
        ),
        '--no-wait',
        '--inventory',
        namespace
      ],
      {
        KUBECONFIG: [first, second].join(delimiter)
      }
    )
    expect(r.code).toBe(0)
    expect(r.out).toContain(`credentials from $KUBECONFIG: ${first}, ${second}`)
    expect(await deployed(namespace)).toEqual(clusters.map((c) => ({ cluster: c.name })))
  })

  it('a path in the kubeconfig input gets one error saying what to use instead', async () => {
    const r = await runBundle({
      manifests: manifests([clusters[0].name], uniqueName('kcl')),
      kubeconfig: first
    })
    expect(r.outputs.result).toBe('failure')
    const errors = r.stdout.split('\n').filter((l) => l.startsWith('::error'))
    expect(errors).toHaveLength(1)
    expect(errors[0]).toContain("Input 'kubeconfig' holds a file path, not a kubeconfig")
    expect(errors[0]).toContain('KUBECONFIG')
    expect(errors[0]).toContain("'kubeconfig-dir'")
  })
})
