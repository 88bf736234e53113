/**
 * Strict UTF-8 decoding. A lenient decoder turns each bad byte into U+FFFD, so a render or a
 * deploy would carry a changed value, and an edit would rewrite bytes it never meant to touch,
 * without a word. Callers refuse the file with their own message, from where the bad byte is.
 */

/** Where the first byte that breaks UTF-8 is (1-based line and column, in characters). */
export interface InvalidUtf8 {
  readonly offset: number
  readonly byte: number
  readonly line: number
  readonly column: number
}

const strict = new TextDecoder('utf-8', { fatal: true })

/** The text (a leading BOM dropped), or where the first invalid byte is. */
export function decodeStrictUtf8(bytes: Uint8Array): { text: string } | { invalid: InvalidUtf8 } {
  try {
    return { text: strict.decode(bytes) }
  } catch {
    const offset = firstInvalidUtf8(bytes)
    let line = 1
    let lineStart = 0
    for (let i = 0; i < offset; i++)
      if (bytes[i] === 0x0a) {
        line++
        lineStart = i + 1
      }
    // Everything before the first bad byte is valid, so it decodes.
    const column = strict.decode(bytes.subarray(lineStart, offset)).length + 1
    return { invalid: { offset, byte: bytes[offset], line, column } }
  }
}

/** The offset of the first byte that does not start or continue a valid UTF-8 sequence. */
export function firstInvalidUtf8(bytes: Uint8Array): number {
  let i = 0
  while (i < bytes.length) {
    const b = bytes[i]
    const length =
      b < 0x80
        ? 1
        : b >= 0xc2 && b <= 0xdf
          ? 2
          : b >= 0xe0 && b <= 0xef
            ? 3
            : b >= 0xf0 && b <= 0xf4
              ? 4
              : 0
    if (length === 0 || i + length > bytes.length) return i
    if (length > 1) {
      // Overlong forms, surrogates and values past U+10FFFF are invalid through the second byte.
      const second = bytes[i + 1]
      const low = b === 0xe0 ? 0xa0 : b === 0xf0 ? 0x90 : 0x80
      const high = b === 0xed ? 0x9f : b === 0xf4 ? 0x8f : 0xbf
      if (second < low || second > high) return i
      for (let k = 2; k < length; k++) if ((bytes[i + k] & 0xc0) !== 0x80) return i
    }
    i += length
  }
  return bytes.length
}

/** A byte as messages show it: `0xfc`. */
export function hexByte(byte: number): string {
  return `0x${byte.toString(16).padStart(2, '0')}`
}
