import { isDeepStrictEqual } from 'node:util'
import {
  isAlias,
  isMap,
  isPair,
  isScalar,
  isSeq,
  parseDocument,
  type Document,
  type Node,
  type Pair,
  type Scalar,
  YAMLMap
} from 'yaml'
import { InputError } from '../errors.js'
import {
  effectivePair,
  effectivePairs,
  isMergePair,
  keyName,
  loadYamlDocuments,
  mergeSources,
  yamlParseOptions,
  type LoadedDocument
} from '../yaml/load.js'
import { isContainerImageKey } from '../images/container-images.js'
import { formatYamlPath, type YamlPath } from './path.js'

/*
 * Byte-preserving YAML edits. The `yaml` package gives every node its source range; an edit
 * replaces only the bytes of the value it changes (or inserts one new line for a new key), so
 * comments, key order, quoting, anchors, indentation and CRLF line endings stay as they were —
 * the complaint users of kustomize and image updaters raise most.
 *
 * Every edit is checked before it is returned: the new text is parsed again and must equal the
 * old document with exactly the intended change. An edit that cannot be done surgically is an
 * error, never a silent reformat.
 */

// eslint-disable-next-line no-control-regex
const notYamlText = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u0084\u0086-\u009f\ufffe\uffff]/

/**
 * Refuses a text YAML does not allow as a stream (a NUL byte, other control characters): such a
 * file is binary or mis-encoded, and the YAML parser would read it anyway, so an edit would
 * carry the damage on. The error names the file, line and column of the first such character.
 */
export function assertYamlText(text: string, file: string): void {
  const m = notYamlText.exec(text)
  if (!m) return
  const before = text.slice(0, m.index)
  const line = before.split('\n').length
  const column = m.index - before.lastIndexOf('\n')
  const code = m[0].charCodeAt(0)
  throw new InputError(
    `contains ${code === 0 ? 'a NUL byte' : `the control character U+${code.toString(16).toUpperCase().padStart(4, '0')}`}; YAML files are text`,
    { file, line, column }
  )
}

/** The result of one edit: the new text (identical to the input when nothing changed). */
export interface YamlEditResult {
  readonly text: string
  readonly changed: boolean
  /** The value before the edit; undefined when the path was created. */
  readonly previous?: unknown
}

/** One container image replaced inside a manifest file. */
export interface ImageReplacement {
  /** 0-based index of the document inside a multi-document file. */
  readonly document: number
  readonly path: string
  readonly before: string
  readonly after: string
}

interface Splice {
  readonly start: number
  readonly end: number
  readonly text: string
}

/** Options shared by the path edits. */
export interface PathEditOptions {
  /** Named in errors. */
  readonly file: string
  /** Create missing map keys along the path (never sequence items). */
  readonly create?: boolean
  /** Which document of a multi-document file; 0 by default. */
  readonly document?: number
}

/**
 * Sets the scalar at `path` to `value`, keeping the scalar's quoting style (a plain scalar stays
 * plain when the new text reads back as the same value; otherwise it is double-quoted). A plain
 * number stays a number when the new text is one. A missing key is an error unless
 * `create` is set, in which case the missing keys are added as new lines at the end of the
 * deepest existing map, indented like its keys.
 */
