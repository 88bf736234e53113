/** Which clusters and services a render covers: by name, group, label; disabled ones listed. */
import { InputError } from '../errors.js'
import type { ClusterDefinition, ManifestRepository, ServiceDefinition } from './repository.js'

/** What the user asked for. Empty lists mean "all". Within a list any entry matches (OR);
 * across lists every condition must hold (AND); every label requirement must hold. */
export interface Selection {
  readonly clusters?: readonly string[]
  readonly groups?: readonly string[]
  /** `key=value`, `key!=value`, `key` (has the label) or `!key` (does not). */
  readonly labels?: readonly string[]
  readonly services?: readonly string[]
}

export interface SelectedSet {
  /** Enabled clusters to render, sorted by name. */
  readonly clusters: readonly ClusterDefinition[]
  /** Clusters the selection matched but that are disabled (their output is removed). */
  readonly disabled: readonly string[]
  /** Services to render, sorted by name. */
  readonly services: readonly ServiceDefinition[]
  /** True when not every cluster is covered (so other clusters' output must be kept). */
  readonly partialClusters: boolean
  /** True when not every service is covered (so other services' output must be kept). */
  readonly partialServices: boolean
}

type LabelRequirement = (labels: Readonly<Record<string, string>>) => boolean

/** Parses one label requirement; throws InputError naming the bad text. */
export function parseLabelRequirement(text: string): LabelRequirement {
  const t = text.trim()
  const key = '[A-Za-z0-9]([-A-Za-z0-9_./]*[A-Za-z0-9])?'
  const value = '[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?'
  let m: RegExpExecArray | null
  if ((m = new RegExp(`^(${key})\\s*(!=|==|=)\\s*(${value})?$`).exec(t))) {
    const [k, op, v = ''] = [m[1], m[3], m[4]]
    return op === '!=' ? (l) => l[k] !== v : (l) => l[k] === v
  }
  if ((m = new RegExp(`^(!)?\\s*(${key})$`).exec(t))) {
    const [neg, k] = [m[1] === '!', m[2]]
    return (l) => Object.hasOwn(l, k) !== neg
  }
  throw new InputError(`label selector '${text}' must look like key=value, key!=value, key or !key`)
}

/**
 * Applies a selection. Names that do not exist are errors (a typo must not render nothing);
 * so is a selection that matches no enabled cluster.
 */
export function selectTargets(repo: ManifestRepository, selection: Selection): SelectedSet {
  const unknown = (
    what: string,
    names: readonly string[] | undefined,
    known: ReadonlyMap<string, unknown>
  ) => {
    const missing = (names ?? []).filter((n) => !known.has(n))
    if (missing.length > 0) {
      throw new InputError(
        `unknown ${what} ${missing.map((n) => `'${n}'`).join(', ')} (known: ${[...known.keys()].join(', ') || 'none'})`
      )
    }
  }
  unknown('cluster', selection.clusters, repo.clusters)
  unknown('group', selection.groups, repo.groups)
  unknown('service', selection.services, repo.services)
  const labelRequirements = (selection.labels ?? []).map(parseLabelRequirement)
  const names = new Set(selection.clusters ?? [])
  const groups = new Set(selection.groups ?? [])
  const matched = [...repo.clusters.values()].filter(
    (c) =>
      (names.size === 0 || names.has(c.name)) &&
      (groups.size === 0 || c.groups.some((g) => groups.has(g))) &&
      labelRequirements.every((req) => req(c.labels))
  )
  const clusters = matched.filter((c) => c.enabled).sort((a, b) => compare(a.name, b.name))
  const disabled = matched
    .filter((c) => !c.enabled)
    .map((c) => c.name)
    .sort(compare)
  if (clusters.length === 0) {
    throw new InputError(
      matched.length > 0
        ? `every selected cluster is disabled (${disabled.join(', ')})`
        : repo.clusters.size === 0
          ? `no cluster files found in ${repo.paths.clusters}/`
          : 'no cluster matches the selection'
    )
  }
  const serviceNames = new Set(selection.services ?? [])
  const services = [...repo.services.values()]
    .filter((s) => serviceNames.size === 0 || serviceNames.has(s.name))
    .sort((a, b) => compare(a.name, b.name))
  return {
    clusters,
    disabled,
    services,
    partialClusters: matched.length !== repo.clusters.size,
    partialServices: services.length !== repo.services.size
  }
}

/** Plain code-unit order: the same on every machine and locale. */
export function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}
