/**
 * Loads a manifests repository: kit.yaml, services, groups, clusters (eagerly, all validated
 * and every template compiled once), the names of service-owned templates (eagerly: a name is
 * a folder holding a record), and image files and service-owned template sets (lazily, cached,
 * as clusters need them).
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { isAbsolute, join, normalize, sep } from 'node:path'
import { isMap, isScalar } from 'yaml'
import { InputError, quoteValue } from '../errors.js'
import { defaultServiceTemplatesDir } from '../service-templates/record.js'
import {
  decodeUtf8,
  lineOf,
  loadYamlDocuments,
  loadYamlMapping,
  type LoadedDocument
} from '../yaml/index.js'
import {
  checkImageFile,
  literalImageProblems,
  pinProblems,
  placeholderImageSites,
  type ImageSite
} from './image-refs.js'
import { decodeBranchFileName, imageFilePath, type ImageRecord } from './images.js'
import { type PlainMap } from './merge.js'
import { compileTemplate, PlaceholderError, type CompiledNode } from './placeholders.js'
import { RenderFailedError, renderFailure, type RenderProblem } from './problems.js'
import { validateAgainstSchema } from './schema.js'
import { loadTemplateSet, type ServiceTemplates, type TemplateSetRead } from './template-sets.js'

export { serviceTemplateUsers } from './layers.js'

/** Where a setting was made: the repository file and the key in it (`services.api.branch`). */
export interface SettingOrigin {
  readonly file: string
  readonly key: string
}

/**
 * What to do when a service's image file, or its service-owned templates, for the tracked
 * branch are missing.
 */
export type MissingImagePolicy = 'error' | 'skip'

/** Which templates a service's clusters use: `services/<svc>/` or `service-templates/<svc>/`. */
export type TemplatesSource = 'repository' | 'service'

/** Settings a group, a cluster or a per-service override may set (all optional). */
export interface ServiceOverride {
  readonly enabled?: boolean
  readonly branch?: string
  readonly missingImage?: MissingImagePolicy
  /** Pins the service's main image to an exact reference. */
  readonly image?: string
  /** Pins named images (`images.<name>`) to exact references. */
  readonly images?: Readonly<Record<string, string>>
  /** Chooses the repository's or the service's own templates. */
  readonly templates?: TemplatesSource
  /** Renders the service-owned templates of this branch instead of the followed branch's. */
  readonly templatesBranch?: string
  readonly values?: PlainMap
}

/** One layer of settings: a group file or a cluster file. */
export interface Layer {
  /** Repository-relative path, for messages. */
  readonly file: string
  readonly doc?: LoadedDocument
  readonly branch?: string
  readonly missingImage?: MissingImagePolicy
  readonly values?: PlainMap
  readonly services?: Readonly<Record<string, ServiceOverride>>
}

export interface GroupDefinition extends Layer {
  readonly name: string
}

export interface ClusterDefinition extends Layer {
  readonly name: string
  readonly enabled: boolean
  readonly groups: readonly string[]
  readonly labels: Readonly<Record<string, string>>
}

/** One document of a service template file, compiled. */
export interface TemplateDocument {
  readonly file: string
  /** 1-based line where the document starts. */
  readonly line: number
  readonly compiled: CompiledNode
  /**
   * Where its placeholders may put container images (checked in every rendered object); found
   * from `compiled` when absent.
   */
  readonly imageSites?: readonly ImageSite[]
}

export interface ServiceDefinition {
  readonly name: string
  /** Repository-relative folder. */
  readonly dir: string
  readonly enabled: boolean
  /** The image source `${{ image }}` resolves from, if any. */
  readonly image?: string
  /** Named image sources for `${{ images.<name> }}`. */
  readonly images: Readonly<Record<string, string>>
  readonly values: PlainMap
  readonly valuesFile?: string
  readonly valuesDoc?: LoadedDocument
  readonly templates: readonly TemplateDocument[]
  /**
   * `templates:` in a repository-owned service's kit.yaml (the lowest layer of that setting),
   * with its line. Refused in a service-owned copy.
   */
  readonly templatesSetting?: { readonly value: TemplatesSource; readonly line?: number }
}

