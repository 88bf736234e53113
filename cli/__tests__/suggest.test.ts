/** "Did you mean": the nearest known word to a mistyped command or flag (../src/suggest.ts). */
import { describe, expect, it } from '@jest/globals'
import { closest, didYouMean, editDistance } from '../src/suggest.js'

describe('editDistance', () => {
  it.each([
    ['render', 'render', 0],
    ['rendr', 'render', 1],
    ['deplyo', 'deploy', 1], // a swap of two neighbours is one edit
    ['clustr', 'clusters', 2],
    ['', 'diff', 4],
    ['bump', 'diff', 4]
  ])('%s → %s is %i', (a, b, d) => {
    expect(editDistance(a, b)).toBe(d)
    expect(editDistance(b, a)).toBe(d)
  })
})

describe('closest', () => {
  const commands = ['render', 'diff', 'deploy', 'bump', 'help']
  const flags = ['clusters', 'groups', 'dry-run', 'check', 'json', 'no-wait', 'wait']

  it('finds the word a typo means', () => {
    expect(closest('rendr', commands)).toBe('render')
    expect(closest('Deploy', commands)).toBe('deploy')
    expect(closest('clustr', flags)).toBe('clusters')
    expect(closest('jsno', flags)).toBe('json')
  })

  it('completes a unique prefix of three or more characters', () => {
    expect(closest('dry', flags)).toBe('dry-run')
    expect(closest('clu', flags)).toBe('clusters')
  })

  it('suggests nothing for a word far from every known one', () => {
    expect(closest('frobnicate', commands)).toBeUndefined()
    expect(closest('x', commands)).toBeUndefined()
    expect(closest('', commands)).toBeUndefined()
    expect(didYouMean('zzz', commands)).toBe('')
  })

  it('says it as a clause, spelled by the caller', () => {
    expect(didYouMean('rendr', commands)).toBe("; did you mean 'render'?")
    expect(didYouMean('clustr', flags, (w) => `--${w}`)).toBe('; did you mean --clusters?')
  })
})
