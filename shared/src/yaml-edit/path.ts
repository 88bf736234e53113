import { InputError } from '../errors.js'

/** A path into a YAML document: map keys and sequence indexes, outermost first. */
export type YamlPath = readonly (string | number)[]

/**
 * Parses a path written as `spec.template.spec.containers[0].image`. A key holding dots or
 * brackets is written quoted inside brackets: `metadata.annotations["kit.dev/image"]`.
 */
export function parseYamlPath(text: string): YamlPath {
  const out: (string | number)[] = []
  const fail = (why: string): never => {
    throw new InputError(
      `path '${text}' is not valid: ${why} (expected keys joined by '.', indexes as [0], odd keys as ["a.b"])`
    )
  }
  let i = 0
  let expectKey = true
  while (i < text.length) {
    const c = text[i]
    if (c === '[') {
      const close = text.indexOf(']', i)
      if (close < 0) fail('a [ is not closed')
      const inner = text.slice(i + 1, close)
      if (/^\d+$/.test(inner)) out.push(Number(inner))
      else if (/^"(?:[^"\\]|\\.)*"$/.test(inner) || /^'[^']*'$/.test(inner))
        out.push(inner.startsWith('"') ? (JSON.parse(inner) as string) : inner.slice(1, -1))
      else fail(`[${inner}] is neither an index nor a quoted key`)
      i = close + 1
      expectKey = false
    } else if (c === '.') {
      if (expectKey) fail('it has an empty key')
      i++
      expectKey = true
    } else {
      let j = i
      while (j < text.length && text[j] !== '.' && text[j] !== '[') j++
      if (!expectKey) fail(`a key must follow '.', found '${text.slice(i, j)}'`)
      out.push(text.slice(i, j))
      i = j
      expectKey = false
    }
  }
  if (out.length === 0 || expectKey) fail('it is empty or ends with a dot')
  return out
}

/** The path as a person reads it: `a.b[0].c`. */
export function formatYamlPath(path: YamlPath): string {
  return path
    .map((p, i) =>
      typeof p === 'number'
        ? `[${p}]`
        : /^[^.[\]"']+$/.test(p)
          ? (i === 0 ? '' : '.') + p
          : `[${JSON.stringify(p)}]`
    )
    .join('')
}