/** Folder names inside the repository (kit.yaml `paths`). */
export interface RepositoryPaths {
  readonly services: string
  readonly groups: string
  readonly clusters: string
  readonly images: string
  /** Service-owned templates: `<serviceTemplates>/<service>/<encoded branch>/` and its record. */
  readonly serviceTemplates: string
  readonly output: string
}

/** A loaded image file with where it came from. */
export interface LoadedImage {
  readonly file: string
  readonly record: ImageRecord
}

export interface ManifestRepository {
  /** Absolute root folder. */
  readonly root: string
  readonly paths: RepositoryPaths
  readonly defaults: {
    readonly branch: string
    /** Where the default branch is set; undefined for kit's own default, `main`. */
    readonly branchFrom?: SettingOrigin
    readonly missingImage: MissingImagePolicy
  }
  /** Repository-owned services (`services/<svc>/`), sorted by name. */
  readonly services: ReadonlyMap<string, ServiceDefinition>
  /** Service-owned names (`service-templates/<svc>/` holding a record), sorted by name. */
  readonly serviceTemplates: ReadonlyMap<string, ServiceTemplates>
  /** Every service name, repository-owned or service-owned or both, sorted. */
  readonly serviceNames: readonly string[]
  readonly groups: ReadonlyMap<string, GroupDefinition>
  readonly clusters: ReadonlyMap<string, ClusterDefinition>
  /** The image file for a source and branch; undefined when there is none. Cached. */
  readImage(source: string, branch: string): LoadedImage | undefined
  /**
   * A service's own templates for a branch: loaded with the loader of `services/<svc>/` once
   * the copy is checked against its record; `missing` when there is no record. Cached.
   */
  readTemplateSet(service: string, branch: string): TemplateSetRead
}

/** Names of services, groups and clusters: DNS labels, so they are safe as folder names. */
export const namePattern = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/

export const defaultPaths: RepositoryPaths = {
  services: 'services',
  groups: 'groups',
  clusters: 'clusters',
  images: 'images',
  serviceTemplates: defaultServiceTemplatesDir,
  output: 'generated'
}

/**
 * Loads and validates the repository at `root`. Every problem found (in any file) is
 * reported together in one RenderFailedError, so a user fixes them in one pass.
 */
export function loadRepository(root: string): ManifestRepository {
  const problems: RenderProblem[] = []
  const attempt = <T>(fn: () => T): T | undefined => {
    try {
      return fn()
    } catch (err) {
      problems.push(problemFrom(err))
      return undefined
    }
  }
  if (!existsSync(root) || !statSync(root).isDirectory()) {
    throw new InputError(`manifests repository folder '${root}' does not exist`)
  }
  // kit.yaml says where everything else is: when it is broken, that is the only problem worth
  // reporting (guessing default folders would bury it under a cascade of derived errors).
  const kit = attempt(() => loadKitFile(root))
  if (!kit) throw renderFailure(problems)
  const paths = kit.paths
  // Names whose file exists but could not be loaded: a reference to one of them is not also
  // reported as unknown (one broken file is one problem, not one per cluster using it).
  const brokenGroups = new Set<string>()
  const brokenServices = new Set<string>()
  const owned = listServiceOwned(root, paths.serviceTemplates, problems, brokenServices)
  checkFolders(root, kit, problems, owned.size > 0)
  const groups = new Map<string, GroupDefinition>()
  for (const file of listYamlFiles(root, paths.groups, problems, brokenGroups)) {
    const g = attempt(() => loadGroup(root, file))
    if (g) groups.set(g.name, g)
    else brokenGroups.add(baseName(file))
  }
  const clusters = new Map<string, ClusterDefinition>()
  for (const file of listYamlFiles(root, paths.clusters, problems, new Set())) {
    const c = attempt(() => loadCluster(root, file))
    if (c) clusters.set(c.name, c)
  }
  const services = loadServices(root, paths.services, problems, brokenServices, attempt)
  if (
    services.size === 0 &&
    owned.size === 0 &&
    brokenServices.size === 0 &&
    isFolder(join(root, paths.services))
  )
    problems.push(noServices(kit))
  for (const layer of [...groups.values(), ...clusters.values()])
    problems.push(...pinProblems(layer))
  const serviceNames = [...new Set([...services.keys(), ...owned.keys()])].sort()
  checkReferences(
    { groups, clusters, services: new Set(serviceNames), brokenGroups, brokenServices },
    problems
  )
  if (problems.length > 0) throw renderFailure(problems)
  return {
    root,
    paths,
    defaults: {
      branch: kit.defaults.branch ?? 'main',
      branchFrom:
        kit.defaults.branch !== undefined
          ? { file: 'kit.yaml', key: 'defaults.branch' }
          : undefined,
      missingImage: kit.defaults.missingImage ?? 'error'
    },
    services,
    serviceTemplates: owned,
    serviceNames,
    groups,
    clusters,
    ...lazyReaders(root, paths)
  }
}

