/**
 * No product function is over 100 lines (scripts/function-lengths.mjs): the control flow lives
 * in named steps, not in one long body.
 */
import { describe, expect, it } from '@jest/globals'
import { spawnSync } from 'node:child_process'

describe('product function lengths', () => {
  it('keeps every function of */src at 100 lines or fewer', () => {
    const res = spawnSync(process.execPath, ['scripts/function-lengths.mjs', '--check'], {
      encoding: 'utf8'
    })
    expect(res.stdout).toMatch(/ 0 over 100/)
    expect(res.status).toBe(0)
  })
})
