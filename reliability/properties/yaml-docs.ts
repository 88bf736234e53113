/**
 * Generates YAML documents for the byte-preserving editor's properties: block and flow maps
 * and sequences, plain, single- and double-quoted scalars, numbers, booleans and nulls, full-line
 * and trailing comments, anchors with aliases, 2- or 4-space indentation, LF or CRLF. The
 * generator writes the text itself and keeps, next to it, the value every path must have and the
 * byte span of every scalar — an oracle that does not come from the YAML library under test.
 */
import fc from 'fast-check'
import { mapOf } from './values.js'

export type ScalarValue = string | number | boolean | null
export type Path = (string | number)[]

/** A scalar reachable at `path`. Aliases share the id (and span) of their anchor's scalar. */
export interface Leaf {
  readonly path: Path
  readonly value: ScalarValue
  readonly id: number
  /** [start, end) of the defining scalar's text (quotes included, anchor and comment not). */
  readonly span: readonly [number, number]
  readonly alias: boolean
}

export interface GeneratedDocument {
  readonly text: string
  /** The document as plain data, built by the generator. */
  readonly value: Record<string, unknown>
  readonly leaves: readonly Leaf[]
}

type Draw = fc.GeneratorValue

/** Characters YAML does not allow raw in a stream (outside tab, LF, CR), or that end a line. */
const unprintable =
  // eslint-disable-next-line no-control-regex
  /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u0084\u0086-\u009f\ufffe\uffff]/g
const lineBreaks = /[\t\n\r\u0085\u2028\u2029\ufeff]/g

const reservedWords = /^(true|false|null|y|n|yes|no|on|off)$/i

/** Realistic image references (what the editor mostly writes). */
export const imageRef: fc.Arbitrary<string> = fc
  .tuple(
    fc.constantFrom(
      '',
      'ghcr.io/',
      'registry.example.com:5000/',
      'docker.io/library/',
      'localhost/'
    ),
    fc.stringMatching(/^[a-z0-9]{1,8}(\/[a-z0-9]{1,8}){0,2}$/),
    fc.option(fc.stringMatching(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,20}$/), { nil: undefined }),
    fc.option(fc.stringMatching(/^[a-f0-9]{64}$/), { nil: undefined })
  )
  .map(
    ([registry, repo, tag, digest]) =>
      `${registry}${repo}${tag ? `:${tag}` : ''}${digest ? `@sha256:${digest}` : ''}`
  )

/** Strings that try to be YAML structure, and arbitrary Unicode. */
export const hostileString: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    'a: b',
    'x # not a comment',
    'line\nnext: line',
    '{a: 1}',
    '[1, 2]',
    '- item',
    '---',
    '...',
    '&anchor',
    '*alias',
    '!!str',
    '%YAML 1.1',
    "'",
    '"',
    '\\',
    '@at',
    '`tick`',
    '|',
    '>',
    '? key',
    ' leading',
    'trailing ',
    '',
    'true',
    '0777',
    '1e3',
    'null',
    '~',
    '\t',
    '\r\n',
    '\u2028',
    '\u0085',
    '\u00a0',
    '\ufeff',
    '😀 ü'
  ),
  fc.string({ unit: 'binary', maxLength: 24 }),
  fc.string({ unit: 'grapheme', maxLength: 24 })
)

/** New values for an edit: image references, and anything else a string can hold. */
export const newValue: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: imageRef },
  { weight: 2, arbitrary: hostileString }
)

/** `newValue` as a builder for fc.gen() draws (`g(aNewValue)`, one cached arbitrary). */
export const aNewValue = (): fc.Arbitrary<string> => newValue

/*
 * Draws name a builder defined once (here, or fast-check's own) with plain arguments: fc.gen()
 * caches arbitraries by builder and arguments for the whole run and replays a draw while
 * shrinking only for the same cached arbitrary, so a closure written at the call (`g(() => x)`)
 * grows the cache on every draw and cannot be shrunk. Regular expressions are not plain
 * arguments: the cache compares arguments by their enumerable keys, so any two RegExps look
 * equal and the second pattern would silently get the first one's arbitrary.
 */
const anImageRef = (): fc.Arbitrary<string> => imageRef
const aHostileString = (): fc.Arbitrary<string> => hostileString
const plainKey = fc.stringMatching(/^[a-z][a-z0-9_-]{0,8}$/)
const aPlainKey = (): fc.Arbitrary<string> => plainKey
const plainWord = fc.stringMatching(/^[a-z][a-z0-9_-]{0,10}$/)
const aPlainWord = (): fc.Arbitrary<string> => plainWord

