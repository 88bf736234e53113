/**
 * The watch window after healthy, driven by a clock that moves only when the test says so and
 * by watch streams the test feeds: what it follows (and that it never lists or polls), when it
 * holds, and each way it turns degraded — with the time after healthy and the evidence.
 */
import { describe, expect, it } from '@jest/globals'
import type { GateEvaluator, GateVerdict } from '../../src/deploy/cluster/metric-gate.js'
import {
  watchAfterHealthy,
  type WatchResult,
  type WatchWindowOptions
} from '../../src/deploy/cluster/watch.js'
import { ClusterUnreachableError, type KubeObject } from '../../src/k8s/types.js'
import { memoryLog } from './helpers.js'
import {
  deployment,
  manualClock,
  pod,
  settle,
  streamingClient,
  warning,
  type FakeStream
} from './watch-fakes.js'

const second = 1000
const web = deployment('web')

/** A window of `windowMs` over `changed`, started; the test feeds its streams and clock. */
async function startWindow(
  over: Partial<WatchWindowOptions> = {},
  changed: KubeObject[] = [web],
  open?: Parameters<typeof streamingClient>[0]
) {
  const clock = manualClock()
  const fake = streamingClient(open)
  const log = memoryLog()
  let result: WatchResult | undefined
  let error: unknown
  const done = watchAfterHealthy(fake.client, changed, {
    windowMs: 60 * second,
    maxRestarts: 0,
    maxWarnings: 5,
    graceMs: 30 * second,
    clock,
    log,
    label: 'fake',
    heartbeatMs: 20 * second,
    ...over
  }).then(
    (r) => (result = r),
    (e: unknown) => (error = e)
  )
  await settle()
  const stream = (kind: string): FakeStream => {
    const open = fake.find(kind)
    expect(open).toHaveLength(1)
    return open[0]
  }
  /** The state when the window opened: the Deployment and its two ready pods. */
  const initial = async () => {
    stream('Deployment').send({ type: 'ADDED', object: web })
    stream('Pod').send({ type: 'ADDED', object: pod('web-1') })
    stream('Pod').send({ type: 'ADDED', object: pod('web-2') })
    await settle()
  }
  return {
    clock,
    fake,
    log,
    stream,
    initial,
    done,
    result: () => result,
    error: () => error
  }
}

