/**
 * Terminal output: coloured and concise on a terminal, plain when piped or in CI (where ANSI
 * codes would litter logs). NO_COLOR and FORCE_COLOR are honoured as the conventions say.
 */
const useColor =
  process.env.FORCE_COLOR !== undefined && process.env.FORCE_COLOR !== '0'
    ? true
    : process.env.NO_COLOR === undefined &&
      process.env.CI === undefined &&
      process.stdout.isTTY === true

function paint(code: number): (s: string) => string {
  return (s) => (useColor ? `\u001b[${code}m${s}\u001b[0m` : s)
}

export const color = {
  red: paint(31),
  green: paint(32),
  yellow: paint(33),
  blue: paint(34),
  dim: paint(2),
  bold: paint(1)
}

export const out = (line = ''): void => {
  process.stdout.write(line + '\n')
}
export const err = (line = ''): void => {
  process.stderr.write(line + '\n')
}
