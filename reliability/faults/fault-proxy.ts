/**
 * A fault-injecting HTTPS proxy in front of one real kube-apiserver. It terminates TLS with the
 * API server's own serving certificate (valid for 127.0.0.1, signed by the CA every kubeconfig
 * of the set already trusts), so pointing a kubeconfig at the proxy means changing its port and
 * nothing else. Each request is forwarded with its own headers (the client's bearer token
 * included), unless the fault plan says otherwise:
 *
 * - `http-500` / `http-503`: a Kubernetes Status body with that code, never forwarded;
 * - `http-429`: TooManyRequests with `Retry-After`, never forwarded;
 * - `reset`: the TCP connection is reset (RST) before the request is forwarded;
 * - `response-lost`: the request IS forwarded and processed, then the connection is reset
 *   before the reply reaches the client (did my write happen? the client cannot know);
 * - latency: the request is held for `latencyMs` before anything else happens.
 *
 * Which request gets which fault is decided by a hash of (seed, method, URL, how many times that
 * method+URL was seen), not by call order: the concurrent requests of a deploy can arrive in
 * any order and still meet the same faults, and a retry (the next occurrence) gets a fresh draw.
 */
import { createHash } from 'node:crypto'
import { Agent, createServer, request, type Server } from 'node:https'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'

/** A fault that fails the request (latency is separate: it only slows it down). */
export type FailureKind = 'http-500' | 'http-503' | 'http-429' | 'reset' | 'response-lost'

export const failureKinds: readonly FailureKind[] = [
  'http-500',
  'http-503',
  'http-429',
  'reset',
  'response-lost'
]

export interface FaultPlan {
  /** Fraction of eligible requests that fail, 0..1. */
  readonly failureRate: number
  /** The failures to choose from (evenly, by hash). */
  readonly kinds: readonly FailureKind[]
  /** Fraction of eligible requests held for `latencyMs` first (independent of failures). */
  readonly latencyRate?: number
  readonly latencyMs?: number
  /** Retry-After seconds on a 429 (default 1). */
  readonly retryAfterSeconds?: number
  /** Salt of the hash that picks the faulted requests. */
  readonly seed: string
  /** Only these requests are eligible for faults (default: all). */
  readonly match?: (method: string, url: string) => boolean
  /** Stop injecting failures after this many (default: no limit). */
  readonly maxFailures?: number
  /**
   * `hash` (default): the kind is drawn per request like the failure itself. `rotate`: the
   * failed requests take the kinds in turn, so every kind is met at least once in a deploy.
   */
  readonly kindOrder?: 'hash' | 'rotate'
}

/** No faults: a transparent proxy. */
export const noFaults: FaultPlan = { failureRate: 0, kinds: [], seed: 'none' }

/** What the plan does to one request (pure, so it is table-testable). */
export interface FaultDecision {
  readonly failure?: FailureKind
  readonly delayMs: number
}

/** A number in [0, 1) from a hash of the parts: the same parts always give the same number. */
export function draw(...parts: (string | number)[]): number {
  const digest = createHash('sha256').update(parts.join('\u0000')).digest()
  return digest.readUInt32BE(0) / 2 ** 32
}

/** Decides the fault for the `occurrence`-th (1-based) request with this method and URL. */
export function decideFault(
  plan: FaultPlan,
  method: string,
  url: string,
  occurrence: number
): FaultDecision {
  if (plan.match && !plan.match(method, url)) return { delayMs: 0 }
  const delayMs =
    (plan.latencyRate ?? 0) > 0 &&
    draw(plan.seed, 'latency', method, url, occurrence) < (plan.latencyRate ?? 0)
      ? (plan.latencyMs ?? 0)
      : 0
  if (plan.kinds.length === 0 || plan.failureRate <= 0) return { delayMs }
  if (draw(plan.seed, 'fail', method, url, occurrence) >= plan.failureRate) return { delayMs }
  const pick = Math.floor(draw(plan.seed, 'kind', method, url, occurrence) * plan.kinds.length)
  return { failure: plan.kinds[Math.min(pick, plan.kinds.length - 1)], delayMs }
}