export function setYamlValue(
  text: string,
  path: YamlPath,
  value: string,
  options: PathEditOptions
): YamlEditResult {
  const { file } = options
  assertYamlText(text, file)
  const docs = loadYamlDocuments(text, file)
  const where = formatYamlPath(path)
  const index = options.document ?? 0
  const eol = lineEnding(text)

  if (docs.length === 0) {
    if (!options.create)
      throw new InputError(`path '${where}' does not exist (the file is empty)`, { file })
    if (index !== 0) throw new InputError(`document ${index} does not exist`, { file })
    const lines = renderNewKeys(path, renderValue(value), 0, indentStep(text), eol, file)
    const prefix = text === '' || text.endsWith('\n') ? text : text + eol
    const out = prefix + lines
    verify(out, file, () => [nestedValue(path, value)])
    return { text: out, changed: true }
  }
  const loaded = docs[index]
  if (!loaded)
    throw new InputError(`document ${index} does not exist (the file has ${docs.length})`, { file })

  const found = walk(loaded, path, file)
  if (found.kind === 'found') {
    const scalar = found.node
    const rendered = renderScalar(value, scalar, found.inFlow, file, loaded)
    const previous = scalar.value
    if (Object.is(rendered.parsed, previous)) return { text, changed: false, previous }
    const [start, end] = scalarRange(scalar)
    const replacement = start === end ? ` ${rendered.text}` : rendered.text
    const out = splice(text, [{ start, end, text: replacement }])
    scalar.value = rendered.parsed
    verify(out, file, () => docs.map((d) => d.doc.toJS()), { index, path, value: rendered.parsed })
    return { text: out, changed: true, previous }
  }

  if (found.kind === 'merged') {
    // The key is there through a merge key: the change is written as the map's own key, which
    // wins over the merged one, so every other map merging the same source keeps its value.
    const merged = found.node
    const flow = found.inFlow || !!found.map.flow
    const rendered = renderScalar(value, merged, flow, file, loaded)
    if (Object.is(rendered.parsed, merged.value))
      return { text, changed: false, previous: merged.value }
    const out = insertKeys(text, found.map, [path[path.length - 1] as string], rendered.text, file)
    found.map.set(
      keyNode(loaded.doc, String(path[path.length - 1]), file),
      loaded.doc.createNode(rendered.parsed)
    )
    verify(out, file, () => docs.map((d) => d.doc.toJS()), { index, path, value: rendered.parsed })
    return { text: out, changed: true, previous: merged.value }
  }

  if (!options.create)
    throw new InputError(
      `path '${where}' does not exist: '${formatYamlPath(path.slice(0, found.depth + 1))}' is missing (set create to add it)`,
      { file, line: lineOf(loaded, found.map) }
    )
  const remaining = path.slice(found.depth)
  if (remaining.some((p) => typeof p === 'number'))
    throw new InputError(`path '${where}' cannot be created: sequence items are never created`, {
      file
    })
  const map = found.map
  const leaf = map.flow ? renderFlowValue(value) : renderValue(value)
  const out = insertKeys(text, map, remaining as string[], leaf, file)
  let created = loaded.doc.createNode(value) as Node
  for (const key of remaining.slice(1).reverse()) {
    const inner = new YAMLMap()
    inner.set(keyNode(loaded.doc, String(key), file), created)
    created = inner
  }
  map.set(keyNode(loaded.doc, String(remaining[0]), file), created)
  verify(out, file, () => docs.map((d) => d.doc.toJS()), { index, path, value })
  return { text: out, changed: true }
}

/**
 * `text` with `keys` (nested, the last holding `leaf`, already written as YAML) added at the
 * end of `map`: one more entry of a flow map, or new lines indented like the map's keys.
 */
function insertKeys(
  text: string,
  map: YAMLMap,
  keys: readonly string[],
  leaf: string,
  file: string
): string {
  let insertion: Splice
  if (map.flow) {
    const inner = renderFlowKeys(keys, leaf, file)
    if (map.items.length > 0) {
      const last = map.items[map.items.length - 1]
      const at = nodeEnd(last)
      insertion = { start: at, end: at, text: `, ${inner}` }
    } else {
      const close = text.lastIndexOf('}', (map.range as [number, number, number])[1])
      insertion = { start: close, end: close, text: inner }
    }
  } else {
    const first = map.items[0]
    const keyStart = (first.key as Node).range?.[0] ?? 0
    const column = keyStart - lineStartOf(text, keyStart)
    const at = endOfBlockPair(text, map.items[map.items.length - 1])
    const step = column > 0 ? parentStep(text, keyStart, column) : indentStep(text)
    const body = renderNewKeys(keys, leaf, column, step, lineEnding(text), file)
    insertion = {
      start: at,
      end: at,
      text: (at > 0 && text[at - 1] !== '\n' ? lineEnding(text) : '') + body
    }
  }
  return splice(text, [insertion])
}

/**
 * Removes the key at `path` (its whole line or block) from a block mapping. Used to drop a
 * provenance field a new bump no longer has, so a stale value cannot describe the wrong build.
 * A missing key is not an error: there is nothing to remove.
 */
