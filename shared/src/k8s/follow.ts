/**
 * Following a collection through the API's watch stream, the way an informer does, but for a
 * bounded time: the stream starts without a resourceVersion (the server sends the collection
 * as it is now, one ADDED event per object, then every change), and is opened again from the
 * last version seen (events and bookmarks carry it) when the server ends it or the connection
 * breaks. A version the server no longer has (410 Gone, as an HTTP answer or an ERROR event)
 * starts over from the current state. No list polling: a quiet collection costs one request.
 */
import { backoffDelay, type BackoffPolicy } from '../retry/backoff.js'
import { KubeApiError, type ClusterClient, type WatchEvent, type WatchRequest } from './types.js'

export interface FollowOptions extends Omit<WatchRequest, 'resourceVersion' | 'signal'> {
  readonly apiVersion: string
  readonly kind: string
  /** Ends following; `follow` then resolves. */
  readonly until: AbortSignal
  /** Every ADDED, MODIFIED and DELETED event, in order. */
  readonly onEvent: (event: WatchEvent) => void
  /** Time, injectable for tests. */
  readonly now?: () => number
  readonly sleep?: (ms: number, signal: AbortSignal) => Promise<void>
  /** The pause before opening a stream that ended quickly; default 1 s doubling to 15 s. */
  readonly backoff?: BackoffPolicy
  readonly random?: () => number
}

/** A stream that ends sooner than this after opening counts as a quick end (backed off). */
const quickEndMs = 2_000
/** Quick ends in a row after which the collection cannot be followed. */
const maxQuickEnds = 8

const defaultPolicy: BackoffPolicy = { baseMs: 1_000, capMs: 15_000, jitter: 'equal' }

/**
 * Follows until `until` aborts. Rejects when a stream cannot be opened (the client has retried
 * by then: the cluster is unreachable, the credentials are refused, the deadline passed) or
 * keeps ending at once.
 */
export async function follow(client: ClusterClient, o: FollowOptions): Promise<void> {
  if (!client.watch) throw new Error(`${client.cluster}: this client cannot watch`)
  const now = o.now ?? Date.now
  let version: string | undefined
  let quickEnds = 0
  let wasGone = false
  while (!o.until.aborted) {
    const opened = now()
    let gone = false
    try {
      const stream = await client.watch(o.apiVersion, o.kind, {
        namespace: o.namespace,
        labelSelector: o.labelSelector,
        fieldSelector: o.fieldSelector,
        timeoutSeconds: o.timeoutSeconds,
        resourceVersion: version,
        signal: o.until
      })
      for await (const event of stream) {
        if (event.type === 'ERROR') {
          gone = isGoneStatus(event.object)
          if (!gone) throw statusError(o.kind, event.object)
          break
        }
        version = event.object.metadata?.resourceVersion ?? version
        if (event.type !== 'BOOKMARK') o.onEvent(event)
      }
    } catch (err) {
      if (o.until.aborted) return
      gone = err instanceof KubeApiError && (err.statusCode === 410 || err.reason === 'Expired')
      // Anything else the client could not open with its retries is final; a stream that broke
      // after opening is opened again below.
      if (!gone && !(err instanceof Error && isBrokenStream(err))) throw err
    }
    if (o.until.aborted) return
    // A version that is gone is asked for again from now, at once (without a version the
    // server cannot answer 410, so a second one in a row is a quick end like any other);
    // any other end backs off when it came soon after opening.
    const again = gone && wasGone
    wasGone = gone
    if (gone) version = undefined
    if (gone && !again) continue
    quickEnds = now() - opened < quickEndMs ? quickEnds + 1 : 0
    if (quickEnds > maxQuickEnds)
      throw new Error(
        `the watch of ${o.kind}${o.namespace ? ` in ${o.namespace}` : ''} keeps ending as soon as it opens`
      )
    if (quickEnds > 0) await pause(o, backoffDelay(quickEnds, o.backoff ?? defaultPolicy, o.random))
  }
}

/** Sleeps, ending early (without an error) when following ends. */
async function pause(o: FollowOptions, ms: number): Promise<void> {
  const sleep =
    o.sleep ??
    ((t: number, signal: AbortSignal) =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(done, t)
        function done(): void {
          clearTimeout(timer)
          signal.removeEventListener('abort', done)
          resolve()
        }
        signal.addEventListener('abort', done, { once: true })
      }))
  await sleep(ms, o.until).catch(() => undefined)
}

/** An ERROR event's Status says the version asked for is gone (410 Gone / Expired). */
function isGoneStatus(status: unknown): boolean {
  const s = status as { code?: number; reason?: string } | undefined
  return s?.code === 410 || s?.reason === 'Expired' || s?.reason === 'Gone'
}

function statusError(kind: string, status: unknown): KubeApiError {
  const s = (status ?? {}) as { code?: number; reason?: string; message?: string }
  return new KubeApiError(
    `the watch of ${kind} failed: ${s.message ?? s.reason ?? 'an error event'}`,
    s.code ?? 500,
    s.reason ?? ''
  )
}

/**
 * A stream that broke after it opened (a reset, a timeout, a cut line): not an answer of the
 * server, and not the client's verdict on the cluster (that is a ClusterUnreachableError).
 */
function isBrokenStream(err: Error): boolean {
  return (
    !(err instanceof KubeApiError) &&
    err.name !== 'ClusterUnreachableError' &&
    (err instanceof SyntaxError ||
      'code' in err ||
      /aborted|premature close|socket hang up/i.test(err.message))
  )
}
