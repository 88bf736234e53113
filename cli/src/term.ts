/**
 * Terminal output: coloured and concise on a terminal, plain when piped or in CI (where ANSI
 * codes would litter logs). NO_COLOR and FORCE_COLOR are honoured as the conventions say.
 * stdout and stderr decide separately: `kit deploy > result.txt` keeps colour in the progress
 * lines on the terminal and writes a plain file.
 */

type Env = Readonly<Record<string, string | undefined>>

/** Whether the environment says this is a CI system (CI set to anything but false/0). */
export function isCi(env: Env): boolean {
  const ci = env.CI
  return ci !== undefined && ci !== '' && ci !== 'false' && ci !== '0'
}

/**
 * Whether to colour a stream: FORCE_COLOR (not 0/false) forces it on, FORCE_COLOR=0 and a
 * non-empty NO_COLOR force it off, CI turns it off, else only a terminal gets colour.
 */
export function colorEnabled(env: Env, isTTY: boolean): boolean {
  const force = env.FORCE_COLOR
  if (force !== undefined) {
    if (force === '0' || force === 'false') return false
    return true
  }
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false
  if (isCi(env)) return false
  return isTTY
}

/** The colours kit uses; each is the identity when colour is off. */
export interface Paint {
  red(s: string): string
  green(s: string): string
  yellow(s: string): string
  blue(s: string): string
  dim(s: string): string
  bold(s: string): string
}

/** A painter that colours, or one that returns text unchanged. */
export function painter(enabled: boolean): Paint {
  const paint =
    (code: number) =>
    (s: string): string =>
      enabled && s !== '' ? `\u001b[${code}m${s}\u001b[0m` : s
  return {
    red: paint(31),
    green: paint(32),
    yellow: paint(33),
    blue: paint(34),
    dim: paint(2),
    bold: paint(1)
  }
}

/** Colours for stdout (results). */
export const color: Paint = painter(colorEnabled(process.env, process.stdout.isTTY === true))
/** Colours for stderr (progress, warnings, errors). */
export const errColor: Paint = painter(colorEnabled(process.env, process.stderr.isTTY === true))

export const out = (line = ''): void => {
  process.stdout.write(line + '\n')
}
export const err = (line = ''): void => {
  process.stderr.write(line + '\n')
}

/**
 * The one form of every CLI error, named by what the user ran: `kit: error: …` before a command
 * is known, `kit render: error: …` after.
 */
export function errorLine(prog: string, message: string): string {
  return `${prog}: ${errColor.red('error:')} ${message}`
}
