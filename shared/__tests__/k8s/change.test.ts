/** Deciding "unchanged" without a request: the applied hash and the desired ⊆ live comparison. */
import { describe, expect, it } from '@jest/globals'
import {
  appliedHash,
  appliedHashAnnotation,
  canonicalJson,
  isCoveredBy,
  isUnchanged,
  storedForm,
  withAppliedHash,
  withoutAppliedHash
} from '../../src/k8s/change.js'
import type { KubeObject } from '../../src/k8s/types.js'

describe('isCoveredBy (every field the manifest sets equals live)', () => {
  it.each([
    ['equal scalars', 'a', 'a', true],
    ['different strings', 'a', 'b', false],
    ['a number is not its string', 1, '1', false],
    ['equal numbers', 2, 2, true],
    ['booleans strictly', false, false, true],
    ['false is not absent', false, undefined, false],
    ['extra live keys (defaults, other managers)', { a: 1 }, { a: 1, b: 2 }, true],
    ['a key missing live', { a: 1, c: 3 }, { a: 1 }, false],
    ['a nested difference', { a: { b: { c: 'x' } } }, { a: { b: { c: 'y', d: 1 } } }, false],
    ['a nested match', { a: { b: { c: 'x' } } }, { a: { b: { c: 'x', d: 1 } }, e: 2 }, true],
    ['lists element-wise', [{ n: 'a' }, { n: 'b' }], [{ n: 'a', x: 1 }, { n: 'b' }], true],
    ['lists of another length', [{ n: 'a' }], [{ n: 'a' }, { n: 'b' }], false],
    ['lists in another order', ['a', 'b'], ['b', 'a'], false],
    ['an element differing', [{ image: 'web:1' }], [{ image: 'web:2' }], false],
    ['a list against a map', [], {}, false],
    ['a map against a scalar', { a: 1 }, 'a', false],
    ['an empty map matches an absent field', {}, undefined, true],
    ['an empty list matches an absent field', [], undefined, true],
    ['null matches an absent field', null, undefined, true],
    ['null does not match a value', null, 'x', false],
    ['a value does not match null', 'x', null, false],
    ['an undefined member is not set', { a: undefined }, {}, true]
  ])('%s', (_name, desired, live, expected) => {
    expect(isCoveredBy(desired, live)).toBe(expected)
  })
})

describe('canonicalJson', () => {
  it.each([
    [
      { b: 1, a: { d: [1, { y: 2, x: 1 }], c: null } },
      '{"a":{"c":null,"d":[1,{"x":1,"y":2}]},"b":1}'
    ],
    [{ a: undefined, b: 'x' }, '{"b":"x"}'],
    [[undefined, 'x'], '[null,"x"]'],
    ['text', '"text"'],
    [null, 'null']
  ])('%j → %s', (value, expected) => {
    expect(canonicalJson(value)).toBe(expected)
  })
})

const cm = (data: Record<string, string>, annotations?: Record<string, string>): KubeObject => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name: 'c', namespace: 'n', ...(annotations ? { annotations } : {}) },
  data
})

