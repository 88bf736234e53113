import { isDeepStrictEqual } from 'node:util'
import {
  isAlias,
  isMap,
  isScalar,
  isSeq,
  parseDocument,
  type Document,
  type Node,
  type Pair,
  type Scalar,
  type YAMLMap
} from 'yaml'
import { InputError } from '../errors.js'
import { loadYamlDocuments, type LoadedDocument } from '../yaml/load.js'
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
    const lines = renderNewKeys(path, value, 0, indentStep(text), eol, file)
    const prefix = text === '' || text.endsWith('\n') ? text : text + eol
    const out = prefix + lines
    verify(out, file, () => [nestedValue(path, value)])
    return { text: out, changed: true }
  }
  const loaded = docs[index]
  if (!loaded)
    throw new InputError(`document ${index} does not exist (the file has ${docs.length})`, { file })

  const found = walk(loaded.doc, path, file)
  if (found.kind === 'found') {
    const scalar = found.node
    const rendered = renderScalar(value, scalar, found.inFlow, file, loaded)
    const previous = scalar.value
    if (Object.is(rendered.parsed, previous)) return { text, changed: false, previous }
    const [start, end] = scalarRange(scalar)
    const replacement = start === end ? ` ${rendered.text}` : rendered.text
    const out = splice(text, [{ start, end, text: replacement }])
    scalar.value = rendered.parsed
    verify(out, file, () => docs.map((d) => d.doc.toJS()))
    return { text: out, changed: true, previous }
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
  let insertion: Splice
  if (map.flow) {
    const inner = renderFlowKeys(remaining as string[], value, file)
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
    const body = renderNewKeys(remaining as string[], value, column, step, eol, file)
    insertion = { start: at, end: at, text: (at > 0 && text[at - 1] !== '\n' ? eol : '') + body }
  }
  const out = splice(text, [insertion])
  const created = loaded.doc.createNode(nestedValue(remaining.slice(1), value)) as Node
  map.set(loaded.doc.createNode(remaining[0]), created)
  verify(out, file, () => docs.map((d) => d.doc.toJS()))
  return { text: out, changed: true }
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
  let parent: Node | null = loaded.doc.contents as Node | null
  for (const seg of parentPath) {
    parent = resolve(loaded.doc, parent)
    if (isMap(parent)) parent = (findPair(parent, seg)?.value as Node | null) ?? null
    else if (isSeq(parent) && typeof seg === 'number') parent = (parent.items[seg] as Node) ?? null
    else return { text, changed: false }
  }
  parent = resolve(loaded.doc, parent)
  if (!isMap(parent)) return { text, changed: false }
  const pair = findPair(parent, key)
  if (!pair) return { text, changed: false }
  const where = formatYamlPath(path)
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

const containerListKeys = new Set(['containers', 'initContainers', 'ephemeralContainers'])

/**
 * Replaces the tag and digest of every container image (containers, initContainers,
 * ephemeralContainers, at any depth: Pods, workload templates, CronJob job templates) whose
 * repository is `target`'s, in every document of the file — what `kustomize edit set image`
 * does, without touching anything else. The name keeps its spelling; values that are not image
 * references (placeholders) are left alone. An image shared through an anchor is edited once,
 * at the anchor.
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
    const visit = (node: Node | null, path: (string | number)[], inFlow: boolean): void => {
      if (isMap(node)) {
        for (const pair of node.items) {
          const key = isScalar(pair.key) ? String(pair.key.value) : undefined
          if (key === undefined) continue
          const childPath = [...path, key]
          const parentKey = path[path.length - 2]
          if (
            key === 'image' &&
            typeof path[path.length - 1] === 'number' &&
            typeof parentKey === 'string' &&
            containerListKeys.has(parentKey)
          ) {
            const scalar = resolve(loaded.doc, pair.value as Node | null)
            if (isScalar(scalar) && typeof scalar.value === 'string' && !seen.has(scalar)) {
              const before = scalar.value
              if (target.matches(before)) {
                const after = target.retag(before)
                seen.add(scalar)
                if (after !== before) {
                  const rendered = renderScalar(after, scalar, inFlow || !!node.flow, file, loaded)
                  const [start, end] = scalarRange(scalar)
                  splices.push({
                    start,
                    end,
                    text: start === end ? ` ${rendered.text}` : rendered.text
                  })
                  scalar.value = rendered.parsed
                  replacements.push({ document, path: formatYamlPath(childPath), before, after })
                }
              }
            }
            continue
          }
          visit(pair.value as Node | null, childPath, inFlow || !!node.flow)
        }
      } else if (isSeq(node)) {
        node.items.forEach((item, i) =>
          visit(item as Node | null, [...path, i], inFlow || !!node.flow)
        )
      }
    }
    visit(loaded.doc.contents as Node | null, [], false)
  })
  if (splices.length === 0) return { text, replacements }
  const out = splice(text, splices)
  verify(out, file, () => docs.map((d) => d.doc.toJS()))
  return { text: out, replacements }
}

// ---------------------------------------------------------------------------------------------

type WalkResult =
  | { kind: 'found'; node: Scalar; inFlow: boolean }
  | { kind: 'missing'; map: YAMLMap; depth: number }

function walk(doc: Document.Parsed, path: YamlPath, file: string): WalkResult {
  let node: Node | null = doc.contents as Node | null
  let inFlow = false
  for (let depth = 0; depth < path.length; depth++) {
    const seg = path[depth]
    node = resolve(doc, node)
    const here = formatYamlPath(path.slice(0, depth)) || 'the document'
    if (isMap(node)) {
      inFlow ||= !!node.flow
      const pair = findPair(node, seg)
      if (!pair) return { kind: 'missing', map: node, depth }
      node = pair.value as Node | null
    } else if (isSeq(node)) {
      inFlow ||= !!node.flow
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
  return { kind: 'found', node, inFlow }
}

function findPair(map: YAMLMap, key: string | number): Pair | undefined {
  return map.items.find((p) => isScalar(p.key) && String(p.key.value) === String(key)) as
    Pair | undefined
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
  const doc = parseDocument(probe, { version: '1.2' })
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

function renderNewKeys(
  keys: readonly (string | number)[],
  value: string,
  column: number,
  step: number,
  eol: string,
  file: string
): string {
  let out = ''
  keys.forEach((key, i) => {
    const pad = ' '.repeat(column + i * step)
    const last = i === keys.length - 1
    out += `${pad}${renderKey(String(key), file)}:${last ? ` ${renderValue(value)}` : ''}${eol}`
  })
  return out
}

function renderFlowKeys(keys: readonly string[], value: string, file: string): string {
  const [first, ...rest] = keys
  const inner =
    rest.length === 0 ? renderFlowValue(value) : `{${renderFlowKeys(rest, value, file)}}`
  return `${renderKey(first, file)}: ${inner}`
}

function renderFlowValue(value: string): string {
  const plain = readPlain(value, true)
  return plain.ok && plain.value === value ? value : JSON.stringify(value)
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
function verify(out: string, file: string, expected: () => unknown[]): void {
  const actual = loadYamlDocuments(out, file).map((d) => d.doc.toJS() as unknown)
  if (!isDeepStrictEqual(actual, expected())) {
    throw new Error(
      `${file}: the surgical edit did not produce the intended document; refusing to write it (please report this file)`
    )
  }
}
