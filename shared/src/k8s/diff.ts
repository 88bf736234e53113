/**
 * Comparing and showing objects: what counts as a change (live vs server-side dry-run result),
 * and a readable line diff with Secret values and last-applied annotations redacted. Pure.
 */
import { setKey } from '../data/set-key.js'
import { withoutAppliedHash } from './change.js'
import { cloneObject } from './identity.js'
import type { KubeObject } from './types.js'
import { emitYaml } from '../yaml/emit.js'

/** Annotations whose values are never shown: kubectl's copy of the whole object (with Secret data). */
export const redactedAnnotations = ['kubectl.kubernetes.io/last-applied-configuration']

/**
 * The object without the fields the server changes on every write or that no manifest sets:
 * managedFields, resourceVersion, generation, uid, creationTimestamp, status. Two objects whose
 * comparable forms are equal need no write.
 */
export function comparable(object: KubeObject): KubeObject {
  const copy = cloneObject(object)
  delete copy.status
  const meta = copy.metadata
  for (const k of [
    'managedFields',
    'resourceVersion',
    'generation',
    'uid',
    'creationTimestamp',
    'selfLink'
  ])
    delete meta[k]
  return copy
}

/** Deep equality of JSON data (key order ignored). */
export function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true
  if (typeof a !== typeof b || a === null || b === null || typeof a !== 'object') return false
  if (Array.isArray(a) !== Array.isArray(b)) return false
  if (Array.isArray(a)) {
    const bb = b as unknown[]
    return a.length === bb.length && a.every((x, i) => sameJson(x, bb[i]))
  }
  const ao = a as Record<string, unknown>
  const bo = b as Record<string, unknown>
  const ak = Object.keys(ao).filter((k) => ao[k] !== undefined)
  const bk = Object.keys(bo).filter((k) => bo[k] !== undefined)
  return ak.length === bk.length && ak.every((k) => k in bo && sameJson(ao[k], bo[k]))
}

/** Whether applying would change the stored object (compares comparable forms). */
export function isChanged(live: KubeObject | undefined, desired: KubeObject): boolean {
  return !live || !sameJson(comparable(live), comparable(desired))
}

/**
 * The object as it may be shown: Secret `data`/`stringData` values replaced by a marker
 * (`<redacted>`; `<redacted, changed>` where `other` holds a different value so a diff still
 * says which keys change), and the last-applied annotation replaced likewise.
 */
export function redactForDisplay(object: KubeObject, other?: KubeObject): KubeObject {
  return redactInPlace(cloneObject(object), other)
}

/** redactForDisplay on a copy the caller owns (every diff would otherwise copy each side twice). */
function redactInPlace(copy: KubeObject, other: KubeObject | undefined): KubeObject {
  if (copy.kind === 'Secret' && (copy.apiVersion === 'v1' || copy.apiVersion === '')) {
    for (const field of ['data', 'stringData']) {
      const values = copy[field]
      if (!values || typeof values !== 'object') continue
      const theirs = (other?.[field] ?? {}) as Record<string, unknown>
      const redacted: Record<string, string> = {}
      for (const [k, v] of Object.entries(values as Record<string, unknown>))
        redacted[k] =
          other && theirs[k] !== undefined && theirs[k] !== v ? '<redacted, changed>' : '<redacted>'
      copy[field] = redacted
    }
  }
  const annotations = copy.metadata.annotations
  if (annotations)
    for (const a of redactedAnnotations) if (a in annotations) annotations[a] = '<redacted>'
  return copy
}

/**
 * A unified-style diff of `live` → `desired` as YAML (comparable forms without kit's
 * applied-hash bookkeeping, redacted), with `context` unchanged lines around each change. For
 * a new object every line is an addition.
 */
