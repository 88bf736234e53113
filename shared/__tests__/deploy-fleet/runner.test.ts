import { describe, expect, it } from '@jest/globals'
import type { ClusterResult } from '../../src/deploy/cluster/types.js'
import { runFleet } from '../../src/deploy/fleet/runner.js'
import { Redactor } from '../../src/secrets/redact.js'

const ok = (cluster: string, outcome: ClusterResult['outcome'] = 'changed'): ClusterResult => ({
  cluster,
  outcome,
  changes: [
    {
      kind: 'ConfigMap',
      namespace: 'a',
      name: 'x',
      action: outcome === 'changed' ? 'created' : 'unchanged'
    }
  ],
  failures: [],
  durationMs: 5
})

describe('runFleet', () => {
  const base = { concurrency: 2, clusterDeadlineMs: 5_000, dryRun: false, redactor: new Redactor() }

  it('deploys every cluster of a wave even when one throws (unreachable) and one fails', async () => {
    const report = await runFleet({
      ...base,
      waves: [{ name: 'all', clusters: ['a', 'b', 'c'] }],
      deployOne: async (c) => {
        if (c === 'a') throw new Error('connect ECONNREFUSED 127.0.0.1:1\nstack...')
        if (c === 'b') return { ...ok(c), outcome: 'rolled-back', reason: 'ImagePullBackOff' }
        return ok(c)
      }
    })
    expect(report.rows.map((r) => [r.cluster, r.outcome, r.reason])).toEqual([
      ['a', 'failed', 'connect ECONNREFUSED 127.0.0.1:1'],
      ['b', 'rolled-back', 'ImagePullBackOff'],
      ['c', 'changed', undefined]
    ])
    expect(report.result).toBe('failure')
  })

  it('skips later waves after a failed wave, saying which wave and cluster failed', async () => {
    const started: string[] = []
    const report = await runFleet({
      ...base,
      waves: [
        { name: '1', clusters: ['staging'] },
        { name: '2', clusters: ['prod-1', 'prod-2'] }
      ],
      deployOne: async (c) => {
        started.push(c)
        return c === 'staging' ? { ...ok(c), outcome: 'failed', reason: 'boom' } : ok(c)
      }
    })
    expect(started).toEqual(['staging'])
    expect(
      report.rows.filter((r) => r.outcome === 'skipped').map((r) => [r.cluster, r.reason])
    ).toEqual([
      ['prod-1', 'not started: wave 1 did not succeed (staging)'],
      ['prod-2', 'not started: wave 1 did not succeed (staging)']
    ])
  })

  it('runs the next wave after a successful one, and reports success only when all succeed', async () => {
    const order: string[] = []
    const report = await runFleet({
      ...base,
      waves: [
        { name: '1', clusters: ['s'] },
        { name: '2', clusters: ['p'] }
      ],
      deployOne: async (c) => {
        order.push(c)
        return ok(c, c === 'p' ? 'unchanged' : 'changed')
      }
    })
    expect(order).toEqual(['s', 'p'])
    expect(report.result).toBe('success')
    expect(report.rows.map((r) => r.objectsChanged)).toEqual([1, 0])
  })

  it('keeps going through waves in a dry run (nothing changed, every diff is useful)', async () => {
    const report = await runFleet({
      ...base,
      dryRun: true,
      waves: [
        { name: '1', clusters: ['s'] },
        { name: '2', clusters: ['p'] }
      ],
      deployOne: async (c) => (c === 's' ? { ...ok(c), outcome: 'failed' } : ok(c))
    })
    expect(report.rows.map((r) => r.outcome)).toEqual(['failed', 'changed'])
  })

  it('aborts a cluster at its deadline and reports it failed once the grace period is over', async () => {
    let sawAbort = false
    const report = await runFleet({
      ...base,
      clusterDeadlineMs: 30,
      abortGraceMs: 20,
      waves: [{ name: 'all', clusters: ['slow', 'fast'] }],
      deployOne: async (c, signal) => {
        if (c === 'fast') return ok(c)
        signal.addEventListener('abort', () => (sawAbort = true))
        // Never settles on its own: only the grace period ends it.
        return new Promise<ClusterResult>(() => {})
      }
    })
    expect(sawAbort).toBe(true)
    const slow = report.rows.find((r) => r.cluster === 'slow')
    expect(slow?.outcome).toBe('failed')
    expect(slow?.reason).toBe('cluster deadline of 0s passed')
    expect(report.rows.find((r) => r.cluster === 'fast')?.outcome).toBe('changed')
  })

  it('lets an aborted cluster report its own result (e.g. rolled back) within the grace period', async () => {
    const report = await runFleet({
      ...base,
      clusterDeadlineMs: 20,
      abortGraceMs: 1_000,
      waves: [{ name: 'all', clusters: ['x'] }],
      deployOne: (c, signal) =>
        new Promise((resolve) =>
          signal.addEventListener('abort', () =>
            resolve({ ...ok(c), outcome: 'rolled-back', reason: 'timed out; rolled back' })
          )
        )
    })
    expect(report.rows[0].outcome).toBe('rolled-back')
  })

  it('scrubs secrets from reasons and keeps pre-reported rows (missing credentials)', async () => {
    const redactor = new Redactor()
    redactor.add('s3cr3t-token')
    const report = await runFleet({
      ...base,
      redactor,
      preReported: [
        {
          cluster: 'ghost',
          outcome: 'failed',
          objectsChanged: 0,
          durationMs: 0,
          reason: 'no credentials',
          failures: [],
          changes: []
        }
      ],
      waves: [{ name: 'all', clusters: ['a'] }],
      deployOne: async () => {
        throw new Error('401 for token s3cr3t-token')
      }
    })
    expect(report.rows.map((r) => r.reason)).toEqual(['no credentials', '401 for token ***'])
  })

  it('reports failure when nothing was selected', async () => {
    const report = await runFleet({ ...base, waves: [], deployOne: async (c) => ok(c) })
    expect(report.result).toBe('failure')
  })

  it('calls the start and done hooks once per cluster', async () => {
    const events: string[] = []
    await runFleet({
      ...base,
      waves: [{ name: 'w', clusters: ['a', 'b'] }],
      deployOne: async (c) => ok(c),
      onClusterStart: (c, w) => void events.push(`start ${c} ${w.name}`),
      onClusterDone: (r) => void events.push(`done ${r.cluster} ${r.outcome}`)
    })
    expect(events.sort()).toEqual(['done a changed', 'done b changed', 'start a w', 'start b w'])
  })
})
