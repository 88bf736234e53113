/**
 * Cluster-wide failures of the client-node adapter, against real local servers: a TCP server
 * that accepts connections and never answers (the deadline bounds every attempt and retry,
 * slow retries are told as progress), a TLS server whose certificate the kubeconfig does not
 * trust, and an HTTP server that answers 401 and 403. Each error must say what to check, name
 * the kubeconfig entries it concerns, and never show the credential.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net'
import type { AddressInfo } from 'node:net'
import { KubeConfig } from '@kubernetes/client-node'
import { createClusterClient } from '../../src/k8s/client/client.js'
import { resourceOfPath, seconds } from '../../src/k8s/client/failures.js'
import { ClusterUnreachableError } from '../../src/k8s/types.js'
import { selfSigned } from '../../../testinfra/tls/self-signed.js'

const token = 'failure-test-token-7c41d9e2'
const cm = { apiVersion: 'v1', kind: 'ConfigMap', namespace: 'default', name: 'a' }

function kubeConfig(server: string, extra: { caData?: string; skipTLSVerify?: boolean } = {}) {
  const kc = new KubeConfig()
  kc.loadFromOptions({
    clusters: [
      {
        name: 'stub-entry',
        server,
        skipTLSVerify: extra.skipTLSVerify ?? !extra.caData,
        caData: extra.caData
      }
    ],
    users: [{ name: 'deployer', token }],
    contexts: [{ name: 'stub', cluster: 'stub-entry', user: 'deployer' }],
    currentContext: 'stub'
  })
  return kc
}

const closers: (() => Promise<void>)[] = []
afterAll(async () => {
  for (const close of closers) await close()
})

/** A TCP server that accepts every connection and never sends a byte. */
async function silentServer(): Promise<number> {
  const sockets: Socket[] = []
  const server: NetServer = createNetServer((s) => void sockets.push(s))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  closers.push(async () => {
    for (const s of sockets) s.destroy()
    await new Promise((resolve) => server.close(resolve))
  })
  return (server.address() as AddressInfo).port
}

async function httpServer(
  handler: (req: IncomingMessage, res: ServerResponse) => void
): Promise<number> {
  const server: Server = createServer(handler)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  closers.push(async () => {
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
  })
  return (server.address() as AddressInfo).port
}

const failure = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (e: unknown) => e as Error
  )

describe('a server that accepts connections and never answers', () => {
  let port: number
  beforeAll(async () => {
    port = await silentServer()
  })

  it('ends at the deadline, not after attempts × the request timeout, and keeps the cause', async () => {
    const client = createClusterClient('hang', kubeConfig(`https://127.0.0.1:${port}`), {
      deadline: { at: () => started + 800, what: "the cluster's timeout of 0.8s" }
    })
    const started = Date.now()
    const err = await failure(client.get(cm))
    const took = Date.now() - started
    expect(err).toBeInstanceOf(ClusterUnreachableError)
    expect((err as ClusterUnreachableError).reason).toBe('DeadlineExceeded')
    expect(err?.message).toBe(
      `the cluster's timeout of 0.8s was reached: requests to https://127.0.0.1:${port} timed out (get ConfigMap/a: no answer in ${(err?.message.match(/no answer in ([\d.]+ ?m?s)/) ?? [])[1]})`
    )
    // The request timeout is 30 s and there are five attempts: only the deadline ends it this soon.
    expect(took).toBeGreaterThanOrEqual(750)
    expect(took).toBeLessThan(5_000)
    await client.close()
  })

  it('tells every slow retry as progress, and counts the attempts in the final cause', async () => {
    const lines: string[] = []
    const client = createClusterClient('hang', kubeConfig(`https://127.0.0.1:${port}`), {
      retry: { requestTimeoutMs: 200, baseDelayMs: 5, maxDelayMs: 20, slowRetryMs: 150 },
      deadline: { at: () => started + 1_000, what: "the cluster's timeout of 1s" },
      progress: (m) => lines.push(m)
    })
    const started = Date.now()
    const err = await failure(client.get(cm))
    expect((err as ClusterUnreachableError).reason).toBe('DeadlineExceeded')
    expect(err?.message).toMatch(
      new RegExp(
        `requests to https://127\\.0\\.0\\.1:${port} timed out \\(get ConfigMap/a: no answer in \\d+ ms; \\d attempts\\)$`
      )
    )
    expect(lines.length).toBeGreaterThanOrEqual(2)
    expect(lines[0]).toMatch(
      new RegExp(
        `^get ConfigMap/a: request timed out after 200 ms \\(127\\.0\\.0\\.1:${port}\\); retrying in \\d+ ms \\(attempt 2 of 5\\)$`
      )
    )
    await client.close()
  })

  it('without a deadline, still ends after its attempts with the address', async () => {
    const client = createClusterClient('hang', kubeConfig(`https://127.0.0.1:${port}`), {
      retry: { requestTimeoutMs: 100, attempts: 2, baseDelayMs: 5, maxDelayMs: 10 }
    })
    const err = await failure(client.get(cm))
    expect(err?.message).toBe(
      `cluster "hang" is unreachable (request timed out after 100 ms (127.0.0.1:${port})) after 2 attempts`
    )
    await client.close()
  })

  it('a detached client has its own deadline, the one it was given', async () => {
    const client = createClusterClient('hang', kubeConfig(`https://127.0.0.1:${port}`), {
      deadline: { at: () => 0, what: "the cluster's timeout of 1s" }
    })
    // The cluster's deadline has passed: nothing is sent.
    expect((await failure(client.get(cm)))?.message).toBe(
      `the cluster's timeout of 1s was reached before get ConfigMap/a was sent`
    )
    const started = Date.now()
    const err = await failure(client.detached?.(Date.now() + 400).get(cm) ?? Promise.resolve())
    expect(err?.message).toMatch(
      /^the time for rolling back and cleaning up was reached: requests to/
    )
    expect(Date.now() - started).toBeLessThan(5_000)
    await client.close()
  })
})

