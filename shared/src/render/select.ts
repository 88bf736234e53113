/** Which clusters and services a render covers: by name, group, label; disabled ones listed. */
import { InputError } from '../errors.js'
import { matchesSelector, parseSelector, type Requirement } from '../k8s/selector.js'
import { matchesAnyGlob, matchesGlob } from '../text/glob.js'
import type { ClusterDefinition, ManifestRepository } from './repository.js'

/** What the user asked for. Empty lists mean "all". Within a list any entry matches (OR);
 * across lists every condition must hold (AND); every label requirement must hold. */
export interface Selection {
  /** Cluster names or globs (text/glob.ts), as the deployer's `clusters`. */
  readonly clusters?: readonly string[]
  readonly groups?: readonly string[]
  /** A Kubernetes label selector, possibly split into several entries (see parseLabelSelection). */
  readonly labels?: readonly string[]
  readonly services?: readonly string[]
}

export interface SelectedSet {
  /** Enabled clusters to render, sorted by name. */
  readonly clusters: readonly ClusterDefinition[]
  /** Clusters the selection matched but that are disabled (their output is removed). */
  readonly disabled: readonly string[]
  /** Names of the services to render (repository-owned, service-owned or both), sorted. */
  readonly services: readonly string[]
  /** True when not every cluster is covered (so other clusters' output must be kept). */
  readonly partialClusters: boolean
  /** True when not every service is covered (so other services' output must be kept). */
  readonly partialServices: boolean
}

/**
 * The label requirements of a selection: its entries joined with commas and read as one
 * Kubernetes label selector (k8s/selector.ts; entries may themselves hold several
 * requirements, and a list input split at commas is put back together, so `region in (eu,us)`
 * survives). Throws an InputError naming the selector, the requirement and its expected form.
 */
export function parseLabelSelection(labels: readonly string[] | undefined): Requirement[] {
  return labels && labels.length > 0 ? parseSelector(labels.join(','), 'label selector') : []
}

/**
 * Applies a selection. Names that do not exist, cluster globs that match no cluster and groups
 * no cluster is in are errors (a typo must not render nothing); so is a selection that matches
 * no enabled cluster.
 */
export function selectTargets(repo: ManifestRepository, selection: Selection): SelectedSet {
  const unknown = (
    what: string,
    names: readonly string[] | undefined,
    known: ReadonlyMap<string, unknown> | ReadonlySet<string>,
    matches: (name: string, known: string) => boolean = (n, k) => n === k
  ) => {
    const missing = (names ?? []).filter(
      (n) => !known.has(n) && ![...known.keys()].some((k) => matches(n, k))
    )
    if (missing.length > 0) {
      throw new InputError(
        `unknown ${what} ${missing.map((n) => `'${n}'`).join(', ')} (known: ${[...known.keys()].join(', ') || 'none'})`
      )
    }
  }
  unknown('cluster', selection.clusters, repo.clusters, (n, k) => matchesGlob(k, n))
  unknown('group', selection.groups, repo.groups)
  // A group no cluster is in selects nothing, as a cluster glob that matches none would.
  const empty = (selection.groups ?? []).filter(
    (g) => ![...repo.clusters.values()].some((c) => c.groups.includes(g))
  )
  if (empty.length > 0) {
    throw new InputError(
      `${empty.length === 1 ? 'group' : 'groups'} ${empty.map((g) => `'${g}'`).join(', ')} ${empty.length === 1 ? 'has' : 'have'} no clusters (no cluster file lists ${empty.length === 1 ? 'it' : 'them'} under groups:)`
    )
  }
  unknown('service', selection.services, new Set(repo.serviceNames))
  const labelRequirements = parseLabelSelection(selection.labels)
  const names = selection.clusters ?? []
  const groups = new Set(selection.groups ?? [])
  const matched = [...repo.clusters.values()].filter(
    (c) =>
      (names.length === 0 || matchesAnyGlob(c.name, names)) &&
      (groups.size === 0 || c.groups.some((g) => groups.has(g))) &&
      matchesSelector(c.labels, labelRequirements)
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
  const services = repo.serviceNames.filter((s) => serviceNames.size === 0 || serviceNames.has(s))
  return {
    clusters,
    disabled,
    services,
    partialClusters: matched.length !== repo.clusters.size,
    partialServices: services.length !== repo.serviceNames.length
  }
}

/** Plain code-unit order: the same on every machine and locale. */
export function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}
