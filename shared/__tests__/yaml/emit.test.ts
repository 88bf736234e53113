// emitYaml must write exactly what js-yaml's dump writes (so the golden output cannot move),
// and what it writes must load back to the same value. Checked on tricky scalars in every
// position, on generated data, and on every file of the golden fixture output.
import { describe, expect, it } from '@jest/globals'
import fc from 'fast-check'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { dump, load } from 'js-yaml'
import { parse } from 'yaml'
import { emitYaml, ownDocument, yamlDumpOptions } from '../../src/yaml/index.js'

const reference = (value: unknown) => dump(value, yamlDumpOptions)

/**
 * js-yaml writes a few number-like strings plain (`0_8`) that YAML 1.1 readers (kubectl's)
 * read as numbers; ours quotes them. Such lines differ from js-yaml's by those quotes alone.
 */
function onlyNumberQuotes(ours: string, theirs: string): boolean {
  const a = ours.split('\n')
  const b = theirs.split('\n')
  return (
    a.length === b.length &&
    a.every((line, i) => line === b[i] || line.replace(/'([0-9][0-9_]*)'/g, '$1') === b[i])
  )
}

function loads(text: string): boolean {
  try {
    load(text)
    return true
  } catch {
    return false
  }
}

/**
 * Loads back to the same value (with js-yaml, and with YAML 1.1 rules as Kubernetes tools
 * read it), and is byte for byte js-yaml's text wherever js-yaml's text is valid YAML.
 */
function expectEquivalent(value: unknown): void {
  const text = emitYaml(value)
  const ref = reference(value)
  if (loads(ref)) expect(text).toBe(ref)
  expect(load(text)).toEqual(value)
  expect(parse(text, { version: '1.1' })).toEqual(value)
}

/** Strings a YAML writer gets wrong when it does not quote with care. */
const tricky = [
  '',
  ' ',
  '  leading',
  'trailing ',
  '123',
  '-1',
  '+1',
  '0777',
  '0o17',
  '0x1F',
  '0b101',
  '1e3',
  '1_000',
  '.5',
  '1.',
  '.inf',
  '-.Inf',
  '.NaN',
  '1:20',
  '190:20:30',
  '2001-12-14',
  '2001-12-14t21:59:43.10-05:00',
  'true',
  'True',
  'FALSE',
  'yes',
  'No',
  'on',
  'OFF',
  'y',
  'n',
  'Y',
  'null',
  'Null',
  'NULL',
  '~',
  '=',
  '<<',
  'a: b',
  'a:b',
  ':',
  ': x',
  'x:',
  '#',
  '# comment',
  'a #b',
  'a#b',
  '- x',
  '-',
  '--',
  '---',
  '--- x',
  '...',
  '?',
  '? x',
  '*alias',
  '&anchor',
  '!tag',
  '!!str',
  '%TAG',
  '@at',
  '`tick',
  '|',
  '>',
  "'",
  "it's",
  '"',
  'say "hi"',
  '{',
  '{a: 1}',
  '[1, 2]',
  ',',
  'a, b',
  'a\tb',
  '\t',
  'back\\slash',
  'carriage\rreturn',
  'nul\u0000byte',
  'bell\u0007',
  'del\u007f',
  'nbsp\u00a0x',
  'line\u2028sep',
  '\ufeffbom',
  'héllo wörld',
  'こんにちは',
  '🚀 launch',
  'multi\nline',
  'trailing newline\n',
  '\n',
  'two\n\nblank lines\n\n',
  '  indented\nfirst line',
  'a'.repeat(200),
  'word '.repeat(60).trim(),
  'ghcr.io/acme/api:main-1a2b3c4@sha256:' + 'a'.repeat(64),
  'http://example.com:8080/path?q=1#frag',
  '${{ not a placeholder here }}',
  'sh -c "echo $HOME && exit 0"'
]

