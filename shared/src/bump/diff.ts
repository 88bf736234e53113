/**
 * A minimal line diff of one edited file: the unchanged head and tail are trimmed and the
 * lines between are shown removed then added (a deleted file: every line removed). kit's edits
 * touch single values, so this is exactly the changed lines — enough for a dry run and for
 * tests that check nothing else moved.
 */
export function lineDiff(
  path: string,
  before: string | undefined,
  after: string | undefined
): string {
  const a = before === undefined ? [] : splitLines(before)
  const b = after === undefined ? [] : splitLines(after)
  let head = 0
  while (head < a.length && head < b.length && a[head] === b[head]) head++
  let tail = 0
  while (
    tail < a.length - head &&
    tail < b.length - head &&
    a[a.length - 1 - tail] === b[b.length - 1 - tail]
  )
    tail++
  const removed = a.slice(head, a.length - tail).map((l) => `-${l}`)
  const added = b.slice(head, b.length - tail).map((l) => `+${l}`)
  const header =
    before === undefined
      ? `+++ ${path} (new file)`
      : after === undefined
        ? `--- ${path} (deleted)`
        : `--- ${path}\n+++ ${path}`
  return [header, `@@ line ${head + 1} @@`, ...removed, ...added].join('\n')
}

/** Lines with their terminators kept visible, so a CRLF change would show up as a difference. */
function splitLines(text: string): string[] {
  return text.split('\n').map((l) => l.replace(/\r$/, '\\r'))
}
