/**
 * The render index (`<output>/index.json`): for every cluster its files, the images each
 * service got and content hashes; one table of image files with their provenance. No
 * timestamps, so identical input gives an identical index; the deployer and reports read it
 * instead of re-deriving anything.
 *
 * Each cluster's entry is serialised as soon as the cluster is rendered and spilled to a temp
 * file (spill.ts), so a render over hundreds of clusters holds a hash per cluster in memory.
 */
import { provenanceKeys } from '../images/image-file.js'
import type { TemplateSource } from '../service-templates/record.js'
import { sha256, type ClusterRender, type ImageUse, type TemplatesUse } from './render.js'
import type { SettingOrigin } from './repository.js'
import { compare } from './select.js'

/** How a service's image was chosen: from an image file (see `images`) or pinned. */
export interface IndexImage {
  readonly ref: string
  readonly pinned?: true
  /** For a pin: the setting that pinned it (`clusters/a.yaml`, `services.api.image`). */
  readonly pinnedBy?: SettingOrigin
  /** The image file read, a key of RenderIndex.images (chosen by the service's branch). */
  readonly file?: string
}

/**
 * Where a service's templates came from: the repository's `services/<svc>/`, or the copy of
 * the service repository's templates for a branch, with the record's provenance.
 */
export type IndexTemplates =
  | { readonly origin: 'repository'; readonly dir: string; readonly chosenBy?: SettingOrigin }
  | {
      readonly origin: 'service'
      readonly dir: string
      readonly record: string
      readonly branch: string
      /** The setting that chose the set: the `templatesBranch` pin, else `templates`. */
      readonly chosenBy?: SettingOrigin
      readonly source: TemplateSource
    }

export interface IndexService {
  readonly branch: string
  /**
   * The setting that chose the branch (`groups/eu.yaml`, `services.api.branch`); absent when
   * nothing set one and kit's default, `main`, applies.
   */
  readonly branchFrom?: SettingOrigin
  readonly hash: string
  /** Paths relative to the output folder. */
  readonly files: readonly string[]
  readonly images: Readonly<Record<string, IndexImage>>
  /**
   * Where the templates came from. Every render writes it; an entry a render of some services
   * keeps from an index written by an older kit may lack it.
   */
  readonly templates?: IndexTemplates
}

export interface IndexCluster {
  readonly hash: string
  readonly groups: readonly string[]
  readonly labels: Readonly<Record<string, string>>
  readonly services: Readonly<Record<string, IndexService>>
  readonly skipped: readonly { readonly service: string; readonly reason: string }[]
}

/** One image file used by the render, with the provenance the image-deployer recorded. */
export interface IndexImageFile {
  readonly source: string
  readonly ref: string
  readonly provenance?: ImageUse['provenance']
}

export interface RenderIndex {
  readonly kind: 'KitRenderIndex'
  readonly version: 1
  /** sha256 over every cluster's hash: changes exactly when any output file changes. */
  readonly hash: string
  /** Clusters disabled in the repository (no output). */
  readonly disabled: readonly string[]
  /** Image files used, by repository path. */
  readonly images: Readonly<Record<string, IndexImageFile>>
  readonly clusters: Readonly<Record<string, IndexCluster>>
}

/** The provenance fields in the order the image schema documents them; others after, sorted. */
const provenanceOrder = ['repository', 'commit', 'ref', 'runUrl', 'builtAt']

/**
 * The image file's `source` map with its keys in a fixed order, so the index does not depend on
 * the order the keys were written in the image file (the same provenance, the same bytes).
 */
function orderedProvenance(
  source: NonNullable<ImageUse['provenance']>
): NonNullable<ImageUse['provenance']> {
  const rank = (k: string) => {
    const i = provenanceOrder.indexOf(k)
    return i === -1 ? provenanceOrder.length : i
  }
  const keys = Object.keys(source).sort((a, b) => rank(a) - rank(b) || compare(a, b))
  return Object.fromEntries(keys.map((k) => [k, (source as Record<string, unknown>)[k]]))
}

