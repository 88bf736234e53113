import { formatBytes } from '../text/bytes.js'
import {
  parseAllDocuments,
  LineCounter,
  isAlias,
  isMap,
  isSeq,
  isScalar,
  isPair,
  type Document,
  type Node,
  type Pair,
  type ParseOptions,
  type DocumentOptions,
  type ScalarTag,
  type SchemaOptions,
  type YAMLMap
} from 'yaml'
import { InputError, quoteValue } from '../errors.js'
import { decodeStrictUtf8, hexByte } from '../text/utf8.js'

/** Limits that keep a hostile or broken file from exhausting memory before it is rejected. */
export const yamlLimits = {
  /** Bytes per file. Manifests are small; a multi-megabyte file is a mistake or an attack. */
  maxFileBytes: 4 * 1024 * 1024,
  /** Alias dereferences per document: a "billion laughs" file expands exponentially through aliases. */
  maxAliasCount: 1000,
  /**
   * Characters of keys and scalars a document may hold once its aliases and merge keys are
   * expanded. A few aliases of a large value multiply it (a 3 MiB string aliased 1,000 times is
   * 3 GB of output); four times the file limit leaves room for any honest reuse.
   */
  maxExpandedChars: 16 * 1024 * 1024
} as const

/**
 * How kit parses YAML, for the loader and for anything that probes how a text would be read
 * (the surgical editor): YAML 1.2 core schema, plus the YAML 1.1 merge key (`<<`) that kubectl
 * and Helm apply. `resolveKnownTags: false` leaves `!!binary`, `!!timestamp`, `!!set`, `!!omap`
 * and `!!pairs` unresolved, so they are refused like any tag kit does not know.
 */
export const yamlParseOptions: ParseOptions & DocumentOptions & SchemaOptions = {
  version: '1.2',
  merge: true,
  resolveKnownTags: false,
  customTags: (tags) => [...tags, floatFromInteger],
  // Duplicate keys are found by findProblem in one pass; the parser's own check is quadratic.
  uniqueKeys: false,
  prettyErrors: false
}

/**
 * `!!float 1`: YAML 1.2's core schema reads an integer written under `!!float` as that number,
 * while the parser's float rules want a point or an exponent. Listed after the core tags, so a
 * plain `1` still reads as an integer (the same JavaScript number either way).
 */
const floatFromInteger: ScalarTag = {
  tag: 'tag:yaml.org,2002:float',
  default: true,
  identify: () => false,
  test: /^[-+]?[0-9]+$/,
  resolve: (text: string) => Number(text)
}

/**
 * Tags accepted, by kind of node: the YAML core schema's, the merge key's, and `!` (the
 * non-specific tag, which makes a scalar a string). A tag that does not fit its value (`!!int
 * abc`, `!!str {}`) is reported by the parser as unresolved and refused too.
 */
const coreTag = 'tag:yaml.org,2002:'
const acceptedTags = {
  scalar: new Set([
    '!',
    ...['str', 'int', 'float', 'bool', 'null', 'merge'].map((t) => coreTag + t)
  ]),
  map: new Set(['!', `${coreTag}map`]),
  seq: new Set(['!', `${coreTag}seq`])
}
const acceptedTagList = '!!str, !!int, !!float, !!bool, !!null, !!map and !!seq'

/**
 * A file's bytes as text, refusing bytes that are not UTF-8 (YAML files are UTF-8; a decoder
 * that swaps a bad byte for U+FFFD would put a changed value into a cluster without a word).
 * The error names the line and column of the first bad byte. A leading BOM is dropped.
 */
export function decodeUtf8(bytes: Uint8Array, file: string): string {
  const decoded = decodeStrictUtf8(bytes)
  if ('text' in decoded) return decoded.text
  const { byte, line, column } = decoded.invalid
  throw new InputError(
    `not valid UTF-8: byte ${hexByte(byte)} cannot start or continue a character (save the file as UTF-8)`,
    { file, line, column }
  )
}

/**
 * Control characters YAML does not allow anywhere (C0 other than tab, line feed and carriage
 * return, and DEL). A NUL in a manifest is a corrupt or binary file, never a value.
 */
// eslint-disable-next-line no-control-regex
const forbiddenControl = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/

/** Deeper than this, a document is refused: no manifest or values file nests this far. */
const maxDepth = 256

/** One parsed YAML document with where it came from. */
export interface LoadedDocument {
  /** The plain JavaScript value (maps become objects, sequences arrays; merge keys applied). */
  readonly value: unknown
  /** 1-based line of the document's first content line. */
  readonly line: number
  /** The parsed syntax tree, kept for positions of values inside the document. */
  readonly doc: Document.Parsed
  readonly lineCounter: LineCounter
}