/** kit.yaml's folders (its defaults when there is no kit.yaml); an InputError when it is broken. */
export function readRepositoryPaths(root: string): RepositoryPaths {
  return loadKitFile(root).paths
}

/** The readers of what only some clusters need: image files and service-owned sets, cached. */
function lazyReaders(
  root: string,
  paths: RepositoryPaths
): Pick<ManifestRepository, 'readImage' | 'readTemplateSet'> {
  const imageCache = new Map<string, LoadedImage | null>()
  const setCache = new Map<string, TemplateSetRead>()
  const cache: LoadCache = { compiled: new Map(), mappings: new Map() }
  return {
    readImage(source, branch) {
      const key = `${source}\u0000${branch}`
      let hit = imageCache.get(key)
      if (hit === undefined) {
        hit = loadImage(root, imageFilePath(paths.images, source, branch)) ?? null
        imageCache.set(key, hit)
      }
      return hit ?? undefined
    },
    readTemplateSet(service, branch) {
      const key = `${service}\u0000${branch}`
      let hit = setCache.get(key)
      if (hit === undefined) {
        try {
          hit = loadTemplateSet(
            root,
            paths.serviceTemplates,
            service,
            branch,
            (dir, problems, checked) =>
              loadService(root, dir, service, problems, { cache, checked })
          )
        } catch (err) {
          hit = { status: 'broken', problems: [{ ...problemFrom(err), service }] }
        }
        setCache.set(key, hit)
      }
      return hit
    }
  }
}

/** Every service folder; a symbolic link or a folder that fails to load is a broken name. */
function loadServices(
  root: string,
  servicesPath: string,
  problems: RenderProblem[],
  brokenServices: Set<string>,
  attempt: <T>(fn: () => T) => T | undefined
): Map<string, ServiceDefinition> {
  const services = new Map<string, ServiceDefinition>()
  const servicesDir = join(root, servicesPath)
  if (!isFolder(servicesDir)) return services
  for (const entry of readdirSync(servicesDir, { withFileTypes: true }).sort(byName)) {
    if (entry.isSymbolicLink()) {
      problems.push({
        message: 'symbolic links are not followed',
        file: toRepoPath(join(servicesPath, entry.name))
      })
      brokenServices.add(entry.name)
      continue
    }
    if (!entry.isDirectory()) continue
    const s = attempt(() => loadService(root, join(servicesPath, entry.name), entry.name, problems))
    if (s) services.set(s.name, s)
    else brokenServices.add(entry.name)
  }
  return services
}

