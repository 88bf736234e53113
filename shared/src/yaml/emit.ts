/**
 * YAML text for the plain data a render produces (maps, lists, strings, numbers, booleans,
 * null), byte for byte what js-yaml's `dump(value, yamlDumpOptions)` writes, in a fraction of
 * the time.
 *
 * Why not just js-yaml: it builds an AST and runs several Unicode regular expressions for every
 * scalar, and a render of a fleet writes the same keys and values tens of thousands of times.
 * Here the structure (block maps and lists, two-space indentation, `{}` and `[]` when empty) is
 * written directly, and each distinct scalar's text is asked of js-yaml once and cached: the
 * quoting decisions stay js-yaml's own rather than a copy of its rules. That is sound because
 * js-yaml styles a one-line scalar below the top level the same way at every depth and in every
 * block position (a map value or a list item); keys are asked for separately, as keys.
 *
 * What the fast path does not write, js-yaml writes, one top-level pair at a time: a string with
 * a line break (a literal block's indentation depends on its depth), a key needing the explicit
 * `? ` form, `undefined` (js-yaml drops or nulls it), or any object that is not a plain object
 * or an array. One deliberate difference: a top-level key that would read as a document marker
 * is quoted (see topLevelKeyText). shared/__tests__/yaml/emit.test.ts checks all of this on
 * tricky scalars, on generated data and on the golden fixture output.
 *
 * Large strings: js-yaml picks a scalar's style with regular expressions that run out of V8's
 * backtracking stack on strings of about 2 MiB (a RangeError, "Maximum call stack size
 * exceeded"). A string js-yaml cannot write is written here (see ownStringText), and a
 * top-level pair js-yaml cannot write is written by the fast path with those rules (see
 * ownPair). Every value the loader accepts renders; the output differs from js-yaml's only
 * where js-yaml has none.
 */
import { dump } from 'js-yaml'

/** The options every rendered manifest is dumped with: no anchors, no line folding. */
export const yamlDumpOptions = { noRefs: true, lineWidth: -1 } as const

/** Thrown inside the fast path when a value needs js-yaml itself. */
const fallback = Symbol('fallback')

/** Distinct scalars cached before a cache is emptied (bounds memory on unusual input). */
const maxCachedScalars = 50_000

const valueTexts = new Map<string, string>()
const keyTexts = new Map<string, string>()
const numberTexts = new Map<number, string>()

/** Text of a scalar as a block map value, from js-yaml: `dump({a: v})` is `a: <text>\n`. */
function askValue(value: unknown): string {
  const text = dump({ a: value }, yamlDumpOptions)
  if (!text.startsWith('a: ') || text.indexOf('\n') !== text.length - 1) throw fallback
  return text.slice(3, -1)
}

const nullText = askValue(null)
const trueText = askValue(true)
const falseText = askValue(false)

function remember<K>(cache: Map<K, string>, key: K, text: string): string {
  if (cache.size >= maxCachedScalars) cache.clear()
  cache.set(key, text)
  return text
}

/**
 * Whether plain (unquoted) text reads back as a number in YAML 1.2 or 1.1. js-yaml leaves a
 * string plain when it would overflow a float (`1e400`, a 400-digit integer, a long `0x…`), but
 * YAML readers (kit's own, kubectl's) still read those as numbers: Infinity, or a rounded
 * integer. A string must come back a string.
 */
const numberLike =
  /^(?:[-+]?(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)?|0x[0-9a-fA-F_]+|0o[0-7_]+|0b[01_]+|[-+]?\.(?:inf|Inf|INF|nan|NaN|NAN))$/

/** Whether a value holds a string js-yaml would write plain although it reads as a number. */
function holdsPlainNumberLike(value: unknown): boolean {
  if (typeof value === 'string') return numberLike.test(value) && askValue(value) === value
  if (value === null || typeof value !== 'object') return false
  return Object.values(value).some(holdsPlainNumberLike)
}

/**
 * js-yaml's own text for what the fast path leaves to it. When that would write a number-like
 * string plain, every string of it is quoted instead (rare: it takes such a string and a value
 * the fast path cannot write in one top-level pair).
 */
