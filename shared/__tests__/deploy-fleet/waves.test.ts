import { describe, expect, it } from '@jest/globals'
import { matchesAny, planWaves, selectClusters } from '../../src/deploy/fleet/waves.js'

describe('cluster globs (text/glob.ts)', () => {
  it.each([
    ['prod-*', 'prod-eu-1', true],
    ['prod-*', 'staging-1', false],
    ['prod-?', 'prod-1', true],
    ['prod-?', 'prod-12', false],
    ['a.b', 'axb', false],
    ['a.b', 'a.b', true],
    ['prod-[12]', 'prod-1', true],
    ['prod-{eu,us}*', 'prod-us-2', true]
  ])('%s against %s is %s', (glob, name, expected) => {
    expect(matchesAny(name, [glob])).toBe(expected)
  })
})

describe('selectClusters', () => {
  const all = ['prod-2', 'prod-1', 'staging']
  it('selects every cluster, sorted, when no pattern is given', () => {
    expect(selectClusters(all, [])).toEqual(['prod-1', 'prod-2', 'staging'])
  })
  it('selects by name and glob', () => {
    expect(selectClusters(all, ['staging', 'prod-2'])).toEqual(['prod-2', 'staging'])
    expect(selectClusters(all, ['prod-*'])).toEqual(['prod-1', 'prod-2'])
  })
  it('selects with sets and alternatives', () => {
    expect(selectClusters(all, ['prod-[2]', '{staging,canary}'])).toEqual(['prod-2', 'staging'])
  })
  it('refuses a pattern that matches nothing, naming it and the clusters', () => {
    expect(() => selectClusters(all, ['prdo-*'])).toThrow(
      "cluster selection 'prdo-*' matches none of the clusters (prod-2, prod-1, staging)"
    )
  })
})

describe('planWaves', () => {
  const clusters = ['prod-eu', 'prod-us', 'staging', 'canary']
  it('puts everything in one wave without a spec', () => {
    expect(planWaves(clusters, { kind: 'none' })).toEqual([{ name: 'all', clusters }])
  })
  it('orders waves by the list; the first matching entry wins; the rest go last', () => {
    const waves = planWaves(clusters, {
      kind: 'list',
      entries: ['staging', 'prod-eu, canary', 'prod-*']
    })
    expect(waves.map((w) => w.clusters)).toEqual([['staging'], ['prod-eu', 'canary'], ['prod-us']])
    const partial = planWaves(clusters, { kind: 'list', entries: ['staging'] })
    expect(partial.map((w) => [w.name, w.clusters])).toEqual([
      ['1 (staging)', ['staging']],
      ['rest', ['prod-eu', 'prod-us', 'canary']]
    ])
  })
  it('groups by a label, numeric values in numeric order, unlabelled clusters last', () => {
    const labels = new Map([
      ['prod-eu', { wave: '10' }],
      ['prod-us', { wave: '10' }],
      ['staging', { wave: '2' }]
    ])
    const waves = planWaves(clusters, { kind: 'label', label: 'wave', labels })
    expect(waves).toEqual([
      { name: 'wave=2', clusters: ['staging'] },
      { name: 'wave=10', clusters: ['prod-eu', 'prod-us'] },
      { name: 'rest', clusters: ['canary'] }
    ])
  })
})
