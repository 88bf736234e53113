import { InputError } from '../errors.js'
import { decodeStrictUtf8, hexByte } from '../text/utf8.js'

/**
 * A file's bytes as text, refusing what is not UTF-8: an edit must keep the rest of the file
 * byte for byte, which a lenient decoder (U+FFFD for each bad byte) would silently break. The
 * error names the file and the line of the first bad byte.
 */
export function decodeText(bytes: Uint8Array, file: string): string {
  const decoded = decodeStrictUtf8(bytes)
  if ('text' in decoded) return decoded.text
  const { byte, offset, line } = decoded.invalid
  throw new InputError(
    `is not valid UTF-8 (byte ${hexByte(byte)} at offset ${offset}); kit edits only UTF-8 text`,
    { file, line }
  )
}