describe('emitYaml', () => {
  it.each(tricky.map((s) => [JSON.stringify(s), s]))(
    'writes %s as js-yaml does, as a value, a list item and a key',
    (_name, s) => {
      expectEquivalent({ value: s })
      expectEquivalent({ list: [s, 'plain', [s]], nested: { deeper: { deepest: s } } })
      expectEquivalent({ [s]: 1, other: { [s]: s } })
      expectEquivalent([s, { [s]: [s] }])
    }
  )

  it('writes numbers, booleans, null and empty collections as js-yaml does', () => {
    expectEquivalent({
      ints: [0, 1, -1, 42, 2 ** 53 - 1, -(2 ** 53) + 1],
      floats: [0.5, -2.25, 1e21, 1.5e-7, 123456789.123],
      special: [Infinity, -Infinity],
      flags: [true, false, null],
      empty: { map: {}, list: [], inList: [{}, []] },
      keys: { '1': 'a', '0': 'b', '-1': 'c', true: 'd', null: 'e' }
    })
    // -0 and NaN are not equal to themselves under toEqual's rules in every loader; bytes only.
    expect(emitYaml({ z: -0, n: NaN, list: [-0] })).toBe(reference({ z: -0, n: NaN, list: [-0] }))
  })

  it('quotes a top-level key that would read as a document marker (js-yaml does not)', () => {
    expect(reference({ '--- x': 1 })).toBe('--- x: 1\n')
    expect(loads(reference({ '--- x': 1 }))).toBe(false)
    expect(emitYaml({ '--- x': 1, "... it's": 2, '---': 3 })).toBe(
      "'--- x': 1\n'... it''s': 2\n---: 3\n"
    )
    expect(load(emitYaml({ '--- x': 1, "... it's": 2, '---': 3 }))).toEqual({
      '--- x': 1,
      "... it's": 2,
      '---': 3
    })
  })

  it('quotes strings that read as numbers although they overflow (js-yaml leaves them plain)', () => {
    const overflowing = [
      '1e400',
      '-1e309',
      '.5e999',
      '1.0e+400',
      '9'.repeat(400),
      `0x${'f'.repeat(300)}`
    ]
    for (const s of overflowing) {
      expect(reference({ a: s })).toBe(`a: ${s}\n`)
      // Plain, kit's own reader (yaml) would read a number back.
      expect(typeof parse(`a: ${s}\n`).a).toBe('number')
      const value = { [s]: s, list: [s], nested: { v: s } }
      expect(parse(emitYaml(value))).toEqual(value)
      // The pair js-yaml writes (a line break sends it there) keeps it a string too.
      const slow = { script: 'line one\nline two', v: s }
      expect(parse(emitYaml({ slow }))).toEqual({ slow })
    }
  })

  it('falls back to js-yaml for what it does not write itself', () => {
    const nullProto = Object.assign(Object.create(null) as Record<string, unknown>, { a: 1 })
    const proto = JSON.parse('{"__proto__": {"polluted": true}, "b": 2}') as unknown
    const values: unknown[] = [
      { when: new Date(Date.UTC(2026, 0, 2)) },
      { skip: undefined, keep: 1 },
      { holes: [1, undefined, 3] },
      { ['k'.repeat(1100)]: 'a key over 1024 characters' },
      { 'multi\nline key': 1 },
      { script: 'set -e\nrun\n', after: 'x' },
      { keep: 'blank lines kept\n\n' },
      { keep: 'blank lines kept\n\n', then: 1 },
      { first: 1, keep: ['nested keep\n\n'] },
      { 'a: b': 'quoted key\nmulti-line value' },
      { bytes: new Uint8Array([1, 2, 3]) },
      nullProto,
      proto,
      'a top-level string',
      '--- a top-level string',
      42,
      null,
      {},
      []
    ]
    for (const v of values) expect(emitYaml(v)).toBe(reference(v))
  })

  it('quotes number-like strings js-yaml leaves plain, which YAML 1.1 readers take as numbers', () => {
    expect(reference({ a: '0_8' })).toBe('a: 0_8\n')
    expect(emitYaml({ a: '0_8' })).toBe("a: '0_8'\n")
    expect(emitYaml({ '': ['0_8'] })).toBe("'':\n  - '0_8'\n")
    expect(onlyNumberQuotes(emitYaml({ '': ['0_8'] }), reference({ '': ['0_8'] }))).toBe(true)
    expect(onlyNumberQuotes("a: 'x'\n", 'a: x\n')).toBe(false)
  })

  it('matches js-yaml on generated JSON-like data', () => {
    const scalar = fc.oneof(
      fc.string(),
      fc.string({ unit: 'binary' }),
      fc.string({
        unit: fc.constantFrom(...'ab :#-?\'"{}[],&*!|>%@`\n\t\r\\ 0129.eExyn~'.split(''))
      }),
      fc.constantFrom(...tricky),
      fc.integer(),
      fc.double({ noNaN: true }),
      fc.boolean(),
      fc.constant(null)
    )
    const key = fc.oneof(fc.string(), fc.constantFrom(...tricky.filter((s) => !s.includes('\n'))))
    const { value } = fc.letrec<{ value: unknown }>((tie) => ({
      value: fc.oneof(
        { depthSize: 'small', withCrossShrink: true },
        scalar,
        fc.array(tie('value'), { maxLength: 4 }),
        fc.dictionary(key, tie('value'), { maxKeys: 5 })
      )
    }))
    fc.assert(
      fc.property(fc.dictionary(key, value, { minKeys: 1, maxKeys: 6 }), (doc) => {
        const text = emitYaml(doc)
        const ref = reference(doc)
        // The same bytes as js-yaml, except where js-yaml's text is not valid YAML (only an
        // unquoted top-level `--- ` key), which ours quotes.
        const markerKey = Object.keys(doc).some((k) => /^(---|\.\.\.)[ \t]/.test(k))
        expect(text === ref || (markerKey && !loads(ref)) || onlyNumberQuotes(text, ref)).toBe(true)
        // And it loads back (JSON text, so -0 and 0 compare equal as in the rendered object).
        expect(JSON.stringify(load(text))).toBe(JSON.stringify(doc))
      }),
      { numRuns: 500 }
    )
  })

  it('rewrites every file of the golden fixture output byte for byte', () => {
    const golden = join(process.cwd(), 'deploymentizer/__tests__/golden')
    const files = readdirSync(golden, { recursive: true, withFileTypes: true })
      .filter((d) => d.isFile() && d.name.endsWith('.yaml'))
      .map((d) => join(d.parentPath, d.name))
    expect(files.length).toBeGreaterThan(50)
    for (const file of files) {
      const text = readFileSync(file, 'utf8')
      expect([file, emitYaml(load(text))]).toEqual([file, text])
    }
  })
})

