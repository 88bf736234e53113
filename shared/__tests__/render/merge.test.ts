import { describe, expect, it } from '@jest/globals'
import { mergeLayers, mergeValues, MergeError } from '../../src/render/index.js'

interface Row {
  rule: string
  base: unknown
  overlay: unknown
  want: unknown
}

const rows: Row[] = [
  { rule: 'a higher scalar wins', base: { a: 1 }, overlay: { a: 2 }, want: { a: 2 } },
  {
    rule: 'maps merge deeply',
    base: { db: { host: 'a', port: 5432 } },
    overlay: { db: { host: 'b' } },
    want: { db: { host: 'b', port: 5432 } }
  },
  {
    rule: 'new keys are added after the base keys',
    base: { a: 1 },
    overlay: { b: 2 },
    want: { a: 1, b: 2 }
  },
  {
    rule: 'a changed value keeps the base key order',
    base: { a: 1, b: 2, c: 3 },
    overlay: { c: 30, a: 10 },
    want: { a: 10, b: 2, c: 30 }
  },
  {
    rule: 'lists of named maps merge by name, keeping base order and appending new names',
    base: {
      env: [
        { name: 'A', value: '1' },
        { name: 'B', value: '2' }
      ]
    },
    overlay: {
      env: [
        { name: 'C', value: '3' },
        { name: 'A', value: 'one' }
      ]
    },
    want: {
      env: [
        { name: 'A', value: 'one' },
        { name: 'B', value: '2' },
        { name: 'C', value: '3' }
      ]
    }
  },
  {
    rule: 'named items merge deeply (containers)',
    base: { containers: [{ name: 'app', image: 'x', resources: { cpu: '1', memory: '1Gi' } }] },
    overlay: { containers: [{ name: 'app', resources: { memory: '2Gi' } }] },
    want: { containers: [{ name: 'app', image: 'x', resources: { cpu: '1', memory: '2Gi' } }] }
  },
  {
    rule: 'lists of scalars are replaced, never merged by index',
    base: { args: ['--a', '--b'] },
    overlay: { args: ['--c'] },
    want: { args: ['--c'] }
  },
  {
    rule: 'lists of maps without names are replaced (imagePullSecrets-style surprise avoided)',
    base: { secrets: [{ ref: 'a' }, { ref: 'b' }] },
    overlay: { secrets: [{ ref: 'c' }] },
    want: { secrets: [{ ref: 'c' }] }
  },
  {
    rule: 'a list where only some items have names is replaced',
    base: { l: [{ name: 'a', v: 1 }] },
    overlay: { l: [{ name: 'a', v: 2 }, { v: 3 }] },
    want: { l: [{ name: 'a', v: 2 }, { v: 3 }] }
  },
  {
    rule: 'an empty list replaces',
    base: { l: [{ name: 'a' }] },
    overlay: { l: [] },
    want: { l: [] }
  },
  { rule: 'null removes a key', base: { a: 1, b: 2 }, overlay: { a: null }, want: { b: 2 } },
  {
    rule: 'null removes a nested key',
    base: { resources: { limits: { memory: '1Gi' }, requests: { cpu: '1' } } },
    overlay: { resources: { limits: null } },
    want: { resources: { requests: { cpu: '1' } } }
  },
  {
    rule: 'null removes a field of a named item',
    base: { env: [{ name: 'A', value: '1', valueFrom: { x: 1 } }] },
    overlay: { env: [{ name: 'A', valueFrom: null }] },
    want: { env: [{ name: 'A', value: '1' }] }
  },
  {
    rule: 'null for a key the base lacks leaves nothing',
    base: { a: 1 },
    overlay: { z: null },
    want: { a: 1 }
  },
  {
    rule: 'nulls inside a new subtree are dropped',
    base: {},
    overlay: { a: { b: null, c: 1 } },
    want: { a: { c: 1 } }
  },
  {
    rule: 'a map replaces a scalar',
    base: { a: 1 },
    overlay: { a: { b: 1 } },
    want: { a: { b: 1 } }
  },
  { rule: 'a scalar replaces a map', base: { a: { b: 1 } }, overlay: { a: 'x' }, want: { a: 'x' } },
  { rule: 'a list replaces a map', base: { a: { b: 1 } }, overlay: { a: [1] }, want: { a: [1] } },
  {
    rule: 'false and 0 are values, not absence',
    base: { a: true, b: 5 },
    overlay: { a: false, b: 0 },
    want: { a: false, b: 0 }
  }
]

describe('mergeValues', () => {
  it.each(rows)('$rule', ({ base, overlay, want }) => {
    const baseCopy = structuredClone(base)
    const overlayCopy = structuredClone(overlay)
    expect(mergeValues(base, overlay)).toEqual(want)
    // Inputs are never mutated: layers are reused for every cluster.
    expect(base).toEqual(baseCopy)
    expect(overlay).toEqual(overlayCopy)
  })

  it('refuses a named list with a repeated name, naming the path', () => {
    const run = () =>
      mergeValues({ env: [{ name: 'A' }] }, { env: [{ name: 'B' }, { name: 'B', value: 'x' }] })
    expect(run).toThrow(MergeError)
    expect(run).toThrow("the list at values.env has two items named 'B'")
  })

  it('never lets a __proto__ key reach the prototype', () => {
    const overlay = JSON.parse('{"__proto__": {"polluted": true}, "a": 1}') as unknown
    const merged = mergeValues({}, overlay) as Record<string, unknown>
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
    expect(Object.getPrototypeOf(merged)).toBe(Object.prototype)
    expect(Object.keys(merged)).toEqual(['__proto__', 'a'])
  })

  it('does not treat inherited names (toString) as existing keys', () => {
    expect(mergeValues({}, { toString: 'x' })).toEqual({ toString: 'x' })
  })
})

describe('mergeLayers', () => {
  it('applies layers lowest first: service, groups in order, cluster, per-service override', () => {
    const service = { replicas: 1, region: 'none', tier: 'none', owner: 'svc' }
    const development = { replicas: 2, tier: 'dev' }
    const eu = { region: 'eu', replicas: 3 }
    const cluster = { replicas: 4 }
    const perService = { owner: 'cluster' }
    expect(mergeLayers([service, development, eu, cluster, perService])).toEqual({
      replicas: 4,
      region: 'eu',
      tier: 'dev',
      owner: 'cluster'
    })
    expect(mergeLayers([service, eu, development])).toMatchObject({ replicas: 2, region: 'eu' })
  })
})