/**
 * The service-owned names: each folder `<serviceTemplates>/<svc>/` holding at least one record
 * (`<encoded branch>.yaml`). Only names and branches are read here; a set is read when a
 * cluster renders it. A symbolic link, or a folder name that is not a DNS label, is a broken
 * name.
 */
function listServiceOwned(
  root: string,
  dir: string,
  problems: RenderProblem[],
  brokenServices: Set<string>
): Map<string, ServiceTemplates> {
  const owned = new Map<string, ServiceTemplates>()
  if (!isFolder(join(root, dir))) return owned
  for (const entry of readdirSync(join(root, dir), { withFileTypes: true }).sort(byName)) {
    const folder = toRepoPath(join(dir, entry.name))
    if (entry.isSymbolicLink()) {
      problems.push({ message: 'symbolic links are not followed', file: folder })
      brokenServices.add(entry.name)
      continue
    }
    if (!entry.isDirectory()) continue
    const branches: string[] = []
    for (const f of readdirSync(join(root, folder), { withFileTypes: true }).sort(byName)) {
      const m = /^(.+)\.yaml$/.exec(f.name)
      if (!m || f.isDirectory()) continue
      try {
        branches.push(decodeBranchFileName(m[1]))
      } catch {
        problems.push({
          message: `${quoteValue(f.name)} is not a templates record name (<encoded branch>.yaml)`,
          file: `${folder}/${f.name}`
        })
      }
    }
    if (branches.length === 0) continue
    if (!namePattern.test(entry.name)) {
      problems.push({
        message: `service folder name ${quoteValue(entry.name)} must be lowercase letters, digits and '-' (at most 63)`,
        file: folder
      })
      brokenServices.add(entry.name)
      continue
    }
    owned.set(entry.name, { name: entry.name, dir: folder, branches })
  }
  return owned
}

/**
 * Cross-references: unknown groups and services are typos that would silently do nothing. A
 * name whose own file is broken was reported already and is not reported again.
 */
function checkReferences(
  loaded: {
    groups: ReadonlyMap<string, GroupDefinition>
    clusters: ReadonlyMap<string, ClusterDefinition>
    /** Every service name, repository-owned or service-owned. */
    services: ReadonlySet<string>
    brokenGroups: ReadonlySet<string>
    brokenServices: ReadonlySet<string>
  },
  problems: RenderProblem[]
): void {
  const { groups, clusters, services, brokenGroups, brokenServices } = loaded
  for (const layer of [...groups.values(), ...clusters.values()]) {
    for (const name of Object.keys(layer.services ?? {})) {
      if (!services.has(name) && !brokenServices.has(name)) {
        problems.push({
          message: `unknown service '${name}' (services: ${[...services.keys()].join(', ') || 'none'})`,
          file: layer.file,
          line: layer.doc ? keyLineOf(layer.doc, ['services'], name) : undefined
        })
      }
    }
  }
  for (const cluster of clusters.values()) {
    cluster.groups.forEach((g, i) => {
      if (!groups.has(g) && !brokenGroups.has(g)) {
        problems.push({
          message: `unknown group '${g}' (groups: ${[...groups.keys()].join(', ') || 'none'})`,
          file: cluster.file,
          line: cluster.doc ? lineOf(cluster.doc, ['groups', i]) : undefined,
          cluster: cluster.name
        })
      }
    })
  }
}

/** What kit.yaml says: the folders, which of them it names (with the line), the defaults. */
interface KitFile {
  readonly paths: RepositoryPaths
  /** The `paths` kit.yaml sets, each with its line (a folder it names must exist). */
  readonly named: Partial<Record<keyof RepositoryPaths, number | undefined>>
  readonly defaults: { branch?: string; missingImage?: MissingImagePolicy }
}

