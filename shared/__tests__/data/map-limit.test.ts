/** kit's one bounded-concurrency helper (formerly mapLimit in clock.ts and runPool in runner.ts). */
import { describe, expect, it } from '@jest/globals'
import { mapLimit } from '../../src/data/map-limit.js'
import { mapLimit as fromClock } from '../../src/deploy/cluster/clock.js'

const wait = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

describe('mapLimit', () => {
  it('is the helper clock.ts exports', () => {
    expect(fromClock).toBe(mapLimit)
  })

  it('never runs more than the limit at once and keeps the order of results', async () => {
    let running = 0
    let peak = 0
    const out = await mapLimit([1, 2, 3, 4, 5, 6, 7], 3, async (n) => {
      running++
      peak = Math.max(peak, running)
      await wait(5 + (n % 3) * 3)
      running--
      return n * 10
    })
    expect(out).toEqual([10, 20, 30, 40, 50, 60, 70])
    expect(peak).toBe(3)
  })

  it.each([
    // items, limit, expected peak in flight
    [0, 3, 0],
    [1, 3, 1],
    [5, 1, 1],
    [5, 5, 5],
    [5, 50, 5],
    [5, Infinity, 5],
    [5, 0, 1],
    [5, -2, 1],
    [5, NaN, 1],
    [5, 2.7, 2]
  ])('%i items with limit %d: at most %i in flight, results in order', async (n, limit, peak) => {
    const items = Array.from({ length: n }, (_, i) => i)
    let running = 0
    let seen = 0
    const out = await mapLimit(items, limit, async (i) => {
      running++
      seen = Math.max(seen, running)
      await wait((n - i) % 3)
      running--
      return `r${i}`
    })
    expect(out).toEqual(items.map((i) => `r${i}`))
    expect(seen).toBe(peak)
  })

  it('starts the next item as soon as one finishes (a slow item holds back nothing)', async () => {
    const finished: number[] = []
    await mapLimit([0, 1, 2, 3], 2, async (i) => {
      await wait(i === 0 ? 60 : 1)
      finished.push(i)
    })
    expect(finished).toEqual([1, 2, 3, 0])
  })

  it('rejects with the first failure', async () => {
    await expect(
      mapLimit([1, 2, 3], 2, async (n) => {
        if (n === 2) throw new Error('boom 2')
        return n
      })
    ).rejects.toThrow('boom 2')
  })
})
