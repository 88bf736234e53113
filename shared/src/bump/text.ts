import { InputError } from '../errors.js'

const strictUtf8 = new TextDecoder('utf-8', { fatal: true })

/**
 * A file's bytes as text, refusing what is not UTF-8. Decoding leniently would turn each bad
 * byte into U+FFFD, and an edit would then rewrite bytes it never meant to touch (a Latin-1
 * comment, say) while claiming to keep the rest of the file byte for byte. The error names the
 * file and the line of the first bad byte.
 */
export function decodeText(bytes: Uint8Array, file: string): string {
  try {
    return strictUtf8.decode(bytes)
  } catch {
    const at = firstInvalidUtf8(bytes)
    let line = 1
    for (let i = 0; i < at; i++) if (bytes[i] === 0x0a) line++
    throw new InputError(
      `is not valid UTF-8 (byte 0x${bytes[at].toString(16).padStart(2, '0')} at offset ${at}); kit edits only UTF-8 text`,
      { file, line }
    )
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