function loadKitFile(root: string): KitFile {
  const file = 'kit.yaml'
  const abs = join(root, file)
  if (!existsSync(abs)) return { paths: defaultPaths, named: {}, defaults: {} }
  const { value, doc } = loadYamlMapping(decodeUtf8(readFileSync(abs), file), file)
  validateAgainstSchema('kit', value, file, doc)
  const given = (value.paths ?? {}) as Partial<RepositoryPaths>
  const paths = { ...defaultPaths }
  const named: KitFile['named'] = {}
  for (const key of Object.keys(defaultPaths) as (keyof RepositoryPaths)[]) {
    const p = given[key]
    if (p === undefined) continue
    paths[key] = safeRelative(p, file, doc, ['paths', key])
    named[key] = doc ? lineOf(doc, ['paths', key]) : undefined
  }
  return { paths, named, defaults: (value.defaults ?? {}) as KitFile['defaults'] }
}

/**
 * The folders kit.yaml names must exist (a misspelt `paths.services` must not render nothing),
 * and so must the services and clusters folders, named or not (the services folder unless
 * every service is service-owned). Groups, images and service-owned templates are optional
 * unless named: a repository may have no groups, pin every image, or own every template.
 */
function checkFolders(
  root: string,
  kit: KitFile,
  problems: RenderProblem[],
  serviceOwned: boolean
): void {
  for (const key of ['clusters', 'services', 'groups', 'images', 'serviceTemplates'] as const) {
    const dir = kit.paths[key]
    const abs = join(root, dir)
    const line = kit.named[key]
    const where = key in kit.named ? { file: 'kit.yaml', line } : {}
    const setting = `paths.${key}`
    if (existsSync(abs)) {
      if (!isFolder(abs))
        problems.push({
          message:
            key in kit.named
              ? `${setting} '${toRepoPath(dir)}' is not a folder`
              : `'${toRepoPath(dir)}' is not a folder (the ${key} folder; set ${setting} in kit.yaml if it is elsewhere)`,
          ...where
        })
    } else if (key in kit.named) {
      problems.push({ message: `${setting}: folder '${shownDir(dir)}' does not exist`, ...where })
    } else if ((key === 'services' && !serviceOwned) || key === 'clusters') {
      problems.push({
        message: `no ${key} folder: '${shownDir(dir)}' does not exist (a repository needs ${key === 'services' ? 'services/<service>/ folders with their templates' : 'clusters/<cluster>.yaml files'}; set ${setting} in kit.yaml if they are elsewhere)`
      })
    }
  }
}

/** The problem of a services folder that holds no service. */
function noServices(kit: KitFile): RenderProblem {
  const dir = shownDir(kit.paths.services)
  return {
    message: `no services in '${dir}': a service is a folder ${dir}<service>/ holding its templates; a render of no services would only delete the previous output`,
    ...('services' in kit.named ? { file: 'kit.yaml', line: kit.named.services } : {})
  }
}

/** A repository folder as messages show it: `services/`, `./` for the root. */
function shownDir(dir: string): string {
  return dir === '' ? './' : `${toRepoPath(dir)}/`
}

function isFolder(abs: string): boolean {
  return statSync(abs, { throwIfNoEntry: false })?.isDirectory() ?? false
}

/** A kit.yaml path, normalised, refused when absolute or escaping the repository. */
function safeRelative(
  p: string,
  file: string,
  doc: LoadedDocument | undefined,
  at: string[]
): string {
  const n = normalize(p)
  if (isAbsolute(n) || n === '..' || n.startsWith(`..${sep}`)) {
    throw new InputError(`path '${p}' must stay inside the repository`, {
      file,
      line: doc ? lineOf(doc, at) : undefined
    })
  }
  return n === '.' ? '' : n.replace(/[\\/]+$/, '')
}

function loadGroup(root: string, file: string): GroupDefinition {
  const name = nameFromFile(file, 'group')
  const { value, doc } = loadYamlMapping(decodeUtf8(readFileSync(join(root, file)), file), file)
  validateAgainstSchema('group', value, file, doc)
  return { name, file, doc, ...(value as Omit<GroupDefinition, 'name' | 'file' | 'doc'>) }
}