class Emitter {
  text = ''
  readonly leaves: Leaf[] = []
  private readonly anchors: {
    name: string
    id: number
    value: ScalarValue
    span: [number, number]
  }[] = []
  private nextId = 0

  constructor(
    private readonly g: Draw,
    private readonly eol: string,
    private readonly step: number
  ) {}

  private chance(percent: number): boolean {
    return this.g(fc.integer, { min: 0, max: 99 }) < percent
  }

  private comment(): string {
    const text = this.g(fc.string, { unit: 'grapheme-ascii', maxLength: 16 })
    return text.replace(lineBreaks, ' ').replace(unprintable, '')
  }

  private key(taken: Set<string>): { text: string; key: string } {
    const quoted = this.chance(15)
    let key = quoted
      ? this.g(fc.string, { unit: 'grapheme', minLength: 1, maxLength: 10 })
          .replace(lineBreaks, '')
          .replace(unprintable, '')
      : this.g(aPlainKey)
    // No redraw on a clash (a shrinking run replays draws, so a loop could spin): make it unique.
    if (key === '' || key === '__proto__' || reservedWords.test(key)) key = `k${key.length}`
    while (taken.has(key)) key = `${key}-${taken.size}`
    taken.add(key)
    return { key, text: quoted ? JSON.stringify(key) : key }
  }

  /** A scalar's text and value for a block (`inFlow` false) or flow context. */
  private scalar(inFlow: boolean): { text: string; value: ScalarValue } {
    const kind = this.g(fc.constantFrom, 'word', 'image', 'int', 'bool', 'null', 'single', 'double')
    switch (kind) {
      case 'word': {
        const w = this.g(aPlainWord)
        const word = reservedWords.test(w) ? `${w}x` : w
        return { text: word, value: word }
      }
      case 'image': {
        const ref = this.g(anImageRef)
        return { text: ref, value: ref }
      }
      case 'int': {
        const n = this.g(fc.integer, { min: 0, max: 99_999 })
        return { text: String(n), value: n }
      }
      case 'bool': {
        const b = this.g(fc.boolean)
        return { text: String(b), value: b }
      }
      case 'null':
        return { text: inFlow || this.chance(50) ? '~' : '', value: null }
      case 'single': {
        const s = this.g(fc.string, { unit: 'grapheme', maxLength: 16 })
          .replace(lineBreaks, ' ')
          .replace(unprintable, '')
        return { text: `'${s.replace(/'/g, "''")}'`, value: s }
      }
      default: {
        const s = this.g(aHostileString).replace(unprintable, '')
        return { text: JSON.stringify(s), value: s }
      }
    }
  }

  private addLeaf(
    path: Path,
    value: ScalarValue,
    span: [number, number],
    id: number,
    alias = false
  ) {
    this.leaves.push({ path: [...path], value, span, id, alias })
  }

  /** `<prefix>[&anchor ]<scalar>[  # comment]<eol>`; returns the value. */
  private scalarLine(prefix: string, path: Path, inFlowComment = true): ScalarValue {
    if (this.anchors.length > 0 && this.chance(10)) {
      const a = this.anchors[this.g(fc.nat, { max: this.anchors.length - 1 })]
      this.text += `${prefix}*${a.name}${this.eol}`
      this.addLeaf(path, a.value, a.span, a.id, true)
      return a.value
    }
    const s = this.scalar(false)
    const id = this.nextId++
    let head = prefix
    let anchor: string | undefined
    if (s.text !== '' && this.chance(12)) {
      anchor = `a${id}`
      head += `&${anchor} `
    }
    const start = this.text.length + head.length
    this.text += head + s.text
    const span: [number, number] = [start, this.text.length]
    if (inFlowComment && s.text !== '' && this.chance(20)) this.text += `  # ${this.comment()}`
    this.text += this.eol
    if (anchor) this.anchors.push({ name: anchor, id, value: s.value, span })
    this.addLeaf(path, s.value, span, id)
    return s.value
  }

  /** `{k: v, ...}` or `[v, ...]` on the current line (scalars only); returns the value. */
  private flow(path: Path, map: boolean): unknown {
    const count = this.g(fc.integer, { min: 0, max: 3 })
    this.text += map ? '{' : '['
    const out: Record<string, unknown> | unknown[] = map ? {} : []
    const taken = new Set<string>()
    for (let i = 0; i < count; i++) {
      if (i > 0) this.text += ', '
      let key: string | number = i
      if (map) {
        const k = this.key(taken)
        this.text += `${k.text}: `
        key = k.key
      }
      const s = this.scalar(true)
      const id = this.nextId++
      const start = this.text.length
      this.text += s.text
      this.addLeaf([...path, key], s.value, [start, this.text.length], id)
      if (Array.isArray(out)) out.push(s.value)
      else out[key as string] = s.value
    }
    this.text += map ? '}' : ']'
    return out
  }

