/**
 * kit's one label-selector grammar: the Kubernetes one (`kubectl -l`, the API server's
 * `labelSelector`), so the same string means the same thing in kit and on the cluster. Used for
 * the deployer's `selector` (manifests, prune scope) and render's cluster selection
 * (`labels` / `--label`). Documented once, in docs/manifests-format.md ("Label selectors").
 *
 * Requirements are separated by commas (outside parentheses) and must all hold:
 * `key`, `!key`, `key=value` (or `==`), `key!=value`, `key in (a,b)`, `key notin (a,b)`.
 * `!=` and `notin` also match objects without the key, as in Kubernetes. Keys are
 * `[prefix/]name` (name: at most 63 letters, digits, `-`, `_`, `.`, starting and ending with a
 * letter or digit; prefix: a lowercase DNS subdomain); values are empty or like a name.
 * (kit's own matcher once required spaces around operators and rejected dashes, dots and
 * slashes in keys and values; render's once accepted any run of `/`, `.`, `_` in keys.)
 */
import { InputError } from '../errors.js'

export type Requirement =
  | { readonly key: string; readonly op: 'exists' | 'notexists' }
  | { readonly key: string; readonly op: 'in' | 'notin'; readonly values: readonly string[] }

const keyPattern =
  /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/
const valuePattern = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/

const keyForm =
  "a key is [prefix/]name: a name of at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit, after an optional lowercase DNS prefix"
const valueForm =
  "a value is empty or at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit"

/** Splits on commas outside parentheses. */
function splitTop(text: string): string[] {
  const parts: string[] = []
  let depth = 0
  let current = ''
  for (const ch of text) {
    if (ch === '(') depth++
    if (ch === ')') depth--
    if (ch === ',' && depth === 0) {
      parts.push(current)
      current = ''
    } else current += ch
  }
  parts.push(current)
  return parts.map((p) => p.trim())
}

/**
 * Parses a selector; throws an InputError naming the selector (as `what`, e.g. "label
 * selector"), the bad requirement and the form it should have.
 */
export function parseSelector(text: string, what = 'selector'): Requirement[] {
  const bad = (part: string, why: string): InputError =>
    new InputError(`${what} '${text}': requirement '${part}' ${why}`)
  const out: Requirement[] = []
  for (const part of splitTop(text)) {
    if (part === '') throw bad(part, 'is empty')
    let m: RegExpMatchArray | null
    let req: Requirement
    if ((m = part.match(/^(\S+?)\s+(in|notin)\s*\((.*)\)$/))) {
      const values = m[3].split(',').map((v) => v.trim())
      for (const v of values)
        if (!valuePattern.test(v)) throw bad(part, `has an invalid value '${v}' (${valueForm})`)
      req = { key: m[1], op: m[2] as 'in' | 'notin', values }
    } else if ((m = part.match(/^([^!=\s]+)\s*(==|=|!=)\s*(\S*)$/))) {
      if (!valuePattern.test(m[3])) throw bad(part, `has an invalid value '${m[3]}' (${valueForm})`)
      req = { key: m[1], op: m[2] === '!=' ? 'notin' : 'in', values: [m[3]] }
    } else if ((m = part.match(/^!\s*(\S+)$/))) {
      req = { key: m[1], op: 'notexists' }
    } else if (/^\S+$/.test(part)) {
      req = { key: part, op: 'exists' }
    } else
      throw bad(part, 'is not key, !key, key=value, key!=value, key in (...) or key notin (...)')
    if (!keyPattern.test(req.key)) throw bad(part, `has an invalid key '${req.key}' (${keyForm})`)
    out.push(req)
  }
  return out
}

/** Whether labels satisfy every requirement (`notin` and `!=` match absent keys, as in Kubernetes). */
export function matchesSelector(
  labels: Readonly<Record<string, string>>,
  requirements: readonly Requirement[]
): boolean {
  return requirements.every((r) => {
    const has = Object.prototype.hasOwnProperty.call(labels, r.key)
    switch (r.op) {
      case 'exists':
        return has
      case 'notexists':
        return !has
      case 'in':
        return has && r.values.includes(labels[r.key])
      case 'notin':
        return !has || !r.values.includes(labels[r.key])
    }
  })
}
