/**
 * Durations as workflow inputs and CLI flags write them. Pure text: importing the module pulls
 * in nothing of the actions' runtime (@actions/core), so the CLI bundle can use it.
 */
import { describe, expect, it } from '@jest/globals'
import { readFileSync } from 'node:fs'
import { maxDurationMs, parseDuration } from '../../src/text/duration.js'

describe('parseDuration', () => {
  it.each([
    ['90s', 90_000],
    ['10m', 600_000],
    ['1h30m', 5_400_000],
    ['500ms', 500],
    ['2m30s', 150_000],
    ['45', 45_000],
    [' 5m ', 300_000]
  ])('%s is %i ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms)
  })

  it.each(['', '1d', 'm5', '5 m', '1h 30m', '-5s', '1.5h', '5mx'])('refuses %j', (text) => {
    expect(parseDuration(text)).toBeUndefined()
  })

  it('caps inputs at a week, below where Node timers overflow', () => {
    expect(maxDurationMs).toBe(7 * 24 * 3_600_000)
    expect(maxDurationMs).toBeLessThan(2 ** 31)
  })

  it('imports nothing but itself', () => {
    const source = readFileSync('shared/src/text/duration.ts', 'utf8')
    expect(source).not.toMatch(/^import /m)
  })
})
