/**
 * The safe YAML loader's refusals: bytes that are not UTF-8, control characters YAML does not
 * allow, nesting too deep to read, tags kit does not know, bad merge keys, duplicate keys and
 * sizes over the limits, each named with file, line and column; and merge keys applied as
 * kubectl and Helm apply them.
 */
import { describe, expect, it } from '@jest/globals'
import { InputError } from '../../src/errors.js'
import { decodeUtf8, lineOf, loadYamlDocuments } from '../../src/yaml/load.js'

function errorOf(fn: () => unknown): string {
  try {
    fn()
  } catch (err) {
    expect(err).toBeInstanceOf(InputError)
    return (err as Error).message
  }
  throw new Error('expected an InputError')
}

describe('decodeUtf8', () => {
  it.each([
    ['plain ASCII', Buffer.from('a: 1\n'), 'a: 1\n'],
    ['multi-byte characters', Buffer.from('city: München 東京 🚀\n'), 'city: München 東京 🚀\n'],
    ['a leading BOM, dropped', Buffer.from('\ufeffa: 1\n'), 'a: 1\n']
  ])('decodes %s', (_name, bytes, text) => {
    expect(decodeUtf8(bytes, 'f.yaml')).toBe(text)
  })

  it.each([
    ['a Latin-1 byte', Buffer.from('a: 1\ncity: M\xfcnchen\n', 'latin1'), 'f.yaml:2:8: ', '0xfc'],
    ['a lone continuation byte', Buffer.from([0x61, 0x3a, 0x20, 0x80]), 'f.yaml:1:4: ', '0x80'],
    [
      'a cut-off sequence at the end',
      Buffer.from([0x61, 0x0a, 0xe2, 0x82]),
      'f.yaml:2:1: ',
      '0xe2'
    ],
    ['an overlong form', Buffer.from([0x0a, 0x0a, 0xc0, 0xaf]), 'f.yaml:3:1: ', '0xc0'],
    ['a surrogate', Buffer.from([0x78, 0xed, 0xa0, 0x80]), 'f.yaml:1:2: ', '0xed']
  ])('refuses %s with line, column and the byte', (_name, bytes, where, byte) => {
    const message = errorOf(() => decodeUtf8(bytes, 'f.yaml'))
    expect(message.startsWith(where)).toBe(true)
    expect(message).toContain(byte)
    expect(message).toContain('UTF-8')
  })
})

