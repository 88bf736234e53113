/**
 * Renders one cluster: for each selected service, resolve its settings through the layers,
 * choose its templates (the repository's or the service's own set for its branch), resolve
 * its values and images, substitute the compiled templates, validate every object and
 * serialise it. Pure apart from reading image files and service-owned sets through the
 * repository (cached).
 */
import { createHash } from 'node:crypto'
import type { TemplateSource } from '../service-templates/record.js'
import { emitYaml, lineOf } from '../yaml/index.js'
import { placeholderImageProblems, placeholderImageSites } from './image-refs.js'
import { imageFilePath, imageReference, type ImageRecord } from './images.js'
import { chooseTemplates, resolveLayers, type LayeredSettings, type ValueLayer } from './layers.js'
import { isPlainMap, mergeValues, MergeError, type PlainMap } from './merge.js'
import { PlaceholderError, renderTemplate, type RenderContext } from './placeholders.js'
import {
  problemFrom,
  type ClusterDefinition,
  type ManifestRepository,
  type MissingImagePolicy,
  type ServiceDefinition,
  type SettingOrigin
} from './repository.js'
import type { RenderProblem } from './problems.js'

/** One output file: one Kubernetes object. */
export interface RenderedFile {
  /** Relative to the cluster's output folder: `<service>/<kind>-<namespace>-<name>.yaml`. */
  readonly path: string
  readonly content: string
  readonly apiVersion: string
  readonly kind: string
  readonly namespace?: string
  readonly name: string
  /** The template document it came from. */
  readonly source: { readonly file: string; readonly line: number }
}

/** How an image placeholder was resolved, for the index and the summary. */
export interface ImageUse {
  /** The reference written into manifests. */
  readonly ref: string
  /** True when a group, cluster or override pinned it. */
  readonly pinned: boolean
  /** The pin that decided it (the last layer's). */
  readonly pinnedBy?: SettingOrigin
  /** The image source and the image file read (absent when pinned). */
  readonly sourceName?: string
  readonly file?: string
  readonly provenance?: ImageRecord['source']
}

/** Where a service's templates came from on a cluster, for the index and the summary. */
export type TemplatesUse =
  | {
      readonly origin: 'repository'
      /** `services/api`. */
      readonly dir: string
      /** The `templates:` setting, when one chose. */
      readonly chosenBy?: SettingOrigin
    }
  | {
      readonly origin: 'service'
      /** The copy, `service-templates/api/develop`. */
      readonly dir: string
      /** Its record, `service-templates/api/develop.yaml`. */
      readonly record: string
      /** The set's branch. */
      readonly branch: string
      /** The `templates:` setting, when one chose. */
      readonly chosenBy?: SettingOrigin
      /** The `templatesBranch:` pin, when one chose the set's branch. */
      readonly pinnedBy?: SettingOrigin
      /** The record's provenance: service repository, commit, run, folder. */
      readonly source: TemplateSource
    }

export interface RenderedService {
  readonly name: string
  readonly branch: string
  /** The setting that chose the branch; undefined for kit's own default, `main`. */
  readonly branchFrom?: SettingOrigin
  readonly templates: TemplatesUse
  /** Sorted by path. */
  readonly files: readonly RenderedFile[]
  /** `image` for the main image, and the names of the other images. */
  readonly images: Readonly<Record<string, ImageUse>>
  /** sha256 over the files' paths and contents. */
  readonly hash: string
}

export interface SkippedService {
  readonly name: string
  /** Why, e.g. "disabled by groups/production.yaml" or "no image file images/api/x.yaml". */
  readonly reason: string
  /** True for a warning (an image skipped by policy), false for a plain disable. */
  readonly warning: boolean
}

export interface ClusterRender {
  readonly name: string
  readonly groups: readonly string[]
  readonly labels: Readonly<Record<string, string>>
  readonly services: readonly RenderedService[]
  readonly skipped: readonly SkippedService[]
  readonly problems: readonly RenderProblem[]
  /** sha256 over the services' hashes. */
  readonly hash: string
}

