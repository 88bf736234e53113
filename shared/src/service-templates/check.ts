/**
 * The image-deployer's check before a commit that carries service-owned templates: the
 * manifests repository as it would be after the commit is rendered, for the clusters that
 * would render this service's set for this branch, so a broken template never lands. Problems
 * point at the service repository's file and line, where the fix is made.
 *
 * The render reads a folder, so the parts of the snapshot it needs (kit.yaml, for where
 * everything is; groups, clusters, this service's image files and repository-owned folder,
 * one record of every other service-owned service so their names are known) are written to a
 * temporary folder with the planned commit on top. Other services' templates are not read:
 * only this service is rendered.
 */
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import type { BumpPlan, BumpRequest } from '../bump/plan.js'
import type { RepoSnapshot } from '../bump/run.js'
import { InputError } from '../errors.js'
import { renderFailure, type RenderProblem } from '../render/problems.js'
import { renderCluster } from '../render/render.js'
import {
  defaultPaths,
  loadRepository,
  readRepositoryPaths,
  serviceTemplateUsers,
  type RepositoryPaths
} from '../render/repository.js'
import { RenderFailedError } from '../render/problems.js'
import { plural } from '../text/plural.js'
import { loadYamlMapping } from '../yaml/load.js'
import { repositoryDir, templateSetFolder } from './record.js'

/** What the check found, for the bump's notes. */
export interface TemplateCheck {
  /** The clusters the set was rendered for. */
  readonly clusters: readonly string[]
  readonly note: string
}

/**
 * Renders the planned state; throws a RenderFailedError (every problem, service-repository
 * paths) when the set does not load or does not render on a cluster that would use it.
 */
export async function checkServiceTemplates(
  snapshot: RepoSnapshot,
  plan: BumpPlan,
  request: BumpRequest
): Promise<TemplateCheck> {
  const templates = request.templates
  if (!templates) return { clusters: [], note: '' }
  const listing = await snapshot.list()
  const root = scratchFolder()
  const put = writerInto(root)
  try {
    let files = await snapshot.read(templateCheckReads(listing, request))
    const kit = files.get('kit.yaml')
    if (kit !== undefined) put('kit.yaml', kit)
    const paths = checkPaths(readRepositoryPaths(root), request)
    if (JSON.stringify(paths) !== JSON.stringify(defaultPaths))
      files = await snapshot.read(filesForCheck(listing, request, paths))
    for (const [path, content] of files)
      if (content !== undefined && path !== 'kit.yaml') put(path, content)
    for (const c of plan.changes) {
      if (c.after !== undefined) put(c.path, c.after)
    }
    const setFolder = templateSetFolder(templates.dir, templates.service, request.branch)
    for (const f of templates.files) put(`${setFolder}/${f.path}`, f.content)
    // Other repository-owned services exist as names (a group may configure them); empty
    // folders are enough, as they are not rendered.
    for (const name of otherServiceFolders(listing, paths.services, templates.service))
      mkdirSync(join(root, paths.services, name), { recursive: true })
    const toService = (file: string | undefined) =>
      file?.startsWith(`${setFolder}/`)
        ? `${templates.sourcePath}/${file.slice(setFolder.length + 1)}`
        : file
    const problems: RenderProblem[] = []
    const clusters = renderUsers(root, request, problems)
    if (problems.length > 0)
      throw renderFailure(problems.map((p) => ({ ...p, file: toService(p.file) })))
    return {
      clusters,
      note:
        clusters.length > 0
          ? `templates of ${templates.service}@${request.branch} render on ${plural(clusters.length, 'cluster')} (${clusters.join(', ')})`
          : `templates of ${templates.service}@${request.branch} load; no cluster renders them yet (none follows ${request.branch} with templates: service)`
    }
  } finally {
    rmSync(root, { recursive: true, force: true })
  }
}

/**
 * The files the check reads first, given the snapshot's listing: kit.yaml with what the
 * default folders hold (a kit.yaml that moves the folders costs a second read). The bump reads
 * them together with its own files (runBump's `checkReads`).
 */
export function templateCheckReads(listing: readonly string[], request: BumpRequest): string[] {
  if (!request.templates) return []
  return [
    ...(listing.includes('kit.yaml') ? ['kit.yaml'] : []),
    ...filesForCheck(listing, request, defaultPaths)
  ]
}

/** Loads the temporary repository and renders the service on every cluster using the set. */
function renderUsers(root: string, request: BumpRequest, problems: RenderProblem[]): string[] {
  const templates = request.templates!
  let repo
  try {
    repo = loadRepository(root)
  } catch (err) {
    if (err instanceof RenderFailedError) {
      problems.push(...err.problems)
      return []
    }
    throw err
  }
  // The set loads (parses, compiles, matches its record) whether or not a cluster uses it yet.
  const set = repo.readTemplateSet(templates.service, request.branch)
  if (set.status === 'broken') {
    problems.push(...set.problems)
    return []
  }
  const users = serviceTemplateUsers(repo, templates.service, request.branch)
  for (const cluster of users) {
    const render = renderCluster(repo, cluster, [templates.service], {
      env: anyEnvironment,
      secrets: new Set()
    })
    problems.push(...render.problems)
  }
  return users.map((c) => c.name)
}

