/**
 * Cluster selection and wave planning: which clusters a run deploys, and in which order of
 * waves. Pure; the action and the CLI feed it names from the manifests and credentials.
 */
import { InputError } from '../../errors.js'
import { matchesAnyGlob, matchesGlob } from '../../text/glob.js'
import type { Wave } from './types.js'

/** Whether `name` matches any of the globs (kit's one dialect: text/glob.ts). */
export function matchesAny(name: string, globs: readonly string[]): boolean {
  return matchesAnyGlob(name, globs)
}

/**
 * Selects clusters by name or glob (docs/manifests-format.md, "Globs"). An empty selection
 * means every cluster. A pattern that matches nothing is an error: a typo must not turn into a
 * green run that deployed nothing.
 */
export function selectClusters(
  available: readonly string[],
  patterns: readonly string[]
): string[] {
  if (patterns.length === 0) return [...available].sort()
  for (const p of patterns) {
    if (!available.some((c) => matchesGlob(c, p))) {
      throw new InputError(
        `cluster selection '${p}' matches none of the clusters (${available.join(', ') || 'none'})`
      )
    }
  }
  return available.filter((c) => matchesAny(c, patterns)).sort()
}

/** How waves are chosen: an ordered list of name/glob groups, or a cluster label. */
export type WaveSpec =
  | { readonly kind: 'none' }
  /** Each entry is one wave: names or globs separated by commas or spaces. */
  | { readonly kind: 'list'; readonly entries: readonly string[] }
  /** Clusters grouped by this label's value, in ascending order (numeric when all are numbers). */
  | {
      readonly kind: 'label'
      readonly label: string
      readonly labels: ReadonlyMap<string, Readonly<Record<string, string>>>
    }

/**
 * Splits the selected clusters into waves. A cluster goes into the first wave whose pattern
 * matches it; clusters no wave names (or without the label) form a last wave, so adding a
 * cluster never silently drops it from a run — and it never jumps ahead of an earlier wave.
 */
export function planWaves(clusters: readonly string[], spec: WaveSpec): Wave[] {
  if (spec.kind === 'none') return clusters.length ? [{ name: 'all', clusters: [...clusters] }] : []
  const waves: Wave[] = []
  const placed = new Set<string>()
  if (spec.kind === 'list') {
    spec.entries.forEach((entry, i) => {
      const globs = entry
        .split(/[\s,]+/)
        .map((s) => s.trim())
        .filter(Boolean)
      const members = clusters.filter((c) => !placed.has(c) && matchesAny(c, globs))
      members.forEach((c) => placed.add(c))
      if (members.length) waves.push({ name: `${i + 1} (${globs.join(', ')})`, clusters: members })
    })
  } else {
    const values = new Map<string, string[]>()
    for (const c of clusters) {
      const v = spec.labels.get(c)?.[spec.label]
      if (v === undefined) continue
      values.set(v, [...(values.get(v) ?? []), c])
      placed.add(c)
    }
    const keys = [...values.keys()]
    const numeric = keys.every((k) => /^-?\d+(\.\d+)?$/.test(k))
    keys.sort((a, b) => (numeric ? Number(a) - Number(b) : a.localeCompare(b)))
    for (const k of keys) waves.push({ name: `${spec.label}=${k}`, clusters: values.get(k)! })
  }
  const rest = clusters.filter((c) => !placed.has(c))
  if (rest.length) waves.push({ name: 'rest', clusters: rest })
  return waves
}
