/**
 * "Did you mean": the nearest known word to a mistyped command or flag, for every place the CLI
 * refuses a word (commands, `kit help <command>`, flags).
 */

/**
 * Edits from `a` to `b`: insertions, deletions, substitutions and swaps of two neighbouring
 * characters each count one (`rnder` → `render` is 1, `deplyo` → `deploy` is 1).
 */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0))
  )
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1)
    }
  return d[a.length][b.length]
}

/**
 * The known word `given` most likely means, or undefined: the only word it starts (at least
 * three characters typed, `--dry` → `dry-run`), else the nearest within a third of its length
 * (at least one edit, at most three), the first in `known` on a tie.
 */
export function closest(given: string, known: readonly string[]): string | undefined {
  if (given === '') return undefined
  const prefixed = given.length >= 3 ? known.filter((k) => k.startsWith(given)) : []
  if (prefixed.length === 1) return prefixed[0]
  const limit = Math.min(3, Math.max(1, Math.floor(given.length / 3)))
  let best: { word: string; distance: number } | undefined
  for (const word of known) {
    const distance = editDistance(given.toLowerCase(), word)
    if (distance <= limit && (!best || distance < best.distance)) best = { word, distance }
  }
  return best?.word
}

/** `; did you mean '<word>'?` for the nearest known word (`format` spells it), or ''. */
export function didYouMean(
  given: string,
  known: readonly string[],
  format: (word: string) => string = (w) => `'${w}'`
): string {
  const word = closest(given, known)
  return word === undefined ? '' : `; did you mean ${format(word)}?`
}
