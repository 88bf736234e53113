/**
 * The ClusterClient over @kubernetes/client-node 2. It reuses client-node for what it does
 * well — reading a kubeconfig: TLS material, tokens, client certificates, exec plugins,
 * proxies — but sends and receives plain JSON itself over one keep-alive node:https pool per
 * cluster (and a second one for watch streams, see buildTransport), with discovery of its own.
 * The generated model (de)serialisers silently drop fields
 * they do not know (a typo in a manifest would vanish instead of being rejected) and turn
 * timestamps into Dates; and client-node's fetch path costs several times the CPU per request
 * of a plain https request, which on a busy runner is what a deploy of many objects waits for.
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http'
import {
  Agent as HttpsAgent,
  request as httpsRequest,
  type RequestOptions as HttpsRequestOptions
} from 'node:https'
import { createSecureContext, type SecureContext } from 'node:tls'
import type { KubeConfig } from '@kubernetes/client-node'
import type { Redactor } from '../../secrets/redact.js'
import { builtinResource } from './builtin-resources.js'
import { contextNamespaceOf } from '../namespace.js'
import {
  ClusterUnreachableError,
  KubeApiError,
  type ClusterClient,
  type Deadline,
  type KubeEvent,
  type KubeObject,
  type ListOptions,
  type DeletePreconditions,
  type ObjectRef,
  type PropagationPolicy,
  type WatchEvent,
  type WatchRequest
} from '../types.js'
import {
  classifyFailure,
  defaultRetry,
  describeNetworkError,
  parseRetryAfter,
  retryDelay,
  type RetryOptions
} from './retry.js'
import {
  connectionFacts,
  describeForbidden,
  describeIgnoredCredential,
  describeStall,
  describeTlsFailure,
  describeUnauthorized,
  isIgnoredCredential,
  isTimeout,
  seconds,
  type ConnectionFacts
} from './failures.js'

export type { RetryOptions } from './retry.js'

/** The field manager of every write kit makes. */
export const fieldManager = 'kit'

export interface ClusterClientOptions {
  readonly retry?: RetryOptions
  /** Aborts every request and backoff sleep (the cluster's deploy was cancelled). */
  readonly signal?: AbortSignal
  /**
   * When the cluster's time is up: no attempt runs past it (an attempt's timeout is cut to the
   * time left) and no retry is scheduled beyond it. The error then names the deadline and what
   * the requests were waiting for.
   */
  readonly deadline?: Deadline
  /** Bearer tokens obtained at request time (exec plugins) are registered here. */
  readonly redactor?: Redactor
  /** Called before each retry, for debug logs. */
  readonly onRetry?: (what: string, attempt: number, delayMs: number, err: unknown) => void
  /**
   * One line for each slow retry (the failed attempt and the pause before the next one last
   * `retry.slowRetryMs` or more together): what failed and when the next attempt is. Shown
   * without any debug switch, so a cluster that does not answer is never silent.
   */
  readonly progress?: (message: string) => void
  /**
   * Called for every HTTP request sent (retries and discovery included): benchmarks count them.
   * The method of a watch stream's GET is `WATCH`.
   */
  readonly onRequest?: (method: string, path: string) => void
}

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'

/** One resource of a discovery document (the part kit uses). */
interface DiscoveredResource {
  readonly name: string
  readonly kind: string
  readonly namespaced: boolean
}

/**
 * The requests of one cluster: JSON in, JSON out, reused connections, and discovery of
 * its own, one request per group/version even when many objects ask at once. It takes nothing
 * from client-node's generated API, so bundles leave that (most of client-node) out.
 */
class RawObjectApi {
  private transportReady: Promise<Transport> | undefined
  /** Where objects without a namespace go: the context's namespace, else "default" (kubectl's rule). */
  readonly defaultNamespace: string
  private readonly discovered = new Map<string, Promise<DiscoveredResource[]>>()
  /** Where exec-plugin tokens are registered (set by the client that owns this api). */
  redactor: Redactor | undefined
  /** Told of every request sent. */
  onRequest: ((method: string, path: string) => void) | undefined
  /** The kubeconfig's names for this cluster, for messages. */
  readonly facts: ConnectionFacts

  constructor(readonly kubeConfig: KubeConfig) {
    this.defaultNamespace = contextNamespaceOf(kubeConfig)
    this.facts = connectionFacts(kubeConfig)
  }