export function renderDiff(live: KubeObject | undefined, desired: KubeObject, context = 3): string {
  // Fresh copies (comparable copies), redacted in place: the new side first, since it compares
  // its Secret values with the live ones before those are redacted.
  const shown = (o: KubeObject) => comparable(withoutAppliedHash(o))
  const liveShown = live && shown(live)
  const desiredShown = liveShown ? inKeyOrderOf(shown(desired), liveShown) : shown(desired)
  // Old side says "<redacted>", new side "<redacted, changed>" for keys whose value changes.
  const after = toLines(redactInPlace(desiredShown, liveShown))
  const before = liveShown ? toLines(redactInPlace(liveShown, undefined)) : []
  return unifiedDiff(before, after, context)
}

/**
 * `value` with its map keys in `reference`'s order (keys `reference` lacks come after, in their
 * own order), at every level. The server and the manifest order keys differently; without this
 * a diff shows a moved key (`- apiVersion` … `+ apiVersion`) where nothing changed.
 */
export function inKeyOrderOf<T>(value: T, reference: unknown): T {
  if (Array.isArray(value))
    return (
      Array.isArray(reference)
        ? value.map((v, i) => inKeyOrderOf(v, reference[i] as unknown))
        : value
    ) as T
  if (!isMap(value)) return value
  const ref = isMap(reference) ? reference : {}
  const ordered: Record<string, unknown> = {}
  const put = (k: string, v: unknown) => setKey(ordered, k, v)
  for (const k of Object.keys(ref))
    if (Object.hasOwn(value, k)) put(k, inKeyOrderOf(value[k], ref[k]))
  for (const [k, v] of Object.entries(value)) if (!Object.hasOwn(ordered, k)) put(k, v)
  return ordered as T
}

function isMap(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v)
}

/** The object as YAML lines, written the way rendered manifests are (and as cheaply: every created object gets one). */
function toLines(object: KubeObject): string[] {
  return emitYaml(object).trimEnd().split('\n')
}

/** Line diff (LCS over lines; objects are small) rendered with ` `, `-`, `+` prefixes and `@@` hunks. */
export function unifiedDiff(a: string[], b: string[], context = 3): string {
  const n = a.length
  const m = b.length
  // Trim common prefix/suffix so the quadratic table only covers the changed middle.
  let start = 0
  while (start < n && start < m && a[start] === b[start]) start++
  let endA = n
  let endB = m
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) {
    endA--
    endB--
  }
  const ma = a.slice(start, endA)
  const mb = b.slice(start, endB)
  const ops: { op: ' ' | '-' | '+'; line: string }[] = []
  for (let i = 0; i < start; i++) ops.push({ op: ' ', line: a[i] })
  if (ma.length * mb.length > 4_000_000) {
    for (const l of ma) ops.push({ op: '-', line: l })
    for (const l of mb) ops.push({ op: '+', line: l })
  } else {
    const lcs: number[][] = Array.from({ length: ma.length + 1 }, () =>
      new Array<number>(mb.length + 1).fill(0)
    )
    for (let i = ma.length - 1; i >= 0; i--)
      for (let j = mb.length - 1; j >= 0; j--)
        lcs[i][j] = ma[i] === mb[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1])
    let i = 0
    let j = 0
    while (i < ma.length || j < mb.length) {
      if (i < ma.length && j < mb.length && ma[i] === mb[j]) {
        ops.push({ op: ' ', line: ma[i++] })
        j++
      } else if (i < ma.length && (j >= mb.length || lcs[i + 1][j] >= lcs[i][j + 1]))
        ops.push({ op: '-', line: ma[i++] })
      else ops.push({ op: '+', line: mb[j++] })
    }
  }
  for (let i = endA; i < n; i++) ops.push({ op: ' ', line: a[i] })

  // Keep changed lines and `context` lines around them; mark gaps with @@.
  const keep = new Array<boolean>(ops.length).fill(false)
  ops.forEach((o, idx) => {
    if (o.op === ' ') return
    for (let k = Math.max(0, idx - context); k <= Math.min(ops.length - 1, idx + context); k++)
      keep[k] = true
  })
  const out: string[] = []
  let skipped = false
  ops.forEach((o, idx) => {
    if (!keep[idx]) {
      skipped = true
      return
    }
    if (skipped || out.length === 0) out.push('@@')
    skipped = false
    out.push(`${o.op} ${o.line}`)
  })
  return out.join('\n')
}
