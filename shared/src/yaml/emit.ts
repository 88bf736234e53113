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

function stringText(value: string): string {
  const cached = valueTexts.get(value)
  if (cached !== undefined) return cached
  // A multi-line string becomes a literal block indented for its depth: js-yaml decides.
  if (value.includes('\n')) throw fallback
  const text = askValue(value)
  return remember(valueTexts, value, text === value && numberLike.test(value) ? `'${value}'` : text)
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
  const text = dump({ [key]: 0 }, yamlDumpOptions)
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
      return stringText(value)
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
    if (value === undefined) throw fallback
    if (!compact || out !== '') out += nl
    const text = node(value, level + 1, false)
    out += keyText(key) + (text.charCodeAt(0) === 10 ? ':' : ': ') + text
  }
  return out
}

function sequence(list: readonly unknown[], level: number, compact: boolean): string {
  const nl = newline(level)
  let out = ''
  for (let i = 0; i < list.length; i++) {
    const item = list[i]
    if (item === undefined) throw fallback
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
  let keyPart: string
  try {
    keyPart = topLevelKeyText(key)
  } catch (err) {
    if (err !== fallback) throw err
    return jsYaml({ [key]: value })
  }
  // `a:` then the value as it follows any key (`a: x`, `a: |-`, `a:\n  b: 1`).
  return keyPart + jsYaml({ a: value }).slice(1)
}

/** js-yaml ends a document with `...` when its last scalar is a block that keeps trailing blank lines. */
const documentEnd = '\n...\n'

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
    return jsYaml(value)
  }
  const map = value as Record<string, unknown>
  const keys = Object.keys(map)
  // js-yaml drops a pair whose value is undefined (and writes {} when none is left).
  if (keys.length === 0 || keys.some((k) => map[k] === undefined)) return jsYaml(value)
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
