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

const word = fc.stringMatching(/^[a-z][a-z0-9]{0,6}$/)
const leaf: fc.Arbitrary<Leaf> = fc.oneof(
  word,
  fc.integer({ min: 0, max: 1000 }),
  fc.boolean(),
  fc.constantFrom('a: b', '# x', 'multi\nline', "quote's", '"dq"', '---', 'ünï', '0777', 'yes')
)

/** A nested values map; returns it and the paths of its leaves. */
function valuesTree(g: Draw, depth: number, prefix: string[], paths: string[][]): PlainMap {
  const count = g(fc.integer, { min: 1, max: depth === 0 ? 4 : 2 })
  const keys = g(() =>
    fc.uniqueArray(fc.constantFrom('alpha', 'beta', 'gamma', 'delta', 'eps'), {
      minLength: count,
      maxLength: count
    })
  )
  const out: [string, unknown][] = []
  for (const key of keys) {
    if (depth < 2 && g(fc.integer, { min: 0, max: 3 }) === 0) {
      out.push([key, valuesTree(g, depth + 1, [...prefix, key], paths)])
    } else {
      paths.push([...prefix, key])
      out.push([key, g(() => leaf)])
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

/** An override layer: new values for some of `paths`. */
function override(g: Draw, paths: readonly string[][]): PlainMap | undefined {
  const chosen = g(() => fc.subarray([...paths.keys()], { maxLength: 3 }))
  if (chosen.length === 0) return undefined
  const out: PlainMap = {}
  for (const i of chosen)
    setPath(
      out,
      paths[i],
      g(() => leaf)
    )
  return out
}

export function generateRepo(g: Draw): RepoModel {
  const files = new Map<string, PlainMap | { text: string }>()
  files.set('kit.yaml', { defaults: { branch: 'main', missingImage: 'error' } })
  const serviceCount = g(fc.integer, { min: 1, max: 3 })
  const services: { name: string; paths: string[][] }[] = []
  for (let s = 0; s < serviceCount; s++) {
    const name = `svc${s}`
    const paths: string[][] = []
    const values = valuesTree(g, 0, [], paths)
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
    const member = g(() => fc.shuffledSubarray(groups))
    const values = override(g, services[services.length - 1].paths)
    const perService = override(g, services[0].paths)
    files.set(`clusters/c${i}.yaml`, {
      groups: member,
      labels: { tier: g(() => word), region: g(() => word) },
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
