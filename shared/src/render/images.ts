/**
 * Image files: `images/<image>/<branch>.yaml`, written by the image-deployer and read here.
 * This module is the single definition of where such a file lives, so both sides agree.
 */
import { join } from 'node:path'

/**
 * An image source name: one or more lowercase path segments, as in a registry repository
 * (`api`, `acme/api`). Each segment may contain `.`, `_` and `-` between alphanumerics.
 */
export const imageSourcePattern =
  /^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$/

/**
 * Encodes a branch name as one file name. Letters, digits, `.`, `_` and `-` are kept; every
 * other byte, `/` included, becomes `%XX` (upper-case hex of its UTF-8 bytes), so
 * `feature/login` → `feature%2Flogin`. The mapping is one-to-one: `feature/x` and `feature-x`
 * are different branches and get different files, which a "replace / with -" rule would merge.
 */
export function encodeBranchFileName(branch: string): string {
  assertBranchName(branch)
  let out = ''
  for (const byte of Buffer.from(branch, 'utf8')) {
    const ch = String.fromCharCode(byte)
    out += /[A-Za-z0-9._-]/.test(ch) ? ch : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`
  }
  return out
}

/** The inverse of encodeBranchFileName (file name without `.yaml` → branch). */
export function decodeBranchFileName(fileName: string): string {
  return decodeURIComponent(fileName)
}

/**
 * Refuses names git itself refuses as branches where they would matter for a file name:
 * empty, leading `.` or `-`, `..`, whitespace or control characters, or over 200 characters.
 */
export function assertBranchName(branch: string): void {
  // eslint-disable-next-line no-control-regex
  const bad = /[\s\u0000-\u001f\u007f~^:?*[\\]/
  if (
    branch === '' ||
    branch.length > 200 ||
    branch.startsWith('.') ||
    branch.startsWith('-') ||
    branch.startsWith('/') ||
    branch.endsWith('/') ||
    branch.includes('..') ||
    bad.test(branch)
  ) {
    throw new Error(`'${branch}' is not a valid branch name for an image file`)
  }
}

/**
 * The path of the image file for `image` built from `branch`:
 * `imageFilePath('images', 'acme/api', 'feature/login')` → `images/acme/api/feature%2Flogin.yaml`.
 * Throws for an image source or branch that could escape the images folder.
 */
export function imageFilePath(imagesDir: string, image: string, branch: string): string {
  if (!imageSourcePattern.test(image)) {
    throw new Error(
      `'${image}' is not a valid image source name (lowercase segments like acme/api)`
    )
  }
  return join(imagesDir, ...image.split('/'), `${encodeBranchFileName(branch)}.yaml`)
}

/** The content of an image file, as the image-deployer writes it. */
export interface ImageRecord {
  /** The image reference as written, e.g. `ghcr.io/acme/api:main-3f2a1c9`. */
  readonly image: string
  /** `sha256:<64 hex>`, when known. */
  readonly digest?: string
  /** Where the image came from (for the index, and deploy reports on the service's commit). */
  readonly source?: {
    readonly repository?: string
    readonly commit?: string
    readonly ref?: string
    readonly runUrl?: string
    readonly builtAt?: string
  }
}

/**
 * The reference a manifest gets for an image record: `image` as written, with `@digest`
 * appended when a digest is recorded and the reference does not carry one already (so a
 * moved tag can never change what runs).
 */
export function imageReference(record: ImageRecord): string {
  if (record.digest && !record.image.includes('@')) return `${record.image}@${record.digest}`
  return record.image
}