describe('answers that are final', () => {
  it('throttling until the deadline ends with what the server answered, without sleeping past it', async () => {
    const port = await httpServer((_req, res) => {
      res.writeHead(503, { 'content-type': 'application/json', 'retry-after': '8' })
      res.end(
        JSON.stringify({
          kind: 'Status',
          code: 503,
          reason: 'ServiceUnavailable',
          message: 'etcd is busy'
        })
      )
    })
    const client = createClusterClient(
      'busy',
      kubeConfig(`http://127.0.0.1:${port}`, { skipTLSVerify: true }),
      {
        deadline: { at: () => started + 1_000, what: "the cluster's timeout of 1s" }
      }
    )
    const started = Date.now()
    const err = await failure(client.get(cm))
    expect(Date.now() - started).toBeLessThan(3_000)
    expect(err?.message).toBe(
      `the cluster's timeout of 1s was reached: http://127.0.0.1:${port} answered 503 ServiceUnavailable (get ConfigMap/a: etcd is busy)`
    )
    await client.close()
  })

  it('a 401 names the refused credential (user, context, kind), never its value, after one attempt', async () => {
    let requests = 0
    const port = await httpServer((_req, res) => {
      requests++
      res.writeHead(401, { 'content-type': 'application/json' })
      res.end(
        JSON.stringify({
          kind: 'Status',
          code: 401,
          reason: 'Unauthorized',
          message: 'Unauthorized'
        })
      )
    })
    const client = createClusterClient(
      'prod',
      kubeConfig(`http://127.0.0.1:${port}`, { skipTLSVerify: true })
    )
    const err = await failure(client.get(cm))
    expect(err).toBeInstanceOf(ClusterUnreachableError)
    expect((err as ClusterUnreachableError).reason).toBe('Unauthorized')
    expect(err?.message).toBe(
      `http://127.0.0.1:${port} refused the credentials of user "deployer" (context "stub", a bearer token) (401 Unauthorized); check that the credential is current (not expired or revoked) and issued for this cluster`
    )
    expect(err?.message).not.toContain(token)
    expect(requests).toBe(1)
    await client.close()
  })

  it('a 403 for system:anonymous while the user has a credential is that credential refused', async () => {
    const port = await httpServer((_req, res) => {
      res.writeHead(403, { 'content-type': 'application/json' })
      res.end(
        JSON.stringify({
          kind: 'Status',
          code: 403,
          reason: 'Forbidden',
          message:
            'configmaps "a" is forbidden: User "system:anonymous" cannot get resource "configmaps" in API group "" in the namespace "default"'
        })
      )
    })
    const client = createClusterClient(
      'prod',
      kubeConfig(`http://127.0.0.1:${port}`, { skipTLSVerify: true })
    )
    const err = await failure(client.get(cm))
    expect((err as ClusterUnreachableError).reason).toBe('Unauthorized')
    expect(err?.message).toMatch(
      /^http:\/\/127\.0\.0\.1:\d+ did not accept the credentials of user "deployer" \(context "stub", a bearer token\) and took the request as anonymous \(403: configmaps "a" is forbidden: User "system:anonymous" cannot get/
    )
    await client.close()
  })

  it("a 403 names the verb and the resource: the API server's message, or the request's", async () => {
    const rbac =
      'configmaps "a" is forbidden: User "deployer" cannot patch resource "configmaps" in API group "" in the namespace "default"'
    let bare = true
    const port = await httpServer((_req, res) => {
      res.writeHead(403, { 'content-type': bare ? 'text/plain' : 'application/json' })
      res.end(
        bare
          ? 'Forbidden'
          : JSON.stringify({ kind: 'Status', code: 403, reason: 'Forbidden', message: rbac })
      )
    })
    const client = createClusterClient(
      'prod',
      kubeConfig(`http://127.0.0.1:${port}`, { skipTLSVerify: true })
    )
    const object = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'a', namespace: 'default' }
    }
    expect((await failure(client.apply(object)))?.message).toBe(
      'forbidden: user "deployer" (context "stub", a bearer token) may not patch configmaps "a" in namespace "default" (403)'
    )
    bare = false
    const err = await failure(client.apply(object))
    expect(err?.message).toBe(rbac)
    // A 403 concerns one resource: it is the object's failure, not the cluster's.
    expect(err).not.toBeInstanceOf(ClusterUnreachableError)
    await client.close()
  })
})

