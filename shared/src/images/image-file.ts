/**
 * Image files, `images/<image>/<branch>.yaml`: the record of the image a service branch last
 * built. The image-deployer (and `kit bump`) writes them; the deploymentizer reads them. This
 * module is the one definition of their place, their branch-name rule and their content, so
 * the writer and the reader cannot disagree.
 */
import { join } from 'node:path'
import { InputError, quoteValue } from '../errors.js'
import { loadYamlMapping } from '../yaml/load.js'
import { assertYamlText, deleteYamlKey, setYamlValue } from '../yaml-edit/index.js'
import { formatImageRef, type ImageRef } from './image-ref.js'

/**
 * An image source name: one or more lowercase path segments, as in a registry repository
 * (`api`, `acme/api`). Each segment may contain `.`, `_` and `-` between alphanumerics.
 */
export const imageSourcePattern =
  /^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$/

/**
 * Longest file name, in bytes, that the file systems kit runs on accept for one path
 * component (ext4, xfs, btrfs, APFS and NTFS all stop at 255).
 */
export const maxFileNameBytes = 255

const imageFileSuffix = '.yaml'

/**
 * Why `branch` cannot be a branch name, or undefined when it can. One rule for every branch
 * kit handles (the service branch an image was built from, the manifests branch a bump
 * writes, the branches the deploymentizer follows):
 *
 * - git's own ref rules (what `git check-ref-format` refuses): empty, `@`, a leading `-`, a
 *   leading, trailing or doubled `/`, `..`, `@{`, a folder starting with `.`, a trailing `.`
 *   or `.lock`, spaces, control characters and `~^:?*[\`. Besides keeping out what git would
 *   refuse anyway, this stops a value from being read as an option (`--upload-pack=...`) or a
 *   refspec (`main:refs/heads/x`) before it reaches git.
 * - a length limit, and the limit is the image file's name, not the ref: git puts no length
 *   limit on a ref name, but a branch becomes the file name `<encoded branch>.yaml`, and a file
 *   name holds at most 255 bytes. The encoding (encodeBranchFileName) spends three characters
 *   on every byte outside `A-Za-z0-9._-` (`/` and every non-ASCII byte), so a character count
 *   is the wrong measure: 200 characters with 60 `/` would not fit, 250 plain letters do. The
 *   rule is therefore "the encoded name plus `.yaml` fits in 255 bytes", which is exactly the
 *   condition under which the file can be written and read back.
 */
