/** Problems found while loading or rendering, all reported together. */
import { printablePath } from '../errors.js'
import { plural } from '../text/plural.js'

/** One problem: what is wrong and where (file, line, column, cluster, service when known). */
export interface RenderProblem {
  readonly message: string
  /** Repository-relative path. */
  readonly file?: string
  readonly line?: number
  /** 1-based column, for YAML syntax errors. */
  readonly column?: number
  readonly cluster?: string
  /**
   * Every cluster the same problem was found on, when more than one: a missing env value or a
   * broken image file is one problem, reported once with its clusters, not once per cluster.
   */
  readonly clusters?: readonly string[]
  readonly service?: string
}

/** How many problems are reported before the rest are summarised as a count. */
export const maxReportedProblems = 50

/** Cluster names a problem lists before `and N more`. */
const maxClustersNamed = 5

/** `file:line[:column]: cluster c, service s: message`, the form every message takes. */
export function formatProblem(p: RenderProblem): string {
  const where = p.file
    ? `${printablePath(p.file)}${p.line ? `:${p.line}${p.column ? `:${p.column}` : ''}` : ''}: `
    : ''
  const scope = [clusterScope(p), p.service && `service ${p.service}`].filter(Boolean).join(', ')
  return `${where}${scope ? `${scope}: ` : ''}${p.message}`
}

function clusterScope(p: RenderProblem): string | undefined {
  const names = p.clusters && p.clusters.length > 1 ? p.clusters : undefined
  if (!names) return p.cluster && `cluster ${p.cluster}`
  const shown = names.slice(0, maxClustersNamed).join(', ')
  return names.length > maxClustersNamed
    ? `clusters ${shown} and ${names.length - maxClustersNamed} more`
    : `clusters ${shown}`
}

/**
 * Gathers a run's problems: each distinct problem once (a problem found on several clusters
 * keeps the list of them), the first `maxReportedProblems` kept in the order found, the rest
 * counted. So one missing value on a hundred clusters cannot hide every other problem.
 */
export class ProblemList {
  /** Each distinct problem (without its clusters) and the clusters it was found on. */
  private readonly kept = new Map<
    string,
    { problem: Omit<RenderProblem, 'cluster' | 'clusters'>; clusters: string[] }
  >()
  /** Keys of the distinct problems past the limit (counted, not kept). */
  private readonly rest = new Set<string>()

  add(p: RenderProblem): void {
    const { cluster, clusters, ...where } = p
    const key = JSON.stringify([where.file, where.line, where.column, where.service, where.message])
    const names = clusters ?? (cluster !== undefined ? [cluster] : [])
    const known = this.kept.get(key)
    if (known) {
      for (const n of names) if (!known.clusters.includes(n)) known.clusters.push(n)
    } else if (this.kept.size < maxReportedProblems) {
      this.kept.set(key, { problem: where, clusters: [...names] })
    } else this.rest.add(key)
  }

  /** How many distinct problems were found. */
  get total(): number {
    return this.kept.size + this.rest.size
  }

  /** The kept problems (with their clusters), then one line counting the rest. */
  list(): RenderProblem[] {
    const out: RenderProblem[] = [...this.kept.values()].map(({ problem, clusters }) => {
      if (clusters.length === 0) return problem
      return clusters.length === 1 ? { ...problem, cluster: clusters[0] } : { ...problem, clusters }
    })
    if (this.rest.size > 0)
      out.push({
        message: `... and ${plural(this.rest.size, 'more problem', 'more problems')}`
      })
    return out
  }

  /** The error for a failed render: every problem (capped), with the count. */
  failure(scrub: (message: string) => string = (m) => m): RenderFailedError {
    return new RenderFailedError(
      this.list().map((p) => ({ ...p, message: scrub(p.message) })),
      this.total
    )
  }
}

/** A failure from a list of problems, collapsed and capped as ProblemList does. */
export function renderFailure(problems: readonly RenderProblem[]): RenderFailedError {
  const list = new ProblemList()
  for (const p of problems) list.add(p)
  return list.failure()
}

/** The render failed; nothing was written. Carries every problem found (up to a limit). */
export class RenderFailedError extends Error {
  /** How many problems were found; more than `problems` holds when the list was cut short. */
  readonly total: number

  constructor(
    readonly problems: readonly RenderProblem[],
    total?: number
  ) {
    super(
      problems.length === 1
        ? formatProblem(problems[0])
        : `${plural(total ?? problems.length, 'problem')}:\n` +
            problems.map((p) => `  ${formatProblem(p)}`).join('\n')
    )
    this.name = 'RenderFailedError'
    this.total = total ?? problems.length
  }
}
