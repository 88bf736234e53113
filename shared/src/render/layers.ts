/**
 * A service's settings on a cluster, resolved through the layers once, and the choice of its
 * templates made from them. The one implementation of layer order: the render (render.ts) and
 * the image-deployer's check (which clusters render a set) both call it.
 */
import { lineOf, type LoadedDocument } from '../yaml/index.js'
import type { PlainMap } from './merge.js'
import type { RenderProblem } from './problems.js'
import type {
  ClusterDefinition,
  Layer,
  ManifestRepository,
  MissingImagePolicy,
  SettingOrigin,
  TemplatesSource
} from './repository.js'

/** One layer of values and where it sits (file, and the path of `values` inside it). */
export interface ValueLayer {
  readonly file: string
  readonly doc?: LoadedDocument
  readonly at: readonly string[]
  readonly values: PlainMap
}

/** A setting's value, the setting that made it and its line. */
export interface Setting<T> {
  readonly value: T
  readonly from: SettingOrigin
  readonly line?: number
}

/** What kit.yaml, the groups and the cluster say about one service (not its own files). */
export interface LayeredSettings {
  /** Set only when a group or the cluster sets `enabled` for the service. */
  readonly enabled?: boolean
  /** The file that set `enabled`. */
  readonly enabledBy?: string
  readonly branch: string
  /** The setting that chose the branch; undefined for kit's own default. */
  readonly branchFrom?: SettingOrigin
  readonly missingImage: MissingImagePolicy
  /** `templates:`, lowest in a repository-owned service's own kit.yaml. */
  readonly templates?: Setting<TemplatesSource>
  readonly templatesBranch?: Setting<string>
  readonly pins: { image?: string; images: Record<string, string> }
  /** The setting behind each pin. */
  readonly pinnedBy: { image?: SettingOrigin; images: Record<string, SettingOrigin> }
  /** Values of the groups and the cluster, lowest first (the service's own come before). */
  readonly valueLayers: readonly ValueLayer[]
}

/**
 * Resolves what the layers say about service `name` on a cluster. Order, lowest first:
 * kit.yaml defaults (and, for `templates`, the repository-owned service's kit.yaml), then each
 * group in the cluster's order (its general settings, then its per-service entry), then the
 * cluster (general, then per-service). The order is by layer first: a cluster's general
 * `branch` is later than, and so beats, a group's per-service one. Which setting won is kept.
 */
export function resolveLayers(
  repo: ManifestRepository,
  cluster: ClusterDefinition,
  name: string
): LayeredSettings {
  let enabled: boolean | undefined
  let enabledBy: string | undefined
  let branch = repo.defaults.branch
  let branchFrom = repo.defaults.branchFrom
  let missingImage = repo.defaults.missingImage
  const own = repo.services.get(name)
  let templates: Setting<TemplatesSource> | undefined = own?.templatesSetting && {
    ...own.templatesSetting,
    from: { file: `${own.dir}/kit.yaml`, key: 'templates' }
  }
  let templatesBranch: Setting<string> | undefined
  const pins: LayeredSettings['pins'] = { images: {} }
  const pinnedBy: LayeredSettings['pinnedBy'] = { images: {} }
  const valueLayers: ValueLayer[] = []
  const layers: Layer[] = [...cluster.groups.map((g) => repo.groups.get(g)!), cluster]
  for (const layer of layers) {
    if (layer.branch !== undefined) {
      branch = layer.branch
      branchFrom = { file: layer.file, key: 'branch' }
    }
    if (layer.missingImage !== undefined) missingImage = layer.missingImage
    if (layer.values)
      valueLayers.push({ file: layer.file, doc: layer.doc, values: layer.values, at: ['values'] })
    const mine = layer.services?.[name]
    if (!mine) continue
    const key = `services.${name}`
    const setting = <T>(value: T, field: string): Setting<T> => ({
      value,
      from: { file: layer.file, key: `${key}.${field}` },
      line: layer.doc ? lineOf(layer.doc, ['services', name, field]) : undefined
    })
    if (mine.enabled !== undefined) {
      enabled = mine.enabled
      enabledBy = layer.file
    }
    if (mine.branch !== undefined) {
      branch = mine.branch
      branchFrom = { file: layer.file, key: `${key}.branch` }
    }
    if (mine.missingImage !== undefined) missingImage = mine.missingImage
    if (mine.templates !== undefined) templates = setting(mine.templates, 'templates')
    if (mine.templatesBranch !== undefined)
      templatesBranch = setting(mine.templatesBranch, 'templatesBranch')
    if (mine.image !== undefined) {
      pins.image = mine.image
      pinnedBy.image = { file: layer.file, key: `${key}.image` }
    }
    for (const [image, ref] of Object.entries(mine.images ?? {})) {
      pins.images[image] = ref
      pinnedBy.images[image] = { file: layer.file, key: `${key}.images.${image}` }
    }
    if (mine.values) {
      valueLayers.push({
        file: layer.file,
        doc: layer.doc,
        values: mine.values,
        at: ['services', name, 'values']
      })
    }
  }
  return {
    ...(enabled !== undefined ? { enabled, enabledBy } : {}),
    branch,
    branchFrom,
    missingImage,
    ...(templates ? { templates } : {}),
    ...(templatesBranch ? { templatesBranch } : {}),
    pins,
    pinnedBy,
    valueLayers
  }
}