describe('appliedHash', () => {
  it('is 16 hex digits, stable under key order, and ignores its own annotation', () => {
    const a = cm({ x: '1', y: '2' })
    const reordered: KubeObject = {
      data: { y: '2', x: '1' },
      metadata: { namespace: 'n', name: 'c' },
      kind: 'ConfigMap',
      apiVersion: 'v1'
    }
    expect(appliedHash(a)).toMatch(/^[0-9a-f]{16}$/)
    expect(appliedHash(reordered)).toBe(appliedHash(a))
    expect(appliedHash(withAppliedHash(a))).toBe(appliedHash(a))
  })
  it.each([
    ['a value', cm({ x: '1', y: '3' })],
    ['a removed key', cm({ x: '1' })],
    ['an added annotation', cm({ x: '1', y: '2' }, { team: 'a' })]
  ])('changes with %s', (_name, other) => {
    expect(appliedHash(other)).not.toBe(appliedHash(cm({ x: '1', y: '2' })))
  })
  it('leaves a Secret’s values out (they cannot be guessed from it) but not its keys', () => {
    const secret = (data: Record<string, string>, stringData?: Record<string, string>) =>
      ({
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 's', namespace: 'n' },
        data,
        ...(stringData ? { stringData } : {})
      }) as KubeObject
    const base = appliedHash(secret({ password: 'MTIzNA==' }, { token: 'short' }))
    expect(appliedHash(secret({ password: 'OTk5OQ==' }, { token: 'other' }))).toBe(base)
    expect(appliedHash(secret({ password: 'MTIzNA==' }))).not.toBe(base)
    expect(appliedHash(secret({ pass: 'MTIzNA==' }, { token: 'short' }))).not.toBe(base)
  })
  it('is stamped as an annotation and removed for display', () => {
    const stamped = withAppliedHash(cm({ x: '1' }, { team: 'a' }))
    expect(stamped.metadata.annotations).toEqual({
      team: 'a',
      [appliedHashAnnotation]: appliedHash(cm({ x: '1' }, { team: 'a' }))
    })
    expect(withoutAppliedHash(stamped)).toEqual(cm({ x: '1' }, { team: 'a' }))
    expect(withoutAppliedHash(withAppliedHash(cm({ x: '1' })))).toEqual(cm({ x: '1' }))
  })
})

describe('storedForm', () => {
  it('stores a Secret’s stringData base64-encoded in data, winning over data', () => {
    const secret: KubeObject = {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 's' },
      data: { a: Buffer.from('old').toString('base64'), b: 'Yg==' },
      stringData: { a: 'new' }
    }
    expect(storedForm(secret)).toEqual({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 's' },
      data: { a: Buffer.from('new').toString('base64'), b: 'Yg==' }
    })
  })
  it('leaves other kinds alone', () => {
    expect(storedForm(cm({ x: '1' }))).toEqual(cm({ x: '1' }))
  })
})

describe('isUnchanged', () => {
  const desired = withAppliedHash(cm({ x: '1' }))
  const live = (over: Partial<KubeObject> = {}, annotations = desired.metadata.annotations) =>
    ({
      ...desired,
      metadata: {
        ...desired.metadata,
        annotations,
        uid: 'u',
        resourceVersion: '9',
        managedFields: [{ manager: 'kit' }]
      },
      ...over
    }) as KubeObject
  it.each([
    ['the same hash and fields, plus server fields', live(), true],
    ['nothing live', undefined, false],
    ['drift: a value someone changed', live({ data: { x: '2' } }), false],
    ['drift: a key someone removed', live({ data: {} }), false],
    ['no hash (applied by an older kit)', live({}, {}), false],
    [
      'another hash (a field left the manifest)',
      live({}, { [appliedHashAnnotation]: 'f'.repeat(16) }),
      false
    ],
    [
      'being deleted',
      { ...live(), metadata: { ...live().metadata, deletionTimestamp: 't' } },
      false
    ]
  ])('%s → %s', (_name, l, expected) => {
    expect(isUnchanged(desired, l as KubeObject | undefined)).toBe(expected)
  })
  it('compares a Secret’s stringData with live data', () => {
    const secret = withAppliedHash({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 's', namespace: 'n' },
      stringData: { password: 'hunter2' }
    })
    const stored = (value: string) => ({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { ...secret.metadata, uid: 'u' },
      type: 'Opaque',
      data: { password: Buffer.from(value).toString('base64') }
    })
    expect(isUnchanged(secret, stored('hunter2'))).toBe(true)
    expect(isUnchanged(secret, stored('changed-by-hand'))).toBe(false)
  })
  it('refuses a desired object without a hash (nothing proves it was applied)', () => {
    expect(isUnchanged(cm({ x: '1' }), { ...cm({ x: '1' }) })).toBe(false)
  })
})
