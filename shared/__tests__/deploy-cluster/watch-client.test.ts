/**
 * The client's watch streams over real HTTP, against a small local server speaking the API's
 * watch protocol (one JSON object per line, chunked at arbitrary places): what is asked, events
 * in order, the stream's ends (the server, the caller, the deadline, a cut connection), error
 * answers, and `follow` opening the stream again from the last version seen, or from now after
 * 410 Gone. The request counter counts each stream once, as WATCH.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { KubeConfig } from '@kubernetes/client-node'
import { createClusterClient } from '../../src/k8s/client/client.js'
import { follow } from '../../src/k8s/follow.js'
import { KubeApiError, type WatchEvent } from '../../src/k8s/types.js'

/** What the server does with the next watch request. */
type Script = (req: IncomingMessage, res: ServerResponse) => void
const scripts: Script[] = []
const asked: URL[] = []
let server: Server
let base: string

beforeAll(async () => {
  server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x')
    if (url.pathname === '/api/v1') {
      res.writeHead(200, { 'content-type': 'application/json' })
      return res.end(
        JSON.stringify({ resources: [{ name: 'pods', namespaced: true, kind: 'Pod' }] })
      )
    }
    asked.push(url)
    const next = scripts.shift()
    if (next) return next(req, res)
    res.writeHead(500)
    res.end('no script')
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})
afterAll(async () => {
  server.closeAllConnections()
  await new Promise((resolve) => server.close(resolve))
})

function client(options: Parameters<typeof createClusterClient>[2] = {}) {
  const kc = new KubeConfig()
  kc.loadFromOptions({
    clusters: [{ name: 'stub', server: base, skipTLSVerify: true }],
    users: [{ name: 'u', token: 'watch-token-0123456789' }],
    contexts: [{ name: 'stub', cluster: 'stub', user: 'u' }],
    currentContext: 'stub'
  })
  return createClusterClient('stub', kc, { retry: { baseDelayMs: 5, maxDelayMs: 20 }, ...options })
}

const podEvent = (type: WatchEvent['type'], name: string, rv: string): string =>
  JSON.stringify({
    type,
    object: {
      kind: 'Pod',
      apiVersion: 'v1',
      metadata: { name, namespace: 'shop', resourceVersion: rv }
    }
  }) + '\n'

/** Streams `text` in pieces of `size` characters, a tick apart; then ends (or stays open). */
function streamText(
  text: string,
  o: { size?: number; keepOpen?: boolean; cut?: boolean } = {}
): Script {
  return (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' })
    const size = o.size ?? text.length
    let i = 0
    const next = () => {
      if (i < text.length) {
        res.write(text.slice(i, (i += size)))
        setTimeout(next, 2)
      } else if (o.cut) res.socket?.destroy()
      else if (!o.keepOpen) res.end()
    }
    next()
  }
}

/** `work`, or a failure naming what did not happen within `ms`. */
function within<T>(ms: number, what: string, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`not within ${ms} ms: ${what}`)), ms)
  })
  return Promise.race([work, late]).finally(() => clearTimeout(timer))
}

async function collect(stream: AsyncIterable<WatchEvent>): Promise<string[]> {
  const out: string[] = []
  for await (const e of stream)
    out.push(`${e.type} ${e.object.metadata.name}@${e.object.metadata.resourceVersion}`)
  return out
}