/** What a service gets on a cluster after every layer. */
export interface ResolvedService {
  readonly enabled: boolean
  /** The file that last set `enabled` (for "disabled by ..."). */
  readonly enabledBy: string
  readonly branch: string
  /** The setting that chose the branch; undefined for kit's own default. */
  readonly branchFrom?: SettingOrigin
  readonly missingImage: MissingImagePolicy
  readonly pins: { image?: string; images: Record<string, string> }
  /** The setting behind each pin. */
  readonly pinnedBy: { image?: SettingOrigin; images: Record<string, SettingOrigin> }
  /** Values layers lowest first, with the file each came from. */
  readonly valueLayers: readonly ValueLayer[]
}

/**
 * Resolves a service's settings on a cluster: its own kit.yaml and values.yaml (lowest), then
 * the layers as resolveLayers (layers.ts) resolves them; pass `layered` when already resolved.
 */
export function resolveService(
  repo: ManifestRepository,
  cluster: ClusterDefinition,
  service: ServiceDefinition,
  layered: LayeredSettings = resolveLayers(repo, cluster, service.name)
): ResolvedService {
  const valueLayers: ValueLayer[] = []
  if (service.valuesFile) {
    valueLayers.push({
      file: service.valuesFile,
      doc: service.valuesDoc,
      values: service.values,
      at: []
    })
  }
  valueLayers.push(...layered.valueLayers)
  return {
    enabled: layered.enabled ?? service.enabled,
    enabledBy: layered.enabledBy ?? `${service.dir}/kit.yaml`,
    branch: layered.branch,
    branchFrom: layered.branchFrom,
    missingImage: layered.missingImage,
    pins: layered.pins,
    pinnedBy: layered.pinnedBy,
    valueLayers
  }
}

/** Options for a render that do not come from the repository. */
export interface RenderOptions {
  /** The build environment for `env.*` (the action passes process.env). */
  readonly env: Readonly<Record<string, string | undefined>>
  /** Receives every env value used, and its encoded forms, to be masked. */
  readonly secrets: Set<string>
}

/**
 * Renders the given services on one cluster, by name (a repository-owned definition may be
 * given instead, as tests do). Problems are returned, not thrown.
 */
export function renderCluster(
  repo: ManifestRepository,
  cluster: ClusterDefinition,
  services: readonly (string | ServiceDefinition)[],
  options: RenderOptions
): ClusterRender {
  const problems: RenderProblem[] = []
  const rendered: RenderedService[] = []
  const skipped: SkippedService[] = []
  const identities = new Map<string, RenderedFile>()
  const clusterContext: PlainMap = {
    name: cluster.name,
    groups: [...cluster.groups],
    labels: { ...cluster.labels },
    branch: clusterBranch(repo, cluster)
  }
  for (const entry of services) {
    const name = typeof entry === 'string' ? entry : entry.name
    const scope = { cluster: cluster.name, service: name }
    try {
      const picked = pickTemplates(repo, cluster, entry)
      if ('skip' in picked) {
        skipped.push({ name, reason: picked.skip, warning: picked.warning })
        continue
      }
      if ('problems' in picked) {
        for (const p of picked.problems) problems.push({ ...p, ...scope })
        continue
      }
      const resolved = resolveService(repo, cluster, picked.service, picked.layered)
      if (!resolved.enabled) {
        skipped.push({ name, reason: `disabled by ${resolved.enabledBy}`, warning: false })
        continue
      }
      const out = renderService(repo, picked, resolved, {
        cluster: clusterContext,
        options,
        scope,
        problems,
        identities
      })
      if (out && 'skip' in out) skipped.push({ name, reason: out.skip, warning: true })
      else if (out) rendered.push(out)
    } catch (err) {
      problems.push({
        ...problemFrom(err),
        ...scope,
        ...(err instanceof RenderScopedError ? err.where : {})
      })
    }
  }
  const hash = sha256(rendered.map((s) => `${s.name}\u0000${s.hash}\n`).join(''))
  return {
    name: cluster.name,
    groups: cluster.groups,
    labels: cluster.labels,
    services: rendered,
    skipped,
    problems,
    hash
  }
}

/** A service's templates on a cluster: its definition, or why it is skipped or fails. */
type Picked =
  | { readonly skip: string; readonly warning: boolean }
  | { readonly problems: readonly RenderProblem[] }
  | {
      readonly service: ServiceDefinition
      readonly layered: LayeredSettings
      readonly templates: TemplatesUse
    }