/** The templates a service renders with on a cluster, or why it cannot be decided. */
export type TemplatesChoice =
  | { readonly source: 'repository'; readonly chosenBy?: SettingOrigin }
  | {
      readonly source: 'service'
      /** The set's branch: the pin, or the branch the service follows. */
      readonly branch: string
      /** The `templates:` setting, when one chose. */
      readonly chosenBy?: SettingOrigin
      /** The `templatesBranch:` pin, when one is set. */
      readonly pinnedBy?: SettingOrigin
    }
  /** `ambiguous`: both sources exist and no setting chooses. */
  | { readonly problem: RenderProblem; readonly ambiguous?: true }

/**
 * Chooses between `services/<name>/` and `service-templates/<name>/`: the resolved `templates`
 * setting when one is made; otherwise the only one that exists; both and no setting is an
 * error, not a guess. `owned` says whether service-owned templates exist (the image-deployer's
 * check asks as if its set were there already).
 */
export function chooseTemplates(
  repo: ManifestRepository,
  name: string,
  layered: LayeredSettings,
  owned: boolean = repo.serviceTemplates.has(name)
): TemplatesChoice {
  // Folders are named only in problems: this runs for every service on every cluster.
  const repositoryDir = () => folderOf(repo.paths.services, name)
  const serviceDir = () => folderOf(repo.paths.serviceTemplates, name)
  const inRepository = repo.services.has(name)
  const setting = layered.templates
  let source: TemplatesSource
  if (setting) {
    const where = { file: setting.from.file, line: setting.line }
    if (setting.value === 'repository' && !inRepository)
      return {
        problem: {
          message: `${setting.from.key} is 'repository', but there is no ${repositoryDir()}${owned ? ` (the service's templates are in ${serviceDir()})` : ''}`,
          ...where
        }
      }
    if (setting.value === 'service' && !owned)
      return {
        problem: {
          message: `${setting.from.key} is 'service', but ${serviceDir()} holds no templates record (the image-deployer writes them with the image when its templates input is set)`,
          ...where
        }
      }
    source = setting.value
  } else if (inRepository && owned) {
    return {
      ambiguous: true,
      problem: {
        message: `templates in both ${repositoryDir()} and ${serviceDir()}: set services.${name}.templates to repository or service in a group or cluster file, see docs/service-owned-templates.md`
      }
    }
  } else if (inRepository || owned) source = owned ? 'service' : 'repository'
  else return { problem: { message: `unknown service '${name}'` } }
  const chosenBy = setting?.from
  if (source === 'repository') return { source, ...(chosenBy ? { chosenBy } : {}) }
  const pin = layered.templatesBranch
  return {
    source,
    branch: pin?.value ?? layered.branch,
    ...(chosenBy ? { chosenBy } : {}),
    ...(pin ? { pinnedBy: pin.from } : {})
  }
}

/**
 * The enabled clusters that render `service`'s own templates for `branch` (the clusters the
 * image-deployer's check renders before a commit carrying that set), in name order. The choice
 * is made as if the set existed (it will once the commit lands); a cluster where both sources
 * exist and nothing chooses is included, so its render reports the ambiguity that commit
 * would leave behind.
 */
export function serviceTemplateUsers(
  repo: ManifestRepository,
  service: string,
  branch: string
): ClusterDefinition[] {
  const users: ClusterDefinition[] = []
  const clusters = [...repo.clusters.values()].sort((a, b) =>
    a.name < b.name ? -1 : a.name > b.name ? 1 : 0
  )
  for (const cluster of clusters) {
    if (!cluster.enabled) continue
    const layered = resolveLayers(repo, cluster, service)
    if (layered.enabled === false) continue
    const choice = chooseTemplates(repo, service, layered, true)
    if ('problem' in choice) {
      if (choice.ambiguous) users.push(cluster)
    } else if (choice.source === 'service' && choice.branch === branch) users.push(cluster)
  }
  return users
}

/** `services/api/`, `api/` for the repository's root. */
function folderOf(dir: string, name: string): string {
  const d = dir.replace(/^(\.?\/)+/, '').replace(/\/+$/, '')
  return d === '' || d === '.' ? `${name}/` : `${d}/${name}/`
}
