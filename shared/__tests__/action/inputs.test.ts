/**
 * The typed input readers, driven the way the runner drives them: through INPUT_* variables.
 */
import { afterEach, describe, expect, it } from '@jest/globals'
import {
  inputLimits,
  readBoolean,
  readDuration,
  readInteger,
  readLines,
  readList,
  readString
} from '../../src/action/inputs.js'

const set: string[] = []
function input(name: string, value: string): void {
  const key = `INPUT_${name.replace(/ /g, '_').toUpperCase()}`
  process.env[key] = value
  set.push(key)
}
afterEach(() => {
  for (const key of set.splice(0)) delete process.env[key]
})

describe('readString', () => {
  it('returns the value, or the fallback when unset', () => {
    input('path', 'manifests')
    expect(readString('path')).toBe('manifests')
    expect(readString('unset', { fallback: '.' })).toBe('.')
  })

  it('refuses a value over the limit, naming the input and never echoing the value', () => {
    input('path', 'a'.repeat(inputLimits.maxChars + 1))
    expect(() => readString('path')).toThrow(
      `Input 'path' is ${inputLimits.maxChars + 1} characters long; at most ${inputLimits.maxChars} are accepted`
    )
  })

  it('accepts a larger value where the caller allows it (whole documents)', () => {
    input('kubeconfig', 'k'.repeat(100_000))
    expect(readString('kubeconfig', { maxChars: Infinity })).toHaveLength(100_000)
  })
})

describe('readList', () => {
  it('splits on lines and commas and drops blanks', () => {
    input('clusters', 'a, b\n\nc,')
    expect(readList('clusters')).toEqual(['a', 'b', 'c'])
  })

  it.each([
    [
      'too many items',
      Array.from({ length: inputLimits.maxItems + 1 }, () => 'x').join('\n'),
      `Input 'clusters' lists ${inputLimits.maxItems + 1} items; at most ${inputLimits.maxItems} are accepted`
    ],
    [
      'an item too long',
      `ok\n${'y'.repeat(inputLimits.maxItemChars + 1)}`,
      `Input 'clusters' has an item of ${inputLimits.maxItemChars + 1} characters; at most ${inputLimits.maxItemChars} are accepted`
    ]
  ])('refuses %s, naming the input', (_name, value, message) => {
    input('clusters', value)
    expect(() => readList('clusters')).toThrow(message)
  })
})

describe('readLines', () => {
  it('keeps commas inside a line (a wave of several clusters)', () => {
    input('waves', 'staging\nprod-eu, prod-us\n\n')
    expect(readLines('waves')).toEqual(['staging', 'prod-eu, prod-us'])
  })

  it('refuses too many lines, naming the input', () => {
    input('waves', Array.from({ length: inputLimits.maxItems + 1 }, () => 'x').join('\n'))
    expect(() => readLines('waves')).toThrow(
      `Input 'waves' lists ${inputLimits.maxItems + 1} items`
    )
  })
})

describe('typed readers', () => {
  it.each([
    [
      'boolean',
      () => readBoolean('flag', false),
      'maybe',
      /Input 'flag' must be true or false, got 'maybe'/
    ],
    [
      'integer',
      () => readInteger('count', 1, 1, 10),
      '11',
      /Input 'count' must be between 1 and 10, got 11/
    ],
    [
      'duration',
      () => readDuration('timeout', 1000),
      '999999h',
      /Input 'timeout' must be at most 168h/
    ]
  ])('%s: names the input and the value', (name, read, value, message) => {
    input(name === 'boolean' ? 'flag' : name === 'integer' ? 'count' : 'timeout', value)
    expect(read).toThrow(message)
  })
})
