/**
 * Values for the merge properties. Two families:
 * - `anyValue`: everything a values file can hold (maps, lists of scalars, lists of named maps,
 *   scalars, nulls, keys like `__proto__`), for laws that hold for any input;
 * - `shapedLayer`: layers that agree on the kind of node at every path they share (the kind is
 *   encoded in the key: `m*` maps, `l*` named lists, `a*` atoms) and carry no null — the inputs
 *   for which the documented rules make the merge associative.
 */
import fc from 'fast-check'

export type PlainMap = Record<string, unknown>

/** Builds a map with own keys only (a `__proto__` key stays a key). */
export function mapOf(entries: readonly (readonly [string, unknown])[]): PlainMap {
  const out: PlainMap = {}
  for (const [k, v] of entries)
    Object.defineProperty(out, k, {
      value: v,
      enumerable: true,
      writable: true,
      configurable: true
    })
  return out
}

const scalar: fc.Arbitrary<unknown> = fc.oneof(
  fc.string({ maxLength: 6 }),
  fc.integer({ min: -5, max: 5 }),
  fc.boolean()
)

const keys = fc.constantFrom('a', 'b', 'c', 'd', 'name', 'value', '__proto__', 'constructor')
const names = fc.constantFrom('x', 'y', 'z', 'w')

/** Any value, null included, to a small depth. `nulls` false leaves nulls out. */
export function anyValue(nulls: boolean): fc.Arbitrary<unknown> {
  const leaf = nulls ? fc.oneof(scalar, fc.constant(null)) : scalar
  const tree = fc.letrec<{ value: unknown; map: PlainMap }>((tie) => ({
    value: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      leaf,
      fc.array(scalar, { maxLength: 3 }),
      fc
        .uniqueArray(fc.tuple(names, tie('map')), {
          selector: ([n]) => n,
          minLength: 1,
          maxLength: 3
        })
        .map((items) =>
          items.map(([n, m]) =>
            mapOf([['name', n], ...Object.entries(m).filter(([k]) => k !== 'name')])
          )
        ),
      tie('map')
    ),
    map: fc
      .uniqueArray(fc.tuple(keys, tie('value')), { selector: ([k]) => k, maxLength: 4 })
      .map((entries) => mapOf(entries))
  }))
  return tree.value
}

/** A top-level values map (what a layer is). */
export function anyMap(nulls: boolean): fc.Arbitrary<PlainMap> {
  return fc
    .uniqueArray(fc.tuple(keys, anyValue(nulls)), { selector: ([k]) => k, maxLength: 5 })
    .map((entries) => mapOf(entries))
}

/** A list of maps with unique names (what merges by name). */
export function namedList(nulls: boolean): fc.Arbitrary<PlainMap[]> {
  return fc
    .uniqueArray(fc.tuple(names, anyMap(nulls)), {
      selector: ([n]) => n,
      minLength: 1,
      maxLength: 4
    })
    .map((items) =>
      items.map(([n, m]) =>
        mapOf([['name', n], ...Object.entries(m).filter(([k]) => k !== 'name')])
      )
    )
}

const mapKeys = fc.constantFrom('m1', 'm2')
const listKeys = fc.constantFrom('l1', 'l2')
const atomKeys = fc.constantFrom('a1', 'a2', 'a3')
const atom = fc.oneof(scalar, fc.array(scalar, { maxLength: 3 }))

/**
 * A null-free layer whose key names fix the kind of node below them. Built to a fixed depth:
 * a recursive arbitrary with two sub-maps and up to three list items per level grows without
 * bound (it ran the property out of memory), so each level below `depth` 0 holds atoms only.
 */
function shapedMap(depth: number): fc.Arbitrary<PlainMap> {
  const atoms = fc.uniqueArray(fc.tuple(atomKeys, atom), { selector: ([k]) => k, maxLength: 3 })
  if (depth === 0) return atoms.map((entries) => mapOf(entries))
  const below = shapedMap(depth - 1)
  const item = fc
    .tuple(
      fc.uniqueArray(fc.tuple(atomKeys, atom), { selector: ([k]) => k, maxLength: 2 }),
      fc.option(below, { nil: undefined })
    )
    .map(([itemAtoms, sub]) => mapOf(sub === undefined ? itemAtoms : [...itemAtoms, ['m1', sub]]))
  return fc
    .tuple(
      atoms,
      fc.uniqueArray(fc.tuple(mapKeys, below), { selector: ([k]) => k, maxLength: 2 }),
      fc.uniqueArray(
        fc.tuple(
          listKeys,
          fc.uniqueArray(fc.tuple(names, item), {
            selector: ([n]) => n,
            minLength: 1,
            maxLength: 3
          })
        ),
        { selector: ([k]) => k, maxLength: 1 }
      ),
      fc.nat()
    )
    .map(([atomEntries, maps, lists, order]) => {
      const entries: [string, unknown][] = [
        ...atomEntries,
        ...maps,
        ...lists.map(([k, items]): [string, unknown] => [
          k,
          items.map(([n, m]) => mapOf([['name', n], ...Object.entries(m)]))
        ])
      ]
      // Key order is part of the result: draw it too.
      const rotated = entries.map((_, i) => entries[(i + order) % entries.length])
      return mapOf(rotated)
    })
}

export const shapedLayer: fc.Arbitrary<PlainMap> = shapedMap(3)

/** JSON text with key order: equal texts mean equal values and equal key order. */
export function canonical(value: unknown): string {
  return JSON.stringify(value)
}
