import { describe, expect, it } from '@jest/globals'
import {
  acquireLock,
  ensureKitNamespace,
  leaseExpired,
  LockTimeoutError,
  microTime
} from '../../src/deploy/fleet/lock.js'
import { ClusterDeadline } from '../../src/deploy/fleet/deadline.js'
import { FakeClusterClient, fakeClock, quietLog } from './fake-client.js'

const leaseRef = {
  apiVersion: 'coordination.k8s.io/v1',
  kind: 'Lease',
  namespace: 'kit-system',
  name: 'kit-deploy-lock'
}

const opts = (identity: string, clock = fakeClock()) => ({
  identity,
  description: `https://ci.example/runs/${identity}`,
  waitMs: 10_000,
  pollMs: 1_000,
  clock,
  log: quietLog
})

describe('microTime', () => {
  it('writes six fractional digits as the API requires', () => {
    expect(microTime(Date.UTC(2026, 10, 26, 7, 0, 0, 123))).toBe('2026-11-26T07:00:00.123000Z')
  })
})

describe('ensureKitNamespace', () => {
  it('creates kit-system once and tolerates it existing', async () => {
    const client = new FakeClusterClient()
    await ensureKitNamespace(client)
    await ensureKitNamespace(client)
    expect(client.writes).toEqual(['create Namespace kit-system'])
  })
})

