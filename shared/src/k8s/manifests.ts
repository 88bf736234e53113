/**
 * Loads the manifests a deploy applies, per cluster, and validates all of them before any
 * cluster is touched (pre-flight). Two layouts:
 *
 * - `<dir>/<cluster>/**\/*.yaml` — the deploymentizer's `generated/` output;
 * - kit's original layout: `<dir>/namespaces/<cluster>/**\/*.yaml` and
 *   `<dir>/manifests/<cluster>/**\/*.yaml` (chosen when `<dir>` holds nothing but those two).
 *
 * Files may hold several documents (`---`) and `kind: List` documents; `.yml` counts as YAML.
 */
import { readFileSync } from 'node:fs'
import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { InputError, quoteValue } from '../errors.js'
import { decodeUtf8, lineOf, loadYamlDocuments, type LoadedDocument } from '../yaml/load.js'
import {
  cloneObject,
  describeRef,
  dnsLabelPattern,
  firstDuplicate,
  keyOf,
  objectNameProblem
} from './identity.js'
import { planStages } from './order.js'
import type { KubeObject, LoadManifestsOptions, Manifest } from './types.js'

const yamlFile = /\.ya?ml$/

/** Cluster directory names: a DNS label, possibly with dots/underscores; never a path. */
const clusterNamePattern = /^[a-z0-9]([-a-z0-9_.]*[a-z0-9])?$/

/** Why a cluster name is unusable, or undefined when it is fine. */
export function clusterNameProblem(name: string): string | undefined {
  if (name.length > 63) return 'is longer than 63 characters'
  if (!clusterNamePattern.test(name) || name.includes('..'))
    return 'must be lower-case letters, digits, "-", "_" or "." (and start and end with a letter or digit)'
  return undefined
}

/**
 * Reads and validates every manifest under `dir`. Returns cluster → manifests in file order
 * (files sorted by path). Throws an InputError naming the file and line of the first problem;
 * nothing is returned half-validated.
 */
export async function loadManifestsDir(
  dir: string,
  options: LoadManifestsOptions = {}
): Promise<Map<string, Manifest[]>> {
  const top = await listDir(dir)
  const dirs = top.filter((e) => e.isDirectory() && !e.name.startsWith('.')).map((e) => e.name)
  const kitLayout =
    dirs.includes('manifests') && dirs.every((d) => d === 'manifests' || d === 'namespaces')
  const roots = kitLayout
    ? [...(dirs.includes('namespaces') ? [join(dir, 'namespaces')] : []), join(dir, 'manifests')]
    : [dir]

  const filesByCluster = new Map<string, string[]>()
  for (const root of roots) {
    const entries = root === dir ? top : await listDir(root)
    for (const e of entries) {
      if (!e.isDirectory() || e.name.startsWith('.')) continue
      const problem = clusterNameProblem(e.name)
      if (problem)
        throw new InputError(`cluster directory name ${quoteValue(e.name)} ${problem}`, {
          file: join(root, e.name)
        })
      if (options.clusters && !options.clusters.includes(e.name)) continue
      const files = filesByCluster.get(e.name) ?? []
      files.push(...(await walkYaml(join(root, e.name))))
      filesByCluster.set(e.name, files)
    }
  }

  const result = new Map<string, Manifest[]>()
  // Clusters rendered from one set of templates share most files byte for byte: each distinct
  // text is parsed once (parsing is most of a pre-flight) and later files get a copy.
  const parsed = new Map<string, LoadedDocument[]>()
  for (const cluster of [...filesByCluster.keys()].sort()) {
    const manifests: Manifest[] = []
    for (const file of filesByCluster.get(cluster) ?? []) {
      const text = decodeUtf8(readManifestFile(file), file)
      manifests.push(...parseManifests(text, file, parsed))
    }
    checkDuplicates(manifests, cluster)
    // Dependency annotations are checked here too (unknown references, cycles), so a bad one
    // fails the pre-flight instead of a deploy half-way through.
    planStages(manifests)
    result.set(cluster, manifests)
  }
  return result
}

/**
 * Parses one file's documents into validated manifests (`kind: List` documents are expanded).
 * Exported for callers holding YAML text rather than a directory. With `parsed`, a text parsed
 * before is not parsed again: its documents are reused with copies of their values (each
 * manifest is its own object, whatever a caller does with it).
 */
export function parseManifests(
  text: string,
  file: string,
  parsed?: Map<string, LoadedDocument[]>
): Manifest[] {
  const known = parsed?.get(text)
  const docs = known
    ? known.map((d) => ({ ...d, value: cloneObject(d.value) }))
    : loadYamlDocuments(text, file)
  if (!known) parsed?.set(text, docs)
  const out: Manifest[] = []
  for (const doc of docs) {
    const value = doc.value
    if (isListDocument(value)) {
      const items = (value as { items: unknown[] }).items
      items.forEach((item, i) => out.push(validateObject(item, file, doc, ['items', i])))
    } else {
      out.push(validateObject(value, file, doc, []))
    }
  }
  return out
}

function isListDocument(value: unknown): boolean {
  if (!isRecord(value)) return false
  return (
    typeof value.kind === 'string' &&
    value.kind.endsWith('List') &&
    Array.isArray(value.items) &&
    value.metadata === undefined
  )
}

