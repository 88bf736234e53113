/**
 * Generated manifests repositories for the render properties: services with values and a
 * ConfigMap template reading them through placeholders, groups and clusters overriding some of
 * those values, labels, image files. A repository can be written with its keys in the order
 * drawn, or with every map's keys in another order and its files created in another order —
 * neither of which may change a rendered byte (templates read values by path only).
 */
import fc from 'fast-check'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { stringify } from 'yaml'
import { mapOf, type PlainMap } from './values.js'

type Draw = fc.GeneratorValue
type Leaf = string | number | boolean

export interface RepoModel {
  /** Repository path → content as data (YAML files) or text (templates). */
  readonly files: ReadonlyMap<string, PlainMap | { text: string }>
}

/*
 * Every draw goes through `g(builder, ...args)` with a builder defined once here (or a fast-check
 * builder) and plain arguments. fc.gen() caches the arbitrary a builder returns, keyed by the
 * builder function and its arguments, for the whole run, and replays a draw while shrinking only
 * when the same cached arbitrary is asked for again. A closure written at the call
 * (`g(() => leaf)`) is a new builder on every call: the cache grows with every draw of every case
 * and shrink step, and a shrink step cannot replay those draws — so after one failure the
 * shrinker never converged and the run grew until the heap was exhausted.
 */
const word = fc.stringMatching(/^[a-z][a-z0-9]{0,6}$/)
const leaf: fc.Arbitrary<Leaf> = fc.oneof(
  word,
  fc.integer({ min: 0, max: 1000 }),
  fc.boolean(),
  fc.constantFrom('a: b', '# x', 'multi\nline', "quote's", '"dq"', '---', 'ünï', '0777', 'yes')
)
const aWord = (): fc.Arbitrary<string> => word
const aLeaf = (): fc.Arbitrary<Leaf> => leaf
/** `count` distinct value keys (at most five). */
const valueKeys = (count: number): fc.Arbitrary<string[]> =>
  fc.uniqueArray(fc.constantFrom('alpha', 'beta', 'gamma', 'delta', 'eps'), {
    minLength: count,
    maxLength: count
  })

/**
 * A nested values map; returns it and pushes the paths of its leaves to `paths`. Group and
 * cluster values apply to every service, so a key must be a map in every service or a leaf in
 * every service: `shape` remembers, per path, the choice the first service that used it drew
 * (a group overriding `beta` with a scalar where another service reads `beta.gamma` would be a
 * broken repository, not a render bug).
 */
function valuesTree(
  g: Draw,
  shape: Map<string, boolean>,
  depth: number,
  prefix: string[],
  paths: string[][]
): PlainMap {
  const count = g(fc.integer, { min: 1, max: depth === 0 ? 4 : 2 })
  const keys = g(valueKeys, count)
  const out: [string, unknown][] = []
  for (const key of keys) {
    const path = [...prefix, key]
    const id = path.join('.')
    let isMap = shape.get(id)
    if (isMap === undefined) {
      isMap = depth < 2 && g(fc.integer, { min: 0, max: 3 }) === 0
      shape.set(id, isMap)
    }
    if (isMap) {
      out.push([key, valuesTree(g, shape, depth + 1, path, paths)])
    } else {
      paths.push(path)
      out.push([key, g(aLeaf)])
    }
  }
  return mapOf(out)
}

/** Sets `path` in a nested map, creating maps on the way. */
function setPath(root: PlainMap, path: readonly string[], value: unknown): void {
  let node = root
  for (const key of path.slice(0, -1)) {
    if (typeof node[key] !== 'object' || node[key] === null) node[key] = {}
    node = node[key] as PlainMap
  }
  node[path[path.length - 1]] = value
}

/** An override layer: new values for up to three of `paths` (a service may have fewer). */
function override(g: Draw, paths: readonly string[][]): PlainMap | undefined {
  const chosen = g(fc.subarray, [...paths.keys()], { maxLength: Math.min(3, paths.length) })
  if (chosen.length === 0) return undefined
  const out: PlainMap = {}
  for (const i of chosen) setPath(out, paths[i], g(aLeaf))
  return out
}