export function branchNameProblem(branch: string): string | undefined {
  if (branch === '') return 'it is empty'
  if (branch === '@') return "'@' alone is not a branch"
  // eslint-disable-next-line no-control-regex
  const bad = /[\u0000-\u0020\u007f~^:?*[\\]/.exec(branch)?.[0]
  if (bad !== undefined) {
    const code = bad.charCodeAt(0)
    const what =
      bad === ' ' ? 'a space' : code < 0x20 || code === 0x7f ? 'a control character' : `'${bad}'`
    return `it contains ${what}`
  }
  if (branch.startsWith('-')) return "it starts with '-'"
  if (branch.startsWith('/') || branch.endsWith('/') || branch.includes('//'))
    return "it has an empty folder (a leading, trailing or doubled '/')"
  if (branch.includes('..')) return "it contains '..'"
  if (branch.includes('@{')) return "it contains '@{'"
  if (branch.endsWith('.') || branch.split('/').some((s) => s.endsWith('.lock')))
    return "it ends with '.' or '.lock'"
  if (branch.split('/').some((s) => s.startsWith('.'))) return "a part of it starts with '.'"
  const fileName = encodeName(branch).length + imageFileSuffix.length
  if (fileName > maxFileNameBytes)
    return `its image file name would be ${fileName} bytes long; a file name holds at most ${maxFileNameBytes} (every byte outside A-Z, a-z, 0-9, '.', '_' and '-' takes three)`
  return undefined
}

/** Throws an InputError naming the setting (`what`) when `branch` is not a usable branch name. */
export function checkBranchName(what: string, branch: string): string {
  const problem = branchNameProblem(branch)
  if (problem)
    throw new InputError(`${what} ${quoteValue(branch)} is not a valid branch name: ${problem}`)
  return branch
}

/** The same rule for code that expects a plain Error (the render reports it its own way). */
export function assertBranchName(branch: string): void {
  const problem = branchNameProblem(branch)
  if (problem) throw new Error(`${quoteValue(branch)} is not a valid branch name: ${problem}`)
}

/**
 * Encodes a branch name as one file name. Letters, digits, `.`, `_` and `-` are kept; every
 * other byte, `/` included, becomes `%XX` (upper-case hex of its UTF-8 bytes), so
 * `feature/login` → `feature%2Flogin`. The mapping is one-to-one: `feature/x` and `feature-x`
 * are different branches and get different files, which a "replace / with -" rule would merge.
 */
export function encodeBranchFileName(branch: string): string {
  assertBranchName(branch)
  return encodeName(branch)
}

function encodeName(branch: string): string {
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
  return join(imagesDir, ...image.split('/'), `${encodeBranchFileName(branch)}${imageFileSuffix}`)
}

/**
 * imageFilePath for a setting: its complaints as input errors, and a leading `/` or `./`
 * dropped from the folder (the original kit accepted `images.path: /images`).
 */
export function imageFileFor(imagesDir: string, image: string, branch: string): string {
  const dir = imagesDir.replace(/^(\.?\/)+/, '').replace(/\/+$/, '') || '.'
  try {
    return imageFilePath(dir, image, branch)
  } catch (e) {
    throw new InputError(e instanceof Error ? e.message : String(e))
  }
}

/**
 * Where a build came from, recorded next to the image so a deploy can be traced back to the
 * service's commit and run, and so an older build never replaces a newer one.
 */
export interface Provenance {
  /** The service repository, `owner/name` or a URL. */
  readonly repository?: string
  readonly commit?: string
  /** The service's git ref, e.g. `refs/heads/main`. */
  readonly ref?: string
  /** The workflow run that built the image. */
  readonly runUrl?: string
  /** ISO-8601 build time. */
  readonly builtAt?: string
  /**
   * ISO-8601 time of the source commit (a push event's head commit). Preferred by the
   * never-downgrade check: a slow pipeline of an older commit can finish after a newer one.
   */
  readonly committedAt?: string
}

/** What an image file records; the one type of it, for the writer and the reader. */
export interface ImageFile {
  /** The image reference as written, e.g. `ghcr.io/acme/api:main-3f2a1c9`. */
  readonly image: string
  /** `sha256:<64 hex>`, when known. */
  readonly digest?: string
  /** Where the image came from; absent in a file written by hand. */
  readonly source?: Provenance
}

/** The provenance keys, in the order a new file lists them. */
export const provenanceKeys = [
  'repository',
  'commit',
  'ref',
  'runUrl',
  'builtAt',
  'committedAt'
] as const

/**
 * The reference a manifest gets for an image file: `image` as written, with `@digest`
 * appended when a digest is recorded and the reference does not carry one already (so a
 * moved tag can never change what runs).
 */
export function imageReference(record: ImageFile): string {
  if (record.digest && !record.image.includes('@')) return `${record.image}@${record.digest}`
  return record.image
}

/** Reads an image file; an InputError names the file when it is not the expected shape. */
export function readImageFile(
  text: string,
  file: string
): ImageFile & { readonly source: Provenance } {
  assertYamlText(text, file)
  const { value } = loadYamlMapping(text, file)
  if (typeof value.image !== 'string' || value.image === '')
    throw new InputError(`expected a top-level 'image:' with an image reference`, { file })
  const source =
    value.source !== null && typeof value.source === 'object' && !Array.isArray(value.source)
      ? (value.source as Record<string, unknown>)
      : {}
  const str = (v: unknown): string | undefined =>
    typeof v === 'string' ? v : v instanceof Date ? v.toISOString() : undefined
  return {
    image: value.image,
    digest: str(value.digest),
    source: {
      repository: str(source.repository),
      commit: str(source.commit),
      ref: str(source.ref),
      runUrl: str(source.runUrl),
      builtAt: str(source.builtAt),
      committedAt: str(source.committedAt)
    }
  }
}

/** A new image file, in the layout every kit-written file shares. */
export function renderImageFile(ref: ImageRef, provenance: Provenance): string {
  const lines = [
    '# Written by kit image-deployer; the deploymentizer reads it. Edits by hand are kept.',
    `image: ${quoteIfNeeded(formatImageRef(ref))}`
  ]
  if (ref.digest) lines.push(`digest: ${quoteIfNeeded(ref.digest)}`)
  const source = provenanceKeys.filter((k) => provenance[k] !== undefined && provenance[k] !== '')
  if (source.length > 0) {
    lines.push('source:')
    for (const k of source) lines.push(`  ${k}: ${quoteIfNeeded(provenance[k] as string)}`)
  }
  return lines.join('\n') + '\n'
}

/**
 * The existing file moved to a new image: `image`, `digest` and each `source` field set in
 * place (created when missing), fields the new build lacks removed, everything else (comments,
 * other keys, formatting) kept byte for byte.
 */
export function updateImageFile(
  text: string,
  file: string,
  ref: ImageRef,
  provenance: Provenance
): string {
  let out = setYamlValue(text, ['image'], formatImageRef(ref), { file, create: true }).text
  out = ref.digest
    ? setYamlValue(out, ['digest'], ref.digest, { file, create: true }).text
    : deleteYamlKey(out, ['digest'], { file }).text
  for (const key of provenanceKeys) {
    const value = provenance[key]
    out =
      value === undefined || value === ''
        ? deleteYamlKey(out, ['source', key], { file }).text
        : setYamlValue(out, ['source', key], value, { file, create: true }).text
  }
  return out
}

/**
 * Single-quotes a value YAML would otherwise read as something else (a date, a number, `yes`,
 * a hex or octal number like `0x1f`), or refuse (a plain value ending in `:`).
 */
export function quoteIfNeeded(value: string): string {
  return /^[A-Za-z0-9][\w./:@+-]*$/.test(value) &&
    !/^\d[\d_]*(\.\d*)?([eE][-+]?\d+)?$/.test(value) &&
    !/^0[xo]/i.test(value) &&
    !value.endsWith(':') &&
    !/^(true|false|null|yes|no|on|off|~)$/i.test(value) &&
    !/^\d{4}-\d\d-\d\d/.test(value)
    ? value
    : `'${value.replace(/'/g, "''")}'`
}