function jsYaml(value: unknown): string {
  return dump(
    value,
    holdsPlainNumberLike(value) ? { ...yamlDumpOptions, forceQuotes: true } : yamlDumpOptions
  )
}

/** True when js-yaml gave up on a value too large for its style checks (see the header). */
function tooLargeForJsYaml(err: unknown): boolean {
  return err instanceof RangeError
}

/**
 * While set, the fast path writes what it would otherwise leave to js-yaml: multi-line
 * strings and keys js-yaml writes in the explicit form. Set only by ownPair and ownDocument,
 * for a value js-yaml could not write.
 */
let ownScalars = false

function stringText(value: string, level: number): string {
  const cached = valueTexts.get(value)
  if (cached !== undefined) return cached
  // A multi-line string becomes a literal block indented for its depth: js-yaml decides.
  if (value.includes('\n')) {
    if (ownScalars) return ownStringText(value, level)
    throw fallback
  }
  let text: string
  try {
    text = askValue(value)
  } catch (err) {
    if (!tooLargeForJsYaml(err)) throw err
    text = doubleQuoted(value)
  }
  return remember(valueTexts, value, text === value && numberLike.test(value) ? `'${value}'` : text)
}

/** What js-yaml escapes inside double quotes (its own list, so both write the same text). */
// eslint-disable-next-line no-control-regex
const escaped = /["\\\x00-\x1F\x7F-\xA0\u2028\u2029\uD800-\uDFFF\uFEFF\uFFFE\uFFFF]/gu
const namedEscapes: Readonly<Record<string, string>> = {
  '\0': '\\0',
  '\x07': '\\a',
  '\b': '\\b',
  '\t': '\\t',
  '\n': '\\n',
  '\v': '\\v',
  '\f': '\\f',
  '\r': '\\r',
  '\x1B': '\\e',
  '"': '\\"',
  '\\': '\\\\',
  '\x85': '\\N',
  '\xA0': '\\_',
  '\u2028': '\\L',
  '\u2029': '\\P'
}

/** A string in double quotes, every character YAML cannot hold as is escaped. */
function doubleQuoted(value: string): string {
  return `"${value.replace(escaped, (c) => {
    const named = namedEscapes[c]
    if (named !== undefined) return named
    const code = c.charCodeAt(0)
    return code <= 0xff
      ? `\\x${code.toString(16).toUpperCase().padStart(2, '0')}`
      : `\\u${code.toString(16).toUpperCase().padStart(4, '0')}`
  })}"`
}

/** Characters js-yaml double-quotes a multi-line string for (tabs, invisibles). */
const invisible = /[\t\x7F-\xA0\u2028\u2029\uFEFF\uFFFE\uFFFF]/
/** Characters a literal block cannot hold (a block keeps text as it is, without escapes). */
// eslint-disable-next-line no-control-regex
const notBlockText = /[\x00-\x09\x0B-\x1F\x7F-\xA0\u2028\u2029\uFEFF\uFFFE\uFFFF]|[\uD800-\uDFFF]/u

/**
 * A multi-line string js-yaml did not write, at `level` (its content indented 2 × level): a
 * literal block as js-yaml writes one (`|` or `|-`, an indentation indicator when the text
 * starts with a space), or double quotes when a block cannot hold it exactly (tabs, invisible
 * or control characters, only white space, trailing blank lines, the top level).
 */
function ownStringText(value: string, level: number): string {
  if (
    level < 1 ||
    invisible.test(value) ||
    notBlockText.test(value) ||
    value.trim() === '' ||
    value.endsWith('\n\n')
  )
    return doubleQuoted(value)
  const indent = ' '.repeat(2 * level)
  const indicator = /^\n* /.test(value) ? '2' : ''
  const chomp = value.endsWith('\n') ? '' : '-'
  const body = value.endsWith('\n') ? value.slice(0, -1) : value
  // Empty lines stay empty (no trailing spaces), as js-yaml writes them.
  return `|${indicator}${chomp}\n${body
    .split('\n')
    .map((line) => (line === '' ? '' : indent + line))
    .join('\n')}`
}

function numberText(value: number): string {
  // A Map treats -0 as 0, which js-yaml writes differently.
  if (Object.is(value, -0)) return askValue(value)
  const cached = numberTexts.get(value)
  return cached ?? remember(numberTexts, value, askValue(value))
}

function keyText(key: string): string {
  const cached = keyTexts.get(key)
  if (cached !== undefined) return cached
  if (key.includes('\n')) throw fallback
  let text: string
  try {
    text = dump({ [key]: 0 }, yamlDumpOptions)
  } catch (err) {
    if (tooLargeForJsYaml(err)) throw fallback
    throw err
  }
  // An explicit key (`? ...`, for a key over 1024 characters) is left to js-yaml.
  if (!text.endsWith(': 0\n') || text.startsWith('?') || text.indexOf('\n') !== text.length - 1)
    throw fallback
  const keyPart = text.slice(0, -4)
  return remember(keyTexts, key, keyPart === key && numberLike.test(key) ? `'${key}'` : keyPart)
}

const indents: string[] = ['\n']
function newline(level: number): string {
  while (indents.length <= level) indents.push(`${indents[indents.length - 1]}  `)
  return indents[level]
}

function isPlainObject(value: object): boolean {
  const proto = Object.getPrototypeOf(value) as unknown
  return proto === Object.prototype || proto === null
}

/** One node at `level`; `compact` puts its first line on the current line (after `- `). */
function node(value: unknown, level: number, compact: boolean): string {
  switch (typeof value) {
    case 'string':
      return stringText(value, level)
    case 'number':
      return numberText(value)
    case 'boolean':
      return value ? trueText : falseText
    case 'object':
      if (value === null) return nullText
      if (Array.isArray(value)) return value.length === 0 ? '[]' : sequence(value, level, compact)
      if (isPlainObject(value)) return mapping(value as Record<string, unknown>, level, compact)
  }
  throw fallback
}

/**
 * A plain key starting `--- ` or `... ` reads as a document marker at the start of a line, so at
 * the top level (column 0) it is quoted. js-yaml writes it plain there, which no parser accepts:
 * the one place this emitter deliberately differs from js-yaml.
 */
const documentMarker = /^(?:---|\.\.\.)[ \t]/

function topLevelKeyText(key: string): string {
  const text = keyText(key)
  return documentMarker.test(text) ? `'${text.replace(/'/g, "''")}'` : text
}

function mapping(map: Record<string, unknown>, level: number, compact: boolean): string {
  const keys = Object.keys(map)
  if (keys.length === 0) return '{}'
  const nl = newline(level)
  let out = ''
  for (const key of keys) {
    const value = map[key]
    if (value === undefined) {
      // js-yaml drops the pair (and writes {} when none is left).
      if (ownScalars) continue
      throw fallback
    }
    if (!compact || out !== '') out += nl
    out += pairText(ownScalars ? ownKeyText(key) : keyText(key), node(value, level + 1, false), nl)
  }
  return out === '' ? '{}' : out
}

/**
 * `key: value`, or `key:` and a value that starts on its own line; a key written in the
 * explicit form (`? "…"`, see ownKeyText) puts the value on the next line after `: `.
 */
function pairText(key: string, text: string, nl: string): string {
  if (key.startsWith('? ')) return `${key}${nl}:${text.charCodeAt(0) === 10 ? '' : ' '}${text}`
  return key + (text.charCodeAt(0) === 10 ? ':' : ': ') + text
}

/**
 * A key as js-yaml writes it, or, when js-yaml cannot (a line break, a key too large for its
 * checks), in double quotes: in the explicit form `? "…"` when over YAML's 1024-character
 * limit for an implicit key.
 */
function ownKeyText(key: string): string {
  try {
    return keyText(key)
  } catch (err) {
    if (err !== fallback) throw err
  }
  const quoted = doubleQuoted(key)
  return quoted.length > 1024 ? `? ${quoted}` : quoted
}

function sequence(list: readonly unknown[], level: number, compact: boolean): string {
  const nl = newline(level)
  let out = ''
  for (let i = 0; i < list.length; i++) {
    let item = list[i]
    if (item === undefined) {
      // js-yaml writes null for a hole in a list.
      if (!ownScalars) throw fallback
      item = null
    }
    if (!compact || out !== '') out += nl
    out += `- ${node(item, level + 1, true)}`
  }
  return out
}

/**
 * A top-level pair the fast path cannot write (a multi-line string, say), from js-yaml: at the
 * top level a pair's text does not depend on its neighbours, so it is js-yaml's own, with only
 * the key written by topLevelKeyText.
 */
function slowPair(key: string, value: unknown): string {
  try {
    let keyPart: string
    try {
      keyPart = topLevelKeyText(key)
    } catch (err) {
      if (err !== fallback) throw err
      return jsYaml({ [key]: value })
    }
    // `a:` then the value as it follows any key (`a: x`, `a: |-`, `a:\n  b: 1`).
    return keyPart + jsYaml({ a: value }).slice(1)
  } catch (err) {
    if (!tooLargeForJsYaml(err)) throw err
    return ownPair(key, value)
  }
}

/** Runs `write` with ownScalars set: the fast path writes everything itself. */
function withOwnScalars(write: () => string): string {
  ownScalars = true
  try {
    return write()
  } finally {
    ownScalars = false
  }
}

/** A top-level pair js-yaml could not write, written by the fast path alone (see the header). */
function ownPair(key: string, value: unknown): string {
  return withOwnScalars(() => {
    let keyPart = ownKeyText(key)
    if (!keyPart.startsWith('? ') && documentMarker.test(keyPart))
      keyPart = `'${keyPart.replace(/'/g, "''")}'`
    return `${pairText(keyPart, node(value, 1, false), '\n')}\n`
  })
}

/**
 * The document for `value` as emitYaml writes it when js-yaml cannot: multi-line strings and
 * keys written here, never by js-yaml. Exported for the tests, which hold it to js-yaml's text
 * wherever js-yaml writes one.
 */
export function ownDocument(value: unknown): string {
  if (value !== null && typeof value === 'object' && isPlainObject(value)) {
    const pairs = Object.entries(value).filter(([, v]) => v !== undefined)
    return pairs.length === 0 ? '{}\n' : pairs.map(([k, v]) => ownPair(k, v)).join('')
  }
  return withOwnScalars(() => {
    if (Array.isArray(value) && value.length > 0) return `${sequence(value, 0, true)}\n`
    return `${node(value, 0, false)}\n`
  })
}

/** js-yaml ends a document with `...` when its last scalar is a block that keeps trailing blank lines. */
const documentEnd = '\n...\n'

/** js-yaml's text for a whole document, or the fast path's own when js-yaml cannot write it. */
function wholeDocument(value: unknown): string {
  try {
    return jsYaml(value)
  } catch (err) {
    if (!tooLargeForJsYaml(err)) throw err
    return ownDocument(value)
  }
}

/**
 * The YAML document for `value`, as `dump(value, yamlDumpOptions)` from js-yaml would write it.
 * A map is written pair by pair (each pair the fast way when it can be, else js-yaml's text for
 * that pair); any other value is js-yaml's own.
 */
export function emitYaml(value: unknown): string {
  if (value === null || typeof value !== 'object' || !isPlainObject(value)) {
    if (Array.isArray(value) && value.length > 0) {
      try {
        return `${sequence(value, 0, true)}\n`
      } catch (err) {
        if (err !== fallback) throw err
      }
    }
    return wholeDocument(value)
  }
  const map = value as Record<string, unknown>
  const keys = Object.keys(map)
  // js-yaml drops a pair whose value is undefined (and writes {} when none is left).
  if (keys.length === 0 || keys.some((k) => map[k] === undefined)) return wholeDocument(value)
  let out = ''
  let openEnded = false
  for (const key of keys) {
    try {
      const text = node(map[key], 1, false)
      out += `${topLevelKeyText(key)}${text.charCodeAt(0) === 10 ? ':' : ': '}${text}\n`
      openEnded = false
    } catch (err) {
      if (err !== fallback) throw err
      const pair = slowPair(key, map[key])
      openEnded = pair.endsWith(documentEnd)
      out += openEnded ? pair.slice(0, -4) : pair
    }
  }
  return openEnded ? `${out}...\n` : out
}