describe('acquireLock', () => {
  it('creates kit-system only when the Lease cannot be created without it, then one request per lock', async () => {
    const client = new FakeClusterClient()
    client.requireNamespaces = true
    const first = await acquireLock(client, opts('run-1'))
    await first.release()
    expect(client.writes).toEqual([
      'create Namespace kit-system',
      'create Lease kit-system/kit-deploy-lock',
      'delete Lease kit-system/kit-deploy-lock'
    ])
    client.calls.length = 0
    const second = await acquireLock(client, opts('run-2'))
    await second.release()
    // No read before the create, none before the delete (it carries preconditions instead).
    expect(client.calls).toEqual([
      'create Lease kit-system/kit-deploy-lock',
      'delete Lease kit-system/kit-deploy-lock'
    ])
  })

  it('creates the Lease with the run as holder and deletes it on release', async () => {
    const client = new FakeClusterClient()
    const lock = await acquireLock(client, opts('run-1'))
    const lease = await client.get(leaseRef)
    expect(lease?.spec).toMatchObject({ holderIdentity: 'run-1', leaseDurationSeconds: 60 })
    expect(lease?.metadata.annotations?.['kit.dev/lock-holder']).toBe(
      'https://ci.example/runs/run-1'
    )
    await lock.release()
    expect(await client.get(leaseRef)).toBeUndefined()
    expect(lock.lost.aborted).toBe(false)
  })

  it('makes a second run wait, then fail naming the holder', async () => {
    const client = new FakeClusterClient()
    const clock = fakeClock()
    const first = await acquireLock(client, opts('run-1', clock))
    // The holder keeps renewing: model that by refreshing renewTime whenever the waiter sleeps.
    const waiterClock = {
      now: clock.now,
      sleep: async (ms: number) => {
        clock.advance(ms)
        const live = (await client.get(leaseRef))!
        ;(live.spec as Record<string, unknown>).renewTime = microTime(clock.now())
        await client.replace(live)
      }
    }
    const second = acquireLock(client, { ...opts('run-2'), clock: waiterClock, waitMs: 5_000 })
    await expect(second).rejects.toThrow(LockTimeoutError)
    await expect(second).rejects.toThrow(
      /cluster fake is locked by another deploy: run-1 \(https:\/\/ci.example\/runs\/run-1\), holding it since 2026-11-26T07:00:00.000000Z .*waited 5s/
    )
    await first.release()
  })

  it('gets the lock once the holder releases it while waiting', async () => {
    const client = new FakeClusterClient()
    const clock = fakeClock()
    const first = await acquireLock(client, opts('run-1', clock))
    let slept = 0
    const waiterClock = {
      now: clock.now,
      sleep: async (ms: number) => {
        clock.advance(ms)
        if (++slept === 2) await first.release()
      }
    }
    const second = await acquireLock(client, { ...opts('run-2'), clock: waiterClock })
    expect(((await client.get(leaseRef))?.spec as { holderIdentity: string }).holderIdentity).toBe(
      'run-2'
    )
    expect(slept).toBe(2)
    await second.release()
  })

  it("moves the cluster's deadline by the time waited for another run's lock, and only by that", async () => {
    const client = new FakeClusterClient()
    const clock = fakeClock()
    const first = await acquireLock(client, opts('run-1', clock))
    const deadline = new ClusterDeadline(clock.now, 10_000)
    const start = clock.now()
    let seenWhileWaiting = 0
    const waiterClock = {
      now: clock.now,
      sleep: async (ms: number) => {
        // While waiting, the deadline covers the whole lock wait (10 s) plus the timeout.
        seenWhileWaiting = deadline.at()
        clock.advance(ms)
        if (clock.now() - start >= 3_000) await first.release()
      }
    }
    const second = await acquireLock(client, { ...opts('run-2'), clock: waiterClock, deadline })
    expect(seenWhileWaiting).toBe(start + 10_000 + 10_000)
    // Waited 3 s: the deadline is 3 s later than it was, no more.
    expect(clock.now() - start).toBe(3_000)
    expect(deadline.at()).toBe(start + 3_000 + 10_000)
    expect(deadline.cleanUpAt()).toBe(start + 3_000 + 20_000)
    await second.release()
  })

  it('leaves the deadline alone when nobody holds the lock', async () => {
    const clock = fakeClock()
    const deadline = new ClusterDeadline(clock.now, 10_000)
    const lock = await acquireLock(new FakeClusterClient(), { ...opts('run-1', clock), deadline })
    expect(deadline.at()).toBe(clock.now() + 10_000)
    await lock.release()
  })

  it('takes over an expired lease (its holder crashed) and counts the transition', async () => {
    const client = new FakeClusterClient()
    const clock = fakeClock()
    client.seed({
      ...leaseRef,
      metadata: { name: 'kit-deploy-lock', namespace: 'kit-system' },
      spec: {
        holderIdentity: 'crashed-run',
        leaseDurationSeconds: 60,
        acquireTime: microTime(clock.now() - 120_000),
        renewTime: microTime(clock.now() - 61_000),
        leaseTransitions: 3
      }
    })
    const warnings: string[] = []
    const lock = await acquireLock(client, {
      ...opts('run-9', clock),
      log: { ...quietLog, warning: (m) => void warnings.push(m) }
    })
    const spec = (await client.get(leaseRef))?.spec as {
      holderIdentity: string
      leaseTransitions: number
    }
    expect(spec).toMatchObject({ holderIdentity: 'run-9', leaseTransitions: 4 })
    expect(warnings).toEqual(['taking over the expired deploy lock of crashed-run'])
    await lock.release()
  })

  it('lets exactly one of two racing runs win', async () => {
    const client = new FakeClusterClient()
    const clock = fakeClock()
    const results = await Promise.allSettled([
      acquireLock(client, { ...opts('a', clock), waitMs: 0 }),
      acquireLock(client, { ...opts('b', clock), waitMs: 0 })
    ])
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1)
    const loser = results.find((r) => r.status === 'rejected') as PromiseRejectedResult
    expect(String(loser.reason)).toMatch(/locked by another deploy/)
    for (const r of results) if (r.status === 'fulfilled') await r.value.release()
  })

  it('does not release a lock someone else holds now', async () => {
    const client = new FakeClusterClient()
    const lock = await acquireLock(client, opts('mine'))
    const live = (await client.get(leaseRef))!
    ;(live.spec as Record<string, unknown>).holderIdentity = 'theirs'
    await client.replace(live)
    await lock.release()
    expect(await client.get(leaseRef)).toBeDefined()
  })
})

describe('leaseExpired', () => {
  it.each([
    [
      { holderIdentity: 'x', leaseDurationSeconds: 60, renewTime: '2026-11-26T06:59:30.000000Z' },
      false
    ],
    [
      { holderIdentity: 'x', leaseDurationSeconds: 60, renewTime: '2026-11-26T06:58:00.000000Z' },
      true
    ],
    [
      { holderIdentity: '', leaseDurationSeconds: 60, renewTime: '2026-11-26T06:59:59.000000Z' },
      true
    ],
    [{ holderIdentity: 'x', leaseDurationSeconds: 60 }, true]
  ])('%j expired: %s', (spec, expected) => {
    const lease = { ...leaseRef, metadata: { name: 'l' }, spec }
    expect(leaseExpired(lease, Date.UTC(2026, 10, 26, 7, 0, 0))).toBe(expected)
  })
})
