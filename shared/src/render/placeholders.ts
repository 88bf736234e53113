/**
 * `${{ ... }}` placeholders, substituted on the parsed YAML tree, never on text: a value
 * containing `:`, `#` or a newline stays one scalar and can never add keys or documents.
 *
 * - A scalar that is exactly one placeholder takes the value with its type: a number stays a
 *   number, a map stays a map (`replicas: ${{ values.replicas }}`).
 * - A placeholder inside a longer string is interpolated: strings as they are, numbers and
 *   booleans in their plain form; a map, a list or a null there is an error.
 * - A missing value is an error, never an empty string.
 * - `$${{` writes a literal `${{` (for a GitHub workflow embedded in a ConfigMap, say).
 * - Filters after `|`: `base64` (encode a string, for Secret `data`), `string` (a scalar as a
 *   string, e.g. a port in an env value), `json` (any value as compact JSON text).
 * - An `env.*` variable that is set but empty is an error too: GitHub passes a secret that does
 *   not exist as an empty string, and an empty password must not be rendered by accident.
 *   `| allow-empty` (on `env.*` only) says an empty value is intended.
 */
import { isPlainMap, setKey, type PlainMap } from './merge.js'

/** The names a placeholder may start with. */
export const contextNames = ['values', 'cluster', 'service', 'image', 'images', 'env'] as const
export type ContextName = (typeof contextNames)[number]

export const filterNames = ['base64', 'string', 'json', 'allow-empty'] as const
export type FilterName = (typeof filterNames)[number]

/** One parsed `${{ ... }}`. */
export interface Expression {
  /** The text between the braces, trimmed, for messages. */
  readonly source: string
  readonly root: ContextName
  readonly path: readonly (string | number)[]
  readonly filters: readonly FilterName[]
}

/** A problem with a placeholder; the renderer adds file, line, cluster and service. */
export class PlaceholderError extends Error {
  constructor(
    message: string,
    readonly line?: number
  ) {
    super(message)
    this.name = 'PlaceholderError'
  }
}

/** What placeholders resolve against, for one service on one cluster. */
export interface RenderContext {
  readonly values: PlainMap
  readonly cluster: PlainMap
  readonly service: PlainMap
  /** The service's main image reference; undefined when it names no image source. */
  readonly image: string | undefined
  readonly images: Readonly<Record<string, string>>
  /** The build environment (`env.*`); every value read is recorded as a secret. */
  readonly env: Readonly<Record<string, string | undefined>>
  /** Collects every env value used (and its encoded forms) so callers can mask them. */
  readonly secrets: Set<string>
}

const open = '${{'
const close = '}}'

/**
 * Splits a string into literal text and expressions. Returns undefined when the string has
 * neither a placeholder nor an escape, so the common case costs one indexOf.
 */
export function parseTemplateString(text: string): (string | Expression)[] | undefined {
  let at = text.indexOf(open)
  if (at === -1) return undefined
  const parts: (string | Expression)[] = []
  let literal = ''
  let from = 0
  while (at !== -1) {
    if (at > 0 && text[at - 1] === '$') {
      // `$${{` is the escape for a literal `${{`.
      literal += text.slice(from, at - 1) + open
      from = at + open.length
    } else {
      const end = text.indexOf(close, at + open.length)
      if (end === -1)
        throw new PlaceholderError(`unterminated placeholder: '${open}' without '${close}'`)
      literal += text.slice(from, at)
      if (literal !== '') parts.push(literal)
      literal = ''
      parts.push(parseExpression(text.slice(at + open.length, end)))
      from = end + close.length
    }
    at = text.indexOf(open, from)
  }
  literal += text.slice(from)
  if (literal !== '') parts.push(literal)
  return parts
}

const identifier = /^[A-Za-z_][A-Za-z0-9_-]*/