export function generateRepo(g: Draw): RepoModel {
  const files = new Map<string, PlainMap | { text: string }>()
  files.set('kit.yaml', { defaults: { branch: 'main', missingImage: 'error' } })
  const serviceCount = g(fc.integer, { min: 1, max: 3 })
  const services: { name: string; paths: string[][] }[] = []
  const shape = new Map<string, boolean>()
  for (let s = 0; s < serviceCount; s++) {
    const name = `svc${s}`
    const paths: string[][] = []
    const values = valuesTree(g, shape, 0, [], paths)
    services.push({ name, paths })
    files.set(`services/${name}/values.yaml`, values)
    files.set(`services/${name}/kit.yaml`, { image: `acme/${name}` })
    files.set(`images/acme/${name}/main.yaml`, {
      image: `ghcr.io/acme/${name}:1.${s}.0`,
      source: { repository: `acme/${name}`, commit: 'a'.repeat(40) }
    })
    const data = paths.map(
      (p, i) =>
        `  v${i}: ${i % 2 === 0 ? `\${{ values.${p.join('.')} | string }}` : `"[\${{ values.${p.join('.')} }}]"`}`
    )
    files.set(`services/${name}/configmap.yaml`, {
      text: [
        'apiVersion: v1',
        'kind: ConfigMap',
        'metadata:',
        `  name: ${name}`,
        '  namespace: acme',
        '  labels:',
        '    cluster: ${{ cluster.name }}',
        '    tier: ${{ cluster.labels.tier }}',
        'data:',
        '  image: ${{ image }}',
        '  service: ${{ service.name }}',
        ...data,
        ''
      ].join('\n')
    })
  }
  const groupCount = g(fc.integer, { min: 0, max: 3 })
  const groups: string[] = []
  for (let i = 0; i < groupCount; i++) {
    const name = `group${i}`
    groups.push(name)
    const svc = services[g(fc.nat, { max: services.length - 1 })]
    const values = override(g, svc.paths)
    const perService = override(g, services[0].paths)
    files.set(`groups/${name}.yaml`, {
      description: `group ${i}`,
      ...(values ? { values } : {}),
      ...(perService ? { services: { [services[0].name]: { values: perService } } } : {})
    })
  }
  const clusterCount = g(fc.integer, { min: 1, max: 4 })
  for (let i = 0; i < clusterCount; i++) {
    const member = g(fc.shuffledSubarray, groups)
    const values = override(g, services[services.length - 1].paths)
    const perService = override(g, services[0].paths)
    files.set(`clusters/c${i}.yaml`, {
      groups: member,
      labels: { tier: g(aWord), region: g(aWord) },
      ...(values ? { values } : {}),
      ...(perService ? { services: { [services[0].name]: { values: perService } } } : {})
    })
  }
  return { files }
}

/** A copy of a map tree with every map's keys in an order drawn from `seed` (lists kept). */
export function permuteKeys(value: unknown, seed: number): unknown {
  if (Array.isArray(value)) return value.map((v) => permuteKeys(v, seed))
  if (value === null || typeof value !== 'object') return value
  const entries = Object.entries(value as PlainMap)
  const rank = (k: string): number => {
    let h = seed >>> 0
    for (const ch of k) h = Math.imul(h ^ ch.charCodeAt(0), 2654435761) >>> 0
    return h
  }
  entries.sort(([a], [b]) => rank(a) - rank(b) || (a < b ? -1 : 1))
  return mapOf(entries.map(([k, v]) => [k, permuteKeys(v, seed)]))
}

/**
 * Writes the repository under `root`. With `seed`, every YAML map's keys are permuted and the
 * files are created in reverse order (templates are written as they are: their order is output).
 */
export function writeRepo(model: RepoModel, root: string, seed?: number): void {
  const entries = [...model.files]
  if (seed !== undefined) entries.reverse()
  for (const [path, content] of entries) {
    mkdirSync(join(root, path, '..'), { recursive: true })
    const text =
      'text' in content
        ? (content.text as string)
        : stringify(seed === undefined ? content : permuteKeys(content, seed))
    writeFileSync(join(root, path), text)
  }
}