/**
 * Values js-yaml cannot write: its style checks run out of V8's backtracking stack on strings
 * of about 2 MiB (RangeError, "Maximum call stack size exceeded"). Every value the loader
 * accepts (files up to 4 MiB) must still render, and read back as the same value.
 */
describe('emitYaml on values too large for js-yaml', () => {
  const MiB = 1024 * 1024
  const line = 'x'.repeat(3 * MiB)
  const lines = 'line of text\n'.repeat(250_000)
  const indented = `  starts with spaces\n${lines}`
  const tabbed = 'a\tb\n'.repeat(300_000)
  const digits = '7'.repeat(3 * MiB)

  /** Reads back to the same value with js-yaml and with YAML 1.2 and 1.1 rules. */
  function expectReadsBack(value: unknown): string {
    const text = emitYaml(value)
    expect(load(text)).toEqual(value)
    expect(parse(text, { version: '1.2' })).toEqual(value)
    expect(parse(text, { version: '1.1' })).toEqual(value)
    return text
  }

  it('is a value js-yaml fails on (so these tests exercise the fallback)', () => {
    for (const v of [line, lines, digits]) expect(() => reference({ a: v })).toThrow(RangeError)
  })

  it.each([
    ['a one-line string', line],
    ['a one-line string of digits (stays a string)', digits],
    ['a multi-line string', lines],
    ['a multi-line string starting with spaces', indented],
    ['a multi-line string with tabs', tabbed]
  ])('writes %s as a value, a list item and beside other pairs', (_name, v) => {
    const value = { before: 'a\nb', data: { big: v }, list: ['small', v], after: ['x\ny'] }
    expectReadsBack(value)
    // The writer emitYaml falls back on, used for everything it can write.
    expect(load(ownDocument(value))).toEqual(value)
  })

  it('writes a multi-line string as a literal block and a one-line string in double quotes', () => {
    const text = expectReadsBack({ data: { config: lines, token: line } })
    expect(text.startsWith('data:\n  config: |\n    line of text\n    line of text\n')).toBe(true)
    expect(text).toContain(`\n  token: "${'x'.repeat(100)}`)
  })

  it('writes a key too large for js-yaml (explicit form over 1024 characters)', () => {
    const key = 'k'.repeat(3 * MiB)
    const text = expectReadsBack({ data: { [key]: 'v', [`${key}\n2`]: lines } })
    expect(text.startsWith('data:\n  ? "kkk')).toBe(true)
  })

  it('writes large lists and maps (the loader reads 4 MiB files of them)', () => {
    const list = Array.from({ length: 10_000 }, (_, i) => ({ name: `V${i}`, value: String(i) }))
    const map = Object.fromEntries(Array.from({ length: 10_000 }, (_, i) => [`k${i}`, `v${i}`]))
    // js-yaml writes these itself; beside a string it cannot write, the fallback writes them.
    expect(emitYaml({ env: list, data: map })).toBe(reference({ env: list, data: map }))
    const text = emitYaml({ all: { env: list, data: map, big: line } })
    expect(JSON.stringify(load(text))).toBe(
      JSON.stringify({ all: { env: list, data: map, big: line } })
    )
  })

  it('writes multi-line strings exactly as js-yaml where js-yaml can (generated)', () => {
    // The writer used when js-yaml cannot, run on small values: byte for byte js-yaml's text,
    // except for strings ending in blank lines, which it double-quotes (js-yaml's `|+` would
    // need a document end marker).
    const chars = ['a', ' ', '\n', '\t', ':', '#', '-', 'é', '\u2028', '"', "'", '\r', '|']
    const text = fc
      .array(fc.constantFrom(...chars, '---', '...', '😀', '\u0007', '\u0085'), { maxLength: 12 })
      .map((parts) => `${parts.join('')}\nend`)
    fc.assert(
      fc.property(text, fc.integer({ min: 0, max: 3 }), (s, shape) => {
        const value = [{ a: s }, { a: [s] }, { a: { b: s } }, [s, { c: s }]][shape]
        expect(ownDocument(value)).toBe(reference(value))
      }),
      { numRuns: 2000 }
    )
    for (const keep of ['blank lines\n\n', '\n', 'x\n\n\n']) {
      const text = ownDocument({ a: { b: keep } })
      expect(parse(text)).toEqual({ a: { b: keep } })
      expect(text).toBe(`a:\n  b: ${JSON.stringify(keep)}\n`)
    }
  })
})