/** Parses the inside of `${{ ... }}`: a path such as `values.db.hosts[0]` and optional filters. */
export function parseExpression(inner: string): Expression {
  const source = inner.trim()
  const [pathText, ...filterTexts] = source.split('|').map((s) => s.trim())
  if (!pathText) throw new PlaceholderError(`empty placeholder '${open} ${close}'`)
  const path: (string | number)[] = []
  let rest = pathText
  const first = identifier.exec(rest)
  if (!first) throw new PlaceholderError(`placeholder '${source}' must start with a name`)
  const root = first[0]
  if (!(contextNames as readonly string[]).includes(root)) {
    throw new PlaceholderError(
      `placeholder '${source}' starts with unknown '${root}'; use one of ${contextNames.join(', ')}`
    )
  }
  rest = rest.slice(root.length)
  while (rest !== '') {
    let m: RegExpExecArray | null
    if (rest[0] === '.' && (m = identifier.exec(rest.slice(1)))) {
      path.push(m[0])
      rest = rest.slice(1 + m[0].length)
    } else if ((m = /^\[(\d+)\]/.exec(rest))) {
      path.push(Number(m[1]))
      rest = rest.slice(m[0].length)
    } else if ((m = /^\[(?:'([^']*)'|"([^"]*)")\]/.exec(rest))) {
      path.push(m[1] ?? m[2])
      rest = rest.slice(m[0].length)
    } else {
      throw new PlaceholderError(
        `placeholder '${source}' has an invalid path near '${rest}'; write names.like.this, [0] or ['key']`
      )
    }
  }
  const filters = filterTexts.map((f) => {
    if (!(filterNames as readonly string[]).includes(f)) {
      throw new PlaceholderError(
        `placeholder '${source}' uses unknown filter '${f}'; use one of ${filterNames.join(', ')}`
      )
    }
    return f as FilterName
  })
  if (root === 'image' && path.length > 0) {
    throw new PlaceholderError(
      `'${source}': image is a reference string; use ${open} image ${close}`
    )
  }
  if ((root === 'env' || root === 'images') && path.length !== 1) {
    throw new PlaceholderError(`'${source}': write ${root}.<name>`)
  }
  if (filters.includes('allow-empty') && root !== 'env') {
    throw new PlaceholderError(
      `'${source}': allow-empty applies to env.<NAME> only (other empty values are written as they are)`
    )
  }
  return { source, root: root as ContextName, path, filters }
}

/** Resolves an expression with its filters. Throws PlaceholderError when a value is missing. */
export function evaluateExpression(expr: Expression, ctx: RenderContext): unknown {
  let value: unknown
  const fromEnv = expr.root === 'env'
  if (expr.root === 'image') {
    if (ctx.image === undefined) {
      throw new PlaceholderError(
        `'${expr.source}': the service names no image source (set image: in its kit.yaml)`
      )
    }
    value = ctx.image
  } else if (fromEnv) {
    const name = expr.path[0] as string
    value = Object.hasOwn(ctx.env, name) ? ctx.env[name] : undefined
    if (value === undefined) {
      throw new PlaceholderError(
        `'${expr.source}': environment variable ${name} is not set in the render's environment`
      )
    }
    if (value === '' && !expr.filters.includes('allow-empty')) {
      throw new PlaceholderError(
        `'${expr.source}': environment variable ${name} is empty (GitHub passes a secret that does not exist as an empty string); if an empty value is intended, add | allow-empty`
      )
    }
    ctx.secrets.add(value as string)
  } else {
    value = lookup(expr, ctx[expr.root] as unknown)
  }
  for (const filter of expr.filters) value = applyFilter(filter, value, expr)
  if (fromEnv && typeof value === 'string') ctx.secrets.add(value)
  return value
}

function lookup(expr: Expression, start: unknown): unknown {
  let value = start
  let where: string = expr.root
  for (const key of expr.path) {
    let next: unknown
    if (typeof key === 'number' && Array.isArray(value)) next = value[key]
    else if (isPlainMap(value) && Object.hasOwn(value, key)) next = value[key]
    if (next === undefined) {
      const known = isPlainMap(value) ? Object.keys(value) : []
      const hint =
        typeof key === 'number'
          ? Array.isArray(value)
            ? ` (the list has ${value.length} items)`
            : ` (${where} is not a list)`
          : !isPlainMap(value)
            ? ` (${where} is ${describe(value)}, not a map)`
            : known.length > 0
              ? ` (it has: ${known.slice(0, 12).join(', ')}${known.length > 12 ? ', ...' : ''})`
              : ' (it is empty)'
      throw new PlaceholderError(
        `'${expr.source}': no value ${typeof key === 'number' ? `at [${key}]` : `'${key}'`} in ${where}${hint}`
      )
    }
    value = next
    where += typeof key === 'number' ? `[${key}]` : `.${key}`
  }
  return value
}

function applyFilter(filter: FilterName, value: unknown, expr: Expression): unknown {
  switch (filter) {
    case 'allow-empty':
      return value
    case 'json':
      return JSON.stringify(value)
    case 'string':
    case 'base64': {
      if (value === null || typeof value === 'object') {
        throw new PlaceholderError(
          `'${expr.source}': ${filter} needs a scalar, got ${describe(value)}`
        )
      }
      const text = String(value)
      return filter === 'string' ? text : Buffer.from(text, 'utf8').toString('base64')
    }
  }
}

function describe(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'a list'
  if (typeof value === 'object') return 'a map'
  return `a ${typeof value}`
}

/**
 * A template document compiled once per service and rendered once per cluster: subtrees
 * without placeholders are kept as they are (shared, never copied), so a render only walks
 * the paths that lead to placeholders.
 */
export type CompiledNode =
  | { readonly t: 'literal'; readonly value: unknown }
  | { readonly t: 'map'; readonly entries: readonly (readonly [string, CompiledNode])[] }
  | { readonly t: 'list'; readonly items: readonly CompiledNode[] }
  | { readonly t: 'whole'; readonly expr: Expression; readonly line: number }
  | { readonly t: 'text'; readonly parts: readonly (string | Expression)[]; readonly line: number }

/**
 * Compiles a parsed YAML value. `lineAt` maps a path to its source line (only called where a
 * placeholder is found). Placeholders in map keys are refused: a key decides the shape of the
 * object, and shape must come from the template, never from a value.
 */
export function compileTemplate(
  value: unknown,
  lineAt: (path: readonly (string | number)[]) => number,
  path: (string | number)[] = []
): CompiledNode {
  if (typeof value === 'string') {
    let parts: (string | Expression)[] | undefined
    try {
      parts = parseTemplateString(value)
    } catch (err) {
      throw new PlaceholderError((err as Error).message, lineAt(path))
    }
    if (parts === undefined) return { t: 'literal', value }
    const line = lineAt(path)
    if (parts.length === 1 && typeof parts[0] !== 'string')
      return { t: 'whole', expr: parts[0], line }
    if (parts.every((p) => typeof p === 'string')) return { t: 'literal', value: parts.join('') }
    return { t: 'text', parts, line }
  }
  if (Array.isArray(value)) {
    const items = value.map((item, i) => {
      path.push(i)
      const node = compileTemplate(item, lineAt, path)
      path.pop()
      return node
    })
    return items.every((n) => n.t === 'literal') ? { t: 'literal', value } : { t: 'list', items }
  }
  if (isPlainMap(value)) {
    const entries: [string, CompiledNode][] = []
    for (const key of Object.keys(value)) {
      path.push(key)
      if (key.includes(open)) {
        throw new PlaceholderError(
          `placeholders are not allowed in keys ('${key}'); put the placeholder in the value`,
          lineAt(path)
        )
      }
      entries.push([key, compileTemplate(value[key], lineAt, path)])
      path.pop()
    }
    return entries.every(([, n]) => n.t === 'literal')
      ? { t: 'literal', value }
      : { t: 'map', entries }
  }
  return { t: 'literal', value }
}

/**
 * Renders a compiled template against one context. Errors carry the placeholder's line. With
 * `errors`, every failing placeholder is added there and rendering goes on (a failed one
 * renders as null), so one run reports all of an object's problems; without it, the first
 * one is thrown.
 */
export function renderTemplate(
  node: CompiledNode,
  ctx: RenderContext,
  errors?: PlaceholderError[]
): unknown {
  const failed = (err: unknown, line: number): null => {
    const e = withLine(err, line)
    if (!errors) throw e
    errors.push(e)
    return null
  }
  switch (node.t) {
    case 'literal':
      return node.value
    case 'map': {
      const out: PlainMap = {}
      for (const [key, child] of node.entries) setKey(out, key, renderTemplate(child, ctx, errors))
      return out
    }
    case 'list':
      return node.items.map((child) => renderTemplate(child, ctx, errors))
    case 'whole':
      try {
        return evaluateExpression(node.expr, ctx)
      } catch (err) {
        return failed(err, node.line)
      }
    case 'text': {
      let out = ''
      let ok = true
      for (const part of node.parts) {
        if (typeof part === 'string') {
          out += part
          continue
        }
        let value: unknown
        try {
          value = evaluateExpression(part, ctx)
        } catch (err) {
          failed(err, node.line)
          ok = false
          continue
        }
        if (typeof value === 'string') out += value
        else if (typeof value === 'number' || typeof value === 'boolean') out += String(value)
        else {
          ok = false
          failed(
            new PlaceholderError(
              `'${part.source}' is ${describe(value)} inside a longer string; only strings, numbers and booleans can be embedded (make the placeholder the whole value, or use | json)`
            ),
            node.line
          )
        }
      }
      return ok ? out : null
    }
  }
}

function withLine(err: unknown, line: number): PlaceholderError {
  if (err instanceof PlaceholderError) return new PlaceholderError(err.message, err.line ?? line)
  return new PlaceholderError(err instanceof Error ? err.message : String(err), line)
}