export function deleteYamlKey(
  text: string,
  path: YamlPath,
  options: PathEditOptions
): YamlEditResult {
  const { file } = options
  assertYamlText(text, file)
  const docs = loadYamlDocuments(text, file)
  const loaded = docs[options.document ?? 0]
  if (!loaded) return { text, changed: false }
  const parentPath = path.slice(0, -1)
  const key = path[path.length - 1]
  const where = formatYamlPath(path)
  // A key a merge key (<<) gives cannot be removed here, and removing the map's own key would
  // bring the merged one back: refused rather than leaving the value in place.
  const refuseMerged = (map: YAMLMap, seg: string | number): void => {
    const merged = fromMergeSources(loaded.doc, map, String(seg))
    if (merged)
      throw new InputError(
        `cannot remove '${where}': the merge key (<<) at line ${lineOf(loaded, merged.key as Node)} gives '${formatYamlPath(path.slice(0, parentPath.length + 1))}' a value too; remove it from the merged mapping, or write the key out in this mapping`,
        { file, line: lineOf(loaded, merged.key as Node) }
      )
  }
  let parent: Node | null = loaded.doc.contents as Node | null
  for (const seg of parentPath) {
    parent = resolve(loaded.doc, parent)
    if (isMap(parent)) {
      const own = findPair(parent, seg)
      if (!own) refuseMerged(parent, seg)
      parent = (own?.value as Node | null) ?? null
    } else if (isSeq(parent) && typeof seg === 'number')
      parent = (parent.items[seg] as Node) ?? null
    else return { text, changed: false }
  }
  parent = resolve(loaded.doc, parent)
  if (!isMap(parent)) return { text, changed: false }
  refuseMerged(parent, key)
  const pair = findPair(parent, key)
  if (!pair) return { text, changed: false }
  if (parent.flow || parent.items.length < 2)
    throw new InputError(
      `cannot remove '${where}' without reformatting (it is in a flow mapping or is the only key)`,
      { file, line: lineOf(loaded, parent) }
    )
  const keyStart = (pair.key as Node).range?.[0] ?? 0
  const start = lineStartOf(text, keyStart)
  if (text.slice(start, keyStart).trim() !== '')
    throw new InputError(`cannot remove '${where}': it shares its line with other content`, {
      file,
      line: lineOf(loaded, pair.key as Node)
    })
  const end = endOfBlockPair(text, pair)
  const previous = isScalar(pair.value) ? pair.value.value : undefined
  const out = splice(text, [{ start, end, text: '' }])
  parent.delete(pair.key)
  verify(out, file, () => docs.map((d) => d.doc.toJS()))
  return { text: out, changed: true, previous }
}

/**
 * Replaces the tag and digest of every container image (containers, initContainers,
 * ephemeralContainers, at any depth: Pods, workload templates, CronJob job templates) whose
 * repository is `target`'s, in every document of the file — what `kustomize edit set image`
 * does, without touching anything else. The name keeps its spelling; values that are not image
 * references (placeholders) are left alone. The file is read as the loader reads it: aliases
 * are followed and merge keys (`<<`) applied, so a container whose `image` comes from an
 * anchor or a merged map is found, and the image it runs is the one edited (a key written in
 * the container wins over a merged one). An image shared through an anchor is edited once, at
 * the anchor.
 */
export function setContainerImages(
  text: string,
  target: { matches: (image: string) => boolean; retag: (image: string) => string },
  file: string
): { text: string; replacements: ImageReplacement[] } {
  assertYamlText(text, file)
  const docs = loadYamlDocuments(text, file)
  const seen = new Set<Scalar>()
  const splices: Splice[] = []
  const replacements: ImageReplacement[] = []
  docs.forEach((loaded, document) => {
    const inFlow = scalarsInFlow(loaded.doc)
    const retag = (value: Node | null, path: (string | number)[]): void => {
      const scalar = resolve(loaded.doc, value)
      if (!isScalar(scalar) || typeof scalar.value !== 'string' || seen.has(scalar)) return
      const before = scalar.value
      if (!target.matches(before)) return
      const after = target.retag(before)
      seen.add(scalar)
      if (after === before) return
      const rendered = renderScalar(after, scalar, inFlow.has(scalar), file, loaded)
      const [start, end] = scalarRange(scalar)
      splices.push({ start, end, text: start === end ? ` ${rendered.text}` : rendered.text })
      scalar.value = rendered.parsed
      replacements.push({ document, path: formatYamlPath(path), before, after })
    }
    // The document as loaded: aliases followed, merge keys applied (effectivePairs).
    const visit = (at: Node | null, path: (string | number)[]): void => {
      const node = resolve(loaded.doc, at)
      if (isMap(node)) {
        for (const { key, pair } of effectivePairs(loaded.doc, node)) {
          if (isContainerImageKey(path, key)) retag(pair.value as Node | null, [...path, key])
          else visit(pair.value as Node | null, [...path, key])
        }
      } else if (isSeq(node)) {
        node.items.forEach((item, i) => visit(item as Node | null, [...path, i]))
      }
    }
    visit(loaded.doc.contents as Node | null, [])
  })
  if (splices.length === 0) return { text, replacements }
  const out = splice(text, splices)
  verify(out, file, () => docs.map((d) => d.doc.toJS()))
  return { text: out, replacements }
}