/**
 * The templates of a service (or set) that no setting chose or pinned are the same on every
 * cluster: one object each, so the summary can recognise them without comparing text.
 */
const sharedUses = new WeakMap<ServiceDefinition, TemplatesUse>()

/**
 * Resolves the layers and chooses the service's templates (layers.ts): the repository-owned
 * definition, or the service-owned set of the chosen branch, read once per branch and checked
 * against its record. A missing set follows `missingImage`, as a missing image file does.
 */
function pickTemplates(
  repo: ManifestRepository,
  cluster: ClusterDefinition,
  entry: string | ServiceDefinition
): Picked {
  const name = typeof entry === 'string' ? entry : entry.name
  const layered = resolveLayers(repo, cluster, name)
  if (layered.enabled === false) return { skip: `disabled by ${layered.enabledBy}`, warning: false }
  const choice = chooseTemplates(repo, name, layered)
  if ('problem' in choice) return { problems: [choice.problem] }
  if (choice.source === 'repository') {
    const service = typeof entry === 'string' ? repo.services.get(name)! : entry
    let templates = choice.chosenBy ? undefined : sharedUses.get(service)
    if (!templates) {
      const { chosenBy } = choice
      templates = { origin: 'repository', dir: service.dir, ...(chosenBy ? { chosenBy } : {}) }
      if (!chosenBy) sharedUses.set(service, templates)
    }
    return { service, layered, templates }
  }
  const { branch, chosenBy, pinnedBy } = choice
  const read = repo.readTemplateSet(name, branch)
  if (read.status === 'broken') return { problems: read.problems }
  if (read.status === 'missing') {
    const reason = `no templates for ${name} on branch '${branch}' (${read.recordFile})`
    if (layered.missingImage === 'skip') return { skip: reason, warning: true }
    const from = pinnedBy
      ? `the templates branch is pinned by ${pinnedBy.file} (${pinnedBy.key})`
      : layered.branchFrom
        ? `the branch is set by ${layered.branchFrom.file} (${layered.branchFrom.key})`
        : `the branch is kit's default`
    return {
      problems: [
        {
          message: `${reason}; ${from}; build ${branch} with the service's templates, pin services.${name}.templatesBranch, follow another branch, or set missingImage: skip`
        }
      ]
    }
  }
  const shared = !chosenBy && !pinnedBy
  let templates = shared ? sharedUses.get(read.service) : undefined
  if (!templates) {
    templates = {
      origin: 'service',
      dir: read.service.dir,
      record: read.recordFile,
      branch,
      ...(chosenBy ? { chosenBy } : {}),
      ...(pinnedBy ? { pinnedBy } : {}),
      source: read.record.source
    }
    if (shared) sharedUses.set(read.service, templates)
  }
  return { service: read.service, layered, templates }
}

/** Where a service renders: the cluster's context and what the cluster's render gathers. */
interface ServiceTarget {
  readonly cluster: PlainMap
  readonly options: RenderOptions
  readonly scope: { cluster: string; service: string }
  readonly problems: RenderProblem[]
  readonly identities: Map<string, RenderedFile>
}

/**
 * Renders one enabled service with its chosen templates: images, values, every template.
 * Returns the rendered service, a reason to skip it (an image missing under
 * `missingImage: skip`), or undefined when it failed (its problems added to the target's).
 */
function renderService(
  repo: ManifestRepository,
  picked: { readonly service: ServiceDefinition; readonly templates: TemplatesUse },
  resolved: ResolvedService,
  target: ServiceTarget
): RenderedService | { skip: string } | undefined {
  const { service, templates } = picked
  const { scope, problems } = target
  const resolvedImages = resolveImages(repo, service, resolved)
  if ('skip' in resolvedImages) return { skip: resolvedImages.skip }
  if ('missing' in resolvedImages) {
    for (const message of resolvedImages.missing) problems.push({ message, ...scope })
    return undefined
  }
  const { images } = resolvedImages
  const values = mergeServiceValues(resolved)
  const ctx: RenderContext = {
    values,
    cluster: target.cluster,
    service: { name: service.name, branch: resolved.branch },
    image: images.image?.ref,
    images: Object.fromEntries(
      Object.entries(images)
        .filter(([k]) => k !== 'image')
        .map(([k, v]) => [k, v.ref])
    ),
    env: target.options.env,
    secrets: target.options.secrets
  }
  const before = problems.length
  const files = renderTemplates(service, ctx, scope, problems)
  if (problems.length > before) return undefined
  checkIdentities(files, target.identities, scope, problems)
  files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
  return {
    name: service.name,
    branch: resolved.branch,
    ...(resolved.branchFrom ? { branchFrom: resolved.branchFrom } : {}),
    templates,
    files,
    images,
    hash: hashFiles(files)
  }
}

