/**
 * Service-owned templates in the manifests repository: where a service's copy for a branch
 * lives, and the record beside it. The image-deployer writes both in the commit that records
 * the image; the deploymentizer reads both. This module is the one definition of their place
 * and of the record's content, so the writer and the reader cannot disagree.
 *
 *   service-templates/<service>/<encoded branch>/...   the exact copy of the service's folder
 *   service-templates/<service>/<encoded branch>.yaml  the record: provenance and every file's hash
 *
 * The branch is encoded as image files encode it (`feature/x` → `feature%2Fx`), so the copy
 * and the record of a branch sit side by side and cannot collide with another branch's.
 */
import { createHash } from 'node:crypto'
import { InputError, quoteValue } from '../errors.js'
import {
  encodeBranchFileName,
  provenanceKeys,
  quoteIfNeeded,
  type Provenance
} from '../images/image-file.js'
import { loadYamlMapping } from '../yaml/load.js'

/** The folder kit.yaml's `paths.serviceTemplates` names when it names none. */
export const defaultServiceTemplatesDir = 'service-templates'

/** One file of a template set: its path inside the set (forward slashes) and its text. */
export interface TemplateFile {
  readonly path: string
  readonly content: string
}

/** Where the templates came from: a build's provenance plus the folder in the service repository. */
export interface TemplateSource extends Provenance {
  /** The templates folder in the service repository, e.g. `deploy/kit`. */
  readonly path?: string
}

/** What a record says about one service's templates for one branch. */
export interface TemplateRecord {
  readonly service: string
  readonly branch: string
  /** The image recorded in the same commit, when the bump wrote one. */
  readonly image?: string
  readonly source: TemplateSource
  /** Every file of the copy, by path inside it, sorted, with `sha256:<hex>` of its bytes. */
  readonly files: Readonly<Record<string, string>>
}

/** `service-templates/api/feature%2Fx`: the folder holding a branch's copy. */
export function templateSetFolder(dir: string, service: string, branch: string): string {
  const d = repositoryDir(dir)
  return `${d === '' ? '' : `${d}/`}${service}/${encodeBranchFileName(branch)}`
}

/** `service-templates/api/feature%2Fx.yaml`: the record of a branch's copy. */
export function templateRecordPath(dir: string, service: string, branch: string): string {
  return `${templateSetFolder(dir, service, branch)}.yaml`
}

/**
 * `sha256:<hex>` of a file's UTF-8 bytes, as records list them: given its text, or the bytes
 * read from a copy (hashed as they are, so a copy that is not valid UTF-8 never matches).
 */
export function contentHash(content: string | Uint8Array): string {
  const hash = createHash('sha256')
  if (typeof content === 'string') hash.update(content, 'utf8')
  else hash.update(content)
  return `sha256:${hash.digest('hex')}`
}

/** The record of `files`, sorted by path. */
export function recordFor(
  head: Pick<TemplateRecord, 'service' | 'branch' | 'image' | 'source'>,
  files: readonly TemplateFile[]
): TemplateRecord {
  const sorted = [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
  return { ...head, files: Object.fromEntries(sorted.map((f) => [f.path, contentHash(f.content)])) }
}

/** The record as the image-deployer writes it: fixed key order, so equal records are equal bytes. */
export function renderTemplateRecord(record: TemplateRecord): string {
  const lines = [
    '# Written by kit image-deployer with the copy beside it; the deploymentizer checks the copy',
    '# against this list. Change the templates in the service repository, not here.',
    `service: ${quoteIfNeeded(record.service)}`,
    `branch: ${quoteIfNeeded(record.branch)}`
  ]
  if (record.image) lines.push(`image: ${quoteIfNeeded(record.image)}`)
  const keys = [...provenanceKeys, 'path'] as const
  const source = keys.filter((k) => record.source[k] !== undefined && record.source[k] !== '')
  if (source.length > 0) {
    lines.push('source:')
    for (const k of source) lines.push(`  ${k}: ${quoteIfNeeded(record.source[k] as string)}`)
  }
  const files = Object.entries(record.files)
  lines.push(files.length === 0 ? 'files: {}' : 'files:')
  for (const [path, hash] of files) lines.push(`  ${quoteIfNeeded(path)}: ${hash}`)
  return lines.join('\n') + '\n'
}

const hashPattern = /^sha256:[0-9a-f]{64}$/

/** Reads a record; an InputError names the file (and the line) when it is not the expected shape. */
export function readTemplateRecord(text: string, file: string): TemplateRecord {
  const { value } = loadYamlMapping(text, file)
  const str = (v: unknown): string | undefined =>
    typeof v === 'string' ? v : v instanceof Date ? v.toISOString() : undefined
  const service = str(value.service)
  const branch = str(value.branch)
  if (!service || !branch)
    throw new InputError(`a templates record needs 'service:' and 'branch:'`, { file })
  const files = value.files
  if (files === null || typeof files !== 'object' || Array.isArray(files))
    throw new InputError(`a templates record needs 'files:', a map of path to sha256`, { file })
  for (const [path, hash] of Object.entries(files as Record<string, unknown>)) {
    if (typeof hash !== 'string' || !hashPattern.test(hash))
      throw new InputError(
        `files.${path}: expected sha256:<64 hex digits>, got ${quoteValue(String(hash))}`,
        { file }
      )
  }
  const src =
    value.source !== null && typeof value.source === 'object' && !Array.isArray(value.source)
      ? (value.source as Record<string, unknown>)
      : {}
  const source: Record<string, string | undefined> = {}
  for (const k of [...provenanceKeys, 'path'] as const) source[k] = str(src[k])
  return {
    service,
    branch,
    image: str(value.image),
    source: source as TemplateSource,
    files: files as Record<string, string>
  }
}

/** A repository folder as paths use it: a leading `./` or `/` and trailing slashes dropped; `` for the root. */
export function repositoryDir(dir: string): string {
  const d = dir.replace(/^(\.?\/)+/, '').replace(/\/+$/, '')
  return d === '.' ? '' : d
}

/**
 * Changed paths as a line shows them: the files of a template set folded into the folder
 * (`service-templates/api/main/ (50 files)`), so a bump of 50 templates stays one readable line.
 */
export function describeChangedFiles(files: readonly string[], setFolder?: string): string {
  if (!setFolder) return files.join(', ')
  const inside = files.filter((f) => f.startsWith(`${setFolder}/`))
  if (inside.length === 0) return files.join(', ')
  const others = files.filter((f) => !f.startsWith(`${setFolder}/`))
  const folded = `${setFolder}/ (${inside.length} ${inside.length === 1 ? 'file' : 'files'})`
  return [...others, folded].join(', ')
}