/** Checks the fields kit relies on and returns the manifest with its source position. */
function validateObject(
  value: unknown,
  file: string,
  doc: LoadedDocument,
  path: (string | number)[]
): Manifest {
  const at = (sub: (string | number)[]): { file: string; line: number } => ({
    file,
    line: lineOf(doc, [...path, ...sub])
  })
  if (!isRecord(value))
    throw new InputError(
      `expected a Kubernetes object (a mapping), found ${Array.isArray(value) ? 'a list' : typeof value}`,
      at([])
    )
  if (typeof value.apiVersion !== 'string' || value.apiVersion.trim() === '')
    throw new InputError('missing "apiVersion" (e.g. apps/v1)', at([]))
  if (!/^([a-z0-9.-]+\/)?v[0-9]+((alpha|beta)[0-9]+)?$/.test(value.apiVersion))
    throw new InputError(
      `"apiVersion" ${JSON.stringify(value.apiVersion)} is not of the form [group/]version`,
      at(['apiVersion'])
    )
  if (typeof value.kind !== 'string' || !/^[A-Z][A-Za-z0-9]*$/.test(value.kind))
    throw new InputError(
      value.kind === undefined
        ? 'missing "kind"'
        : `"kind" ${JSON.stringify(value.kind)} must be a CamelCase kind name`,
      at(value.kind === undefined ? [] : ['kind'])
    )
  const meta = value.metadata
  if (!isRecord(meta)) throw new InputError(`${value.kind}: missing "metadata"`, at([]))
  if (typeof meta.name !== 'string' || meta.name === '')
    throw new InputError(
      meta.generateName !== undefined
        ? `${value.kind}: "metadata.generateName" is not supported (server-side apply needs a fixed name)`
        : `${value.kind}: missing "metadata.name"`,
      at(['metadata'])
    )
  const nameProblem = objectNameProblem(value.kind, meta.name)
  if (nameProblem)
    throw new InputError(
      `${value.kind} name ${JSON.stringify(meta.name)} ${nameProblem}`,
      at(['metadata', 'name'])
    )
  if (meta.namespace !== undefined) {
    if (
      typeof meta.namespace !== 'string' ||
      meta.namespace.length > 63 ||
      !dnsLabelPattern.test(meta.namespace)
    )
      throw new InputError(
        `${value.kind}/${meta.name}: namespace ${JSON.stringify(meta.namespace)} must be a DNS label`,
        at(['metadata', 'namespace'])
      )
    if (value.kind === 'Namespace')
      throw new InputError(
        `Namespace/${meta.name}: a Namespace has no "metadata.namespace"`,
        at(['metadata', 'namespace'])
      )
  }
  for (const field of ['labels', 'annotations'] as const) {
    const m = meta[field]
    if (m === undefined || m === null) continue
    if (!isRecord(m))
      throw new InputError(
        `${value.kind}/${meta.name}: "metadata.${field}" must be a mapping`,
        at(['metadata', field])
      )
    for (const [k, v] of Object.entries(m))
      if (typeof v !== 'string')
        throw new InputError(
          `${value.kind}/${meta.name}: ${field.slice(0, -1)} "${k}" must be a string (quote it)`,
          at(['metadata', field, k])
        )
  }
  return { object: value as KubeObject, source: at([]) }
}

/** Two manifests for the same object in one cluster would fight each other: refuse. */
function checkDuplicates(manifests: Manifest[], cluster: string): void {
  const dup = firstDuplicate(manifests, (m) => keyOf(m.object))
  if (dup)
    throw new InputError(
      `duplicate object ${describeRef(dup.again.object)} in cluster "${cluster}" (first defined at ${dup.first.source.file}:${dup.first.source.line})`,
      dup.again.source
    )
}

async function listDir(dir: string) {
  try {
    return (await readdir(dir, { withFileTypes: true })).sort((a, b) =>
      a.name < b.name ? -1 : a.name > b.name ? 1 : 0
    )
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    throw new InputError(
      code === 'ENOENT'
        ? 'manifests directory does not exist'
        : code === 'ENOTDIR'
          ? 'not a directory'
          : `cannot read directory (${code ?? String(err)})`,
      { file: dir }
    )
  }
}

/**
 * Read synchronously: nothing else runs during the pre-flight, and a read through the thread
 * pool costs four round trips (open, stat, read, close) where this costs four system calls:
 * 300 manifests take about 12 ms instead of 50.
 */
function readManifestFile(file: string): Buffer {
  try {
    return readFileSync(file)
  } catch (err) {
    throw new InputError(
      `cannot read the file (${(err as NodeJS.ErrnoException).code ?? String(err)})`,
      { file }
    )
  }
}

/** YAML files below `dir`, sorted; symbolic links are not followed (they could leave the tree). */
async function walkYaml(dir: string): Promise<string[]> {
  const out: string[] = []
  for (const e of await listDir(dir)) {
    if (e.name.startsWith('.')) continue
    const p = join(dir, e.name)
    // A link could point anywhere (another cluster's folder, a file outside the manifests);
    // kit deploys only what is inside the folder it was given, so a link is refused, not skipped.
    if (e.isSymbolicLink())
      throw new InputError(
        'is a symbolic link; the manifests folder must hold the files themselves',
        {
          file: p
        }
      )
    if (e.isDirectory()) out.push(...(await walkYaml(p)))
    else if (e.isFile() && yamlFile.test(e.name)) out.push(p)
  }
  return out
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v)
}
