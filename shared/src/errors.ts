/**
 * An error caused by the user's input (a file, an input, a cluster setting), as opposed to a
 * bug. It carries where the problem is, so an action can annotate the file and line in a PR,
 * and so every message reads "what is wrong, and where".
 */
export class InputError extends Error {
  constructor(
    message: string,
    readonly where: { file?: string; line?: number; column?: number } = {}
  ) {
    super(
      where.file
        ? `${where.file}${where.line ? `:${where.line}` : ''}${where.column ? `:${where.column}` : ''}: ${message}`
        : message
    )
    this.name = 'InputError'
  }
}
