/**
 * Fakes for the watch window's suites (not a test file): a clock whose sleeps end only when the
 * test moves time on, and a client whose watch streams the test feeds event by event.
 */
import type { ClusterClient, KubeObject, WatchEvent, WatchRequest } from '../../src/k8s/types.js'

/** Lets pending promise callbacks (and the I/O callbacks they schedule) run. */
export async function settle(rounds = 5): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise((r) => setImmediate(r))
}

/** A clock that stands still until `advance`: sleeps end when their time comes, or on abort. */
export function manualClock(start = Date.parse('2026-03-01T10:00:00Z')) {
  let now = start
  const sleepers: { until: number; resolve: () => void }[] = []
  return {
    now: () => now,
    sleep(ms: number, signal?: AbortSignal): Promise<void> {
      return new Promise<void>((resolve, reject) => {
        if (signal?.aborted) return reject(new Error('aborted'))
        const entry = { until: now + ms, resolve }
        sleepers.push(entry)
        signal?.addEventListener(
          'abort',
          () => {
            sleepers.splice(sleepers.indexOf(entry), 1)
            reject(new Error('aborted'))
          },
          { once: true }
        )
      })
    },
    /** Moves time on in steps of at most `stepMs`, letting every woken sleeper run. */
    async advance(ms: number, stepMs = 1000): Promise<void> {
      // What was sent before is observed now, not a step later.
      await settle()
      const target = now + ms
      while (now < target) {
        now = Math.min(target, now + stepMs)
        for (const s of sleepers.filter((x) => x.until <= now)) {
          sleepers.splice(sleepers.indexOf(s), 1)
          s.resolve()
        }
        await settle()
      }
    },
    /** The ISO time `ms` after the start (what the API would write in a timestamp). */
    iso: (ms = 0) => new Date(start + ms).toISOString()
  }
}

/** One open watch stream: what was asked, and the events the test sends. */
export interface FakeStream {
  readonly apiVersion: string
  readonly kind: string
  readonly request: WatchRequest
  send(event: WatchEvent): void
  /** The server ends the stream. */
  end(): void
  /** The connection breaks. */
  fail(err: Error): void
  readonly closed: boolean
}

/**
 * A client that only watches: every watch() opens a FakeStream (`open` may refuse it instead);
 * every other call fails the test, since the window must not list or poll.
 */
export function streamingClient(
  open: (s: Omit<FakeStream, 'send' | 'end' | 'fail' | 'closed'>) => Error | undefined = () =>
    undefined
): { client: ClusterClient; streams: FakeStream[]; find(kind: string): FakeStream[] } {
  const streams: FakeStream[] = []
  const refuse = (what: string) => () => {
    throw new Error(`the watch window must not ${what}`)
  }
  const client: ClusterClient = {
    cluster: 'fake',
    get: refuse('get'),
    list: refuse('list'),
    apply: refuse('apply'),
    create: refuse('create'),
    replace: refuse('replace'),
    delete: refuse('delete'),
    listEvents: refuse('list events'),
    isNamespaced: refuse('discover'),
    resetDiscovery: () => undefined,
    async watch(apiVersion, kind, request) {
      const refused = open({ apiVersion, kind, request })
      if (refused) throw refused
      const stream = channel(apiVersion, kind, request)
      streams.push(stream)
      return stream.iterable
    }
  }
  return {
    client,
    streams,
    find: (kind) => streams.filter((s) => s.kind === kind && !s.closed)
  }
}

function channel(
  apiVersion: string,
  kind: string,
  request: WatchRequest
): FakeStream & { iterable: AsyncIterable<WatchEvent> } {
  const queue: WatchEvent[] = []
  let ended = false
  let failure: Error | undefined
  let wake: (() => void) | undefined
  const poke = () => {
    wake?.()
    wake = undefined
  }
  request.signal?.addEventListener('abort', () => {
    ended = true
    poke()
  })
  const stream = {
    apiVersion,
    kind,
    request,
    closed: false,
    send(e: WatchEvent) {
      queue.push(structuredClone(e))
      poke()
    },
    end() {
      ended = true
      poke()
    },
    fail(err: Error) {
      failure = err
      poke()
    },
    iterable: {
      async *[Symbol.asyncIterator]() {
        try {
          for (;;) {
            if (queue.length > 0) {
              yield queue.shift()!
              continue
            }
            if (failure) throw failure
            if (ended) return
            await new Promise<void>((r) => (wake = r))
          }
        } finally {
          stream.closed = true
        }
      }
    }
  }
  return stream
}

/** A Deployment as the API returns it, with its status. */
export function deployment(
  name: string,
  o: { ns?: string; replicas?: number; available?: number; rv?: string } = {}
): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name,
      namespace: o.ns ?? 'shop',
      uid: `uid-${name}`,
      resourceVersion: o.rv ?? '10'
    },
    spec: {
      replicas: o.replicas ?? 2,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name, image: 'x' }] }
      }
    },
    status: { replicas: o.replicas ?? 2, availableReplicas: o.available ?? o.replicas ?? 2 }
  }
}

export interface PodShape {
  ns?: string
  created?: string
  ready?: boolean
  restarts?: number
  waiting?: { reason: string; message?: string }
  last?: { reason: string; exitCode: number }
  terminated?: { reason: string; exitCode: number }
  phase?: string
  rv?: string
  deleting?: boolean
  container?: string
}

/** A pod of one container, as the kubelet reports it. */
export function pod(name: string, o: PodShape = {}): KubeObject {
  const container = o.container ?? 'web'
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: o.ns ?? 'shop',
      uid: `uid-${name}`,
      resourceVersion: o.rv ?? '20',
      creationTimestamp: o.created ?? '2026-03-01T09:59:00Z',
      labels: { app: 'web' },
      ...(o.deleting ? { deletionTimestamp: '2026-03-01T10:00:01Z' } : {})
    },
    spec: { containers: [{ name: container, image: 'x' }] },
    status: {
      phase: o.phase ?? 'Running',
      conditions: [
        {
          type: 'Ready',
          status: o.ready === false ? 'False' : 'True',
          reason: o.ready === false ? 'ContainersNotReady' : undefined
        }
      ],
      containerStatuses: [
        {
          name: container,
          ready: o.ready !== false,
          restartCount: o.restarts ?? 0,
          state: o.waiting
            ? { waiting: o.waiting }
            : o.terminated
              ? { terminated: o.terminated }
              : { running: {} },
          ...(o.last ? { lastState: { terminated: o.last } } : {})
        }
      ]
    }
  }
}

/** A core/v1 Warning event about an object. */
export function warning(
  name: string,
  about: { kind: string; name: string; ns?: string },
  o: { reason?: string; count?: number; first: string; last: string; rv?: string; message?: string }
): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: {
      name,
      namespace: about.ns ?? 'shop',
      uid: `uid-${name}`,
      resourceVersion: o.rv ?? '30'
    },
    type: 'Warning',
    reason: o.reason ?? 'BackOff',
    message: o.message ?? 'Back-off restarting failed container',
    count: o.count ?? 1,
    firstTimestamp: o.first,
    lastTimestamp: o.last,
    involvedObject: { kind: about.kind, name: about.name, namespace: about.ns ?? 'shop' }
  }
}
