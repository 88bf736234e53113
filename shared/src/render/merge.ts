/**
 * The one merge rule of the manifests format, used for every layer of values
 * (service → groups in order → cluster → the cluster's per-service overrides):
 *
 * - maps merge deeply, the higher layer winning on scalars;
 * - lists whose items are all maps carrying a string `name` (containers, env, ports,
 *   volumes) merge by name: the lower list's order is kept, same-named items merge deeply,
 *   new names are appended in the higher layer's order;
 * - every other list is replaced whole (never merged by index, the old kit's surprise);
 * - `null` in a higher layer removes the key.
 *
 * Inputs are never mutated; the result shares only scalars with them.
 */
import { setKey } from '../data/set-key.js'

export { setKey }

/** A plain YAML/JSON map. */
export type PlainMap = Record<string, unknown>

/** True for a plain map (not a list, not null). */
export function isPlainMap(value: unknown): value is PlainMap {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
}

/** Thrown when two layers cannot be merged (a named list with a repeated name). */
export class MergeError extends Error {
  constructor(
    message: string,
    /** Where in the values the problem is, e.g. ['env', 2]. */
    readonly path: readonly (string | number)[]
  ) {
    super(message)
    this.name = 'MergeError'
  }
}

/**
 * Merges `overlay` over `base` with the rules above and returns a new value.
 * `path` is the location of both values, used in error messages.
 */
export function mergeValues(
  base: unknown,
  overlay: unknown,
  path: (string | number)[] = []
): unknown {
  if (overlay === undefined) return base
  if (isPlainMap(base) && isPlainMap(overlay)) return mergeMaps(base, overlay, path)
  if (Array.isArray(base) && Array.isArray(overlay) && isNamedList(base) && isNamedList(overlay)) {
    return mergeNamedLists(base, overlay, path)
  }
  return withoutNulls(overlay)
}

/** Merges a list of layers, lowest first, starting from an empty map. */
export function mergeLayers(layers: readonly unknown[]): PlainMap {
  let out: unknown = {}
  for (const layer of layers) if (layer !== undefined) out = mergeValues(out, layer)
  return isPlainMap(out) ? out : {}
}

function mergeMaps(base: PlainMap, overlay: PlainMap, path: (string | number)[]): PlainMap {
  // The lower layer's key order first, then new keys: a layer that only changes a value must
  // not reorder the rendered manifest.
  const out: PlainMap = {}
  for (const key of Object.keys(base)) {
    if (!Object.hasOwn(overlay, key)) setKey(out, key, base[key])
    else if (overlay[key] !== null) {
      path.push(key)
      setKey(out, key, mergeValues(base[key], overlay[key], path))
      path.pop()
    }
  }
  for (const key of Object.keys(overlay)) {
    if (!Object.hasOwn(base, key) && overlay[key] !== null)
      setKey(out, key, withoutNulls(overlay[key]))
  }
  return out
}

/** A non-empty list whose every item is a map with a string `name`. */
function isNamedList(list: readonly unknown[]): boolean {
  return list.length > 0 && list.every((item) => isPlainMap(item) && typeof item.name === 'string')
}

function mergeNamedLists(
  base: readonly unknown[],
  overlay: readonly unknown[],
  path: (string | number)[]
): unknown[] {
  const overlayByName = indexByName(overlay, path)
  indexByName(base, path)
  const out: unknown[] = []
  const used = new Set<string>()
  base.forEach((item, i) => {
    const name = (item as PlainMap).name as string
    const higher = overlayByName.get(name)
    if (higher === undefined) {
      out.push(item)
      return
    }
    used.add(name)
    path.push(i)
    out.push(mergeValues(item, higher, path))
    path.pop()
  })
  for (const item of overlay) {
    const name = (item as PlainMap).name as string
    if (!used.has(name)) out.push(withoutNulls(item))
  }
  return out
}

function indexByName(list: readonly unknown[], path: (string | number)[]): Map<string, unknown> {
  const byName = new Map<string, unknown>()
  list.forEach((item, i) => {
    const name = (item as PlainMap).name as string
    if (byName.has(name)) {
      throw new MergeError(
        `the list at ${formatPath(path)} has two items named '${name}'; names must be unique to merge by name`,
        [...path, i]
      )
    }
    byName.set(name, item)
  })
  return byName
}

/** A copy of a value with every `null` map entry removed (null means "absent" in any layer). */
function withoutNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map((v) => (isPlainMap(v) ? withoutNulls(v) : v))
  if (!isPlainMap(value)) return value
  const out: PlainMap = {}
  for (const key of Object.keys(value)) {
    if (value[key] !== null) setKey(out, key, withoutNulls(value[key]))
  }
  return out
}

/** `values.env[2].name` style, for messages. */
export function formatPath(path: readonly (string | number)[], root = 'values'): string {
  let out = root
  for (const part of path) {
    out +=
      typeof part === 'number'
        ? `[${part}]`
        : /^[A-Za-z_][\w-]*$/.test(part)
          ? `.${part}`
          : `[${JSON.stringify(part)}]`
  }
  return out
}
