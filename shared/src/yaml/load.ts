import {
  parseAllDocuments,
  LineCounter,
  isMap,
  isSeq,
  isScalar,
  isPair,
  type Document,
  type Node
} from 'yaml'
import { InputError } from '../errors.js'
import { decodeStrictUtf8, hexByte } from '../text/utf8.js'

/** Limits that keep a hostile or broken file from exhausting memory before it is rejected. */
export const yamlLimits = {
  /** Bytes per file. Manifests are small; a multi-megabyte file is a mistake or an attack. */
  maxFileBytes: 4 * 1024 * 1024,
  /** Alias dereferences per document: a "billion laughs" file expands exponentially through aliases. */
  maxAliasCount: 1000
} as const

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
  /** The plain JavaScript value (maps become objects, sequences arrays). */
  readonly value: unknown
  /** 1-based line of the document's first content line. */
  readonly line: number
  /** The parsed syntax tree, kept for positions of values inside the document. */
  readonly doc: Document.Parsed
  readonly lineCounter: LineCounter
}

/**
 * Parses every document in a YAML text. Syntax errors, alias bombs, duplicate keys and
 * oversized input are refused with an InputError naming the file, line and column.
 * Empty documents (a stray `---`) are skipped.
 */
export function loadYamlDocuments(text: string, file: string): LoadedDocument[] {
  if (Buffer.byteLength(text, 'utf8') > yamlLimits.maxFileBytes) {
    throw new InputError(
      `file is larger than ${yamlLimits.maxFileBytes} bytes; refusing to parse it`,
      { file }
    )
  }
  const control = forbiddenControl.exec(text)
  if (control) {
    const before = text.slice(0, control.index)
    const line = before.split('\n').length
    throw new InputError(
      `contains the control character U+${control[0].charCodeAt(0).toString(16).padStart(4, '0').toUpperCase()}, which YAML does not allow (a binary or corrupt file?)`,
      { file, line, column: control.index - before.lastIndexOf('\n') }
    )
  }
  const lineCounter = new LineCounter()
  let docs
  try {
    docs = parseAllDocuments(text, {
      lineCounter,
      uniqueKeys: true,
      prettyErrors: false,
      version: '1.2'
    })
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
    let value: unknown
    try {
      value = doc.toJS({ maxAliasCount: yamlLimits.maxAliasCount })
    } catch (err) {
      const pos = lineCounter.linePos(doc.contents.range?.[0] ?? 0)
      const msg = err instanceof Error ? err.message : String(err)
      if (err instanceof RangeError || /call stack/i.test(msg)) throw tooDeep(file, pos.line)
      throw new InputError(
        /alias/i.test(msg)
          ? `too many YAML aliases (over ${yamlLimits.maxAliasCount}); refusing a possible alias bomb`
          : `invalid YAML: ${firstLine(msg)}`,
        { file, line: pos.line }
      )
    }
    const start = doc.contents.range?.[0] ?? 0
    if (depthOver(value, maxDepth)) throw tooDeep(file, lineCounter.linePos(start).line)
    out.push({ value, line: lineCounter.linePos(start).line, doc, lineCounter })
  }
  return out
}

function tooDeep(file: string, line: number): InputError {
  return new InputError(
    `nested too deeply (more than ${maxDepth} levels of maps and lists); refusing to read it`,
    { file, line }
  )
}

/** Whether a value nests deeper than `limit` (iterative: a deep value must not overflow here). */
function depthOver(value: unknown, limit: number): boolean {
  const stack: [unknown, number][] = [[value, 0]]
  while (stack.length > 0) {
    const [v, depth] = stack.pop() as [unknown, number]
    if (v === null || typeof v !== 'object') continue
    if (depth >= limit) return true
    for (const child of Array.isArray(v) ? v : Object.values(v)) stack.push([child, depth + 1])
  }
  return false
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
 * that exists. Used to point error messages at the exact line of a bad value.
 */
export function lineOf(doc: LoadedDocument, path: readonly (string | number)[]): number {
  let node: Node | null = doc.doc.contents as Node | null
  let line = doc.line
  for (const key of path) {
    if (node && isMap(node)) {
      const pair = node.items.find(
        (p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(key)
      )
      if (!pair) break
      node = pair.value as Node | null
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
