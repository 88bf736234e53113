/**
 * kit's one canonical JSON: what the applied hash (`kit.dev/applied-hash`, k8s/change.ts) and
 * the fast-rollback deploy id (deploy/fleet/fast-rollback.ts) hash. Changing its output for any
 * manifest renames every fast-rollback Deployment and marks every object changed on upgrade, so
 * the output for JSON data is pinned by fixed vectors
 * (shared/__tests__/data/canonical-json.test.ts).
 */

/**
 * JSON with object keys sorted at every level, so equal data gives equal text whatever the key
 * order. Keys sort by UTF-16 code units (the same on every machine and locale). Otherwise it is
 * JSON.stringify's output, without whitespace: numbers and strings as JSON.stringify writes
 * them (NaN and ±Infinity as null, -0 as 0). Object members whose value is undefined are left
 * out; an array element that is undefined (or a function or symbol, anywhere) is written as
 * null, as JSON.stringify writes an undefined element (a hole of a sparse array is written as
 * nothing). `toJSON` is not called: a Date is `{}` (YAML 1.2 as
 * kit loads it has no dates). BigInt throws, as in JSON.stringify.
 *
 * History: until this module, the deploy id used a copy that wrote an undefined array element
 * as nothing (`[1,]`) and a function as `undefined`. No manifest holds either (YAML and JSON
 * have no undefined or functions), so no deploy id changed by unifying on this behaviour.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null'
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v ?? null)).join(',')}]`
  const record = value as Record<string, unknown>
  const members = Object.keys(record)
    .filter((k) => record[k] !== undefined)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonicalJson(record[k])}`)
  return `{${members.join(',')}}`
}
