/**
 * Deciding without a request whether applying an object would change anything. Pure.
 *
 * kit stamps every object it applies with `kit.dev/applied-hash`: a short hash of the object
 * as kit applied it (the prepared manifest, without that annotation). A live object needs no
 * write when both hold:
 * - it carries the hash of what kit is about to apply: the manifest has not changed since the
 *   last apply, so no field was removed from it (server-side apply would remove such a field,
 *   and a comparison of values alone cannot see a field that is no longer there);
 * - every field the manifest sets has that value live (`isCoveredBy`): nobody changed a field
 *   kit owns since (drift), which the hash alone cannot see.
 * Anything else is applied for real and judged by what the server returns.
 */
import { createHash } from 'node:crypto'
import { canonicalJson } from '../data/canonical-json.js'
import type { KubeObject, ObjectMeta } from './types.js'

/** The annotation holding the hash of the object as kit last applied it. */
export const appliedHashAnnotation = 'kit.dev/applied-hash'

/** JSON with object keys sorted at every level: kit's one canonical JSON (data/). */
export { canonicalJson }

/** The object without kit's applied-hash annotation (an emptied annotations map is dropped). */
export function withoutAppliedHash(object: KubeObject): KubeObject {
  const annotations = object.metadata.annotations
  if (!annotations || !(appliedHashAnnotation in annotations)) return object
  const rest = { ...annotations }
  delete rest[appliedHashAnnotation]
  const metadata: ObjectMeta = { ...object.metadata, annotations: rest }
  if (Object.keys(rest).length === 0) delete metadata.annotations
  return { ...object, metadata }
}

/**
 * The applied hash of an object: 16 hex digits of sha256 over its canonical JSON, annotation
 * excluded. A Secret's values are left out (its keys are in): a hash of a short password
 * could be guessed by trying candidates against the annotation, which tools show where they
 * hide Secret data. Nothing is lost: values are compared field by field anyway (isUnchanged),
 * and the hash is only needed to see keys and fields that left the manifest.
 */
export function appliedHash(object: KubeObject): string {
  return createHash('sha256')
    .update(canonicalJson(withoutSecretValues(withoutAppliedHash(object))))
    .digest('hex')
    .slice(0, 16)
}

function withoutSecretValues(object: KubeObject): KubeObject {
  if (object.kind !== 'Secret') return object
  const blank = (values: unknown) =>
    values && typeof values === 'object'
      ? Object.fromEntries(Object.keys(values).map((k) => [k, '']))
      : values
  return { ...object, data: blank(object.data), stringData: blank(object.stringData) }
}

/** A copy of the object carrying its applied hash. */
export function withAppliedHash(object: KubeObject): KubeObject {
  const hash = appliedHash(object)
  return {
    ...object,
    metadata: {
      ...object.metadata,
      annotations: { ...object.metadata.annotations, [appliedHashAnnotation]: hash }
    }
  }
}

/**
 * Whether every field `desired` sets has the same value in `live`: maps by key (extra live
 * keys are fine: defaults, other managers), lists of the same length element by element,
 * scalars strictly equal. An empty map or list, or null, in `desired` also matches an absent
 * live field (the server drops empty values). Conservative: a false answer only costs a write
 * that turns out to be a no-op.
 */
export function isCoveredBy(desired: unknown, live: unknown): boolean {
  if (desired === undefined) return true
  if (desired === null) return live === null || live === undefined
  if (Array.isArray(desired)) {
    if (live === undefined && desired.length === 0) return true
    return (
      Array.isArray(live) &&
      live.length === desired.length &&
      desired.every((d, i) => isCoveredBy(d, live[i]))
    )
  }
  if (typeof desired === 'object') {
    const entries = Object.entries(desired as Record<string, unknown>)
    if (live === undefined && entries.length === 0) return true
    if (live === null || typeof live !== 'object' || Array.isArray(live)) return false
    const l = live as Record<string, unknown>
    return entries.every(([k, v]) => isCoveredBy(v, l[k]))
  }
  return desired === live
}

/**
 * The object as the server stores it, where a manifest may say it differently: a Secret's
 * `stringData` is stored base64-encoded in `data` (and wins over `data` for the same key).
 */
export function storedForm(object: KubeObject): KubeObject {
  if (object.kind !== 'Secret' || object.apiVersion !== 'v1' || object.stringData === undefined)
    return object
  const { stringData, ...rest } = object
  const data: Record<string, unknown> = { ...((rest.data ?? {}) as Record<string, unknown>) }
  for (const [k, v] of Object.entries((stringData ?? {}) as Record<string, unknown>))
    data[k] = typeof v === 'string' ? Buffer.from(v, 'utf8').toString('base64') : v
  return { ...rest, data } as KubeObject
}

/**
 * Whether `live` already is what applying `desired` (which carries its applied hash) would
 * leave: same hash, every field the manifest sets equal live, and not being deleted.
 */
export function isUnchanged(desired: KubeObject, live: KubeObject | undefined): boolean {
  if (!live || live.metadata.deletionTimestamp) return false
  const hash = desired.metadata.annotations?.[appliedHashAnnotation]
  if (!hash || live.metadata.annotations?.[appliedHashAnnotation] !== hash) return false
  return isCoveredBy(storedForm(desired), live)
}