/** The index entry of one rendered cluster; image files used are added to `images`. */
export function indexCluster(
  render: ClusterRender,
  images: Map<string, IndexImageFile>
): IndexCluster {
  const services: Record<string, IndexService> = {}
  for (const s of render.services) {
    const used: Record<string, IndexImage> = {}
    for (const key of Object.keys(s.images).sort(compare)) {
      const use = s.images[key]
      if (use.file && use.sourceName) {
        if (!images.has(use.file)) {
          images.set(use.file, {
            source: use.sourceName,
            ref: use.ref,
            ...(use.provenance ? { provenance: orderedProvenance(use.provenance) } : {})
          })
        }
        used[key] = { ref: use.ref, file: use.file }
      } else
        used[key] = {
          ref: use.ref,
          pinned: true,
          ...(use.pinnedBy ? { pinnedBy: use.pinnedBy } : {})
        }
    }
    services[s.name] = {
      branch: s.branch,
      ...(s.branchFrom ? { branchFrom: s.branchFrom } : {}),
      hash: s.hash,
      files: s.files.map((f) => `${render.name}/${f.path}`),
      images: used,
      templates: indexTemplates(s.templates)
    }
  }
  return {
    hash: render.hash,
    groups: [...render.groups],
    // Sorted: the order labels are written in a cluster file does not change the index.
    labels: Object.fromEntries(
      Object.keys(render.labels)
        .sort(compare)
        .map((k) => [k, render.labels[k]])
    ),
    services,
    skipped: render.skipped.map((s) => ({ service: s.name, reason: s.reason }))
  }
}

/** A service's templates as the index lists them: fixed key order, the same bytes every time. */
function indexTemplates(use: TemplatesUse): IndexTemplates {
  const chosenBy = use.origin === 'service' ? (use.pinnedBy ?? use.chosenBy) : use.chosenBy
  const by = chosenBy ? { chosenBy: { file: chosenBy.file, key: chosenBy.key } } : {}
  if (use.origin === 'repository') return { origin: 'repository', dir: use.dir, ...by }
  const source: Record<string, string> = {}
  for (const k of [...provenanceKeys, 'path'] as const) {
    const v = use.source[k]
    if (v !== undefined && v !== '') source[k] = v
  }
  return {
    origin: 'service',
    dir: use.dir,
    record: use.record,
    branch: use.branch,
    ...by,
    source
  }
}

/** A cluster's entry in the making: its hash, and its serialised text on demand. */
export interface IndexEntryRef {
  readonly hash: string
  /** The entry as serializeEntry writes it (read back from a spill file, or built lazily). */
  read(): string
}

/** The parts of an index as the pipeline accumulates them. */
export interface IndexParts {
  readonly clusters: Map<string, IndexEntryRef>
  readonly images: Map<string, IndexImageFile>
  readonly disabled: readonly string[]
}

/** An entry as it appears nested two levels deep in the pretty-printed index. */
export function serializeEntry(entry: unknown): string {
  return JSON.stringify(entry, null, 2).replace(/\n/g, '\n    ')
}

/** The repository-relative files an entry lists (`<cluster>/<service>/<file>`). */
export function entryFiles(text: string): string[] {
  const entry = JSON.parse(text) as IndexCluster
  return Object.values(entry.services).flatMap((s) => s.files)
}

/**
 * Merges a previous index into this render's parts, for a partial render: clusters (or, with
 * a service filter, services) not rendered now are carried over, so the index always
 * describes the whole output folder. Returns the merged parts; carried-over entries are
 * serialised only when the index is written.
 */