  /** The URL path of an object (or of its collection for create/list); discovery is cached. */
  async pathOf(
    ref: ObjectRef,
    action: 'create' | 'list' | 'read',
    signal?: AbortSignal
  ): Promise<string> {
    const resource = await this.discover(ref.apiVersion, ref.kind, signal)
    const parts = [this.apiVersionPath(ref.apiVersion)]
    const namespace = resource.namespaced
      ? ref.namespace || (action === 'list' ? undefined : this.defaultNamespace)
      : undefined
    if (namespace) parts.push('namespaces', encodeURIComponent(namespace))
    parts.push(resource.name)
    if (action !== 'create' && action !== 'list') {
      if (!ref.name) throw new Error(`${ref.kind} without a name`)
      parts.push(encodeURIComponent(ref.name))
    }
    return parts.join('/')
  }

  async namespaced(apiVersion: string, kind: string, signal?: AbortSignal): Promise<boolean> {
    return (await this.discover(apiVersion, kind, signal)).namespaced
  }

  /**
   * The resource of a kind: from the table of stable built-ins, or else from its group/version's
   * discovery document, fetched once and shared. A kind missing from a cached document is
   * looked up again once (its CRD may be newer than the document).
   */
  private async discover(
    apiVersion: string,
    kind: string,
    signal?: AbortSignal
  ): Promise<DiscoveredResource> {
    const builtin = builtinResource(apiVersion, kind)
    if (builtin) return builtin
    const find = (list: DiscoveredResource[]) =>
      list.find((r) => r.kind === kind && !r.name.includes('/'))
    const cached = this.discovered.get(apiVersion)
    if (cached) {
      const hit = await cached.then(find, () => undefined)
      if (hit) return hit
    }
    const fetched = this.fetchDiscovery(apiVersion, signal)
    this.discovered.set(apiVersion, fetched)
    // A failed fetch is not kept: the next object asks again.
    fetched.catch(() => {
      if (this.discovered.get(apiVersion) === fetched) this.discovered.delete(apiVersion)
    })
    const hit = find(await fetched)
    if (!hit) throw unknownKind({ apiVersion, kind })
    return hit
  }

  private async fetchDiscovery(
    apiVersion: string,
    signal: AbortSignal | undefined
  ): Promise<DiscoveredResource[]> {
    try {
      const doc = (await this.send('GET', this.apiVersionPath(apiVersion), {
        signal,
        redactor: this.redactor
      })) as { resources?: DiscoveredResource[] }
      return doc.resources ?? []
    } catch (err) {
      // The group/version is not served (yet): no kind of it is known.
      if (err instanceof KubeApiError && err.statusCode === 404) return []
      throw err
    }
  }