function loadCluster(root: string, file: string): ClusterDefinition {
  const name = nameFromFile(file, 'cluster')
  const { value, doc } = loadYamlMapping(decodeUtf8(readFileSync(join(root, file)), file), file)
  validateAgainstSchema('cluster', value, file, doc)
  if (value.name !== undefined && value.name !== name) {
    throw new InputError(`name '${String(value.name)}' must match the file name '${name}'`, {
      file,
      line: doc ? lineOf(doc, ['name']) : undefined
    })
  }
  const v = value as Partial<ClusterDefinition>
  return {
    ...v,
    name,
    file,
    doc,
    enabled: v.enabled ?? true,
    groups: v.groups ?? [],
    labels: v.labels ?? {}
  }
}

/**
 * What file texts load to, shared between the folders of service-owned sets: a service's sets
 * for different branches are mostly the same files, and nothing kept here depends on a file's
 * name (only texts that loaded without an error are kept, so every error still names its file).
 */
interface LoadCache {
  /** A template file's text → its compiled documents. */
  readonly compiled: Map<string, readonly CompiledFileDocument[]>
  /** A kit.yaml's or values.yaml's text → its mapping (never mutated: merges build new maps). */
  readonly mappings: Map<string, { value: PlainMap; doc?: LoadedDocument }>
}

/** A kit.yaml's or values.yaml's mapping, from `cache` when the same text loaded before. */
function loadMapping(
  text: string,
  file: string,
  cache: LoadCache | undefined
): { value: PlainMap; doc?: LoadedDocument } {
  const hit = cache?.mappings.get(text)
  if (hit) return hit
  const loaded = loadYamlMapping(text, file)
  cache?.mappings.set(text, loaded)
  return loaded
}

/**
 * What loadService is given for a service-owned set: the cache shared by every set of the run,
 * and the bytes the set's check read (every file of the copy), by repository path.
 */
interface CheckedSet {
  readonly cache: LoadCache
  readonly checked: ReadonlyMap<string, Buffer>
}

/** A file of a service folder: the bytes its check read, else from disk; undefined when absent. */
function readServiceFile(root: string, rel: string, set?: CheckedSet): Buffer | undefined {
  const hit = set?.checked.get(toRepoPath(rel))
  if (hit) return hit
  return existsSync(join(root, rel)) ? readFileSync(join(root, rel)) : undefined
}

/** Loads a service folder: `services/<svc>/`, or a service-owned set (`set`). */
function loadService(
  root: string,
  dir: string,
  name: string,
  problems: RenderProblem[],
  set?: CheckedSet
): ServiceDefinition {
  const repoDir = toRepoPath(dir)
  if (!namePattern.test(name)) {
    throw new InputError(
      `service folder name ${quoteValue(name)} must be lowercase letters, digits and '-' (at most 63)`,
      { file: repoDir }
    )
  }
  const { settings, templatesSetting } = loadServiceSettings(root, dir, set)
  const cache = set?.cache
  let values: PlainMap = {}
  let valuesFile: string | undefined
  let valuesDoc: LoadedDocument | undefined
  const valuesBytes = readServiceFile(root, join(dir, 'values.yaml'), set)
  if (valuesBytes) {
    valuesFile = toRepoPath(join(dir, 'values.yaml'))
    const loaded = loadMapping(decodeUtf8(valuesBytes, valuesFile), valuesFile, cache)
    values = loaded.value
    valuesDoc = loaded.doc
  }
  const templates: TemplateDocument[] = []
  // A set's check listed (and read) every file of its copy, in the walk's order.
  const templateFiles = set
    ? [...set.checked.keys()].filter((f) => isTemplateFile(f, repoDir))
    : listTemplateFiles(root, dir, problems)
  for (const rel of templateFiles) {
    const file = toRepoPath(rel)
    try {
      const text = decodeUtf8(set?.checked.get(file) ?? readFileSync(join(root, rel)), file)
      const hit = cache?.compiled.get(text)
      const { docs, error } = hit
        ? { docs: hit, error: undefined }
        : compileTemplateFile(text, file)
      if (cache && !hit && error === undefined) cache.compiled.set(text, docs)
      for (const d of docs) {
        templates.push({ file, line: d.line, compiled: d.compiled, imageSites: d.imageSites })
        for (const { message, line } of d.literal)
          problems.push({ message, file, line, service: name })
      }
      if (error !== undefined) throw error
    } catch (err) {
      problems.push({ ...problemFrom(err), service: name })
    }
  }
  return {
    name,
    dir: repoDir,
    enabled: (settings.enabled as boolean | undefined) ?? true,
    image: settings.image as string | undefined,
    images: (settings.images as Record<string, string> | undefined) ?? {},
    values,
    valuesFile,
    valuesDoc,
    templates,
    ...(templatesSetting ? { templatesSetting } : {})
  }
}

