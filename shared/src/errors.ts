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
        ? `${printablePath(where.file)}${where.line ? `:${where.line}` : ''}${where.column ? `:${where.column}` : ''}: ${message}`
        : message
    )
    this.name = 'InputError'
  }
}

/** Longest part of a value an error message quotes. */
export const maxQuotedLength = 80

/**
 * Line breaks and other control characters escaped (`\n`, `\u0007`): a file or folder name
 * can hold them, and printed raw they would split an error line, or forge a log line or a
 * workflow command.
 */
export function escapeControl(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (c) => {
    const named: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' }
    return named[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`
  })
}

/** A path as a message shows it: control characters escaped (see escapeControl). */
export function printablePath(path: string): string {
  return escapeControl(path)
}

/**
 * A value as an error message quotes it: in single quotes, line breaks and other control
 * characters escaped (so a value cannot add lines to a log or forge a workflow command), and
 * cut after `max` characters with its length, so a 100 KB input does not become a 100 KB
 * error line: `'aaaa…' (122880 characters)`.
 */
export function quoteValue(value: string, max = maxQuotedLength): string {
  if (value.length <= max) return `'${escapeControl(value)}'`
  return `'${escapeControl(value.slice(0, max))}…' (${value.length} characters)`
}
