/**
 * Kubernetes label selectors (the grammar of `kubectl -l`), to deploy only the manifests whose
 * labels match. kit's own matcher required spaces around operators and rejected dashes, dots
 * and slashes (KIT-REFERENCE §3.4); this one follows the API server's grammar, so the same
 * string means the same thing here and on the cluster.
 */
import { InputError } from '../../errors.js'
import type { Manifest } from '../cluster/types.js'

export type Requirement =
  | { readonly key: string; readonly op: 'exists' | 'notexists' }
  | { readonly key: string; readonly op: 'in' | 'notin'; readonly values: readonly string[] }

const keyPattern =
  /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/
const valuePattern = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/

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

/** Parses a selector; throws an InputError naming the bad requirement. */
export function parseSelector(text: string): Requirement[] {
  const bad = (part: string, why: string): InputError =>
    new InputError(`selector '${text}': requirement '${part}' ${why}`)
  const out: Requirement[] = []
  for (const part of splitTop(text)) {
    if (part === '') throw bad(part, 'is empty')
    let m: RegExpMatchArray | null
    let req: Requirement
    if ((m = part.match(/^(\S+?)\s+(in|notin)\s*\((.*)\)$/))) {
      const values = m[3].split(',').map((v) => v.trim())
      for (const v of values)
        if (!valuePattern.test(v)) throw bad(part, `has an invalid value '${v}'`)
      req = { key: m[1], op: m[2] as 'in' | 'notin', values }
    } else if ((m = part.match(/^([^!=\s]+)\s*(==|=|!=)\s*(\S*)$/))) {
      if (!valuePattern.test(m[3])) throw bad(part, `has an invalid value '${m[3]}'`)
      req = { key: m[1], op: m[2] === '!=' ? 'notin' : 'in', values: [m[3]] }
    } else if ((m = part.match(/^!\s*(\S+)$/))) {
      req = { key: m[1], op: 'notexists' }
    } else if (/^\S+$/.test(part)) {
      req = { key: part, op: 'exists' }
    } else
      throw bad(part, 'is not key, !key, key=value, key!=value, key in (...) or key notin (...)')
    if (!keyPattern.test(req.key)) throw bad(part, `has an invalid key '${req.key}'`)
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

/** The manifests whose metadata.labels match. */
export function filterBySelector(
  manifests: readonly Manifest[],
  requirements: readonly Requirement[]
): Manifest[] {
  return manifests.filter((m) => matchesSelector(m.object.metadata.labels ?? {}, requirements))
}