  /** The discovery path of a group/version: /api/v1 for the core group, /apis/<group>/<version> else. */
  private apiVersionPath(apiVersion: string): string {
    return apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`
  }

  resetDiscovery(): void {
    this.discovered.clear()
  }

  async send(
    method: Method,
    path: string,
    options: {
      query?: Record<string, string | undefined>
      body?: unknown
      contentType?: string
      signal?: AbortSignal
      redactor?: Redactor
    } = {}
  ): Promise<unknown> {
    const { transport, headers, fullPath } = await this.prepare(path, options)
    const body = options.body === undefined ? undefined : JSON.stringify(options.body)
    if (body !== undefined) {
      headers['Content-Type'] = options.contentType ?? 'application/json'
      headers['Content-Length'] = Buffer.byteLength(body)
    }
    this.onRequest?.(method, path)
    const response = await exchange(transport, {
      method,
      path: fullPath,
      headers,
      body,
      signal: options.signal
    })
    if (response.status >= 200 && response.status <= 299)
      return response.text ? JSON.parse(response.text) : {}
    throw this.failed(method, path, response.status, response.text, response.retryAfter)
  }

  /**
   * A watch stream on the collection at `path`: resolves once the server answers, with its
   * events as they arrive. `signal` bounds the opening (the attempt's timeout), `until` the
   * stream; a stream that `until` ends finishes quietly.
   */
  async stream(
    path: string,
    options: {
      query: Record<string, string | undefined>
      signal: AbortSignal
      until: AbortSignal
      redactor?: Redactor
    }
  ): Promise<AsyncIterable<WatchEvent>> {
    const { transport, headers, fullPath } = await this.prepare(path, options)
    this.onRequest?.('WATCH', path)
    const response = await openStream(transport, {
      path: fullPath,
      headers,
      signal: options.signal
    })
    if (response.statusCode === 200) return watchEvents(response, options.until)
    const text = await readAll(response)
    const retryAfter = response.headers['retry-after']
    throw this.failed('GET', path, response.statusCode ?? 0, text, [retryAfter].flat()[0])
  }

  /** The transport, the headers (authorization included) and the path with its query. */
  private async prepare(
    path: string,
    options: {
      query?: Record<string, string | undefined>
      signal?: AbortSignal
      redactor?: Redactor
    }
  ): Promise<{ transport: Transport; headers: Record<string, string | number>; fullPath: string }> {
    // An exec plugin runs while the transport is built (and, for plugins, on every request):
    // one that hangs must not outlast the attempt.
    const transport = await untilAborted(this.transport(), options.signal)
    const headers: Record<string, string | number> = {
      Accept: 'application/json',
      'User-Agent': 'kit-deployer',
      ...(transport.headers ?? (await untilAborted(authHeaders(this.kubeConfig), options.signal)))
    }
    const authorization = headers.Authorization
    if (typeof authorization === 'string' && options.redactor)
      options.redactor.add(authorization.replace(/^\S+\s+/, ''))
    const query = new URLSearchParams()
    for (const [k, v] of Object.entries(options.query ?? {})) if (v !== undefined) query.set(k, v)
    const search = query.size > 0 ? `?${query.toString()}` : ''
    return { transport, headers, fullPath: `${transport.basePath}${path}${search}` }
  }

  /** The error of an answer that is not a success. */
  private failed(
    method: Method,
    path: string,
    status: number,
    text: string,
    retryAfter: string | undefined
  ): KubeApiError {
    const err = apiError(status, text, retryAfter)
    if (err.statusCode === 403) err.message = describeForbidden(err, method, path, this.facts)
    return err
  }

  /**
   * The connection pools of this cluster, built once from the kubeconfig: TLS material and
   * keep-alive agents for requests and for watch streams (client-node's own agent, which
   * handles proxies, when the cluster has a proxy-url), plus the authorization headers when
   * they never change (a token or basic auth; exec plugins and auth providers are asked on
   * every request, they cache tokens).
   */
  private transport(): Promise<Transport> {
    this.transportReady ??= buildTransport(this.kubeConfig)
    // A failed build (say an unreadable CA file) is tried again by the next request.
    this.transportReady.catch(() => (this.transportReady = undefined))
    return this.transportReady
  }

  async close(): Promise<void> {
    const ready = this.transportReady
    this.transportReady = undefined
    const transport = await ready?.catch(() => undefined)
    if (transport?.owned) {
      transport.agent.destroy()
      transport.watchAgent.destroy()
    }
  }
}

/** How requests reach one cluster. */
interface Transport {
  readonly request: typeof httpsRequest | typeof httpRequest
  /** The requests' pool: applies, reads, deletes, the lock's renewals. */
  readonly agent: HttpAgent
  /** The watch streams' own connections, one per stream for as long as it is open. */
  readonly watchAgent: HttpAgent
  /** Whether the agents are kit's own (destroyed on close) rather than client-node's cached proxy agent. */
  readonly owned: boolean
  readonly hostname: string
  readonly port: string
  /** The server URL's path (some gateways serve the API under one), without a trailing slash. */
  readonly basePath: string
  readonly tls: Pick<
    HttpsRequestOptions,
    'ca' | 'cert' | 'key' | 'pfx' | 'passphrase' | 'rejectUnauthorized' | 'servername'
  > & { readonly secureContext?: SecureContext }
  /** Authorization headers for every request, or undefined when each request must ask. */
  readonly headers: Record<string, string> | undefined
}

async function buildTransport(kc: KubeConfig): Promise<Transport> {
  const cluster = kc.getCurrentCluster()
  if (!cluster) throw new Error('the kubeconfig has no current cluster')
  const options: HttpsRequestOptions = {}
  // TLS material and headers as client-node reads them (CA/cert files or data, skip-verify,
  // tls-server-name, tokens, exec plugins); refuses plain http without insecure-skip-tls-verify.
  await kc.applyToHTTPSOptions(options)
  const url = new URL(cluster.server)
  const secure = url.protocol === 'https:'
  const proxied = Boolean(cluster.proxyUrl) && options.agent instanceof HttpAgent
  const material = {
    ca: options.ca,
    cert: options.cert,
    key: options.key,
    pfx: options.pfx,
    passphrase: options.passphrase
  }
  const custom = Boolean(material.ca || material.cert || material.key || material.pfx)
  const tls = {
    // One TLS context per cluster, built here once: given the CA and client certificate
    // instead, every new connection parses them again (about 5 ms each).
    ...(proxied
      ? material
      : custom && secure
        ? { secureContext: createSecureContext(material) }
        : {}),
    ...(options.rejectUnauthorized !== undefined
      ? { rejectUnauthorized: options.rejectUnauthorized }
      : {}),
    ...(options.servername ? { servername: options.servername } : {})
  }
  const pool = (maxSockets: number): HttpAgent =>
    secure
      ? new HttpsAgent({ keepAlive: true, maxSockets, ...tls })
      : new HttpAgent({ keepAlive: true, maxSockets })
  // Requests share 32 connections (enough to keep a cluster's API server busy, few enough not
  // to flood it). A watch stream holds its connection for as long as it is open (HTTP/1.1 has
  // one exchange per connection), so streams get a pool of their own without a cap: a stream
  // past any cap would wait for another one to end, which in a watch window is its end — the
  // stream's workloads never watched, and requests queued behind it (a lock renewal that
  // times out). What bounds the streams is who opens them: the watch window opens a few per
  // namespace of a changed workload. The API server does not count an open watch against its
  // limit of requests in flight (only its start), so many streams cost it memory, not seats.
  // client-node's proxy agent (a proxy-url) has no cap either and serves both.
  const agent = proxied ? (options.agent as HttpAgent) : pool(32)
  const watchAgent = proxied ? agent : pool(Infinity)
  const user = kc.getCurrentUser()
  return {
    request: secure ? httpsRequest : httpRequest,
    agent,
    watchAgent,
    owned: !proxied,
    hostname: url.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: url.port || (secure ? '443' : '80'),
    basePath: url.pathname.replace(/\/+$/, ''),
    tls,
    headers: user?.exec || user?.authProvider ? undefined : headersOf(options)
  }
}

/** The authorization headers of a request as the kubeconfig gives them now (exec plugins refresh). */
async function authHeaders(kc: KubeConfig): Promise<Record<string, string>> {
  const options: HttpsRequestOptions = {}
  await kc.applyToHTTPSOptions(options)
  return headersOf(options)
}

function headersOf(options: HttpsRequestOptions): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(options.headers ?? {}))
    if (v !== undefined) out[k.toLowerCase() === 'authorization' ? 'Authorization' : k] = String(v)
  if (typeof options.auth === 'string' && !out.Authorization)
    out.Authorization = `Basic ${Buffer.from(options.auth).toString('base64')}`
  return out
}

/**
 * One HTTP exchange over the cluster's pool. An aborted request rejects with the signal's
 * reason (a TimeoutError for the per-request timeout), so retries can tell a timeout apart.
 */
function exchange(
  transport: Transport,
  request: {
    method: Method
    path: string
    headers: Record<string, string | number>
    body: string | undefined
    signal: AbortSignal | undefined
  }
): Promise<{ status: number; text: string; retryAfter: string | undefined }> {
  return new Promise((resolve, reject) => {
    const { signal } = request
    if (signal?.aborted) return reject(signal.reason as Error)
    // The signal is watched here rather than handed to http.request, which hooks each request's
    // stream end to unregister it: one listener, removed when the exchange ends, does the same.
    // It rejects at once: a request still waiting for one of the pool's connections reports its
    // destruction only once it gets one, and its timeout must not wait for that.
    const onAbort = () => {
      req.destroy(signal?.reason as Error)
      fail(signal?.reason)
    }
    const settle = () => signal?.removeEventListener('abort', onAbort)
    const fail = (err: unknown) => {
      settle()
      reject(signal?.aborted ? (signal.reason as Error) : (err as Error))
    }
    const req = transport.request(
      {
        hostname: transport.hostname,
        port: transport.port,
        path: request.path,
        method: request.method,
        headers: request.headers,
        agent: transport.agent,
        ...transport.tls
      },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('error', fail)
        res.on('end', () => {
          settle()
          const retryAfter = res.headers['retry-after']
          resolve({
            status: res.statusCode ?? 0,
            text: Buffer.concat(chunks).toString('utf8'),
            retryAfter: Array.isArray(retryAfter) ? retryAfter[0] : retryAfter
          })
        })
      }
    )
    signal?.addEventListener('abort', onAbort, { once: true })
    req.on('error', fail)
    req.end(request.body)
  })
}

/**
 * Sends a watch request over the watch streams' pool and resolves with the response once its
 * head arrives; `signal` aborts only the opening (the stream's own end is watchEvents').
 */
function openStream(
  transport: Transport,
  request: { path: string; headers: Record<string, string | number>; signal: AbortSignal }
): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const { signal } = request
    if (signal.aborted) return reject(signal.reason as Error)
    // Rejects at once, like an exchange's abort, whether or not the request has a connection yet.
    const onAbort = () => {
      req.destroy(signal.reason as Error)
      reject(signal.reason as Error)
    }
    const req = transport.request(
      {
        hostname: transport.hostname,
        port: transport.port,
        path: request.path,
        method: 'GET',
        headers: request.headers,
        agent: transport.watchAgent,
        ...transport.tls
      },
      (res) => {
        signal.removeEventListener('abort', onAbort)
        resolve(res)
      }
    )
    signal.addEventListener('abort', onAbort, { once: true })
    // After the head, a broken connection surfaces on the response; this keeps the request's
    // own error from going unhandled.
    req.on('error', (err) => {
      signal.removeEventListener('abort', onAbort)
      reject(signal.aborted ? (signal.reason as Error) : err)
    })
    req.end()
  })
}

/**
 * The events of a watch response, one JSON object per line. A broken connection or a line
 * that is not JSON throws (the caller opens the stream again); the server ending the stream,
 * or `until`, finishes the iteration.
 */
async function* watchEvents(res: IncomingMessage, until: AbortSignal): AsyncGenerator<WatchEvent> {
  const stop = () => res.destroy()
  until.addEventListener('abort', stop, { once: true })
  let buffered = ''
  try {
    if (until.aborted) return
    res.setEncoding('utf8')
    for await (const chunk of res as AsyncIterable<string>) {
      buffered += chunk
      for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
        const line = buffered.slice(0, nl).trim()
        buffered = buffered.slice(nl + 1)
        if (line !== '') yield JSON.parse(line) as WatchEvent
      }
    }
  } catch (err) {
    if (!until.aborted) throw err
  } finally {
    until.removeEventListener('abort', stop)
    res.destroy()
  }
}

/** The whole body of a response that is not a stream (an error answer), as text. */
async function readAll(res: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = []
  for await (const c of res as AsyncIterable<Buffer>) chunks.push(c)
  return Buffer.concat(chunks).toString('utf8')
}

function unknownKind(ref: { apiVersion: string; kind: string }): KubeApiError {
  return new KubeApiError(
    `the cluster does not know kind ${ref.kind} in ${ref.apiVersion} (is its CRD installed?)`,
    404,
    'UnknownKind'
  )
}

function apiError(code: number, text: string, retryAfter: string | undefined): KubeApiError {
  let status: {
    message?: string
    reason?: string
    details?: { causes?: { field?: string; message?: string; reason?: string }[] }
  } = {}
  try {
    status = JSON.parse(text) as typeof status
  } catch {
    status = { message: text.slice(0, 300) }
  }
  return new KubeApiError(
    status.message || `HTTP ${code}`,
    code,
    status.reason ?? '',
    status.details?.causes ?? [],
    parseRetryAfter(retryAfter)
  )
}

/**
 * A ClusterClient for the current context of `kubeConfig`. Transient failures (429 with
 * Retry-After, 5xx, resets, timeouts) are retried with jittered backoff; a refused connection
 * a few times, then a ClusterUnreachableError. A create is not idempotent: it is retried after an
 * interrupted request only when its caller handles the 409 a repeated create may get.
 */
export function createClusterClient(
  cluster: string,
  kubeConfig: KubeConfig,
  options: ClusterClientOptions = {}
): ClusterClient & { close(): Promise<void> } {
  const api = new RawObjectApi(kubeConfig)
  api.redactor = options.redactor
  api.onRequest = options.onRequest
  return buildClient(cluster, api, options)
}

/** Runs one request attempt after another until one succeeds or retrying is pointless. */
type Call = <T>(
  what: string,
  idempotent: boolean,
  fn: (signal: AbortSignal) => Promise<T>
) => Promise<T>

/** One HTTP request on the cluster's pool, with the attempt's signal. */
type Send = (
  method: Method,
  path: string,
  options?: Parameters<RawObjectApi['send']>[2],
  signal?: AbortSignal
) => Promise<unknown>

/** What every request of one client goes through: the api (paths, discovery), retries, sending. */
interface Requests {
  readonly api: RawObjectApi
  readonly call: Call
  readonly send: Send
}

/**
 * The client over one RawObjectApi; `detached(deadlineAt)` builds a sibling without the abort
 * signal and with a deadline of its own.
 */
function buildClient(
  cluster: string,
  api: RawObjectApi,
  options: ClusterClientOptions
): ClusterClient & { close(): Promise<void> } {
  const r: Requests = {
    api,
    call: retryingCall(cluster, options, api.facts),
    send: (method, path, o = {}, signal) =>
      api.send(method, path, { ...o, signal, redactor: options.redactor })
  }
  return {
    cluster,
    defaultNamespace: api.defaultNamespace,
    get: (ref) => getObject(r, ref),
    list: (apiVersion, kind, lo: ListOptions = {}) => listObjects(r, apiVersion, kind, lo),
    apply: (object, ao = {}) =>
      writeObject(r, `apply ${object.kind}/${object.metadata.name}`, true, 'PATCH', object, {
        query: {
          fieldManager,
          force: 'true',
          dryRun: ao.dryRun ? 'All' : undefined,
          fieldValidation: 'Strict'
        },
        body: object,
        contentType: 'application/apply-patch+yaml'
      }),
    create: (object, co = {}) =>
      writeObject(
        r,
        `create ${object.kind}/${object.metadata.name}`,
        co.retryInterrupted === true,
        'POST',
        object,
        { query: { fieldManager, dryRun: co.dryRun ? 'All' : undefined }, body: object }
      ),
    replace: (object) =>
      writeObject(r, `replace ${object.kind}/${object.metadata.name}`, true, 'PUT', object, {
        query: { fieldManager },
        body: object
      }),
    delete: (ref, dopts = {}) => deleteObject(r, ref, dopts),
    async listEvents(namespace, involved) {
      const items = await this.list('v1', 'Event', {
        namespace,
        fieldSelector: involved ? eventSelector(involved) : undefined
      })
      return items.map(toEvent)
    },
    watch: (apiVersion, kind, wr) => watchObjects(r, options, apiVersion, kind, wr),
    isNamespaced: (apiVersion, kind) =>
      r.call(`discover ${kind}`, true, (signal) => api.namespaced(apiVersion, kind, signal)),
    resetDiscovery: () => api.resetDiscovery(),
    detached: (deadlineAt) =>
      buildClient(cluster, api, {
        ...options,
        signal: undefined,
        deadline:
          deadlineAt === undefined
            ? undefined
            : { at: () => deadlineAt, what: 'the time for rolling back and cleaning up' }
      }),
    close: () => api.close()
  }
}

/**
 * Retries with jittered backoff: a throttled request and an unreachable server always, an
 * interrupted request only when repeating it is harmless. What is left after the attempts is
 * a KubeApiError as the server sent it, or a ClusterUnreachableError naming the cluster (and,
 * for a TLS failure or a refused credential, what to check). With a deadline, no attempt runs
 * past it and no retry is scheduled beyond it: the error then says what the requests waited for.
 */
function retryingCall(
  cluster: string,
  options: ClusterClientOptions,
  facts: ConnectionFacts
): Call {
  const retry = { ...defaultRetry, ...options.retry }
  const { deadline } = options
  return async (what, idempotent, fn) => {
    let last: { error: unknown; ms: number } | undefined
    for (let attempt = 1; ; attempt++) {
      options.signal?.throwIfAborted()
      const left = deadline ? deadline.at() - Date.now() : Infinity
      if (left <= 0) throw deadlineError(cluster, deadline, facts, what, attempt - 1, last)
      const attemptMs = Math.min(retry.requestTimeoutMs, left)
      const attemptSignal = signalWithTimeout(options.signal, attemptMs)
      const began = Date.now()
      try {
        return await fn(attemptSignal.signal)
      } catch (err) {
        if (options.signal?.aborted) throw options.signal.reason ?? err
        // A timed-out attempt waited its whole timeout: say that, not the timer's jitter.
        last = { error: err, ms: isTimeout(err) ? attemptMs : Date.now() - began }
        if (attemptMs < retry.requestTimeoutMs && isTimeout(err))
          throw deadlineError(cluster, deadline, facts, what, attempt, last)
        const kind = classifyFailure(err)
        const limit = kind === 'unreachable' ? retry.unreachableAttempts : retry.attempts
        const retriable =
          kind === 'throttled' || kind === 'unreachable' || (kind === 'interrupted' && idempotent)
        if (!retriable || attempt >= limit)
          throw finalError(err, kind, cluster, facts, attempt, attemptMs)
        const delay = retryDelay(
          attempt,
          retry,
          err instanceof KubeApiError ? err.retryAfterSeconds : undefined
        )
        if (deadline && Date.now() + delay >= deadline.at())
          throw deadlineError(cluster, deadline, facts, what, attempt, last)
        options.onRetry?.(what, attempt, delay, err)
        if (last.ms + delay >= retry.slowRetryMs)
          options.progress?.(
            `${what}: ${failureText(err, facts, last.ms)}; retrying in ${seconds(delay)} (attempt ${attempt + 1} of ${limit})`
          )
        await sleep(delay, options.signal)
      } finally {
        attemptSignal.dispose()
      }
    }
  }
}

/** One failed attempt in a few words, for a progress line. */
function failureText(err: unknown, facts: ConnectionFacts, attemptMs: number): string {
  if (err instanceof KubeApiError)
    return `${facts.server ?? 'the API server'} answered ${err.statusCode}${err.reason ? ` ${err.reason}` : ''}`
  return describeNetworkError(err, facts.server, isTimeout(err) ? attemptMs : undefined)
}

/** The cluster's time ran out: what the deadline was, and what the requests were waiting for. */
function deadlineError(
  cluster: string,
  deadline: Deadline | undefined,
  facts: ConnectionFacts,
  what: string,
  attempts: number,
  last: { error: unknown; ms: number } | undefined
): ClusterUnreachableError {
  const why = last
    ? `: ${describeStall(facts, { what, attempts, lastError: last.error, lastAttemptMs: last.ms })}`
    : ` before ${what} was sent`
  return new ClusterUnreachableError(
    `${deadline?.what ?? 'the deadline'} was reached${why}`,
    cluster,
    'DeadlineExceeded'
  )
}

/** The error a request ends with once it is not retried (again). */
function finalError(
  err: unknown,
  kind: ReturnType<typeof classifyFailure>,
  cluster: string,
  facts: ConnectionFacts,
  attempt: number,
  attemptMs: number
): Error {
  if (err instanceof KubeApiError && err.statusCode === 401)
    return new ClusterUnreachableError(describeUnauthorized(err, facts), cluster, 'Unauthorized')
  if (err instanceof KubeApiError && isIgnoredCredential(err, facts))
    return new ClusterUnreachableError(
      describeIgnoredCredential(err, facts),
      cluster,
      'Unauthorized'
    )
  const tls = kind === 'fatal-connection' ? describeTlsFailure(err, facts) : undefined
  if (tls)
    return new ClusterUnreachableError(
      tls.text,
      cluster,
      tls.side === 'client-certificate' ? 'Unauthorized' : 'TLSVerificationFailed'
    )
  if (kind === 'unreachable' || kind === 'interrupted' || kind === 'fatal-connection')
    return new ClusterUnreachableError(
      `cluster "${cluster}" is unreachable (${describeNetworkError(err, facts.server, attemptMs)}) after ${attempt} attempt${attempt === 1 ? '' : 's'}`,
      cluster
    )
  if (err instanceof KubeApiError || err instanceof ClusterUnreachableError) return err
  return new ClusterUnreachableError(
    `cluster "${cluster}": ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`,
    cluster
  )
}

/** GET of one object; undefined when it does not exist (but an unknown kind is an error). */
function getObject(r: Requests, ref: ObjectRef): Promise<KubeObject | undefined> {
  return r.call(`get ${ref.kind}/${ref.name}`, true, async (signal) => {
    try {
      return (await r.send(
        'GET',
        await r.api.pathOf(ref, 'read', signal),
        {},
        signal
      )) as KubeObject
    } catch (err) {
      if (isNotFound(err)) return undefined
      throw err
    }
  })
}

/** Every object of a kind, page by page (500 a page). */
function listObjects(
  r: Requests,
  apiVersion: string,
  kind: string,
  lo: ListOptions
): Promise<KubeObject[]> {
  return r.call(`list ${kind}`, true, async (signal) => {
    const path = await r.api.pathOf(
      { apiVersion, kind, name: '', namespace: lo.namespace },
      'list',
      signal
    )
    const items: KubeObject[] = []
    let cont: string | undefined
    do {
      const page = (await r.send(
        'GET',
        path,
        {
          query: {
            labelSelector: lo.labelSelector,
            fieldSelector: lo.fieldSelector,
            limit: '500',
            continue: cont
          }
        },
        signal
      )) as {
        items?: Record<string, unknown>[]
        metadata?: { continue?: string }
      }
      // List items carry no apiVersion/kind; put them first, where a GET has them, so
      // a diff against a listed object does not show them as moved.
      for (const item of page.items ?? []) items.push({ apiVersion, kind, ...item } as KubeObject)
      cont = page.metadata?.continue || undefined
    } while (cont)
    return items
  })
}

/**
 * A watch stream of a collection. Opening it is retried like a read; the stream then ends with
 * the request's signal, the client's own signal, or at the client's deadline (a stream is one
 * long request, and no request outlives the cluster's time).
 */
function watchObjects(
  r: Requests,
  options: ClusterClientOptions,
  apiVersion: string,
  kind: string,
  wr: WatchRequest
): Promise<AsyncIterable<WatchEvent>> {
  const ends = [wr.signal, options.signal].filter((s): s is AbortSignal => s !== undefined)
  if (options.deadline)
    ends.push(AbortSignal.timeout(Math.max(0, options.deadline.at() - Date.now())))
  const until = AbortSignal.any(ends)
  return r.call(`watch ${kind}`, true, async (signal) => {
    const path = await r.api.pathOf(
      { apiVersion, kind, name: '', namespace: wr.namespace },
      'list',
      signal
    )
    return r.api.stream(path, {
      query: {
        watch: '1',
        allowWatchBookmarks: 'true',
        labelSelector: wr.labelSelector,
        fieldSelector: wr.fieldSelector,
        resourceVersion: wr.resourceVersion,
        timeoutSeconds: wr.timeoutSeconds === undefined ? undefined : String(wr.timeoutSeconds)
      },
      signal,
      until,
      redactor: options.redactor
    })
  })
}

/** A write of `object` (apply, create, replace): the server's object back. */
function writeObject(
  r: Requests,
  what: string,
  idempotent: boolean,
  method: Method,
  object: KubeObject,
  request: Parameters<RawObjectApi['send']>[2]
): Promise<KubeObject> {
  return r.call(
    what,
    idempotent,
    async (signal) =>
      (await r.send(
        method,
        await r.api.pathOf(refFor(object), method === 'POST' ? 'create' : 'read', signal),
        request,
        signal
      )) as KubeObject
  )
}

/** DELETE of one object: false when it was already gone. */
function deleteObject(
  r: Requests,
  ref: ObjectRef,
  dopts: {
    propagationPolicy?: PropagationPolicy
    dryRun?: boolean
    preconditions?: DeletePreconditions
  }
): Promise<boolean> {
  return r.call(`delete ${ref.kind}/${ref.name}`, true, async (signal) => {
    try {
      await r.send(
        'DELETE',
        await r.api.pathOf(ref, 'read', signal),
        {
          query: { dryRun: dopts.dryRun ? 'All' : undefined },
          body: {
            kind: 'DeleteOptions',
            apiVersion: 'v1',
            propagationPolicy: dopts.propagationPolicy ?? 'Background',
            ...(dopts.preconditions ? { preconditions: dopts.preconditions } : {})
          }
        },
        signal
      )
      return true
    } catch (err) {
      if (isNotFound(err)) return false
      throw err
    }
  })
}

/** A 404 for the object itself, not for its kind (an unknown kind stays an error). */
function isNotFound(err: unknown): boolean {
  return err instanceof KubeApiError && err.statusCode === 404 && err.reason !== 'UnknownKind'
}

/** The field selector of the events about one object. */
function eventSelector(involved: { kind: string; name: string; uid?: string }): string {
  return [
    `involvedObject.kind=${involved.kind}`,
    `involvedObject.name=${involved.name}`,
    ...(involved.uid ? [`involvedObject.uid=${involved.uid}`] : [])
  ].join(',')
}

function refFor(object: KubeObject): ObjectRef {
  return {
    apiVersion: object.apiVersion,
    kind: object.kind,
    name: object.metadata.name,
    namespace: object.metadata.namespace
  }
}

function toEvent(o: KubeObject): KubeEvent {
  const e = o as unknown as {
    type?: string
    reason?: string
    message?: string
    count?: number
    lastTimestamp?: string
    eventTime?: string
    firstTimestamp?: string
    series?: { count?: number; lastObservedTime?: string }
    involvedObject?: { kind?: string; name?: string; namespace?: string; uid?: string }
    metadata: { creationTimestamp?: string }
  }
  return {
    type: e.type ?? 'Normal',
    reason: e.reason ?? '',
    message: (e.message ?? '').trim(),
    count: e.series?.count ?? e.count ?? 1,
    lastTime:
      e.series?.lastObservedTime ??
      e.lastTimestamp ??
      e.eventTime ??
      e.firstTimestamp ??
      e.metadata.creationTimestamp ??
      '',
    involvedObject: {
      kind: e.involvedObject?.kind ?? '',
      name: e.involvedObject?.name ?? '',
      namespace: e.involvedObject?.namespace,
      uid: e.involvedObject?.uid
    }
  }
}

/**
 * A request attempt's signal: aborted with the caller's reason when `parent` aborts, or with a
 * TimeoutError (as AbortSignal.timeout) after `ms`. dispose() clears the timer and the listener
 * on `parent` once the attempt is over. AbortSignal.any over AbortSignal.timeout did the same
 * at about three times the CPU (40 against 12 µs per request in a micro-benchmark) and left
 * every timer pending until it fired.
 */
function signalWithTimeout(
  parent: AbortSignal | undefined,
  ms: number
): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController()
  const timer = setTimeout(
    () =>
      controller.abort(
        new DOMException('The operation was aborted due to timeout', 'TimeoutError')
      ),
    ms
  )
  timer.unref()
  const onAbort = () => controller.abort(parent?.reason)
  parent?.addEventListener('abort', onAbort, { once: true })
  return {
    signal: controller.signal,
    dispose: () => {
      clearTimeout(timer)
      parent?.removeEventListener('abort', onAbort)
    }
  }
}

/** `work`, or the signal's reason as soon as it aborts (the work itself is left to finish). */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return work
  return new Promise<T>((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason as Error)
    const onAbort = () => reject(signal.reason as Error)
    signal.addEventListener('abort', onAbort, { once: true })
    work.then(
      (v) => {
        signal.removeEventListener('abort', onAbort)
        resolve(v)
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort)
        reject(e as Error)
      }
    )
  })
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason as Error)
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    const onAbort = () => {
      clearTimeout(t)
      reject(signal?.reason as Error)
    }
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}
