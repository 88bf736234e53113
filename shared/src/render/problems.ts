/** Problems found while loading or rendering, all reported together. */

/** One problem: what is wrong and where (file, line, cluster, service when known). */
export interface RenderProblem {
  readonly message: string
  /** Repository-relative path. */
  readonly file?: string
  readonly line?: number
  readonly cluster?: string
  readonly service?: string
}

/** `file:line: cluster c, service s: message`, the form every message takes. */
export function formatProblem(p: RenderProblem): string {
  const where = p.file ? `${p.file}${p.line ? `:${p.line}` : ''}: ` : ''
  const scope = [p.cluster && `cluster ${p.cluster}`, p.service && `service ${p.service}`]
    .filter(Boolean)
    .join(', ')
  return `${where}${scope ? `${scope}: ` : ''}${p.message}`
}

/** The render failed; nothing was written. Carries every problem found. */
export class RenderFailedError extends Error {
  constructor(readonly problems: readonly RenderProblem[]) {
    super(
      problems.length === 1
        ? formatProblem(problems[0])
        : `${problems.length} problems:\n` + problems.map((p) => `  ${formatProblem(p)}`).join('\n')
    )
    this.name = 'RenderFailedError'
  }
}
