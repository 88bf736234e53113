/**
 * The safe YAML loader's refusals: bytes that are not UTF-8, control characters YAML does not
 * allow, and nesting too deep to read, each named with file, line and column.
 */
import { describe, expect, it } from '@jest/globals'
import { InputError } from '../../src/errors.js'
import { decodeUtf8, loadYamlDocuments } from '../../src/yaml/load.js'

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
