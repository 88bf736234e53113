/**
 * One option table per use case (render, image deploy, deploy): every setting once, with its
 * name (the action input and the CLI flag are the same words), type, default, validator and
 * doc line. The actions' input readers (shared/src/action/options.ts), the CLI's parser and
 * help (cli/src/options.ts), action.yml's inputs and the docs' tables all come from a table.
 */

/** What kind of value an option holds (shown in the docs; the validator enforces it). */
export type OptionType =
  | 'text'
  | 'boolean'
  | 'integer'
  | 'duration'
  | 'time'
  | 'list'
  | 'lines'
  | 'choice'
  | 'url'
  | 'document'

/** How the CLI spells an option, when it has a CLI form. */
export interface CliForm {
  /** Also accepted as the command's one positional argument (e.g. the manifests folder). */
  readonly positional?: boolean
  /** A one-letter alias. */
  readonly short?: string
  /** Earlier spellings: refused with a message naming the flag (exit 2). */
  readonly renamedFrom?: readonly string[]
  /** The value's placeholder in --help, e.g. `<dur>`. */
  readonly arg?: string
  /** The CLI's own doc line, when its value means something else (a file instead of text). */
  readonly doc?: string
}

/** One option: what both front-ends read, validate and document the same way. */
export interface Option<T> {
  /** The action input and the CLI flag (kebab-case); set by defineTable from the key. */
  readonly name: string
  readonly type: OptionType
  /** One doc line: action.yml's description, the README table and --help. */
  readonly doc: string
  /** The value when the input or flag is unset. */
  readonly default: T
  /** action.yml's default when it is not the default's plain form (`${{ github.token }}`). */
  readonly defaultText?: string
  /** action.yml's `required`. */
  readonly required?: boolean
  /** Characters accepted (whole documents pass Infinity). */
  readonly maxChars?: number
  /** Validates a non-empty raw value; `label` names it (`Input 'x'` or `--x`) in errors. */
  readonly parse: (raw: string, label: string) => T
  /** False: no action input (a CLI-only flag such as --json). */
  readonly action: boolean
  /** False: no CLI flag (the action-only `token`; the CLI reads it from the environment). */
  readonly cli: CliForm | false
  /** Why there is no CLI flag, or what the CLI does instead (the docs' flag table). */
  readonly cliNote?: string
  /** The CLI takes the value as a flag without an argument (`--prune`, `--no-wait`). */
  readonly flag: boolean
}

/** An option before defineTable names it. */
export type OptionDraft<T> = Omit<Option<T>, 'name' | 'action' | 'cli' | 'flag'> & {
  readonly action?: boolean
  readonly cli?: CliForm | false
  readonly flag?: boolean
}

export type Table = Readonly<Record<string, Option<unknown>>>

/** The typed values a table reads into, keyed like the table. */
export type Values<T extends Table> = {
  -readonly [K in keyof T]: T[K] extends Option<infer V> ? V : never
}

/** camelCase key → kebab-case input/flag name: `rollbackOnFailure` → `rollback-on-failure`. */
export function kebab(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)
}

/** Names every option after its key, so the name is written once. */
export function defineTable<D extends Record<string, OptionDraft<unknown>>>(
  drafts: D
): { readonly [K in keyof D]: Option<D[K] extends OptionDraft<infer V> ? V : never> } {
  const out: Record<string, Option<unknown>> = {}
  for (const [key, d] of Object.entries(drafts))
    out[key] = {
      ...d,
      name: kebab(key),
      action: d.action ?? true,
      cli: d.cli ?? {},
      flag: d.flag ?? d.type === 'boolean'
    }
  return out as never
}

/** How each front-end names an option in an error. */
export const actionLabel = (name: string): string => `Input '${name}'`
export const cliLabel = (name: string): string => `--${name}`

/** The options of a table that are action inputs, in table order. */
export function actionOptions(table: Table): Option<unknown>[] {
  return Object.values(table).filter((o) => o.action)
}

/** The options of a table that have a CLI flag, in table order. */
export function cliOptions(table: Table): Option<unknown>[] {
  return Object.values(table).filter((o) => o.cli !== false)
}

/** Table key → action input name, for the options that are action inputs. */
export function inputNamesOf<T extends Table>(table: T): { readonly [K in keyof T]: string } {
  return Object.fromEntries(
    Object.entries(table)
      .filter(([, o]) => o.action)
      .map(([key, o]) => [key, o.name])
  ) as { readonly [K in keyof T]: string }
}

/** A default as action.yml and the docs write it ('' when there is none). */
export function defaultText(o: Option<unknown>): string {
  if (o.defaultText !== undefined) return o.defaultText
  const d = o.default
  if (d === undefined || d === null) return ''
  if (o.type === 'duration') return formatDuration(d as number)
  if (Array.isArray(d)) return d.join(',')
  if (typeof d === 'object') return ''
  return String(d)
}

/** Milliseconds as the shortest duration text the duration validator reads back. */
export function formatDuration(ms: number): string {
  if (ms % 3_600_000 === 0 && ms > 0) return `${ms / 3_600_000}h`
  if (ms % 60_000 === 0 && ms > 0) return `${ms / 60_000}m`
  if (ms % 1000 === 0) return `${ms / 1000}s`
  return `${ms}ms`
}