/**
 * The scalars written inside a flow collection (`[…]`, `{…}`), where a plain value may not
 * hold `,[]{}`: where a scalar is written decides how it may be rewritten, wherever an alias
 * or a merge key uses it.
 */
function scalarsInFlow(doc: Document.Parsed): Set<Scalar> {
  const out = new Set<Scalar>()
  const stack: [unknown, boolean][] = [[doc.contents, false]]
  while (stack.length > 0) {
    const [node, flow] = stack.pop() as [unknown, boolean]
    if (isPair(node)) stack.push([node.key, flow], [node.value, flow])
    else if (isScalar(node)) {
      if (flow) out.add(node)
    } else if (isMap(node) || isSeq(node))
      for (const item of node.items) stack.push([item, flow || !!node.flow])
  }
  return out
}

// ---------------------------------------------------------------------------------------------

type WalkResult =
  | { kind: 'found'; node: Scalar; inFlow: boolean }
  | { kind: 'missing'; map: YAMLMap; depth: number }
  /** The last key is not in `map` itself but comes from one of its merge keys (`<<`). */
  | { kind: 'merged'; map: YAMLMap; node: Scalar; inFlow: boolean }

/**
 * Follows `path` the way the loader reads the document (aliases followed, merge keys applied).
 * A key that only a merge key gives is reachable as the last step (the edit then writes the
 * map's own key), never as a step on the way: editing inside a merged map would change every
 * map that merges it.
 */
function walk(loaded: LoadedDocument, path: YamlPath, file: string): WalkResult {
  const doc = loaded.doc
  let node: Node | null = doc.contents as Node | null
  for (let depth = 0; depth < path.length; depth++) {
    const seg = path[depth]
    node = resolve(doc, node)
    const here = formatYamlPath(path.slice(0, depth)) || 'the document'
    if (isMap(node)) {
      const pair = findPair(node, seg)
      if (!pair) {
        const merged = effectivePair(doc, node, String(seg))
        if (!merged?.via) return { kind: 'missing', map: node, depth }
        const through = formatYamlPath(path.slice(0, depth + 1))
        if (depth < path.length - 1)
          throw new InputError(
            `cannot reach '${formatYamlPath(path)}': '${through}' comes from the merge key (<<) at line ${lineOf(loaded, merged.via.key as Node)}, and editing inside the merged map would change every map that merges it; write '${String(seg)}' out in this mapping`,
            { file, line: lineOf(loaded, merged.via.key as Node) }
          )
        const value = resolve(doc, merged.pair.value as Node | null)
        if (!isScalar(value))
          throw new InputError(`'${through}' is ${describe(value)}, not a single value`, { file })
        return { kind: 'merged', map: node, node: value, inFlow: !!node.flow }
      }
      node = pair.value as Node | null
    } else if (isSeq(node)) {
      if (typeof seg !== 'number')
        throw new InputError(`'${here}' is a list; index it with [n] instead of '.${seg}'`, {
          file
        })
      const item = node.items[seg] as Node | undefined
      if (item === undefined)
        throw new InputError(`'${here}' has ${node.items.length} items; [${seg}] does not exist`, {
          file
        })
      node = item
    } else {
      throw new InputError(
        `'${here}' is ${describe(node)}, not a mapping; cannot reach '${formatYamlPath(path)}'`,
        {
          file
        }
      )
    }
  }
  node = resolve(doc, node)
  if (!isScalar(node))
    throw new InputError(`'${formatYamlPath(path)}' is ${describe(node)}, not a single value`, {
      file
    })
  // Where the scalar is written decides its style, wherever the path reached it from.
  return { kind: 'found', node, inFlow: scalarsInFlow(doc).has(node) }
}

/**
 * The merge key (`<<`) of `map` through which one of its merge sources gives `key` a value,
 * whether or not `map` has the key itself.
 */
function fromMergeSources(doc: Document.Parsed, map: YAMLMap, key: string): Pair | undefined {
  for (const pair of map.items) {
    if (!isMergePair(pair)) continue
    for (const source of mergeSources(doc, pair.value as Node | null))
      if (isMap(source.resolved) && effectivePair(doc, source.resolved, key)) return pair
  }
  return undefined
}

