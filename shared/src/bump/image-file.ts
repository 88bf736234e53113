import { InputError } from '../errors.js'
import { imageFilePath } from '../render/images.js'
import { formatImageRef, type ImageRef } from '../images/index.js'
import { loadYamlMapping } from '../yaml/load.js'
import { assertYamlText, deleteYamlKey, setYamlValue } from '../yaml-edit/index.js'

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

/** What an image file records (the format agreed with the deploymentizer). */
export interface ImageFileContent {
  readonly image: string
  readonly digest?: string
  readonly source: Provenance
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
 * The image file for an image and a source branch. The deploymentizer's `imageFilePath` is the
 * single definition of the rule (`images/<image>/<branch, / encoded as %2F>.yaml`), so both
 * sides always agree; this wrapper only turns its complaints into input errors and drops a
 * leading `/` from the folder (the original kit accepted `images.path: /images`).
 */
export function imageFileFor(imagesDir: string, image: string, branch: string): string {
  const dir = imagesDir.replace(/^(\.?\/)+/, '').replace(/\/+$/, '') || '.'
  try {
    return imageFilePath(dir, image, branch)
  } catch (e) {
    throw new InputError(e instanceof Error ? e.message : String(e))
  }
}

/** Reads an image file; an InputError names the file when it is not the expected shape. */
export function readImageFile(text: string, file: string): ImageFileContent {
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

/** Single-quotes a value YAML would otherwise read as something else (a date, a number, `yes`). */
function quoteIfNeeded(value: string): string {
  return /^[A-Za-z0-9][\w./:@+-]*$/.test(value) &&
    !/^\d[\d_]*(\.\d*)?([eE][-+]?\d+)?$/.test(value) &&
    !/^(true|false|null|yes|no|on|off|~)$/i.test(value) &&
    !/^\d{4}-\d\d-\d\d/.test(value)
    ? value
    : `'${value.replace(/'/g, "''")}'`
}