describe('loadYamlDocuments refusals', () => {
  it.each([
    ['NUL', 'a: 1\nb: x\u0000y\n', 'f.yaml:2:5: ', 'U+0000'],
    ['bell', 'a: "\u0007"\n', 'f.yaml:1:5: ', 'U+0007'],
    ['DEL', '\u007f', 'f.yaml:1:1: ', 'U+007F']
  ])('refuses the control character %s with its position', (_name, text, where, code) => {
    const message = errorOf(() => loadYamlDocuments(text, 'f.yaml'))
    expect(message.startsWith(where)).toBe(true)
    expect(message).toContain(code)
  })

  it('keeps tabs, CR LF and C1-free Unicode', () => {
    expect(loadYamlDocuments('a: "x\ty"\r\nb: ü\r\n', 'f.yaml')[0].value).toEqual({
      a: 'x\ty',
      b: 'ü'
    })
  })

  it.each([
    ['10,000 flow sequences', `a: ${'['.repeat(10_000)}${']'.repeat(10_000)}\n`],
    ['10,000 block sequences on one line', `a:\n  ${'- '.repeat(10_000)}x\n`],
    ['10,000 flow maps', `a: ${'{b: '.repeat(10_000)}x${'}'.repeat(10_000)}\n`],
    ['300 flow sequences (parses, but past the limit)', `a: ${'['.repeat(300)}${']'.repeat(300)}\n`]
  ])('refuses %s as nested too deeply, with file and line', (_name, text) => {
    expect(errorOf(() => loadYamlDocuments(text, 'deep.yaml'))).toMatch(
      /^deep\.yaml:\d+: nested too deeply \(more than 256 levels/
    )
  })

  it('reads 200 levels (a deep CRD schema is far below that)', () => {
    const docs = loadYamlDocuments(`a: ${'['.repeat(200)}${']'.repeat(200)}\n`, 'ok.yaml')
    expect(docs).toHaveLength(1)
  })
})

describe('merge keys (<<), applied as kubectl and Helm apply them', () => {
  const base = 'base: &base {a: 1, b: 2}\nother: &other {b: 20, c: 30}\n'
  it.each([
    ['one alias', `${base}x:\n  <<: *base\n`, { a: 1, b: 2 }],
    ['a key written in the map wins (after)', `${base}x:\n  <<: *base\n  b: 9\n`, { a: 1, b: 9 }],
    ['a key written in the map wins (before)', `${base}x:\n  b: 9\n  <<: *base\n`, { b: 9, a: 1 }],
    ['a list: earlier sources win', `${base}x:\n  <<: [*base, *other]\n`, { a: 1, b: 2, c: 30 }],
    ['a list in the other order', `${base}x:\n  <<: [*other, *base]\n`, { b: 20, c: 30, a: 1 }],
    ['an inline map', 'x:\n  <<: {a: 1}\n  b: 2\n', { a: 1, b: 2 }],
    [
      'a merge inside a merged map',
      `${base}mid: &mid {<<: *base, m: 1}\nx: {<<: *mid}\n`,
      { a: 1, b: 2, m: 1 }
    ],
    [
      'two merge keys: the first wins',
      `${base}x:\n  <<: *base\n  <<: *other\n`,
      { a: 1, b: 2, c: 30 }
    ],
    ['the explicit !!merge tag', `${base}x:\n  !!merge <<: *base\n`, { a: 1, b: 2 }],
    ['a flow map', `${base}x: {<<: *base, a: 0}\n`, { a: 0, b: 2 }]
  ])('%s', (_name, text, x) => {
    expect((loadYamlDocuments(text, 'f.yaml')[0].value as Record<string, unknown>).x).toEqual(x)
  })

  it('leaves a quoted "<<" a plain key', () => {
    expect(loadYamlDocuments('x:\n  "<<": {a: 1}\n', 'f.yaml')[0].value).toEqual({
      x: { '<<': { a: 1 } }
    })
  })

  it.each([
    ['a number', 'x:\n  <<: 5\n', 'f.yaml:2:7: ', 'found a number'],
    ['a string', 'x:\n  <<: text\n', 'f.yaml:2:7: ', 'found a string'],
    ['nothing', 'x:\n  <<:\n  a: 1\n', 'f.yaml:2:6: ', 'found null'],
    [
      'a list holding a number',
      'a: &a {k: 1}\nx:\n  <<: [*a, 2]\n',
      'f.yaml:3:12: ',
      'found a number'
    ],
    ['a list holding a list', 'x:\n  <<: [[1]]\n', 'f.yaml:2:8: ', 'found a list'],
    // An alias of a list is a list of sources, as the parser reads it: the number is the bad one.
    ['an alias of a list of numbers', 'l: &l [1]\nx:\n  <<: *l\n', 'f.yaml:1:8: ', 'found a number']
  ])('refuses a merge of %s with file, line and column', (_name, text, where, found) => {
    const message = errorOf(() => loadYamlDocuments(text, 'f.yaml'))
    expect(message.startsWith(where)).toBe(true)
    expect(message).toContain('a merge key (<<) takes a mapping')
    expect(message).toContain(found)
  })

  it('finds the line of a merged value where the merged map writes it', () => {
    const [doc] = loadYamlDocuments('base: &b\n  a: 1\n  deep:\n    v: 2\nx:\n  <<: *b\n', 'f.yaml')
    expect(lineOf(doc, ['x', 'deep', 'v'])).toBe(4)
    expect(lineOf(doc, ['x', 'a'])).toBe(2)
  })
})

describe('tags', () => {
  it.each([
    ['!!js/function', 'a: 1\nf: !!js/function "function () {}"\n', 'f.yaml:2:4: ', '!!js/function'],
    ['!!js/regexp', 'r: !!js/regexp /a+/\n', 'f.yaml:1:4: ', '!!js/regexp'],
    ['!!js/undefined', 'u: !!js/undefined ""\n', 'f.yaml:1:4: ', '!!js/undefined'],
    [
      '!!python/object',
      'p: !!python/object:os.system [ls]\n',
      'f.yaml:1:4: ',
      '!!python/object:os.system'
    ],
    ['a custom tag', 'ref: !Ref Bucket\n', 'f.yaml:1:6: ', '!Ref'],
    ['a custom tag on a map', 'x:\n  y: !vault {path: a}\n', 'f.yaml:2:6: ', '!vault'],
    ['a custom tag on a list key', '? !k [a]\n: 1\n', 'f.yaml:1:3: ', '!k'],
    [
      'a verbatim tag',
      'v: !<tag:example.com,2000:app/x> 1\n',
      'f.yaml:1:4: ',
      'tag:example.com,2000:app/x'
    ],
    [
      'a %TAG shorthand',
      '%TAG !e! tag:example.com,2000:\n---\nx: !e!foo 1\n',
      'f.yaml:3:4: ',
      'tag:example.com,2000:foo'
    ],
    [
      '!! redefined by %TAG',
      '%TAG !! tag:example.com,2000:\n---\nx: !!str 1\n',
      'f.yaml:3:4: ',
      'tag:example.com,2000:str'
    ],
    ['!!binary', 'b: !!binary aGVsbG8=\n', 'f.yaml:1:4: ', '!!binary'],
    ['!!timestamp', 't: !!timestamp 2026-01-01\n', 'f.yaml:1:4: ', '!!timestamp'],
    ['!!set', 's: !!set {a, b}\n', 'f.yaml:1:4: ', '!!set'],
    ['!!omap', 'o: !!omap [a: 1]\n', 'f.yaml:1:4: ', '!!omap'],
    ['!!pairs', 'p: !!pairs [a: 1]\n', 'f.yaml:1:4: ', '!!pairs'],
    [
      '!!binary in a %YAML 1.1 document',
      '%YAML 1.1\n---\nb: !!binary aGVsbG8=\n',
      'f.yaml:3:',
      '!!binary'
    ],
    ['!!set in a %YAML 1.1 document', '%YAML 1.1\n---\ns: !!set {a}\n', 'f.yaml:3:', '!!set']
  ])('refuses %s with file, line and column', (_name, text, where, tag) => {
    const message = errorOf(() => loadYamlDocuments(text, 'f.yaml'))
    expect(message.startsWith(where)).toBe(true)
    expect(message).toContain(`YAML tag ${tag} is not accepted`)
  })

  it.each([
    ['!!int on text', 'i: !!int abc\n', 'f.yaml:1:4: ', '!!int'],
    ['!!int on a decimal', 'i: !!int 1.5\n', 'f.yaml:1:4: ', '!!int'],
    ['!!bool on yes (YAML 1.2 has no yes)', 'b: !!bool yes\n', 'f.yaml:1:4: ', '!!bool'],
    ['!!str on a map', 's: !!str {a: 1}\n', 'f.yaml:1:4: ', '!!str'],
    ['!!map on text', 'm: !!map abc\n', 'f.yaml:1:4: ', '!!map']
  ])('refuses a core tag that does not fit its value: %s', (_name, text, where, tag) => {
    const message = errorOf(() => loadYamlDocuments(text, 'f.yaml'))
    expect(message.startsWith(where)).toBe(true)
    expect(message).toContain(`does not read as ${tag}`)
  })

  it('refuses a date a %YAML 1.1 document reads from a plain value, asking to quote it', () => {
    const message = errorOf(() => loadYamlDocuments('%YAML 1.1\n---\nd: 2026-01-01\n', 'f.yaml'))
    expect(message).toMatch(/^f\.yaml:3:4: .*timestamp.*quote it/)
  })

  it.each([
    ['!!str', 's: !!str 12\n', '12'],
    ['!!str on true', 's: !!str true\n', 'true'],
    ['!!int', 'i: !!int "7"\n', 7],
    ['!!int hexadecimal', 'i: !!int 0x1F\n', 31],
    ['!!float', 'f: !!float 1.5\n', 1.5],
    ['!!float on an integer', 'f: !!float 1\n', 1],
    ['!!float exponent', 'f: !!float 1e3\n', 1000],
    ['!!bool', 'b: !!bool "true"\n', true],
    ['!!null', 'n: !!null ""\n', null],
    ['!!map', 'm: !!map {a: 1}\n', { a: 1 }],
    ['!!seq', 's: !!seq [1]\n', [1]],
    ['! (non-specific: a string)', 'x: ! 12\n', '12'],
    ['a verbatim core tag', 'v: !<tag:yaml.org,2002:str> 12\n', '12']
  ])('accepts the core tag %s', (_name, text, value) => {
    expect(Object.values(loadYamlDocuments(text, 'f.yaml')[0].value as object)).toEqual([value])
  })
})

describe('duplicate keys', () => {
  it.each([
    ['a repeated key', 'a: 1\nb: 2\na: 3\n', 'f.yaml:3:1: ', "'a' is also at line 1"],
    ['in a flow map', 'x: {a: 1, a: 2}\n', 'f.yaml:1:11: ', "'a' is also at line 1"],
    ['a number and a string that name the same key', '1: a\n"1": b\n', 'f.yaml:2:1: ', "'1'"],
    ['in a merged map', 'b: &b {k: 1, k: 2}\n', 'f.yaml:1:14: ', "'k'"]
  ])('refuses %s at the second key', (_name, text, where, first) => {
    const message = errorOf(() => loadYamlDocuments(text, 'f.yaml'))
    expect(message.startsWith(where)).toBe(true)
    expect(message).toContain('Map keys must be unique')
    expect(message).toContain(first)
  })

  it('checks a map of 50,000 keys in linear time (the parser’s own check is quadratic)', () => {
    let text = 'big:\n'
    for (let i = 0; i < 50_000; i++) text += `  k${i}: v${i}\n`
    const cpu = process.cpuUsage()
    const [doc] = loadYamlDocuments(text, 'f.yaml')
    const used = process.cpuUsage(cpu)
    expect(Object.keys((doc.value as { big: object }).big)).toHaveLength(50_000)
    // About 1.5 s of CPU when linear; the quadratic check took over a minute.
    expect((used.user + used.system) / 1e6).toBeLessThan(20)
  })
})

describe('size limits', () => {
  it('refuses a file over 4 MiB with the limit and the line it falls on', () => {
    const line = `# ${'x'.repeat(1021)}\n`
    const text = line.repeat(4 * 1024 + 8)
    expect(errorOf(() => loadYamlDocuments(text, 'big.yaml'))).toMatch(
      /^big\.yaml:4097: file is larger than the 4 MiB limit for a YAML file \(4202496 bytes/
    )
  })

  it('counts the limit in bytes, not characters', () => {
    const text = `a: ${'ü'.repeat(2.5 * 1024 * 1024)}\n`
    expect(errorOf(() => loadYamlDocuments(text, 'u.yaml'))).toMatch(/^u\.yaml:1: .*4 MiB limit/)
  })

  it('reads a 3.9 MiB scalar', () => {
    const value = 'x'.repeat(3.9 * 1024 * 1024)
    expect(loadYamlDocuments(`a: ${value}\n`, 'f.yaml')[0].value).toEqual({ a: value })
  })

  it('refuses a document its aliases expand past 16 MiB, with file and line', () => {
    const text = `a: &a "${'x'.repeat(2 * 1024 * 1024)}"\nb: [${Array(8).fill('*a').join(', ')}]\n`
    expect(errorOf(() => loadYamlDocuments(text, 'bomb.yaml'))).toMatch(
      /^bomb\.yaml:1: expands to more than 16 MiB .*aliases and merge keys/
    )
  })

  it('reads a document its aliases expand to a few MiB', () => {
    const text = `a: &a "${'x'.repeat(1024 * 1024)}"\nb: [*a, *a, *a]\n`
    expect((loadYamlDocuments(text, 'f.yaml')[0].value as { b: string[] }).b).toHaveLength(3)
  })
})