/** Every template of a service rendered to a file; each failure is a problem with its line. */
function renderTemplates(
  service: ServiceDefinition,
  ctx: RenderContext,
  scope: { cluster: string; service: string },
  problems: RenderProblem[]
): RenderedFile[] {
  const files: RenderedFile[] = []
  for (const template of service.templates) {
    try {
      // Every failing placeholder of the object, then every bad image it got: all reported.
      const errors: PlaceholderError[] = []
      const object = renderTemplate(template.compiled, ctx, errors)
      for (const e of errors)
        problems.push({
          message: e.message,
          file: template.file,
          line: e.line ?? template.line,
          ...scope
        })
      if (errors.length > 0) continue
      const sites = template.imageSites ?? placeholderImageSites(template.compiled)
      const images = placeholderImageProblems(sites, object)
      for (const { message, line } of images)
        problems.push({ message, file: template.file, line, ...scope })
      if (images.length > 0) continue
      files.push(toFile(object, service.name, template))
    } catch (err) {
      if (err instanceof PlaceholderError) {
        problems.push({
          message: err.message,
          file: template.file,
          line: err.line ?? template.line,
          ...scope
        })
      } else problems.push({ ...problemFrom(err), ...scope })
    }
  }
  return files
}

/**
 * Two files of one cluster for the same object (or the same output path) would fight: each
 * later one is a problem naming the first. `identities` spans the cluster's services.
 */
function checkIdentities(
  files: readonly RenderedFile[],
  identities: Map<string, RenderedFile>,
  scope: { cluster: string; service: string },
  problems: RenderProblem[]
): void {
  const byPath = new Map<string, RenderedFile>()
  for (const f of files) {
    const key = `${f.kind}/${f.namespace ?? ''}/${f.name}`
    const twin = identities.get(key) ?? byPath.get(f.path)
    if (twin) {
      problems.push({
        message: `duplicate object ${f.kind} ${f.namespace ? `${f.namespace}/` : ''}${f.name}: also rendered from ${twin.source.file}:${twin.source.line}`,
        file: f.source.file,
        line: f.source.line,
        ...scope
      })
      continue
    }
    identities.set(key, f)
    byPath.set(f.path, f)
  }
}

/** The branch a cluster follows before per-service overrides (for `${{ cluster.branch }}`). */
function clusterBranch(repo: ManifestRepository, cluster: ClusterDefinition): string {
  let branch = repo.defaults.branch
  for (const g of cluster.groups) branch = repo.groups.get(g)?.branch ?? branch
  return cluster.branch ?? branch
}

class RenderScopedError extends Error {
  constructor(
    message: string,
    readonly where: { file?: string; line?: number }
  ) {
    super(message)
  }
}

function mergeServiceValues(resolved: ResolvedService): PlainMap {
  let acc: unknown = {}
  for (const layer of resolved.valueLayers) {
    try {
      acc = mergeValues(acc, layer.values)
    } catch (err) {
      if (err instanceof MergeError) {
        throw new RenderScopedError(err.message, {
          file: layer.file,
          line: layer.doc ? lineOf(layer.doc, [...layer.at, ...err.path]) : undefined
        })
      }
      throw err
    }
  }
  return isPlainMap(acc) ? acc : {}
}

/**
 * The service's images on this cluster: pins first, then the image file for the branch.
 * Returns the reason to skip the service (a missing file under `missingImage: skip`), or
 * every missing file (one problem each) under `missingImage: error`.
 */