/**
 * Parses every document in a YAML text. Syntax errors, alias bombs, duplicate keys, tags kit
 * does not know, bad merge keys and oversized input are refused with an InputError naming the
 * file, line and column. Merge keys (`<<: *base`, `<<: [*a, *b]`) are applied as kubectl and
 * Helm apply them: keys written in the map win over merged ones, earlier sources over later.
 * Empty documents (a stray `---`) are skipped.
 */
export function loadYamlDocuments(text: string, file: string): LoadedDocument[] {
  refuseOversized(text, file)
  const control = forbiddenControl.exec(text)
  if (control) {
    const { line, column } = positionOf(text, control.index)
    throw new InputError(
      `contains the control character U+${control[0].charCodeAt(0).toString(16).padStart(4, '0').toUpperCase()}, which YAML does not allow (a binary or corrupt file?)`,
      { file, line, column }
    )
  }
  const lineCounter = new LineCounter()
  let docs
  try {
    docs = parseAllDocuments(text, { ...yamlParseOptions, lineCounter })
  } catch (err) {
    if (err instanceof RangeError) throw tooDeep(file, 1)
    throw err
  }
  const list = Array.isArray(docs) ? docs : [docs as unknown as Document.Parsed]
  const out: LoadedDocument[] = []
  for (const doc of list) {
    const problem = doc.errors[0]
    if (problem) {
      const pos = lineCounter.linePos(problem.pos[0])
      // The parser recurses per level; a stack overflow is its way of saying "too deep".
      if (/call stack/i.test(problem.message)) throw tooDeep(file, pos.line)
      throw new InputError(`invalid YAML: ${firstLine(problem.message)}`, {
        file,
        line: pos.line,
        column: pos.col
      })
    }
    if (doc.contents === null) continue
    const at = (offset: number) => {
      const pos = lineCounter.linePos(offset)
      return { file, line: pos.line, column: pos.col }
    }
    const unresolved = doc.warnings.find((w) => w.code === 'TAG_RESOLVE_FAILED')
    if (unresolved)
      throw new InputError(unknownTag(tagIn(unresolved.message)), at(unresolved.pos[0]))
    const found = findProblem(doc, lineCounter)
    if (found) throw new InputError(found.message, at(found.offset))
    const start = doc.contents.range?.[0] ?? 0
    const line = lineCounter.linePos(start).line
    let value: unknown
    try {
      value = doc.toJS({ maxAliasCount: yamlLimits.maxAliasCount })
    } catch (err) {
      const msg = err instanceof Error ? err.message : String(err)
      if (err instanceof RangeError || /call stack/i.test(msg)) throw tooDeep(file, line)
      throw new InputError(
        /alias/i.test(msg)
          ? `too many YAML aliases (over ${yamlLimits.maxAliasCount}); refusing a possible alias bomb`
          : `invalid YAML: ${firstLine(msg)}`,
        { file, line }
      )
    }
    const measured = measure(value)
    if (measured === 'deep') throw tooDeep(file, line)
    if (measured === 'big')
      throw new InputError(
        `expands to more than ${formatBytes(yamlLimits.maxExpandedChars)} of keys and values through its aliases and merge keys (the limit); refusing a possible alias bomb`,
        { file, line }
      )
    out.push({ value, line, doc, lineCounter })
  }
  return out
}

/**
 * Refuses a text over the file limit, naming the limit and the line the limit falls on (where
 * the file would have to end).
 */
function refuseOversized(text: string, file: string): void {
  // Bytes are at least UTF-16 units / 1 and at most 3 per unit: most texts need no counting.
  if (text.length <= yamlLimits.maxFileBytes / 3) return
  const bytes = Buffer.from(text, 'utf8')
  if (bytes.length <= yamlLimits.maxFileBytes) return
  let line = 1
  for (let i = 0; i < yamlLimits.maxFileBytes; i++) if (bytes[i] === 10) line++
  throw new InputError(
    `file is larger than the ${formatBytes(yamlLimits.maxFileBytes)} limit for a YAML file (${bytes.length} bytes; the limit falls on this line); refusing to parse it`,
    { file, line }
  )
}

function positionOf(text: string, index: number): { line: number; column: number } {
  const before = text.slice(0, index)
  return { line: before.split('\n').length, column: index - before.lastIndexOf('\n') }
}

function tooDeep(file: string, line: number): InputError {
  return new InputError(
    `nested too deeply (more than ${maxDepth} levels of maps and lists); refusing to read it`,
    { file, line }
  )
}

/** A tag as it is written: `!!js/function` for a core-namespace tag, else as resolved. */
function shortTag(tag: string): string {
  return tag.startsWith(coreTag) ? `!!${tag.slice(coreTag.length)}` : tag
}

