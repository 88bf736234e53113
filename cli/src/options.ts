/**
 * The CLI side of the option tables (shared/src/options): parses a command's flags into the
 * same typed values the actions read, with the same validators and defaults, and writes the
 * options part of its --help. A flag is the action input's name; booleans also take `--no-x`;
 * an earlier spelling is refused naming the new one.
 */
import { parseArgs } from 'node:util'
import {
  cliLabel,
  cliOptions,
  defaultText,
  type Option,
  type Table,
  type Values
} from '../../shared/src/options/table.js'
import { checkLength } from '../../shared/src/options/validate.js'
import { UsageError } from './command.js'
import { didYouMean } from './suggest.js'

/** Refuses the earlier spelling of a renamed flag, naming the flag to use instead. */
function refuseRenamed(table: Table, args: readonly string[]): void {
  for (const arg of args) {
    if (arg === '--') return
    if (!arg.startsWith('--')) continue
    const given = arg.slice(2).split('=')[0]
    for (const o of cliOptions(table)) {
      const old = o.cli === false ? undefined : o.cli.renamedFrom?.find((r) => r === given)
      if (old === undefined) continue
      const now = old.startsWith('no-') && o.flag ? `--no-${o.name}` : `--${o.name}`
      throw new UsageError(`--${old} is now ${now} (the same name as the action input)`)
    }
  }
}

/**
 * Refuses what Node's parseArgs would refuse, in kit's words: an unknown flag (naming the nearest
 * known one), a flag given a value it does not take, a flag missing its value.
 */