/** The map's own pair for `key` (by the name the loaded object has; never a merge key). */
function findPair(map: YAMLMap, key: string | number): Pair | undefined {
  return map.items.find((p) => keyName(p.key) === String(key)) as Pair | undefined
}

function resolve(doc: Document.Parsed, node: Node | null): Node | null {
  if (isAlias(node)) return (node.resolve(doc) as Node | undefined) ?? null
  return node
}

function describe(node: Node | null): string {
  if (node === null) return 'empty'
  if (isMap(node)) return 'a mapping'
  if (isSeq(node)) return 'a list'
  if (isScalar(node))
    return node.value === null ? 'null' : `the value ${JSON.stringify(node.value)}`
  return 'an unsupported node'
}

function scalarRange(scalar: Scalar): [number, number] {
  const range = scalar.range as [number, number, number]
  return [range[0], range[1]]
}

/** Renders `value` in the style of the scalar it replaces; falls back to double quotes. */
function renderScalar(
  value: string,
  original: Scalar | undefined,
  inFlow: boolean,
  file: string,
  loaded: LoadedDocument
): { text: string; parsed: unknown } {
  const style = original?.type ?? 'PLAIN'
  if (style === 'BLOCK_LITERAL' || style === 'BLOCK_FOLDED') {
    throw new InputError(
      `the value at line ${lineOf(loaded, original as Node)} is a block scalar (| or >); kit edits only single-line values`,
      { file }
    )
  }
  const originalType =
    original === undefined || original.value === null ? 'string' : typeof original.value
  if (style === 'PLAIN') {
    const plain = readPlain(value, inFlow)
    if (
      plain.ok &&
      ((typeof plain.value === 'string' && plain.value === value) ||
        (typeof plain.value === originalType && String(plain.value) === value))
    ) {
      return { text: value, parsed: plain.value }
    }
  }
  if (style === 'QUOTE_SINGLE' && isPrintableLine(value)) {
    return { text: `'${value.replace(/'/g, "''")}'`, parsed: value }
  }
  return { text: JSON.stringify(value), parsed: value }
}

/** How YAML would read `value` written plain in this context. */
function readPlain(value: string, inFlow: boolean): { ok: boolean; value?: unknown } {
  if (value === '' || !isPrintableLine(value) || value !== value.trim()) return { ok: false }
  const probe = inFlow ? `[${value}]` : `k: ${value}`
  // Read as kit's loader reads it (YAML 1.2, merge keys, the tags it accepts).
  const doc = parseDocument(probe, yamlParseOptions)
  if (doc.errors.length > 0 || doc.warnings.length > 0) return { ok: false }
  let js: unknown
  try {
    js = doc.toJS()
  } catch {
    // An alias without its anchor (`*name`) parses but cannot be read: it is not plain text.
    return { ok: false }
  }
  if (inFlow)
    return Array.isArray(js) && js.length === 1 ? { ok: true, value: js[0] } : { ok: false }
  return js !== null && typeof js === 'object' && Object.keys(js).length === 1
    ? { ok: true, value: (js as Record<string, unknown>).k }
    : { ok: false }
}

function isPrintableLine(value: string): boolean {
  // eslint-disable-next-line no-control-regex
  return !/[\u0000-\u001f\u007f\u2028\u2029]/.test(value)
}

function renderKey(key: string, file: string): string {
  const plain = readPlain(key, false)
  if (/^[A-Za-z_][\w./-]*$/.test(key) && plain.ok && plain.value === key) return key
  if (key === '') throw new InputError('cannot create an empty key', { file })
  return JSON.stringify(key)
}

function renderValue(value: string): string {
  const plain = readPlain(value, false)
  return plain.ok && plain.value === value ? value : JSON.stringify(value)
}

/** New block lines for nested `keys`, the last holding `leaf` (already written as YAML). */
function renderNewKeys(
  keys: readonly (string | number)[],
  leaf: string,
  column: number,
  step: number,
  eol: string,
  file: string
): string {
  let out = ''
  keys.forEach((key, i) => {
    const pad = ' '.repeat(column + i * step)
    const last = i === keys.length - 1
    out += `${pad}${renderKey(String(key), file)}:${last ? ` ${leaf}` : ''}${eol}`
  })
  return out
}