/**
 * The kind the n-th (0-based) injected failure takes when kinds rotate: a handful of failures
 * already covers every kind, where a hash could leave one out.
 */
export function rotatingKind(plan: FaultPlan, n: number): FailureKind | undefined {
  return plan.kinds.length ? plan.kinds[n % plan.kinds.length] : undefined
}

/** One request as the proxy saw it. */
export interface ProxyLogEntry {
  readonly at: number
  readonly method: string
  readonly url: string
  readonly occurrence: number
  readonly failure?: FailureKind
  readonly delayMs: number
  /** Whether the real API server received it. */
  readonly forwarded: boolean
  /** The real API server's status code (forwarded requests), or the injected one. */
  readonly status?: number
}

export interface ProxyStats {
  readonly requests: number
  readonly forwarded: number
  readonly failures: number
  readonly byKind: Readonly<Record<FailureKind, number>>
  readonly delayed: number
  /** Failed requests the client sent again (same method and URL, later). */
  readonly retried: number
  /** Failed requests the client never sent again. */
  readonly notRetried: readonly string[]
}

export interface FaultProxy {
  /** https://127.0.0.1:<port> */
  readonly url: string
  readonly port: number
  /** Replaces the plan and starts counting occurrences afresh. */
  setPlan(plan: FaultPlan): void
  /** Every request since the last clearLog/setPlan. */
  readonly log: readonly ProxyLogEntry[]
  clearLog(): void
  stats(): ProxyStats
  close(): Promise<void>
}

/** Summarises a request log (pure). */
export function summarize(log: readonly ProxyLogEntry[]): ProxyStats {
  const byKind = Object.fromEntries(failureKinds.map((k) => [k, 0])) as Record<FailureKind, number>
  let retried = 0
  const notRetried: string[] = []
  for (const [i, e] of log.entries()) {
    if (!e.failure) continue
    byKind[e.failure]++
    const again = log.slice(i + 1).some((l) => l.method === e.method && l.url === e.url)
    if (again) retried++
    else notRetried.push(`${e.failure} on ${e.method} ${e.url}`)
  }
  return {
    requests: log.length,
    forwarded: log.filter((e) => e.forwarded).length,
    failures: log.filter((e) => e.failure).length,
    byKind,
    delayed: log.filter((e) => e.delayMs > 0).length,
    retried,
    notRetried
  }
}

/** The body a real API server sends with an error status. */
function statusBody(code: number): string {
  const reason =
    code === 429 ? 'TooManyRequests' : code === 503 ? 'ServiceUnavailable' : 'InternalError'
  const text =
    code === 429
      ? 'Too many requests, please try again later'
      : code === 503
        ? 'the server is currently unable to handle the request'
        : 'an error on the server has prevented the request from succeeding'
  return JSON.stringify({
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: `${text} (injected by the fault proxy)`,
    reason,
    code
  })
}

const hopByHop = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'te',
  'trailer'
])

function forwardableHeaders(
  headers: IncomingMessage['headers'],
  host?: string
): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {}
  for (const [k, v] of Object.entries(headers))
    if (v !== undefined && !hopByHop.has(k.toLowerCase())) out[k] = v
  if (host) out.host = host
  return out
}

/**
 * Resets the client's connection (TCP RST, the client sees ECONNRESET). A TLS socket's own
 * handle cannot send a reset: the TCP socket underneath it (Node keeps it as `_parent`) can.
 */
function resetConnection(socket: Socket): void {
  const tcp = (socket as Socket & { _parent?: Socket })._parent ?? socket
  try {
    tcp.resetAndDestroy()
  } catch {
    socket.destroy()
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms))
}