function checkFlags(table: Table, args: readonly string[]): void {
  const options = cliOptions(table)
  const known = [
    ...options.map((o) => o.name),
    ...options.filter((o) => o.flag).map((o) => `no-${o.name}`),
    'help'
  ]
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]
    if (arg === '--') return
    if (!arg.startsWith('-') || arg === '-') continue
    const long = arg.startsWith('--')
    const [given, value] = long ? splitOnce(arg.slice(2), '=') : [arg.slice(1, 2), arg.slice(2)]
    const shown = long ? `--${given}` : `-${given}`
    const option = long
      ? (options.find((o) => o.name === given) ??
        options.find((o) => o.flag && `no-${o.name}` === given))
      : options.find((o) => o.cli !== false && o.cli.short === given)
    if (!option) {
      // An action input the CLI takes another way (a secret from the environment, a
      // GitHub-only input) is named as such, not just refused.
      const inputOnly = long ? Object.values(table).find((o) => o.name === given) : undefined
      if (inputOnly?.cli === false)
        throw new UsageError(
          `${shown} is an action input with no kit flag${inputOnly.cliNote ? ` (${inputOnly.cliNote.replace(/`/g, '')})` : ''}`
        )
      throw new UsageError(
        `unknown option ${shown}${long ? didYouMean(given, known, (w) => `--${w}`) : ''}`
      )
    }
    if (option.flag) {
      if (long ? value !== undefined : value !== '')
        throw new UsageError(
          `${shown} takes no value (it is on or off: --${option.name} or --no-${option.name})`
        )
      continue
    }
    // `--x=` gives an empty value; `-x` alone takes the next argument as `--x` alone does.
    if (long ? value !== undefined : value !== '') continue
    const next = args[i + 1]
    if (next === undefined || (next.startsWith('-') && next !== '-'))
      throw new UsageError(
        `${shown} needs a value${next === undefined ? '' : ` (write ${shown}=${next} if the value starts with -)`}`
      )
    i++
  }
}

/** `a=b=c` → ['a', 'b=c']; no separator → [text, undefined]. */
function splitOnce(text: string, separator: string): [string, string | undefined] {
  const at = text.indexOf(separator)
  return at < 0 ? [text, undefined] : [text.slice(0, at), text.slice(at + separator.length)]
}

/** Parses `args` into the table's values; at most one positional, for the positional option. */
export function parseFlags<T extends Table>(table: T, args: string[]): Values<T> {
  refuseRenamed(table, args)
  checkFlags(table, args)
  const options: Record<
    string,
    { type: 'string' | 'boolean'; multiple?: boolean; short?: string }
  > = {}
  for (const o of cliOptions(table)) {
    const cli = o.cli === false ? {} : o.cli
    options[o.name] = {
      type: o.flag ? 'boolean' : 'string',
      ...(o.type === 'list' || o.type === 'lines' ? { multiple: true } : {}),
      ...(cli.short ? { short: cli.short } : {})
    }
  }
  const { values, positionals } = parseArgsInKitWords(args, options)
  const positional = cliOptions(table).find((o) => o.cli !== false && o.cli.positional)
  if (positionals.length > (positional ? 1 : 0))
    throw new UsageError(
      positional
        ? `expected at most one ${positional.name} argument, got ${positionals.join(' ')}`
        : `unexpected argument ${positionals.join(' ')}`
    )
  const out: Record<string, unknown> = {}
  for (const [key, o] of Object.entries(table)) {
    if (o.cli === false) {
      out[key] = o.default
      continue
    }
    let raw = values[o.name] as string | string[] | boolean | undefined
    if (o.cli.positional && positionals.length > 0) {
      if (raw !== undefined)
        throw new UsageError(
          `give the ${o.name} either as the argument or as --${o.name}, not both`
        )
      raw = positionals[0]
    }
    if (typeof raw === 'boolean') out[key] = raw
    else {
      const text = Array.isArray(raw) ? raw.join('\n') : (raw ?? '')
      checkLength(text, cliLabel(o.name), o.maxChars)
      out[key] = text === '' ? o.default : o.parse(text, cliLabel(o.name))
    }
  }
  return out as Values<T>
}

/**
 * Node's parseArgs, its errors (checkFlags catches the common ones first) reworded as kit's usage
 * errors: its own text suggests quoting with `--`, which is not what a mistyped flag needs.
 */
function parseArgsInKitWords(
  args: string[],
  options: Record<string, { type: 'string' | 'boolean'; multiple?: boolean; short?: string }>
): { values: Record<string, unknown>; positionals: string[] } {
  try {
    return parseArgs({ args, options, allowPositionals: true, allowNegative: true })
  } catch (e) {
    if (e instanceof Error && String((e as { code?: unknown }).code).startsWith('ERR_PARSE_ARGS'))
      throw new UsageError(e.message.split('. ')[0].replace(/^Option '([^']+)'/, '$1'))
    throw e
  }
}

const flagColumn = 30

/** The --help lines of `options` (a table's options with a CLI flag), doc lines wrapped. */
export function helpLines(options: readonly Option<unknown>[], width = 100): string[] {
  const lines: string[] = []
  for (const o of options) {
    if (o.cli === false) continue
    const flag = o.flag
      ? o.default === true
        ? `--[no-]${o.name}`
        : `--${o.name}`
      : `--${o.name} ${o.cli.arg ?? '<value>'}`
    const fallback = o.flag ? (o.default === true ? 'on' : '') : defaultText(o)
    const doc = `${o.cli.doc ?? o.doc}${fallback && !/\bdefault/i.test(o.cli.doc ?? o.doc) ? ` (default ${fallback})` : ''}`
    const words = doc.split(/\s+/)
    let line = `  ${flag}`.padEnd(flagColumn)
    if (line.length > flagColumn - 2 && line.trimEnd().length > flagColumn - 2) {
      lines.push(line.trimEnd())
      line = ' '.repeat(flagColumn)
    }
    let empty = true
    for (const w of words) {
      if (!empty && line.length + 1 + w.length > width) {
        lines.push(line)
        line = ' '.repeat(flagColumn) + w
      } else {
        line += (empty ? '' : ' ') + w
      }
      empty = false
    }
    lines.push(line)
  }
  return lines
}

/** The options of `table` named in `names`, in that order (for a help section). */
export function pick(table: Table, names: readonly (keyof Table)[]): Option<unknown>[] {
  return names.map((n) => table[n])
}