/**
 * The build environment of the manifests repository's workflow is not known here: every
 * `env.*` placeholder reads as set (its value names the variable), so a template is checked
 * for what it can get wrong by itself.
 */
const anyEnvironment: Readonly<Record<string, string>> = new Proxy(
  {},
  {
    get: (_, key) => (typeof key === 'string' ? `env-${key.toLowerCase()}` : undefined),
    has: () => true,
    getOwnPropertyDescriptor: (_, key) => ({
      value: typeof key === 'string' ? `env-${key.toLowerCase()}` : undefined,
      enumerable: true,
      configurable: true,
      writable: false
    })
  }
)

/**
 * The bump writes where its settings say; the deploymentizer reads where kit.yaml says. When
 * they differ the templates (or the image) would land where no render looks: refused.
 */
function checkPaths(paths: RepositoryPaths, request: BumpRequest): RepositoryPaths {
  const templates = request.templates!
  const pairs = [
    ['serviceTemplates', templates.dir, 'service-templates-dir'],
    ['images', request.imagesDir, 'images-dir']
  ] as const
  for (const [key, given, input] of pairs) {
    if (repositoryDir(paths[key]) !== repositoryDir(given))
      throw new InputError(
        `the manifests repository's kit.yaml has paths.${key}: '${paths[key]}', but this bump writes to '${given}'; set ${input}: ${paths[key]}`
      )
  }
  return paths
}

/** The snapshot's files the render needs (see the module comment). */
function filesForCheck(
  listing: readonly string[],
  request: BumpRequest,
  paths: RepositoryPaths
): string[] {
  const templates = request.templates!
  const sources = new Set([request.imageName, ...imageSourcesOf(request)])
  const setPrefix = `${repositoryDir(templates.dir)}/${templates.service}/`
  const seen = new Set<string>()
  const otherRecords: string[] = []
  const under = (dir: string, p: string) => p.startsWith(dir === '' ? '' : `${dir}/`)
  const out = listing.filter((p) => {
    const layer = /^(.*?)\/?[^/]+\.ya?ml$/.exec(p)?.[1]
    if (layer === paths.groups || layer === paths.clusters) return true
    if ([...sources].some((s) => under(`${repositoryDir(paths.images)}/${s}`, p))) return true
    if (under(`${paths.services}/${templates.service}`, p)) return true
    if (p.startsWith(setPrefix)) return /^[^/]+\.yaml$/.test(p.slice(setPrefix.length))
    const other = new RegExp(`^${escape(repositoryDir(templates.dir))}/([^/]+)/[^/]+\\.yaml$`).exec(
      p
    )
    if (other && !seen.has(other[1])) {
      seen.add(other[1])
      otherRecords.push(p)
    }
    return false
  })
  return [...out, ...otherRecords]
}

/** The image sources the service's own kit.yaml names (`image`, `images.*`). */
function imageSourcesOf(request: BumpRequest): string[] {
  const kit = request.templates!.files.find((f) => f.path === 'kit.yaml')
  if (!kit) return []
  const { value } = loadYamlMapping(kit.content, `${request.templates!.sourcePath}/kit.yaml`)
  const out: string[] = []
  if (typeof value.image === 'string') out.push(value.image)
  if (value.images && typeof value.images === 'object')
    for (const v of Object.values(value.images)) if (typeof v === 'string') out.push(v)
  return out
}

function otherServiceFolders(
  listing: readonly string[],
  servicesDir: string,
  service: string
): string[] {
  const names = new Set<string>()
  const prefix = servicesDir === '' ? '' : `${servicesDir}/`
  for (const p of listing) {
    const m = p.startsWith(prefix) ? /^([^/]+)\//.exec(p.slice(prefix.length)) : null
    if (m && m[1] !== service) names.add(m[1])
  }
  return [...names]
}

/**
 * The check's scratch folder: it lives for one render and takes a few dozen small files per
 * bump. Where Linux offers a memory-backed folder (/dev/shm) it goes there, which on a
 * runner's disk makes those writes several times faster; elsewhere, the system's temp folder.
 */
function scratchFolder(): string {
  try {
    return mkdtempSync('/dev/shm/kit-template-check-')
  } catch {
    return mkdtempSync(join(tmpdir(), 'kit-template-check-'))
  }
}

/** Writes files under `root`, making each folder once. */
function writerInto(root: string): (path: string, content: string) => void {
  const made = new Set<string>()
  return (path, content) => {
    const full = join(root, path)
    if (!full.startsWith(`${root}/`))
      throw new InputError(`internal: ${path} leaves the check folder`)
    const folder = dirname(full)
    if (!made.has(folder)) mkdirSync(folder, { recursive: true })
    made.add(folder)
    writeFileSync(full, content)
  }
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}