/** The tag named in the parser's "Unresolved tag: X" warning. */
function tagIn(message: string): string {
  return /Unresolved tag: (\S+)/.exec(message)?.[1] ?? 'tag'
}

function unknownTag(tag: string): string {
  if (acceptedTags.scalar.has(tag) || acceptedTags.map.has(tag) || acceptedTags.seq.has(tag))
    return `the value does not read as ${shortTag(tag)} under YAML 1.2's core schema (the tag names another kind of value): write the value in that type's form, or drop the tag`
  return `YAML tag ${shortTag(tag)} is not accepted: kit reads plain data (strings, numbers, booleans, null, maps and lists) and accepts only the core tags ${acceptedTagList}; remove the tag, or quote the value to keep it as text`
}

/**
 * The name a scalar key has in the loaded object (as the parser names it: `null` is ''),
 * or undefined for a merge key or a key that is not a scalar.
 */
export function keyName(key: unknown): string | undefined {
  if (!isScalar(key) || typeof key.value === 'symbol') return undefined
  return key.value === null ? '' : String(key.value)
}

/** Whether a pair is a merge key (`<<: ...`). */
export function isMergePair(pair: Pair): boolean {
  return isScalar(pair.key) && typeof pair.key.value === 'symbol'
}

/**
 * The first problem of a parsed document the parser does not report, in one pass over its
 * nodes (no recursion: a deep document must not overflow here): a duplicate key, a merge key
 * whose value is not a map or a list of maps, or a node whose value is not plain data (a tag
 * of a YAML 1.1 type in a `%YAML 1.1` document, such as `!!timestamp`, `!!binary` or `!!set`,
 * or a date such a document reads from a plain `2020-01-01`).
 */
function findProblem(
  doc: Document.Parsed,
  lines: LineCounter
): { message: string; offset: number } | undefined {
  const stack: unknown[] = [doc.contents]
  while (stack.length > 0) {
    const node = stack.pop()
    if (isPair(node)) {
      stack.push(node.value, node.key)
      continue
    }
    if (!isScalar(node) && !isMap(node) && !isSeq(node)) continue
    const offset = node.range?.[0] ?? 0
    const kind = isScalar(node) ? 'scalar' : isMap(node) ? 'map' : 'seq'
    if (node.tag !== undefined && !acceptedTags[kind].has(node.tag))
      return { message: unknownTag(node.tag), offset }
    if (isScalar(node)) {
      if (node.value !== null && typeof node.value === 'object')
        return {
          message: `this value is read as a ${node.value instanceof Date ? 'timestamp' : 'binary or other non-text value'} (a %YAML 1.1 document's rules), which kit does not take: quote it to keep it as text`,
          offset
        }
      continue
    }
    if (isMap(node)) {
      const problem = mapProblem(doc, node, lines)
      if (problem) return problem
    }
    for (let i = node.items.length - 1; i >= 0; i--) stack.push(node.items[i])
  }
  return undefined
}

/** A duplicate key or a bad merge source in one map. */
function mapProblem(
  doc: Document.Parsed,
  map: YAMLMap,
  lines: LineCounter
): { message: string; offset: number } | undefined {
  const seen = new Map<string, Node>()
  for (const pair of map.items) {
    const keyNode = pair.key as Node
    if (isMergePair(pair)) {
      const bad = mergeSources(doc, pair.value as Node | null).find((s) => !isMap(s.resolved))
      if (bad)
        return {
          message: `a merge key (<<) takes a mapping, an alias of one, or a list of them; found ${describeNode(bad.resolved)}`,
          offset: (bad.node ?? keyNode).range?.[0] ?? 0
        }
      continue
    }
    const name = keyName(keyNode)
    if (name === undefined) continue
    const first = seen.get(name)
    if (first)
      return {
        message: `invalid YAML: Map keys must be unique (${quoteValue(name)} is also at line ${lines.linePos(first.range?.[0] ?? 0).line})`,
        offset: keyNode.range?.[0] ?? 0
      }
    seen.set(name, keyNode)
  }
  return undefined
}

/** What a merge source is instead of a map (its kind only: values are not echoed). */
function describeNode(node: Node | null | undefined): string {
  if (node === null || node === undefined) return 'nothing'
  if (isSeq(node)) return 'a list'
  if (isScalar(node)) return node.value === null ? 'null' : `a ${typeof node.value}`
  return 'something else'
}

/**
 * The maps a merge key's value names, in order (each with the node as written): one mapping or
 * an alias of one, or a list of those. A source that is not a map is returned as it is, for
 * the caller to refuse.
 */
export function mergeSources(
  doc: Document.Parsed,
  value: Node | null
): { node: Node | null; resolved: Node | null }[] {
  const resolved = resolveAlias(doc, value)
  if (!isSeq(resolved)) return [{ node: value, resolved }]
  return resolved.items.map((item) => ({
    node: item as Node | null,
    resolved: resolveAlias(doc, item as Node | null)
  }))
}