/** One document of a template file, compiled; nothing in it depends on the file's name. */
interface CompiledFileDocument {
  readonly line: number
  readonly compiled: CompiledNode
  readonly imageSites: readonly ImageSite[]
  /** Literal image references that are not valid, with their lines. */
  readonly literal: readonly { message: string; line?: number }[]
}

/**
 * A template file's documents, each compiled, up to the first that fails (`error`, an
 * InputError naming the file and line).
 */
function compileTemplateFile(
  text: string,
  file: string
): { docs: CompiledFileDocument[]; error?: unknown } {
  const docs: CompiledFileDocument[] = []
  try {
    for (const loaded of loadYamlDocuments(text, file)) {
      if (loaded.value === null || typeof loaded.value !== 'object' || Array.isArray(loaded.value))
        throw new InputError('a manifest document must be a mapping (a Kubernetes object)', {
          file,
          line: loaded.line
        })
      try {
        const lineAt = (path: readonly (string | number)[]) => lineOf(loaded, path)
        const compiled = compileTemplate(loaded.value, lineAt)
        docs.push({
          line: loaded.line,
          compiled,
          imageSites: placeholderImageSites(compiled),
          literal: literalImageProblems(compiled, lineAt)
        })
      } catch (err) {
        if (err instanceof PlaceholderError)
          throw new InputError(err.message, { file, line: err.line ?? loaded.line })
        throw err
      }
    }
  } catch (error) {
    return { docs, error }
  }
  return { docs }
}

/** A service folder's kit.yaml, validated; `templates:` kept with its line. */
function loadServiceSettings(
  root: string,
  dir: string,
  set: CheckedSet | undefined
): { settings: PlainMap; templatesSetting?: ServiceDefinition['templatesSetting'] } {
  const kitFile = toRepoPath(join(dir, 'kit.yaml'))
  const bytes = readServiceFile(root, kitFile, set)
  if (!bytes) return { settings: {} }
  const { value, doc } = loadMapping(decodeUtf8(bytes, kitFile), kitFile, set?.cache)
  validateAgainstSchema('service', value, kitFile, doc)
  const templates = value.templates as TemplatesSource | undefined
  return {
    settings: value,
    templatesSetting:
      templates === undefined
        ? undefined
        : { value: templates, line: doc ? lineOf(doc, ['templates']) : undefined }
  }
}

/**
 * A service folder's template file (repository paths): every .yaml or .yml file in it or below,
 * but its kit.yaml and values.yaml.
 */
function isTemplateFile(file: string, dir: string): boolean {
  const slash = file.lastIndexOf('/')
  const name = file.slice(slash + 1)
  if (!/\.ya?ml$/.test(name)) return false
  return !(file.slice(0, slash) === dir && (name === 'kit.yaml' || name === 'values.yaml'))
}

