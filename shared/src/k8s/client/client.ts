/**
 * The ClusterClient over @kubernetes/client-node 2. It reuses KubernetesObjectApi for what that
 * class does well — discovery (kind → resource path, cached per group/version), kubeconfig
 * authentication (tokens, client certificates, exec plugins), TLS — but sends and receives
 * plain JSON itself: the generated model (de)serialisers silently drop fields they do not know
 * (a typo in a manifest would vanish instead of being rejected) and turn timestamps into Dates.
 * It also keeps one connection pool per cluster (client-node builds a new one per request).
 */
import { KubernetesObjectApi, type KubeConfig } from '@kubernetes/client-node'
import type { Redactor } from '../../secrets/redact.js'
import {
  ClusterUnreachableError,
  KubeApiError,
  type ClusterClient,
  type KubeEvent,
  type KubeObject,
  type ListOptions,
  type ObjectRef,
  type PropagationPolicy
} from '../types.js'
import {
  classifyFailure,
  defaultRetry,
  errorCode,
  parseRetryAfter,
  retryDelay,
  type RetryOptions
} from './retry.js'

export type { RetryOptions } from './retry.js'

/** The field manager of every write kit makes. */
export const fieldManager = 'kit'

export interface ClusterClientOptions {
  readonly retry?: RetryOptions
  /** Aborts every request and backoff sleep (the cluster's deploy was cancelled). */
  readonly signal?: AbortSignal
  /** Bearer tokens obtained at request time (exec plugins) are registered here. */
  readonly redactor?: Redactor
  /** Called before each retry, for debug logs. */
  readonly onRetry?: (what: string, attempt: number, delayMs: number, err: unknown) => void
}

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'

interface Dispatcher {
  close?: () => Promise<void>
}

/** KubernetesObjectApi with JSON in, JSON out, and a reused connection pool. */
class RawObjectApi extends KubernetesObjectApi {
  private dispatcher: Dispatcher | undefined

  /** The URL path of an object (or of its collection for create/list); discovery is cached. */
  async pathOf(ref: ObjectRef, action: 'create' | 'list' | 'read'): Promise<string> {
    const header = {
      apiVersion: ref.apiVersion,
      kind: ref.kind,
      metadata: { name: ref.name, namespace: ref.namespace }
    }
    try {
      return await this.specUriPath(header, action)
    } catch (err) {
      if (
        err instanceof Error &&
        /Unrecognized API version and kind|HTTP-Code: 404/.test(err.message)
      )
        throw unknownKind(ref)
      throw err
    }
  }

  async namespaced(apiVersion: string, kind: string): Promise<boolean> {
    let resource
    try {
      resource = await this.resource(apiVersion, kind)
    } catch (err) {
      if (err instanceof Error && /HTTP-Code: 404/.test(err.message))
        throw unknownKind({ apiVersion, kind })
      throw err
    }
    if (!resource) throw unknownKind({ apiVersion, kind })
    return resource.namespaced
  }

  /** Objects without a namespace go to the context's namespace (kubectl's behaviour). */
  useContextNamespace(kc: KubeConfig): string {
    return this.setDefaultNamespace(kc)
  }

  resetDiscovery(): void {
    this.apiVersionResourceCache = {}
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
    const ctx = this.configuration.baseServer.makeRequestContext(path, method as never)
    ctx.setHeaderParam('Accept', 'application/json')
    ctx.setHeaderParam('User-Agent', 'kit-deployer')
    for (const [k, v] of Object.entries(options.query ?? {}))
      if (v !== undefined) ctx.setQueryParam(k, v)
    if (options.body !== undefined) {
      ctx.setHeaderParam('Content-Type', options.contentType ?? 'application/json')
      ctx.setBody(JSON.stringify(options.body))
    }
    const auth = this.configuration.authMethods.default
    if (auth?.applySecurityAuthentication) await auth.applySecurityAuthentication(ctx)
    const authorization = ctx.getHeaders()['Authorization'] ?? ctx.getHeaders()['authorization']
    if (authorization && options.redactor)
      options.redactor.add(authorization.replace(/^\S+\s+/, ''))
    // One pool per cluster: keep the first dispatcher built from the kubeconfig, drop the others.
    const fresh = ctx.getDispatcher() as Dispatcher | undefined
    if (fresh) {
      if (!this.dispatcher) this.dispatcher = fresh
      else if (fresh !== this.dispatcher) {
        void fresh.close?.().catch(() => undefined)
        ctx.setDispatcher(this.dispatcher as never)
      }
    }
    if (options.signal) ctx.setSignal(options.signal)
    const response = await this.configuration.httpApi.send(ctx).toPromise()
    const text = await response.body.text()
    if (response.httpStatusCode >= 200 && response.httpStatusCode <= 299)
      return text ? JSON.parse(text) : {}
    throw apiError(response.httpStatusCode, text, response.headers['retry-after'])
  }