export function mergePreviousIndex(
  parts: IndexParts,
  previous: RenderIndex | undefined,
  scope: { clusters: readonly string[]; services?: readonly string[] }
): IndexParts {
  if (!previous) return parts
  const clusters = new Map<string, IndexEntryRef>(parts.clusters)
  const images = new Map(parts.images)
  const disabled = new Set(parts.disabled)
  const covered = new Set(scope.clusters)
  const keepImage = (entry: IndexCluster) => {
    for (const s of Object.values(entry.services)) {
      for (const i of Object.values(s.images)) {
        if (i.file && previous.images?.[i.file] && !images.has(i.file))
          images.set(i.file, previous.images[i.file])
      }
    }
  }
  for (const [name, entry] of Object.entries(previous.clusters)) {
    if (!covered.has(name)) {
      clusters.set(name, { hash: entry.hash, read: () => serializeEntry(entry) })
      keepImage(entry)
    } else if (scope.services && parts.clusters.has(name)) {
      const fresh = JSON.parse(parts.clusters.get(name)!.read()) as IndexCluster
      const wanted = new Set(scope.services)
      const services: Record<string, IndexService> = {}
      const merged = [
        ...Object.entries(entry.services).filter(([s]) => !wanted.has(s)),
        ...Object.entries(fresh.services)
      ].sort(([a], [b]) => compare(a, b))
      for (const [s, v] of merged) services[s] = v
      const skipped = [
        ...entry.skipped.filter((s) => !wanted.has(s.service)),
        ...fresh.skipped
      ].sort((a, b) => compare(a.service, b.service))
      const hash = sha256(
        Object.keys(services)
          .map((s) => `${s}\u0000${services[s].hash}\n`)
          .join('')
      )
      const combined: IndexCluster = { ...fresh, hash, services, skipped }
      keepImage(combined)
      clusters.set(name, { hash, read: () => serializeEntry(combined) })
    }
  }
  for (const name of previous.disabled ?? []) if (!covered.has(name)) disabled.add(name)
  return { clusters, images, disabled: [...disabled] }
}

/** The index hash: sha256 over every cluster's name and hash, in name order. */
export function indexHash(parts: IndexParts): string {
  const names = [...parts.clusters.keys()].sort(compare)
  return sha256(names.map((n) => `${n}\u0000${parts.clusters.get(n)!.hash}\n`).join(''))
}

/**
 * The index file's text in chunks (head, one chunk per cluster, tail), so a large index can be
 * written without holding it whole. Joined, the chunks are exactly
 * `JSON.stringify(index, null, 2)` plus a newline.
 */
export function* indexChunks(parts: IndexParts): Generator<string> {
  const names = [...parts.clusters.keys()].sort(compare)
  const disabled = parts.disabled.filter((n) => !parts.clusters.has(n)).sort(compare)
  const images: Record<string, IndexImageFile> = {}
  for (const key of [...parts.images.keys()].sort(compare)) images[key] = parts.images.get(key)!
  const head = JSON.stringify(
    { kind: 'KitRenderIndex', version: 1, hash: indexHash(parts), disabled, images },
    null,
    2
  ).slice(0, -2)
  if (names.length === 0) {
    yield `${head},\n  "clusters": {}\n}\n`
    return
  }
  yield `${head},\n  "clusters": {\n`
  for (let i = 0; i < names.length; i++) {
    yield `    ${JSON.stringify(names[i])}: ${parts.clusters.get(names[i])!.read()}${i < names.length - 1 ? ',' : ''}\n`
  }
  yield '  }\n}\n'
}

/** The whole index file's text. */
export function serializeIndex(parts: IndexParts): string {
  return [...indexChunks(parts)].join('')
}

/** GitHub's limit on jobs generated by one matrix. */
export const maxMatrixJobs = 256

/**
 * A `strategy.matrix` value: one job per cluster (`{include: [{cluster}]}`), or with a shard
 * size, one job per shard (`{include: [{shard, clusters}]}`, clusters comma-separated, the form
 * the deployer's `clusters` input takes). Throws when GitHub's 256-job limit would be exceeded.
 */
export function buildMatrix(
  clusters: readonly string[],
  shardSize = 0
): { include: ({ cluster: string } | { shard: string; clusters: string })[] } {
  if (shardSize <= 0) {
    if (clusters.length > maxMatrixJobs) {
      throw new Error(
        `${clusters.length} clusters exceed GitHub's ${maxMatrixJobs} jobs per matrix; set shard-size to at least ${Math.ceil(clusters.length / maxMatrixJobs)}`
      )
    }
    return { include: clusters.map((cluster) => ({ cluster })) }
  }
  const shards: string[][] = []
  for (let i = 0; i < clusters.length; i += shardSize) shards.push(clusters.slice(i, i + shardSize))
  if (shards.length > maxMatrixJobs) {
    throw new Error(
      `${shards.length} shards exceed GitHub's ${maxMatrixJobs} jobs per matrix; use a shard-size of at least ${Math.ceil(clusters.length / maxMatrixJobs)}`
    )
  }
  const width = String(shards.length).length
  return {
    include: shards.map((members, i) => ({
      shard: `${String(i + 1).padStart(width, '0')}-of-${shards.length}`,
      clusters: members.join(',')
    }))
  }
}