/** Every template file under a service folder (isTemplateFile), sorted. */
function listTemplateFiles(root: string, dir: string, problems: RenderProblem[]): string[] {
  const out: string[] = []
  const top = toRepoPath(dir)
  const walk = (rel: string): void => {
    for (const entry of readdirSync(join(root, rel), { withFileTypes: true }).sort(byName)) {
      const child = join(rel, entry.name)
      if (entry.isSymbolicLink()) {
        problems.push({ message: 'symbolic links are not followed', file: toRepoPath(child) })
      } else if (entry.isDirectory()) walk(child)
      else if (isTemplateFile(toRepoPath(child), top)) {
        out.push(child)
      }
    }
  }
  walk(dir)
  return out
}

/** The .yaml/.yml files of a folder, sorted; symbolic links are problems (named in `refused`). */
function listYamlFiles(
  root: string,
  dir: string,
  problems: RenderProblem[],
  refused: Set<string>
): string[] {
  const abs = join(root, dir)
  if (!isFolder(abs)) return []
  const out: string[] = []
  for (const entry of readdirSync(abs, { withFileTypes: true }).sort(byName)) {
    if (!/\.ya?ml$/.test(entry.name)) continue
    if (entry.isSymbolicLink()) {
      problems.push({
        message: 'symbolic links are not followed',
        file: toRepoPath(join(dir, entry.name))
      })
      refused.add(baseName(entry.name))
    } else if (entry.isFile()) out.push(toRepoPath(join(dir, entry.name)))
  }
  return out
}

/** `groups/eu.yaml` → `eu`. */
function baseName(file: string): string {
  return file
    .split('/')
    .pop()!
    .replace(/\.ya?ml$/, '')
}

function nameFromFile(file: string, what: string): string {
  const name = baseName(file)
  if (!namePattern.test(name)) {
    throw new InputError(
      `${what} name ${quoteValue(name)} (from the file name) must be lowercase letters, digits and '-' (at most 63)`,
      { file }
    )
  }
  return name
}

function loadImage(root: string, path: string): LoadedImage | undefined {
  const file = toRepoPath(path)
  let text: string
  try {
    text = decodeUtf8(readFileSync(join(root, path)), file)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw err
  }
  const { value, doc } = loadYamlMapping(text, file)
  validateAgainstSchema('image', value, file, doc)
  const record = value as unknown as ImageRecord
  checkImageFile(record, file, doc)
  return { file, record }
}

/** The line of a map key (not its value) under `parent`. */
export function keyLineOf(
  doc: LoadedDocument,
  parent: readonly (string | number)[],
  key: string
): number {
  let node = doc.doc.contents as unknown
  for (const part of parent) {
    if (!isMap(node)) break
    node = node.get(part, true)
  }
  if (isMap(node)) {
    const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === key)
    const range = pair && isScalar(pair.key) ? pair.key.range : undefined
    if (range) return doc.lineCounter.linePos(range[0]).line
  }
  return lineOf(doc, [...parent, key])
}

function byName(a: { name: string }, b: { name: string }): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0
}

/** Forward slashes on every platform: paths in messages, the index and annotations. */
export function toRepoPath(p: string): string {
  return p.split(sep).join('/')
}

/** Turns any thrown error into a problem record (keeping file and line from InputError). */
export function problemFrom(err: unknown): RenderProblem {
  if (err instanceof RenderFailedError) return err.problems[0]
  if (err instanceof InputError) {
    return {
      message: stripWhere(err.message, err.where.file),
      file: err.where.file,
      line: err.where.line,
      column: err.where.column
    }
  }
  return { message: err instanceof Error ? err.message : String(err) }
}

function stripWhere(message: string, file: string | undefined): string {
  if (!file || !message.startsWith(file)) return message
  const m = /^(:\d+)?(:\d+)?: /.exec(message.slice(file.length))
  return m ? message.slice(file.length + m[0].length) : message
}