function resolveAlias(doc: Document.Parsed, node: Node | null): Node | null {
  if (isAlias(node)) return (node.resolve(doc) as Node | undefined) ?? null
  return node
}

/** One pair of a map once its merge keys are applied (see effectivePairs). */
export interface EffectivePair {
  readonly key: string
  readonly pair: Pair
  /** The merge key (`<<`) of the map that brought the pair in; undefined for the map's own. */
  readonly via?: Pair
}

/**
 * The pairs of `map` with merge keys applied as the loader applies them: the map's own pairs
 * first, then each merge source's (earlier sources first, their own merge keys in turn); a
 * key already given is not given again. Merge keys themselves are left out.
 */
export function effectivePairs(doc: Document.Parsed, map: YAMLMap): EffectivePair[] {
  const out: EffectivePair[] = []
  const given = new Set<string>()
  const visited = new Set<YAMLMap>()
  const add = (m: YAMLMap, via?: Pair): void => {
    if (visited.has(m)) return
    visited.add(m)
    for (const pair of m.items) {
      const key = keyName(pair.key)
      if (key === undefined || given.has(key)) continue
      given.add(key)
      out.push({ key, pair, via })
    }
    for (const pair of m.items) {
      if (!isMergePair(pair)) continue
      for (const source of mergeSources(doc, pair.value as Node | null))
        if (isMap(source.resolved)) add(source.resolved, via ?? pair)
    }
  }
  add(map)
  return out
}

/** The pair that gives `map` its value for `key`, merge keys applied (see effectivePairs). */
export function effectivePair(
  doc: Document.Parsed,
  map: YAMLMap,
  key: string
): EffectivePair | undefined {
  const own = map.items.find((p) => keyName(p.key) === key)
  if (own) return { key, pair: own }
  return effectivePairs(doc, map).find((p) => p.key === key)
}

/**
 * How a loaded value measures against the limits, in one pass without recursion: 'deep' when
 * it nests deeper than maxDepth, 'big' when its keys and scalars, aliases and merges expanded,
 * hold more than maxExpandedChars characters.
 */
function measure(value: unknown): 'ok' | 'deep' | 'big' {
  let chars = 0
  const values: unknown[] = [value]
  const depths: number[] = [0]
  while (values.length > 0) {
    const v = values.pop()
    const depth = depths.pop() as number
    if (typeof v === 'string') chars += v.length + 1
    else if (v === null || typeof v !== 'object') chars += String(v).length + 1
    else {
      if (depth >= maxDepth) return 'deep'
      if (Array.isArray(v))
        for (const child of v) {
          values.push(child)
          depths.push(depth + 1)
        }
      else
        for (const key in v) {
          chars += key.length + 2
          values.push((v as Record<string, unknown>)[key])
          depths.push(depth + 1)
        }
    }
    if (chars > yamlLimits.maxExpandedChars) return 'big'
  }
  return 'ok'
}

/** Parses a file expected to hold exactly one mapping (a config file such as a cluster file). */
export function loadYamlMapping(
  text: string,
  file: string
): { value: Record<string, unknown>; doc?: LoadedDocument } {
  const docs = loadYamlDocuments(text, file)
  if (docs.length === 0) return { value: {} }
  if (docs.length > 1)
    throw new InputError(`expected one YAML document, found ${docs.length}`, {
      file,
      line: docs[1].line
    })
  const v = docs[0].value
  if (v === null || typeof v !== 'object' || Array.isArray(v)) {
    throw new InputError(
      `expected a mapping at the top level, found ${Array.isArray(v) ? 'a list' : typeof v}`,
      { file, line: docs[0].line }
    )
  }
  return { value: v as Record<string, unknown>, doc: docs[0] }
}

/**
 * The 1-based line of the value at `path` inside a loaded document, or of the nearest parent
 * that exists. Used to point error messages at the exact line of a bad value. Aliases and
 * merge keys are followed: a value merged from `<<: *base` is found where `base` writes it.
 */
export function lineOf(doc: LoadedDocument, path: readonly (string | number)[]): number {
  let node: Node | null = doc.doc.contents as Node | null
  let line = doc.line
  for (const key of path) {
    node = resolveAlias(doc.doc, node)
    if (node && isMap(node)) {
      const found = effectivePair(doc.doc, node, String(key))
      if (!found) break
      node = found.pair.value as Node | null
    } else if (node && isSeq(node) && typeof key === 'number') {
      node = (node.items[key] as Node | undefined) ?? null
    } else break
    if (node?.range) line = doc.lineCounter.linePos(node.range[0]).line
  }
  return line
}

function firstLine(s: string): string {
  return s.split('\n')[0]
}