/** A flow entry for nested `keys`, the last holding `leaf` (already written as YAML). */
function renderFlowKeys(keys: readonly string[], leaf: string, file: string): string {
  const [first, ...rest] = keys
  const inner = rest.length === 0 ? leaf : `{${renderFlowKeys(rest, leaf, file)}}`
  return `${renderKey(first, file)}: ${inner}`
}

function renderFlowValue(value: string): string {
  const plain = readPlain(value, true)
  return plain.ok && plain.value === value ? value : JSON.stringify(value)
}

/**
 * A new key's node, quoted when renderKey writes it quoted: the check that follows an edit
 * must read it as the file will (a plain `<<` would be a merge key).
 */
function keyNode(doc: Document.Parsed, key: string, file: string): Node {
  const node = doc.createNode(key) as Scalar
  if (renderKey(key, file).startsWith('"')) node.type = 'QUOTE_DOUBLE'
  return node
}

function nestedValue(keys: readonly (string | number)[], leaf: unknown): unknown {
  return keys.reduceRight<unknown>((acc, key) => ({ [String(key)]: acc }), leaf)
}

/** The offset just after the line (or block) that holds `pair`'s value. */
function endOfBlockPair(text: string, pair: Pair): number {
  const end = nodeEnd(pair)
  if (end > 0 && text[end - 1] === '\n') return end
  const nl = text.indexOf('\n', end)
  return nl < 0 ? text.length : nl + 1
}

function nodeEnd(pair: Pair): number {
  const value = pair.value as Node | null
  if (value?.range) return value.range[1]
  return (pair.key as Node).range?.[1] ?? 0
}

function lineStartOf(text: string, offset: number): number {
  return text.lastIndexOf('\n', offset - 1) + 1
}

function lineOf(loaded: LoadedDocument, node: Node): number {
  return loaded.lineCounter.linePos(node.range?.[0] ?? 0).line
}

/** CRLF when the file already uses it, so an added line matches its neighbours. */
export function lineEnding(text: string): '\r\n' | '\n' {
  return text.includes('\r\n') ? '\r\n' : '\n'
}

/** The file's nesting step (spaces per level), from its first nested block line; 2 by default. */
function indentStep(text: string): number {
  const lines = text.split(/\r?\n/)
  let previousIndent = -1
  let previousOpens = false
  for (const line of lines) {
    if (line.trim() === '' || line.trimStart().startsWith('#')) continue
    const indent = line.length - line.trimStart().length
    if (previousOpens && indent > previousIndent) return indent - previousIndent
    previousIndent = indent
    previousOpens = /:\s*(#.*)?$/.test(line)
  }
  return 2
}

/**
 * The nesting step of the map whose first key starts at `keyStart`: its column minus the
 * column of the nearest line above with less indentation (the parent key), so a map nested
 * with 4 spaces gets its new children at 4 more.
 */
function parentStep(text: string, keyStart: number, column: number): number {
  const lines = text.slice(0, lineStartOf(text, keyStart)).split('\n').reverse()
  for (const line of lines) {
    const content = line.replace(/\r$/, '')
    if (content.trim() === '' || content.trimStart().startsWith('#')) continue
    const indent = content.length - content.trimStart().length
    const dash = /^\s*- /.test(content) ? 2 : 0
    if (indent + dash < column) return column - indent - dash || 2
  }
  return 2
}

function splice(text: string, splices: readonly Splice[]): string {
  let out = text
  for (const s of [...splices].sort((a, b) => b.start - a.start)) {
    out = out.slice(0, s.start) + s.text + out.slice(s.end)
  }
  return out
}

/**
 * Parses the edited text and checks it equals the intended documents. A mismatch is a bug in
 * the edit (never the user's fault), so it is refused instead of committing a wrong file.
 */
function verify(
  out: string,
  file: string,
  expected: () => unknown[],
  set?: { index: number; path: YamlPath; value: unknown }
): void {
  const actual = loadYamlDocuments(out, file).map((d) => d.value)
  let ok = isDeepStrictEqual(actual, expected())
  // And, read as the loader reads it (merge keys applied), the path holds the new value.
  if (ok && set) ok = Object.is(valueAt(actual[set.index], set.path), set.value)
  if (!ok) {
    throw new Error(
      `${file}: the surgical edit did not produce the intended document; refusing to write it (please report this file)`
    )
  }
}

function valueAt(value: unknown, path: YamlPath): unknown {
  let v = value
  for (const seg of path) {
    if (v === null || typeof v !== 'object') return undefined
    v = (v as Record<string | number, unknown>)[seg]
  }
  return v
}