describe('watch streams of the cluster client', () => {
  it('asks for a watch with bookmarks and the selection, and yields the events in order however the lines are cut', async () => {
    asked.length = 0
    const counted: string[] = []
    const c = client({ onRequest: (method, path) => counted.push(`${method} ${path}`) })
    scripts.push(
      streamText(
        podEvent('ADDED', 'web-1', '5') +
          podEvent('MODIFIED', 'web-1', '6') +
          podEvent('BOOKMARK', '', '9'),
        { size: 7 }
      )
    )
    const events = await collect(
      await c.watch!('v1', 'Pod', {
        namespace: 'shop',
        labelSelector: 'app=web',
        resourceVersion: '4',
        timeoutSeconds: 70
      })
    )
    expect(events).toEqual(['ADDED web-1@5', 'MODIFIED web-1@6', 'BOOKMARK @9'])
    expect(asked[0].pathname).toBe('/api/v1/namespaces/shop/pods')
    expect(Object.fromEntries(asked[0].searchParams)).toEqual({
      watch: '1',
      allowWatchBookmarks: 'true',
      labelSelector: 'app=web',
      resourceVersion: '4',
      timeoutSeconds: '70'
    })
    // Discovery of v1 is a table entry (no request); the stream is one request, counted as WATCH.
    expect(counted).toEqual(['WATCH /api/v1/namespaces/shop/pods'])
    await c.close()
  })

  it('ends quietly when the caller ends it or the deadline passes, and throws when the connection is cut', async () => {
    const c = client()
    scripts.push(streamText(podEvent('ADDED', 'web-1', '5'), { keepOpen: true }))
    const stop = new AbortController()
    const stream = await c.watch!('v1', 'Pod', { namespace: 'shop', signal: stop.signal })
    const got: string[] = []
    for await (const e of stream) {
      got.push(e.object.metadata.name)
      stop.abort()
    }
    expect(got).toEqual(['web-1'])

    const bounded = client({ deadline: { at: () => Date.now() + 300, what: 'the test deadline' } })
    scripts.push(streamText(podEvent('ADDED', 'web-2', '5'), { keepOpen: true }))
    const started = Date.now()
    expect(await collect(await bounded.watch!('v1', 'Pod', { namespace: 'shop' }))).toEqual([
      'ADDED web-2@5'
    ])
    expect(Date.now() - started).toBeLessThan(3_000)

    scripts.push(streamText(podEvent('ADDED', 'web-3', '5'), { cut: true }))
    const cut = await c.watch!('v1', 'Pod', { namespace: 'shop' })
    await expect(collect(cut)).rejects.toThrow()
    await Promise.all([c.close(), bounded.close()])
  })

  it('reports an error answer as the API error it is (410 Gone, 403 with what was refused)', async () => {
    const c = client()
    const status =
      (code: number, reason: string, message: string): Script =>
      (_req, res) => {
        res.writeHead(code, { 'content-type': 'application/json' })
        res.end(JSON.stringify({ kind: 'Status', code, reason, message }))
      }
    scripts.push(status(410, 'Expired', 'too old resource version: 4 (90)'))
    const gone = await c.watch!('v1', 'Pod', { namespace: 'shop', resourceVersion: '4' }).catch(
      (e: unknown) => e
    )
    expect(gone).toBeInstanceOf(KubeApiError)
    expect(gone).toMatchObject({ statusCode: 410, reason: 'Expired' })
    scripts.push(
      status(403, 'Forbidden', 'pods is forbidden: User "ci" cannot watch resource "pods"')
    )
    const refused = await c.watch!('v1', 'Pod', { namespace: 'shop' }).catch((e: unknown) => e)
    expect(refused).toMatchObject({ statusCode: 403 })
    expect((refused as Error).message).toContain('cannot watch resource "pods"')
    await c.close()
  })

  it('follows across the ends of streams: from the last version seen, and from now after 410 Gone', async () => {
    asked.length = 0
    const c = client()
    const gone =
      JSON.stringify({
        type: 'ERROR',
        object: {
          kind: 'Status',
          code: 410,
          reason: 'Expired',
          message: 'too old resource version'
        }
      }) + '\n'
    scripts.push(
      streamText(podEvent('ADDED', 'web-1', '5') + podEvent('BOOKMARK', '', '8')),
      streamText(gone),
      (_req, res) => {
        res.writeHead(410, { 'content-type': 'application/json' })
        res.end(JSON.stringify({ kind: 'Status', code: 410, reason: 'Expired', message: 'gone' }))
      },
      streamText(podEvent('ADDED', 'web-1', '12'), { keepOpen: true })
    )
    const stop = new AbortController()
    const seen: string[] = []
    const following = follow(c, {
      apiVersion: 'v1',
      kind: 'Pod',
      namespace: 'shop',
      until: stop.signal,
      backoff: { baseMs: 5, capMs: 10 },
      onEvent: (e) => {
        seen.push(`${e.type} ${e.object.metadata.name}@${e.object.metadata.resourceVersion}`)
        if (e.object.metadata.resourceVersion === '12') stop.abort()
      }
    })
    await following
    expect(seen).toEqual(['ADDED web-1@5', 'ADDED web-1@12'])
    expect(asked.map((u) => u.searchParams.get('resourceVersion'))).toEqual([null, '8', null, null])
    await c.close()
  })

  it('opens every stream at once on connections of their own, leaves the requests theirs, and closes them all', async () => {
    // More open streams than the requests' pool has connections (32): each must open at once,
    // and a read sent while they are all open must be answered at once, not queued behind them.
    const streams = 50
    const open = new Set<Socket>()
    const onConnection = (socket: Socket) => {
      open.add(socket)
      socket.on('close', () => open.delete(socket))
    }
    server.on('connection', onConnection)
    const watchSockets = new Set<unknown>()
    const held: Script = (req, res) => {
      if (new URL(req.url ?? '/', 'http://x').searchParams.get('watch') !== '1') {
        res.writeHead(200, { 'content-type': 'application/json' })
        return res.end(JSON.stringify({ kind: 'Pod', apiVersion: 'v1', metadata: { name: 'x' } }))
      }
      watchSockets.add(req.socket)
      res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' })
      res.write(podEvent('ADDED', `web-${watchSockets.size}`, '5'))
    }
    for (let i = 0; i <= streams; i++) scripts.push(held)
    // A short attempt timeout: a stream or read that waits for a connection fails the test soon.
    const c = client({ retry: { requestTimeoutMs: 3_000, attempts: 1, unreachableAttempts: 1 } })
    const stop = new AbortController()
    try {
      const started = Date.now()
      const opened = await within(
        2_500,
        `${streams} streams open`,
        Promise.all(
          Array.from({ length: streams }, (_, i) =>
            c.watch!('v1', 'Pod', { namespace: `ns-${i}`, signal: stop.signal })
          )
        )
      )
      const reading = opened.map(async (stream) => {
        for await (const e of stream) void e
      })
      expect(watchSockets.size).toBe(streams)
      const pod = await within(
        2_500,
        'a read while they are open',
        c.get({ apiVersion: 'v1', kind: 'Pod', name: 'x', namespace: 'shop' })
      )
      expect(pod?.metadata.name).toBe('x')
      expect(Date.now() - started).toBeLessThan(2_500)
      expect(open.size).toBeGreaterThan(streams)

      // close() ends the streams' connections too, not only the requests'.
      await c.close()
      await within(2_000, 'the streams end on close()', Promise.allSettled(reading))
      const closed = Date.now()
      while (open.size > 0 && Date.now() - closed < 2_000)
        await new Promise((resolve) => setTimeout(resolve, 20))
      expect(open.size).toBe(0)
    } finally {
      stop.abort()
      server.off('connection', onConnection)
      scripts.length = 0
      await c.close()
    }
  })
})
