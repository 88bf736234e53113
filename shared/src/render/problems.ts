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
  readonly service?: string
}

/** `file:line[:column]: cluster c, service s: message`, the form every message takes. */
export function formatProblem(p: RenderProblem): string {
  const where = p.file
    ? `${printablePath(p.file)}${p.line ? `:${p.line}${p.column ? `:${p.column}` : ''}` : ''}: `
    : ''
  const scope = [p.cluster && `cluster ${p.cluster}`, p.service && `service ${p.service}`]
    .filter(Boolean)
    .join(', ')
  return `${where}${scope ? `${scope}: ` : ''}${p.message}`
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