  async close(): Promise<void> {
    await this.dispatcher?.close?.().catch(() => undefined)
    this.dispatcher = undefined
  }
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
 * a few times, then a ClusterUnreachableError. Writes that are not idempotent (create) are not
 * retried after an interrupted request.
 */
export function createClusterClient(
  cluster: string,
  kubeConfig: KubeConfig,
  options: ClusterClientOptions = {}
): ClusterClient & { close(): Promise<void> } {
  const api = kubeConfig.makeApiClient(RawObjectApi)
  const defaultNamespace = api.useContextNamespace(kubeConfig)
  return buildClient(cluster, api, defaultNamespace, options)
}

/** The client over one RawObjectApi; `detached()` builds a sibling without the abort signal. */
function buildClient(
  cluster: string,
  api: RawObjectApi,
  defaultNamespace: string,
  options: ClusterClientOptions
): ClusterClient & { close(): Promise<void> } {
  const retry = { ...defaultRetry, ...options.retry }

  const call = async <T>(
    what: string,
    idempotent: boolean,
    fn: (signal: AbortSignal) => Promise<T>
  ): Promise<T> => {
    for (let attempt = 1; ; attempt++) {
      options.signal?.throwIfAborted()
      const timeout = AbortSignal.timeout(retry.requestTimeoutMs)
      const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout
      try {
        return await fn(signal)
      } catch (err) {
        if (options.signal?.aborted) throw options.signal.reason ?? err
        const kind = classifyFailure(err)
        const limit = kind === 'unreachable' ? retry.unreachableAttempts : retry.attempts
        const retriable =
          kind === 'throttled' || kind === 'unreachable' || (kind === 'interrupted' && idempotent)
        if (!retriable || attempt >= limit) {
          if (kind === 'unreachable' || kind === 'interrupted' || kind === 'fatal-connection')
            throw new ClusterUnreachableError(
              `cluster "${cluster}" is unreachable (${describeNetworkError(err)}) after ${attempt} attempt${attempt === 1 ? '' : 's'}`,
              cluster
            )
          if (err instanceof KubeApiError || err instanceof ClusterUnreachableError) throw err
          throw new ClusterUnreachableError(
            `cluster "${cluster}": ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`,
            cluster
          )
        }
        const delay = retryDelay(
          attempt,
          retry,
          err instanceof KubeApiError ? err.retryAfterSeconds : undefined
        )
        options.onRetry?.(what, attempt, delay, err)
        await sleep(delay, options.signal)
      }
    }
  }

  const send = (
    method: Method,
    path: string,
    o: Parameters<RawObjectApi['send']>[2] = {},
    signal?: AbortSignal
  ) => api.send(method, path, { ...o, signal, redactor: options.redactor })

  return {
    cluster,
    defaultNamespace,
    async get(ref) {
      return call(`get ${ref.kind}/${ref.name}`, true, async (signal) => {
        try {
          return (await send('GET', await api.pathOf(ref, 'read'), {}, signal)) as KubeObject
        } catch (err) {
          if (err instanceof KubeApiError && err.statusCode === 404 && err.reason !== 'UnknownKind')
            return undefined
          throw err
        }
      })
    },
    async list(apiVersion, kind, lo: ListOptions = {}) {
      return call(`list ${kind}`, true, async (signal) => {
        const path = await api.pathOf(
          { apiVersion, kind, name: '', namespace: lo.namespace },
          'list'
        )
        const items: KubeObject[] = []
        let cont: string | undefined
        do {
          const page = (await send(
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
          )) as { items?: KubeObject[]; metadata?: { continue?: string } }
          for (const item of page.items ?? []) items.push({ ...item, apiVersion, kind })
          cont = page.metadata?.continue || undefined
        } while (cont)
        return items
      })
    },
    async apply(object, ao = {}) {
      return call(
        `apply ${object.kind}/${object.metadata.name}`,
        true,
        async (signal) =>
          (await send(
            'PATCH',
            await api.pathOf(refFor(object), 'read'),
            {
              query: {
                fieldManager,
                force: 'true',
                dryRun: ao.dryRun ? 'All' : undefined,
                fieldValidation: 'Strict'
              },
              body: object,
              contentType: 'application/apply-patch+yaml'
            },
            signal
          )) as KubeObject
      )
    },
    async create(object, co = {}) {
      return call(
        `create ${object.kind}/${object.metadata.name}`,
        false,
        async (signal) =>
          (await send(
            'POST',
            await api.pathOf(refFor(object), 'create'),
            { query: { fieldManager, dryRun: co.dryRun ? 'All' : undefined }, body: object },
            signal
          )) as KubeObject
      )
    },
    async replace(object) {
      return call(
        `replace ${object.kind}/${object.metadata.name}`,
        true,
        async (signal) =>
          (await send(
            'PUT',
            await api.pathOf(refFor(object), 'read'),
            { query: { fieldManager }, body: object },
            signal
          )) as KubeObject
      )
    },
    async delete(ref, dopts: { propagationPolicy?: PropagationPolicy; dryRun?: boolean } = {}) {
      return call(`delete ${ref.kind}/${ref.name}`, true, async (signal) => {
        try {
          await send(
            'DELETE',
            await api.pathOf(ref, 'read'),
            {
              query: { dryRun: dopts.dryRun ? 'All' : undefined },
              body: {
                kind: 'DeleteOptions',
                apiVersion: 'v1',
                propagationPolicy: dopts.propagationPolicy ?? 'Background'
              }
            },
            signal
          )
          return true
        } catch (err) {
          if (err instanceof KubeApiError && err.statusCode === 404 && err.reason !== 'UnknownKind')
            return false
          throw err
        }
      })
    },
    async listEvents(namespace, involved) {
      const selector = involved
        ? [
            `involvedObject.kind=${involved.kind}`,
            `involvedObject.name=${involved.name}`,
            ...(involved.uid ? [`involvedObject.uid=${involved.uid}`] : [])
          ].join(',')
        : undefined
      const items = await this.list('v1', 'Event', { namespace, fieldSelector: selector })
      return items.map(toEvent)
    },
    async isNamespaced(apiVersion, kind) {
      return call(`discover ${kind}`, true, () => api.namespaced(apiVersion, kind))
    },
    resetDiscovery() {
      api.resetDiscovery()
    },
    detached() {
      return buildClient(cluster, api, defaultNamespace, { ...options, signal: undefined })
    },
    close: () => api.close()
  }
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

function describeNetworkError(err: unknown): string {
  const code = errorCode(err)
  if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError'))
    return 'request timed out'
  if (code) return code
  return err instanceof Error ? err.message.split('\n')[0] : String(err)
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