/** Starts the proxy on a free loopback port in front of `upstream` (an API server URL). */
export async function startFaultProxy(options: {
  upstream: string
  /** PEM bundle the upstream's certificate chains to (the cluster's CA). */
  ca: Buffer
  /** The certificate chain and key the proxy serves (the API server's own, for 127.0.0.1). */
  cert: Buffer
  key: Buffer
  plan?: FaultPlan
}): Promise<FaultProxy> {
  const upstream = new URL(options.upstream)
  const agent = new Agent({ keepAlive: true, ca: options.ca, maxSockets: 64 })
  let plan = options.plan ?? noFaults
  let occurrences = new Map<string, number>()
  let failuresInjected = 0
  let log: ProxyLogEntry[] = []
  const sockets = new Set<Socket>()

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const method = req.method ?? 'GET'
    const url = req.url ?? '/'
    const key = `${method} ${url}`
    const occurrence = (occurrences.get(key) ?? 0) + 1
    occurrences.set(key, occurrence)
    const chunks: Buffer[] = []
    for await (const chunk of req) chunks.push(chunk as Buffer)
    const body = Buffer.concat(chunks)

    let decision = decideFault(plan, method, url, occurrence)
    if (decision.failure && plan.maxFailures !== undefined && failuresInjected >= plan.maxFailures)
      decision = { delayMs: decision.delayMs }
    if (decision.failure && plan.kindOrder === 'rotate')
      decision = { ...decision, failure: rotatingKind(plan, failuresInjected) }
    if (decision.failure) failuresInjected++
    const entry = { at: Date.now(), method, url, occurrence, delayMs: decision.delayMs }
    if (decision.delayMs > 0) await sleep(decision.delayMs)

    const failure = decision.failure
    if (failure === 'http-500' || failure === 'http-503' || failure === 'http-429') {
      const code = Number(failure.slice(5))
      log.push({ ...entry, failure, forwarded: false, status: code })
      res.writeHead(code, {
        'content-type': 'application/json',
        ...(code === 429 ? { 'retry-after': String(plan.retryAfterSeconds ?? 1) } : {})
      })
      res.end(statusBody(code))
      return
    }
    if (failure === 'reset') {
      log.push({ ...entry, failure, forwarded: false })
      resetConnection(req.socket)
      return
    }

    const upstreamReq = request(
      {
        protocol: upstream.protocol,
        hostname: upstream.hostname,
        port: upstream.port,
        method,
        path: url,
        headers: forwardableHeaders(req.headers, upstream.host),
        agent
      },
      (upRes) => {
        log.push({ ...entry, failure, forwarded: true, status: upRes.statusCode })
        if (failure === 'response-lost') {
          // Processed upstream; the client never hears about it.
          upRes.resume()
          resetConnection(req.socket)
          return
        }
        res.writeHead(upRes.statusCode ?? 502, forwardableHeaders(upRes.headers))
        upRes.pipe(res)
      }
    )
    upstreamReq.on('error', (err) => {
      // The real API server is down or reset us: the client sees what it would see directly.
      log.push({ ...entry, failure, forwarded: false, status: 0 })
      void err
      resetConnection(req.socket)
    })
    upstreamReq.end(body)
  }

  const server: Server = createServer({ cert: options.cert, key: options.key }, (req, res) => {
    handle(req, res).catch(() => req.socket.destroy())
  })
  server.on('connection', (s: Socket) => {
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
  })
  // A reset socket can surface as a TLS error on the server side; it is the point, not a crash.
  server.on('tlsClientError', () => undefined)
  server.on('clientError', (_err, socket) => socket.destroy())

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    // Port 0: the kernel picks a free one from the ephemeral range (above 32767 here).
    server.listen(0, '127.0.0.1', () => resolve())
  })
  const port = (server.address() as AddressInfo).port

  return {
    url: `https://127.0.0.1:${port}`,
    port,
    setPlan(next) {
      plan = next
      occurrences = new Map()
      failuresInjected = 0
      log = []
    },
    get log() {
      return log
    },
    clearLog() {
      log = []
    },
    stats: () => summarize(log),
    async close() {
      for (const s of sockets) s.destroy()
      agent.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
  }
}
