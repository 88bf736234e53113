/**
 * The client-node adapter against a small local HTTP API server: request shape of server-side
 * apply, retries of transient failures (429 with Retry-After, 5xx, connection resets), final
 * errors, and an unreachable cluster.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { KubeConfig } from '@kubernetes/client-node'
import { createClusterClient } from '../../src/k8s/client/client.js'
import { ClusterUnreachableError, KubeApiError } from '../../src/k8s/types.js'
import { Redactor } from '../../src/secrets/redact.js'

type Handler = (req: IncomingMessage, body: string, res: ServerResponse) => void
const requests: {
  method: string
  url: string
  headers: IncomingMessage['headers']
  body: string
}[] = []
const scripts = new Map<string, Handler[]>()
let server: Server
let port: number

const json = (
  res: ServerResponse,
  code: number,
  body: unknown,
  headers: Record<string, string> = {}
) => {
  res.writeHead(code, { 'content-type': 'application/json', ...headers })
  res.end(JSON.stringify(body))
}
const status = (code: number, reason: string, message: string, causes: unknown[] = []) => ({
  kind: 'Status',
  apiVersion: 'v1',
  status: 'Failure',
  code,
  reason,
  message,
  details: { causes }
})

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = ''
    req.on('data', (c: Buffer) => (body += c.toString()))
    req.on('end', () => {
      requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body })
      const path = (req.url ?? '').split('?')[0]
      if (path === '/api/v1')
        return json(res, 200, {
          kind: 'APIResourceList',
          groupVersion: 'v1',
          resources: [{ name: 'configmaps', namespaced: true, kind: 'ConfigMap', verbs: [] }]
        })
      if (path === '/apis/example.com/v1')
        return json(res, 200, {
          kind: 'APIResourceList',
          groupVersion: 'example.com/v1',
          resources: [{ name: 'widgets', namespaced: true, kind: 'Widget', verbs: [] }]
        })
      const next = scripts.get(`${req.method} ${path}`)?.shift()
      if (next) return next(req, body, res)
      json(res, 404, status(404, 'NotFound', `configmaps "${path.split('/').pop()}" not found`))
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  port = (server.address() as AddressInfo).port
})
afterAll(async () => {
  server.closeAllConnections()
  await new Promise((resolve) => server.close(resolve))
})

function kubeConfig(serverUrl: string, token = 'test-token-0123456789'): KubeConfig {
  const kc = new KubeConfig()
  kc.loadFromOptions({
    clusters: [{ name: 'stub', server: serverUrl, skipTLSVerify: true }],
    users: [{ name: 'u', token }],
    contexts: [{ name: 'stub', cluster: 'stub', user: 'u', namespace: 'team' }],
    currentContext: 'stub'
  })
  return kc
}

const fast = { baseDelayMs: 5, maxDelayMs: 50 }
const cm = {
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name: 'a', namespace: 'default' },
  data: { k: 'v' }
}

describe('createClusterClient', () => {
  it('sends server-side apply as kit with force, keeps unknown fields, and registers the token', async () => {
    scripts.set('PATCH /api/v1/namespaces/default/configmaps/a', [
      (_req, body, res) => json(res, 200, JSON.parse(body))
    ])
    const redactor = new Redactor()
    const client = createClusterClient('stub', kubeConfig(`http://127.0.0.1:${port}`), {
      redactor,
      retry: fast
    })
    const result = await client.apply({ ...cm, unknownField: 1 } as typeof cm)
    const req = requests.at(-1)
    expect(req?.method).toBe('PATCH')
    expect(req?.url).toContain('fieldManager=kit')
    expect(req?.url).toContain('force=true')
    expect(req?.url).toContain('fieldValidation=Strict')
    expect(req?.headers['content-type']).toBe('application/apply-patch+yaml')
    expect(JSON.parse(req?.body ?? '{}')).toMatchObject({ unknownField: 1, data: { k: 'v' } })
    expect(result).toMatchObject({ unknownField: 1 })
    expect(client.defaultNamespace).toBe('team')
    expect(redactor.scrub('Bearer test-token-0123456789')).toBe('Bearer ***')
  })

  it('retries 429 (after Retry-After) and 503, then succeeds', async () => {
    scripts.set('GET /api/v1/namespaces/default/configmaps/a', [
      (_q, _b, res) =>
        json(res, 429, status(429, 'TooManyRequests', 'slow down'), { 'retry-after': '0' }),
      (_q, _b, res) => json(res, 503, status(503, 'ServiceUnavailable', 'etcd leader change')),
      (_q, _b, res) => json(res, 200, cm)
    ])
    const retries: number[] = []
    const client = createClusterClient('stub', kubeConfig(`http://127.0.0.1:${port}`), {
      retry: fast,
      onRetry: (_what, attempt) => retries.push(attempt)
    })
    expect(
      await client.get({ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'default', name: 'a' })
    ).toMatchObject(cm)
    expect(retries).toEqual([1, 2])
  })

  it('retries a connection reset of an idempotent request', async () => {
    scripts.set('GET /api/v1/namespaces/default/configmaps/reset', [
      (req) => req.socket.destroy(),
      (_q, _b, res) => json(res, 200, { ...cm, metadata: { name: 'reset' } })
    ])
    const client = createClusterClient('stub', kubeConfig(`http://127.0.0.1:${port}`), {
      retry: fast
    })
    const got = await client.get({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      namespace: 'default',
      name: 'reset'
    })
    expect(got?.metadata.name).toBe('reset')
  })

  it('retries a reset create only when the caller handles the 409 a repeat may get', async () => {
    const createPath = 'POST /api/v1/namespaces/default/configmaps'
    const client = createClusterClient('stub', kubeConfig(`http://127.0.0.1:${port}`), {
      retry: fast
    })
    // Not opted in: the create may have landed, so a reset is final (reported, not repeated).
    scripts.set(createPath, [
      (req) => req.socket.destroy(),
      (_q, body, res) => json(res, 201, JSON.parse(body))
    ])
    const err = await client.create(cm).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ClusterUnreachableError)
    expect(scripts.get(createPath)).toHaveLength(1)
    // Opted in: the same reset is retried, and the second attempt creates it.
    scripts.set(createPath, [
      (req) => req.socket.destroy(),
      (_q, body, res) => json(res, 201, JSON.parse(body))
    ])
    const created = await client.create(cm, { retryInterrupted: true })
    expect(created.metadata.name).toBe('a')
    expect(scripts.get(createPath)).toHaveLength(0)
  })

  it('gives up after the attempt limit on a persistent 500 with the server message', async () => {
    scripts.set(
      'GET /api/v1/namespaces/default/configmaps/broken',
      Array.from(
        { length: 3 },
        () => (_q: IncomingMessage, _b: string, res: ServerResponse) =>
          json(res, 500, status(500, 'InternalError', 'storage is sad'))
      )
    )
    const client = createClusterClient('stub', kubeConfig(`http://127.0.0.1:${port}`), {
      retry: { ...fast, attempts: 3 }
    })
    const err = await client
      .get({ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'default', name: 'broken' })
      .catch((e: unknown) => e)
    expect(err).toBeInstanceOf(KubeApiError)
    expect(err).toMatchObject({ statusCode: 500, message: 'storage is sad' })
    expect(scripts.get('GET /api/v1/namespaces/default/configmaps/broken')).toHaveLength(0)
  })

  it('does not retry a 422 and exposes the field causes', async () => {
    const before = requests.length
    scripts.set('PATCH /api/v1/namespaces/default/configmaps/a', [
      (_q, _b, res) =>
        json(
          res,
          422,
          status(422, 'Invalid', 'ConfigMap "a" is invalid: data: immutable', [
            { field: 'data', message: 'field is immutable' }
          ])
        )
    ])
    const client = createClusterClient('stub', kubeConfig(`http://127.0.0.1:${port}`), {
      retry: fast
    })
    const err = await client.apply(cm).catch((e: unknown) => e)
    expect(err).toMatchObject({
      statusCode: 422,
      reason: 'Invalid',
      causes: [{ field: 'data', message: 'field is immutable' }]
    })
    expect(requests.slice(before).filter((r) => r.method === 'PATCH')).toHaveLength(1)
  })

  it('returns undefined for a 404 get and false for deleting what is gone', async () => {
    const client = createClusterClient('stub', kubeConfig(`http://127.0.0.1:${port}`), {
      retry: fast
    })
    expect(
      await client.get({ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'default', name: 'nope' })
    ).toBeUndefined()
    expect(
      await client.delete({
        apiVersion: 'v1',
        kind: 'ConfigMap',
        namespace: 'default',
        name: 'nope'
      })
    ).toBe(false)
  })

  it('reports an unknown kind as such, not as a missing object', async () => {
    const client = createClusterClient('stub', kubeConfig(`http://127.0.0.1:${port}`), {
      retry: fast
    })
    await expect(client.get({ apiVersion: 'v1', kind: 'Widget', name: 'w' })).rejects.toMatchObject(
      { reason: 'UnknownKind' }
    )
  })

  it('reports a refused connection as unreachable after a few attempts', async () => {
    const closed = createServer()
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve))
    const deadPort = (closed.address() as AddressInfo).port
    await new Promise((resolve) => closed.close(resolve))
    const retries: number[] = []
    const client = createClusterClient('dead', kubeConfig(`http://127.0.0.1:${deadPort}`), {
      retry: fast,
      onRetry: (_w, attempt) => retries.push(attempt)
    })
    const err = await client
      .get({ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'default', name: 'a' })
      .catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ClusterUnreachableError)
    // The code and the address: a refused port, not a bad host name or a firewall.
    expect((err as Error).message).toBe(
      `cluster "dead" is unreachable (ECONNREFUSED 127.0.0.1:${deadPort}) after 3 attempts`
    )
    expect(retries).toEqual([1, 2])
  })

  it('reports a server that never answers as timed out, naming the address', async () => {
    scripts.set('GET /api/v1/namespaces/default/configmaps/silent', [() => {}, () => {}])
    const client = createClusterClient('slow', kubeConfig(`http://127.0.0.1:${port}`), {
      retry: { ...fast, attempts: 2, requestTimeoutMs: 300 }
    })
    const err = await client
      .get({ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'default', name: 'silent' })
      .catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ClusterUnreachableError)
    expect((err as Error).message).toBe(
      `cluster "slow" is unreachable (request timed out after 300 ms (127.0.0.1:${port})) after 2 attempts`
    )
  })

  it("stops a request in flight when the run's signal aborts, with its reason and no retry", async () => {
    scripts.set('GET /api/v1/namespaces/default/configmaps/stalled', [() => {}, () => {}])
    const run = new AbortController()
    const retries: number[] = []
    const client = createClusterClient('stub', kubeConfig(`http://127.0.0.1:${port}`), {
      retry: { ...fast, attempts: 2, requestTimeoutMs: 60_000 },
      signal: run.signal,
      onRetry: (_w, attempt) => retries.push(attempt)
    })
    const started = Date.now()
    const pending = client
      .get({ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'default', name: 'stalled' })
      .catch((e: unknown) => e)
    setTimeout(() => run.abort(new Error('the run was cancelled')), 100)
    const err = await pending
    expect((err as Error).message).toBe('the run was cancelled')
    expect(retries).toEqual([])
    // Well before the request's own 60 s timeout.
    expect(Date.now() - started).toBeLessThan(10_000)
  })

  it('times out a request that is still waiting for one of the pool’s connections on time', async () => {
    // 32 requests the server never answers hold every connection of the requests' pool; a
    // request with 300 ms left waits for a connection behind them and must end after its 300 ms.
    scripts.set(
      'GET /api/v1/namespaces/default/configmaps/busy',
      Array.from({ length: 32 }, () => () => {})
    )
    const run = new AbortController()
    const client = createClusterClient('stub', kubeConfig(`http://127.0.0.1:${port}`), {
      retry: { ...fast, attempts: 1, requestTimeoutMs: 60_000 },
      signal: run.signal
    })
    const busy = Array.from({ length: 32 }, () =>
      client
        .get({ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'default', name: 'busy' })
        .catch(() => undefined)
    )
    // Frees the pool after 3 s, so a request that waits for it ends (late) rather than hangs.
    const freeing = setTimeout(() => run.abort(new Error('done')), 3_000)
    try {
      const started = Date.now()
      const err = await client.detached!(Date.now() + 300)
        .get({ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'default', name: 'late' })
        .catch((e: unknown) => e)
      expect(err).toBeInstanceOf(ClusterUnreachableError)
      expect((err as Error).message).toMatch(
        /^the time for rolling back and cleaning up was reached/
      )
      expect(Date.now() - started).toBeLessThan(2_000)
    } finally {
      clearTimeout(freeing)
      run.abort(new Error('done'))
      await Promise.all(busy)
      scripts.delete('GET /api/v1/namespaces/default/configmaps/busy')
      await client.close()
    }
  })

  it('reads a discovery document once however many requests need it at once', async () => {
    const client = createClusterClient('stub', kubeConfig(`http://127.0.0.1:${port}`), {
      retry: fast
    })
    const before = requests.length
    await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        client.get({
          apiVersion: 'example.com/v1',
          kind: 'Widget',
          namespace: 'default',
          name: `w${i}`
        })
      )
    )
    const seen = requests.slice(before).map((r) => r.url.split('?')[0])
    expect(seen.filter((u) => u === '/apis/example.com/v1')).toHaveLength(1)
    expect(
      seen.filter((u) => u.startsWith('/apis/example.com/v1/namespaces/default/widgets/'))
    ).toHaveLength(10)
  })

  it('knows where stable built-in kinds live without asking discovery', async () => {
    const client = createClusterClient('stub', kubeConfig(`http://127.0.0.1:${port}`), {
      retry: fast
    })
    const before = requests.length
    await client.get({ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'default', name: 'c' })
    await client.get({ apiVersion: 'v1', kind: 'Namespace', name: 'team-a' })
    await client.get({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', name: 'l' })
    expect(requests.slice(before).map((r) => r.url.split('?')[0])).toEqual([
      '/api/v1/namespaces/default/configmaps/c',
      '/api/v1/namespaces/team-a',
      // No namespace given: the context's.
      '/apis/coordination.k8s.io/v1/namespaces/team/leases/l'
    ])
    // A kind the table does not hold is still looked up.
    await client
      .get({ apiVersion: 'v1', kind: 'Gadget', namespace: 'default', name: 'g' })
      .catch(() => undefined)
    expect(requests.at(-1)?.url.split('?')[0]).toBe('/api/v1')
  })

  it('sends delete preconditions, so only that very object is deleted', async () => {
    scripts.set('DELETE /api/v1/namespaces/default/configmaps/guarded', [
      (_q, _b, res) =>
        json(
          res,
          409,
          status(
            409,
            'Conflict',
            'Precondition failed: UID in precondition: u1, UID in object meta: u2'
          )
        )
    ])
    const client = createClusterClient('stub', kubeConfig(`http://127.0.0.1:${port}`), {
      retry: fast
    })
    const err = await client
      .delete(
        { apiVersion: 'v1', kind: 'ConfigMap', namespace: 'default', name: 'guarded' },
        { preconditions: { uid: 'u1', resourceVersion: '7' } }
      )
      .catch((e: unknown) => e)
    expect(err).toMatchObject({ statusCode: 409 })
    expect(JSON.parse(requests.at(-1)?.body ?? '{}')).toMatchObject({
      kind: 'DeleteOptions',
      preconditions: { uid: 'u1', resourceVersion: '7' }
    })
  })
})
