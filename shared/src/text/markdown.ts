/**
 * Plain text placed into generated markdown (README and docs tables). GitHub treats `<word>`
 * outside a code span as an HTML tag and drops it, so `images/<image-name>/<branch>.yaml` would
 * read `images//.yaml`: angle brackets become entities there. Code spans are left as they are,
 * since an entity inside one would show literally.
 *
 * No imports, so the docs scripts (plain Node) load this file as it is.
 */
export function escapeMarkdownText(text: string): string {
  // A code span: a run of backticks, then anything up to a run of the same length.
  const codeSpan = /(`+)[\s\S]*?(?<!`)\1(?!`)/g
  let out = ''
  let last = 0
  for (const m of text.matchAll(codeSpan)) {
    out += escapeAngles(text.slice(last, m.index)) + m[0]
    last = m.index + m[0].length
  }
  return out + escapeAngles(text.slice(last))
}

function escapeAngles(text: string): string {
  return text.replace(/</g, '&lt;').replace(/>/g, '&gt;')
}