function resolveImages(
  repo: ManifestRepository,
  service: ServiceDefinition,
  resolved: ResolvedService
): { images: Record<string, ImageUse> } | { skip: string } | { missing: string[] } {
  const out: Record<string, ImageUse> = {}
  const missing: string[] = []
  const wanted: [string, string | undefined][] = [
    ['image', service.image],
    ...Object.entries(service.images).map(([k, v]): [string, string] => [k, v])
  ]
  for (const [key, source] of wanted) {
    const pin = key === 'image' ? resolved.pins.image : resolved.pins.images[key]
    if (pin !== undefined) {
      out[key] = { ref: pin, pinned: true, pinnedBy: pinOrigin(resolved, key), sourceName: source }
      continue
    }
    if (source === undefined) continue
    const loaded = repo.readImage(source, resolved.branch)
    if (!loaded) {
      const expected = imageFilePath(repo.paths.images, source, resolved.branch)
        .split('\\')
        .join('/')
      const reason = `no image file for ${source} on branch '${resolved.branch}' (${expected})`
      if (resolved.missingImage === 'skip') return { skip: reason }
      const from = resolved.branchFrom
        ? `the branch is set by ${resolved.branchFrom.file} (${resolved.branchFrom.key})`
        : `the branch is kit's default`
      missing.push(
        `${reason}; ${from}; pin an image, follow another branch, or set missingImage: skip`
      )
      continue
    }
    out[key] = {
      ref: imageReference(loaded.record),
      pinned: false,
      sourceName: source,
      file: loaded.file,
      provenance: loaded.record.source
    }
  }
  if (missing.length > 0) return { missing }
  // Pins for names the service does not declare are kept too: a pin is explicit intent.
  for (const [key, ref] of Object.entries(resolved.pins.images)) {
    if (!out[key]) out[key] = { ref, pinned: true, pinnedBy: pinOrigin(resolved, key) }
  }
  return { images: out }
}

function pinOrigin(resolved: ResolvedService, key: string): SettingOrigin | undefined {
  return key === 'image' ? resolved.pinnedBy.image : resolved.pinnedBy.images[key]
}

/** Validates one rendered object and serialises it into its output file. */
function toFile(
  object: unknown,
  service: string,
  template: { file: string; line: number; compiled: unknown }
): RenderedFile {
  const fail = (message: string): never => {
    throw new PlaceholderError(message, template.line)
  }
  if (!isPlainMap(object)) return fail('a manifest must be a mapping')
  const { apiVersion, kind, metadata } = object
  if (typeof apiVersion !== 'string' || apiVersion === '') fail('the object has no apiVersion')
  if (typeof kind !== 'string' || !/^[A-Za-z][A-Za-z0-9]*$/.test(kind))
    fail('the object has no valid kind')
  if (!isPlainMap(metadata)) return fail('the object has no metadata')
  const { name, namespace } = metadata
  if (typeof name !== 'string' || name === '')
    return fail(`the ${String(kind)} has no metadata.name`)
  if (!/^[A-Za-z0-9:._@-]+$/.test(name) || name === '.' || name === '..') {
    fail(`metadata.name '${name}' is not a valid Kubernetes name`)
  }
  if (
    namespace !== undefined &&
    (typeof namespace !== 'string' || !/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/.test(namespace))
  ) {
    fail(`metadata.namespace '${String(namespace)}' is not a valid namespace name`)
  }
  const k = kind as string
  const base = [k, namespace as string | undefined, name]
    .filter((p) => p !== undefined)
    .map(safePart)
    .join('-')
  return {
    path: `${service}/${base}.yaml`,
    // Byte for byte js-yaml's dump, several times faster (shared/src/yaml/emit.ts).
    content: emitYaml(object),
    apiVersion: apiVersion as string,
    kind: k,
    namespace: namespace as string | undefined,
    name,
    source: { file: template.file, line: template.line }
  }
}

/** Lowercase, and anything but letters, digits, `.` and `-` becomes `-` (`system:auth` → `system-auth`). */
function safePart(part: string): string {
  return part.toLowerCase().replace(/[^a-z0-9.-]/g, '-')
}

export function sha256(text: string): string {
  return `sha256:${createHash('sha256').update(text).digest('hex')}`
}

function hashFiles(files: readonly RenderedFile[]): string {
  const h = createHash('sha256')
  for (const f of files) h.update(`${f.path}\u0000${f.content}\u0000`)
  return `sha256:${h.digest('hex')}`
}