describe('a TLS server whose certificate the kubeconfig does not trust', () => {
  let port: number
  let own: { cert: string; key: string }
  beforeAll(async () => {
    own = selfSigned('127.0.0.1')
    const server = createHttpsServer({ cert: own.cert, key: own.key }, (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end('{}')
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    closers.push(async () => {
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
    })
    port = (server.address() as AddressInfo).port
  })

  it('is a TLS verification failure naming certificate-authority-data, not "unreachable", after one attempt', async () => {
    const otherCa = Buffer.from(selfSigned('another-ca').cert).toString('base64')
    const client = createClusterClient(
      'tlsc',
      kubeConfig(`https://127.0.0.1:${port}`, { caData: otherCa })
    )
    const started = Date.now()
    const err = await failure(client.get(cm))
    expect(err).toBeInstanceOf(ClusterUnreachableError)
    expect((err as ClusterUnreachableError).reason).toBe('TLSVerificationFailed')
    expect(err?.message).toBe(
      `TLS verification failed: the certificate of https://127.0.0.1:${port} is not signed by the CA in certificate-authority-data of cluster entry "stub-entry" (DEPTH_ZERO_SELF_SIGNED_CERT: self-signed certificate); check that CA, and that the server address is this cluster's`
    )
    expect(err?.message).not.toMatch(/unreachable|--use-system-ca/)
    // Not retried: the same certificate fails the same way.
    expect(Date.now() - started).toBeLessThan(2_000)
    await client.close()
  })

  it('without any CA in the kubeconfig, says so', async () => {
    const kc = kubeConfig(`https://127.0.0.1:${port}`, { skipTLSVerify: false })
    const client = createClusterClient('tlsc', kc)
    const err = await failure(client.get(cm))
    expect(err?.message).toContain(
      'is not signed by a CA this machine trusts, and cluster entry "stub-entry" has no certificate-authority-data'
    )
    await client.close()
  })

  it('a name the certificate does not hold points at the server address and tls-server-name', async () => {
    // The server's own certificate as the CA: the chain is trusted, the name (localhost) is not in it.
    const caData = Buffer.from(own.cert).toString('base64')
    const client = createClusterClient('tlsc', kubeConfig(`https://localhost:${port}`, { caData }))
    const err = await failure(client.get(cm))
    expect((err as ClusterUnreachableError).reason).toBe('TLSVerificationFailed')
    expect(err?.message).toBe(
      `TLS verification failed: the certificate of https://localhost:${port} is not issued for that name (ERR_TLS_CERT_ALTNAME_INVALID); check the server address of cluster entry "stub-entry" in the kubeconfig, or set its tls-server-name to a name the certificate holds`
    )
    await client.close()
  })
})

describe('failure texts', () => {
  it.each([
    [300, '300 ms'],
    [1_500, '1.5s'],
    [9_996, '10s'],
    [30_000, '30s'],
    [45_400, '45s']
  ])('%i ms reads %s', (ms, text) => {
    expect(seconds(ms)).toBe(text)
  })

  it.each([
    [
      '/api/v1/namespaces/shop/configmaps/web',
      { resource: 'configmaps', namespace: 'shop', name: 'web' }
    ],
    [
      '/apis/apps/v1/namespaces/shop/deployments',
      { resource: 'deployments.apps', namespace: 'shop' }
    ],
    [
      '/apis/rbac.authorization.k8s.io/v1/clusterroles/x',
      { resource: 'clusterroles.rbac.authorization.k8s.io', name: 'x' }
    ],
    ['/api/v1/namespaces/kit-system', { resource: 'namespaces', name: 'kit-system' }]
  ])('%s is %j', (path, expected) => {
    expect(resourceOfPath(path)).toEqual(expected)
  })
})