describe('the watch window after healthy', () => {
  it('follows the changed workload, its pods and Warning events through one watch request each in its namespace, and holds when nothing happens', async () => {
    const w = await startWindow()
    await w.initial()
    expect(
      w.fake.streams.map((s) => ({
        kind: s.kind,
        ns: s.request.namespace,
        label: s.request.labelSelector,
        field: s.request.fieldSelector,
        from: s.request.resourceVersion
      }))
    ).toEqual([
      { kind: 'Deployment', ns: 'shop', label: undefined, field: undefined, from: undefined },
      { kind: 'Pod', ns: 'shop', label: undefined, field: undefined, from: undefined },
      { kind: 'Event', ns: 'shop', label: undefined, field: 'type=Warning', from: undefined }
    ])
    await w.clock.advance(59 * second)
    expect(w.result()).toBeUndefined()
    await w.clock.advance(1 * second)
    await w.done
    expect(w.result()).toEqual({ kind: 'held' })
    // No other request than the three streams, and every stream closed at the end.
    expect(w.fake.streams).toHaveLength(3)
    expect(w.fake.streams.every((s) => s.closed)).toBe(true)
    expect(w.log.text()).toContain(
      'watching 2 pods: 0 restarts, 0 Warning events so far; 40 s left'
    )
  })

  it('follows many workloads of a namespace through the same few streams, each pod judged for the workload whose selector it matches', async () => {
    // Every stream holds one of the cluster's pooled connections for the whole window (which
    // the lock's renewals need too): 30 workloads still open three streams, not 61.
    const many = Array.from({ length: 30 }, (_, i) => deployment(`app-${i}`))
    const w = await startWindow({}, many)
    expect(w.fake.streams.map((s) => `${s.kind} ${s.request.namespace}`)).toEqual([
      'Deployment shop',
      'Pod shop',
      'Event shop'
    ])
    const labelled = (name: string, app: string, shape: Parameters<typeof pod>[1] = {}) => {
      const p = pod(name, { container: app, ...shape })
      return { ...p, metadata: { ...p.metadata, labels: { app } } }
    }
    for (const d of many) w.stream('Deployment').send({ type: 'ADDED', object: d })
    w.stream('Pod').send({ type: 'ADDED', object: labelled('app-7-x', 'app-7') })
    // A pod of a workload this run did not change: never judged, whatever it does.
    w.stream('Pod').send({ type: 'ADDED', object: labelled('other-x', 'other') })
    await settle()
    await w.clock.advance(5 * second)
    w.stream('Pod').send({
      type: 'MODIFIED',
      object: labelled('other-x', 'other', { restarts: 4, ready: false })
    })
    await w.clock.advance(5 * second)
    expect(w.result()).toBeUndefined()
    w.stream('Pod').send({
      type: 'MODIFIED',
      object: labelled('app-7-x', 'app-7', { restarts: 1, last: { reason: 'Error', exitCode: 1 } })
    })
    await w.done
    expect(w.result()).toMatchObject({
      kind: 'degraded',
      afterMs: 10 * second,
      evidence: [{ object: 'Pod/shop/app-7-x', workload: 'Deployment/shop/app-7' }]
    })
  })

  it("forgets a pod relabelled out of its workload's selector, as a watch by that selector would", async () => {
    const w = await startWindow()
    await w.initial()
    await w.clock.advance(2 * second)
    // Readiness lost (degraded once it stays lost for the grace), then the pod is taken out of
    // the workload (e.g. to debug it): no longer the workload's.
    const p = pod('web-2', { ready: false })
    w.stream('Pod').send({ type: 'MODIFIED', object: p })
    await w.clock.advance(1 * second)
    w.stream('Pod').send({
      type: 'MODIFIED',
      object: { ...p, metadata: { ...p.metadata, labels: { app: 'debug' } } }
    })
    await w.clock.advance(57 * second)
    await w.done
    expect(w.result()).toEqual({ kind: 'held' })
  })

  it('is degraded at the first restart, with the time after healthy and the pod, container, reason and counts', async () => {
    const w = await startWindow()
    await w.initial()
    await w.clock.advance(12 * second)
    w.stream('Pod').send({
      type: 'MODIFIED',
      object: pod('web-2', {
        ready: false,
        restarts: 1,
        waiting: {
          reason: 'CrashLoopBackOff',
          message: 'back-off 10s restarting failed container'
        },
        last: { reason: 'Error', exitCode: 1 }
      })
    })
    await w.done
    expect(w.result()).toMatchObject({
      kind: 'degraded',
      afterMs: 12 * second,
      evidence: [
        {
          object: 'Pod/shop/web-2',
          workload: 'Deployment/shop/web',
          container: 'web',
          reason: 'CrashLoopBackOff',
          detail:
            'restarts 0→1, more than watch-max-restarts (0); last run exited with code 1 (Error)'
        }
      ]
    })
    expect(w.fake.streams.every((s) => s.closed)).toBe(true)
  })

  it('tolerates watch-max-restarts restarts per pod, and counts from where each pod stood when first seen', async () => {
    const w = await startWindow({ maxRestarts: 2 })
    w.stream('Pod').send({ type: 'ADDED', object: pod('web-1', { restarts: 4 }) })
    await settle()
    for (const restarts of [5, 6]) {
      w.stream('Pod').send({ type: 'MODIFIED', object: pod('web-1', { restarts }) })
      await w.clock.advance(5 * second)
    }
    expect(w.result()).toBeUndefined()
    w.stream('Pod').send({
      type: 'MODIFIED',
      object: pod('web-1', { restarts: 7, last: { reason: 'Error', exitCode: 2 } })
    })
    await w.done
    expect(w.result()).toMatchObject({
      kind: 'degraded',
      afterMs: 10 * second,
      evidence: [
        {
          reason: 'Error',
          detail: expect.stringMatching(
            /^restarts 4→7, more than watch-max-restarts \(2\)/
          ) as unknown
        }
      ]
    })
  })

  it('is degraded by an OOMKilled container whatever watch-max-restarts allows', async () => {
    const w = await startWindow({ maxRestarts: 10 })
    await w.initial()
    await w.clock.advance(3 * second)
    w.stream('Pod').send({
      type: 'MODIFIED',
      object: pod('web-1', { restarts: 1, last: { reason: 'OOMKilled', exitCode: 137 } })
    })
    await w.done
    expect(w.result()).toMatchObject({
      afterMs: 3 * second,
      evidence: [
        { object: 'Pod/shop/web-1', reason: 'OOMKilled', detail: 'was OOMKilled (restarts 0→1)' }
      ]
    })
  })

  it('is degraded when readiness stays lost for the grace, judged on time alone (no event needed)', async () => {
    const w = await startWindow({ graceMs: 10 * second })
    await w.initial()
    await w.clock.advance(5 * second)
    w.stream('Pod').send({ type: 'MODIFIED', object: pod('web-1', { ready: false }) })
    await w.clock.advance(9 * second)
    expect(w.result()).toBeUndefined()
    await w.clock.advance(1 * second)
    await w.done
    expect(w.result()).toMatchObject({
      afterMs: 15 * second,
      evidence: [
        {
          object: 'Pod/shop/web-1',
          reason: 'ReadinessLost',
          detail: 'not ready for 10 s: ContainersNotReady'
        }
      ]
    })
  })

  it('forgets readiness lost briefly, and a pod going away', async () => {
    const w = await startWindow({ graceMs: 10 * second, windowMs: 30 * second })
    await w.initial()
    w.stream('Pod').send({ type: 'MODIFIED', object: pod('web-1', { ready: false }) })
    await w.clock.advance(5 * second)
    w.stream('Pod').send({ type: 'MODIFIED', object: pod('web-1') })
    w.stream('Pod').send({
      type: 'MODIFIED',
      object: pod('web-2', { ready: false, deleting: true })
    })
    await w.clock.advance(15 * second)
    w.stream('Pod').send({
      type: 'DELETED',
      object: pod('web-2', { ready: false, deleting: true })
    })
    await w.clock.advance(10 * second)
    await w.done
    expect(w.result()).toEqual({ kind: 'held' })
  })

  it('judges a pod created during the window from scratch: an image that cannot be pulled is degraded after the grace', async () => {
    const w = await startWindow({ graceMs: 10 * second })
    await w.initial()
    await w.clock.advance(2 * second)
    const fresh = { created: w.clock.iso(2 * second), ready: false }
    w.stream('Pod').send({
      type: 'ADDED',
      object: pod('web-3', { ...fresh, waiting: { reason: 'ContainerCreating' } })
    })
    await w.clock.advance(1 * second)
    w.stream('Pod').send({
      type: 'MODIFIED',
      object: pod('web-3', {
        ...fresh,
        waiting: { reason: 'ImagePullBackOff', message: 'Back-off pulling image "x"' }
      })
    })
    await w.clock.advance(9 * second)
    expect(w.result()).toBeUndefined()
    await w.clock.advance(1 * second)
    await w.done
    expect(w.result()).toMatchObject({
      afterMs: 13 * second,
      evidence: [
        {
          object: 'Pod/shop/web-3',
          container: 'web',
          reason: 'ImagePullBackOff',
          detail: 'Back-off pulling image "x" (for 10 s)'
        }
      ]
    })
  })

  it('does not blame the window for a pod that was already failing when it opened', async () => {
    const w = await startWindow({ graceMs: 5 * second, windowMs: 20 * second })
    w.stream('Pod').send({
      type: 'ADDED',
      object: pod('web-1', { ready: false, waiting: { reason: 'ImagePullBackOff' } })
    })
    await w.clock.advance(20 * second)
    await w.done
    expect(w.result()).toEqual({ kind: 'held' })
  })

  it('is degraded when available replicas stay below what the rollout reached, but not when the replicas are scaled down', async () => {
    const w = await startWindow({ graceMs: 10 * second, windowMs: 120 * second })
    await w.initial()
    // Scaled down to 1 (an autoscaler): 1 available of 1 wanted is fine.
    w.stream('Deployment').send({
      type: 'MODIFIED',
      object: deployment('web', { replicas: 1, available: 1 })
    })
    await w.clock.advance(20 * second)
    w.stream('Deployment').send({
      type: 'MODIFIED',
      object: deployment('web', { replicas: 3, available: 3 })
    })
    await w.clock.advance(5 * second)
    w.stream('Deployment').send({
      type: 'MODIFIED',
      object: deployment('web', { replicas: 3, available: 1 })
    })
    await w.clock.advance(10 * second)
    await w.done
    expect(w.result()).toMatchObject({
      afterMs: 35 * second,
      evidence: [
        {
          object: 'Deployment/shop/web',
          reason: 'Unavailable',
          detail: 'available replicas 3→1 of 3 (for 10 s)'
        }
      ]
    })
  })

  it('is degraded when a changed Job fails or a changed workload is deleted', async () => {
    const job: KubeObject = {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'migrate', namespace: 'shop', resourceVersion: '5' },
      status: { conditions: [{ type: 'Complete', status: 'True' }] }
    }
    const w = await startWindow({}, [web, job])
    // A Job's pods are not followed: its Failed condition says what matters.
    expect(
      w.fake.streams.map((s) => `${s.kind} ${s.request.fieldSelector ?? s.request.labelSelector}`)
    ).toEqual(['Deployment undefined', 'Job undefined', 'Pod undefined', 'Event type=Warning'])
    w.stream('Job').send({ type: 'ADDED', object: job })
    await w.clock.advance(4 * second)
    w.stream('Job').send({
      type: 'MODIFIED',
      object: {
        ...job,
        status: {
          conditions: [
            {
              type: 'Failed',
              status: 'True',
              reason: 'BackoffLimitExceeded',
              message: 'Job has reached the specified backoff limit'
            }
          ]
        }
      }
    })
    await w.done
    expect(w.result()).toMatchObject({
      afterMs: 4 * second,
      evidence: [
        {
          object: 'Job/shop/migrate',
          reason: 'BackoffLimitExceeded',
          detail: 'Job has reached the specified backoff limit'
        }
      ]
    })

    const d = await startWindow()
    await d.initial()
    d.stream('Deployment').send({ type: 'DELETED', object: web })
    await d.done
    expect(d.result()).toMatchObject({
      evidence: [{ object: 'Deployment/shop/web', reason: 'Deleted' }]
    })
  })

  it('counts Warning events about the changed objects and their pods during the window only, and is degraded above watch-max-warnings', async () => {
    const w = await startWindow({ maxWarnings: 5 })
    await w.initial()
    const events = w.stream('Event')
    const before = w.clock.iso(-60 * second)
    // Before the window: not counted. About another object: not counted.
    events.send({
      type: 'ADDED',
      object: warning(
        'old',
        { kind: 'Pod', name: 'web-1' },
        { count: 40, first: before, last: before }
      )
    })
    events.send({
      type: 'ADDED',
      object: warning(
        'other',
        { kind: 'Pod', name: 'db-0' },
        { count: 9, first: w.clock.iso(), last: w.clock.iso() }
      )
    })
    // Happening before and during the window: its latest occurrence counts.
    events.send({
      type: 'ADDED',
      object: warning(
        'probe',
        { kind: 'Pod', name: 'web-2' },
        { reason: 'Unhealthy', count: 3, first: before, last: w.clock.iso(1000) }
      )
    })
    await w.clock.advance(5 * second)
    events.send({
      type: 'ADDED',
      object: warning(
        'backoff',
        { kind: 'Pod', name: 'web-1' },
        { count: 2, first: w.clock.iso(5000), last: w.clock.iso(5000) }
      )
    })
    events.send({
      type: 'ADDED',
      object: warning(
        'svc',
        { kind: 'Deployment', name: 'web' },
        {
          reason: 'ReplicaSetCreateError',
          count: 1,
          first: w.clock.iso(5000),
          last: w.clock.iso(5000)
        }
      )
    })
    await settle()
    expect(w.result()).toBeUndefined()
    await w.clock.advance(3 * second)
    events.send({
      type: 'MODIFIED',
      object: warning(
        'backoff',
        { kind: 'Pod', name: 'web-1' },
        { count: 4, first: w.clock.iso(5000), last: w.clock.iso(8000) }
      )
    })
    await w.done
    expect(w.result()).toMatchObject({
      afterMs: 8 * second,
      evidence: [
        {
          object: 'Pod/shop/web-1',
          workload: 'Deployment/shop/web',
          reason: 'BackOff',
          detail:
            '6 Warning events during the window, more than watch-max-warnings (5): BackOff ×4 on Pod/shop/web-1, Unhealthy ×1 on Pod/shop/web-2, ReplicaSetCreateError ×1 on Deployment/shop/web'
        }
      ],
      events: {
        'Pod/shop/web-1': ['Pod/web-1: BackOff: Back-off restarting failed container (x4)']
      }
    })
  })

  it('asks the metric gates every interval and once at the end, and is degraded by a failing verdict', async () => {
    const verdicts: GateVerdict[][] = []
    const calls: number[] = []
    const ok: GateVerdict = {
      gate: 'errors',
      query: 'q',
      condition: '< 0.01',
      value: 0.001,
      ok: true
    }
    const gates = (clock: { now(): number }): GateEvaluator => ({
      gates: [{ name: 'errors', query: 'q', condition: '< 0.01' }],
      evaluate: async () => {
        calls.push(clock.now())
        return verdicts.shift() ?? [ok]
      }
    })
    const clockRef = { now: () => 0 }
    const w = await startWindow({
      windowMs: 60 * second,
      gates: { evaluator: gates(clockRef), intervalMs: 15 * second }
    })
    clockRef.now = w.clock.now
    await w.initial()
    await w.clock.advance(60 * second)
    await w.done
    expect(w.result()).toEqual({ kind: 'held' })
    const start = Date.parse(w.clock.iso())
    expect(calls.map((t) => (t - start) / 1000)).toEqual([15, 30, 45, 60])

    calls.length = 0
    verdicts.push([ok], [{ ...ok, value: 0.07, ok: false }])
    const g = await startWindow({
      windowMs: 60 * second,
      gates: { evaluator: gates(clockRef), intervalMs: 15 * second }
    })
    clockRef.now = g.clock.now
    await g.initial()
    await g.clock.advance(60 * second)
    await g.done
    expect(g.result()).toMatchObject({
      kind: 'degraded',
      afterMs: 30 * second,
      evidence: [{ gate: 'errors', query: 'q', value: 0.07, condition: '< 0.01' }]
    })
  })

  it('opens a stream again from the last version when the server ends it, and from now when that version is gone', async () => {
    const w = await startWindow()
    await w.initial()
    w.stream('Pod').send({
      type: 'BOOKMARK',
      object: { apiVersion: 'v1', kind: 'Pod', metadata: { name: '', resourceVersion: '77' } }
    })
    await settle()
    w.stream('Pod').end()
    await w.clock.advance(1 * second)
    expect(w.stream('Pod').request.resourceVersion).toBe('77')
    w.stream('Pod').send({
      type: 'ERROR',
      object: {
        apiVersion: 'v1',
        kind: 'Status',
        metadata: { name: '' },
        code: 410,
        reason: 'Expired'
      } as KubeObject
    })
    await w.clock.advance(1 * second)
    expect(w.stream('Pod').request.resourceVersion).toBeUndefined()
    // Starting over sends the pods again: they keep the baseline they had.
    w.stream('Pod').send({ type: 'ADDED', object: pod('web-1', { rv: '90' }) })
    await w.clock.advance(58 * second)
    await w.done
    expect(w.result()).toEqual({ kind: 'held' })
    expect(w.fake.streams.filter((s) => s.kind === 'Pod')).toHaveLength(3)
  })

  it('fails (rather than holds) when a stream cannot be followed, and when the deploy is aborted', async () => {
    let opened = 0
    const w = await startWindow({}, [web], () =>
      ++opened > 3
        ? new ClusterUnreachableError('cluster "fake" is unreachable', 'fake')
        : undefined
    )
    w.stream('Pod').fail(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }))
    await w.clock.advance(5 * second)
    await w.done
    expect(w.error()).toBeInstanceOf(ClusterUnreachableError)

    const controller = new AbortController()
    const a = await startWindow({ signal: controller.signal })
    controller.abort(new Error('the run was cancelled'))
    await a.done
    expect((a.error() as Error).message).toBe('the run was cancelled')
    expect(a.fake.streams.every((s) => s.closed)).toBe(true)
  })
})