  blockMap(indent: number, depth: number, path: Path): Record<string, unknown> {
    const pad = ' '.repeat(indent)
    const count = this.g(fc.integer, { min: 1, max: depth === 0 ? 5 : 3 })
    const out: Record<string, unknown> = {}
    const taken = new Set<string>()
    for (let i = 0; i < count; i++) {
      if (this.chance(15)) this.text += `${pad}# ${this.comment()}${this.eol}`
      const k = this.key(taken)
      const here = [...path, k.key]
      const kind =
        depth >= 3
          ? 'scalar'
          : this.g(
              fc.constantFrom,
              'scalar',
              'scalar',
              'scalar',
              'map',
              'seq',
              'flow-map',
              'flow-seq'
            )
      if (kind === 'scalar') out[k.key] = this.scalarLine(`${pad}${k.text}: `, here)
      else if (kind === 'map') {
        this.text += `${pad}${k.text}:${this.chance(20) ? `  # ${this.comment()}` : ''}${this.eol}`
        out[k.key] = this.blockMap(indent + this.step, depth + 1, here)
      } else if (kind === 'seq') {
        this.text += `${pad}${k.text}:${this.eol}`
        out[k.key] = this.blockSeq(indent + (this.chance(50) ? this.step : 0), here)
      } else {
        this.text += `${pad}${k.text}: `
        out[k.key] = this.flow(here, kind === 'flow-map')
        this.text += this.eol
      }
    }
    return out
  }

  private blockSeq(indent: number, path: Path): unknown[] {
    const pad = ' '.repeat(indent)
    const count = this.g(fc.integer, { min: 1, max: 3 })
    const out: unknown[] = []
    for (let i = 0; i < count; i++) {
      if (this.chance(30)) {
        // An item that is a map: first key on the dash line, the others under it.
        const keys = this.g(fc.integer, { min: 1, max: 3 })
        const taken = new Set<string>()
        const item: Record<string, unknown> = {}
        for (let j = 0; j < keys; j++) {
          const k = this.key(taken)
          const lead = j === 0 ? `${pad}- ` : `${pad}  `
          item[k.key] = this.scalarLine(`${lead}${k.text}: `, [...path, i, k.key])
        }
        out.push(item)
      } else out.push(this.scalarLine(`${pad}- `, [...path, i]))
    }
    return out
  }
}

/** Draws one document. It always has at least one string scalar (the editor's target). */
export function generateDocument(g: Draw): GeneratedDocument {
  const eol = g(fc.boolean) ? '\r\n' : '\n'
  const emitter = new Emitter(g, eol, g(fc.constantFrom, 2, 4))
  if (g(fc.boolean)) emitter.text += `# a generated document${eol}`
  if (g(fc.boolean)) emitter.text += `---${eol}`
  const value = emitter.blockMap(0, 0, [])
  if (!emitter.leaves.some((l) => typeof l.value === 'string')) {
    const key = 'kit-target-image'
    const prefix = `${key}: `
    const start = emitter.text.length + prefix.length
    const ref = 'ghcr.io/acme/api:1.0.0'
    emitter.text += `${prefix}${ref}${eol}`
    emitter.leaves.push({
      path: [key],
      value: ref,
      id: -1,
      span: [start, start + ref.length],
      alias: false
    })
    value[key] = ref
  }
  return { text: emitter.text, value, leaves: emitter.leaves }
}

/** The value at `path` in plain data. */
export function valueAt(root: unknown, path: Path): unknown {
  let node = root
  for (const seg of path) node = (node as Record<string | number, unknown>)[seg]
  return node
}

/**
 * A deep copy of plain data made in this realm. Not structuredClone: under Jest the test runs in
 * a VM context while structuredClone is the host's, so its copies carry the host's
 * Object.prototype and isDeepStrictEqual (which compares prototypes) calls them different from
 * identical data parsed in the test's realm.
 */
function copyData(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(copyData)
  if (value === null || typeof value !== 'object') return value
  return mapOf(Object.entries(value).map(([k, v]) => [k, copyData(v)]))
}

/** A deep copy of `root` with every leaf of `id` set to `value`. */
export function withLeaves(
  root: Record<string, unknown>,
  leaves: readonly Leaf[],
  id: number,
  value: unknown
): Record<string, unknown> {
  const copy = copyData(root) as Record<string, unknown>
  for (const leaf of leaves) {
    if (leaf.id !== id) continue
    const parent = valueAt(copy, leaf.path.slice(0, -1)) as Record<string | number, unknown>
    parent[leaf.path[leaf.path.length - 1]] = value
  }
  return copy
}
