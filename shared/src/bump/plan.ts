import { InputError } from '../errors.js'
import { matchesGlob } from '../text/glob.js'
import {
  formatImageRef,
  imageVersion,
  parseImageRef,
  retagImage,
  sameRepository,
  type ImageRef
} from '../images/index.js'
import {
  formatYamlPath,
  setContainerImages,
  setYamlValue,
  type ImageReplacement,
  type YamlPath
} from '../yaml-edit/index.js'
import {
  imageFileFor,
  readImageFile,
  renderImageFile,
  updateImageFile,
  type Provenance
} from '../images/image-file.js'
import type { TemplateFile } from '../service-templates/record.js'
import { renderCommitMessage, type MessageValues } from './message.js'
import { describeTime, newerRecorded } from './order.js'
import { planTemplates, templateRecordOf, templatesSummary } from './templates.js'

export { newerRecorded } from './order.js'

/** Which part of the image a value edit writes. */
export const ImageField = {
  /** The whole reference, `registry/repo:tag@digest`. */
  ref: 'ref',
  tag: 'tag',
  digest: 'digest',
  /** `registry/repository` without tag or digest. */
  name: 'name'
} as const
export type ImageField = (typeof ImageField)[keyof typeof ImageField]

/** "Set this YAML path in this file to the image (or a part of it)". */
export interface ValueEdit {
  readonly file: string
  readonly path: YamlPath
  readonly field: ImageField
  /** Create the path (and the file) when missing instead of failing. */
  readonly create: boolean
}

/** Everything a bump does, independent of how the repository is reached. */
export interface BumpRequest {
  readonly image: ImageRef
  /** The folder under the images directory. */
  readonly imageName: string
  /** The service branch the image was built from. */
  readonly branch: string
  readonly imagesDir: string
  /** Write `images/<image>/<branch>.yaml` (the kit image file). */
  readonly writeImageFile: boolean
  readonly values: readonly ValueEdit[]
  /** Kubernetes manifest files (or `*`/`**` globs) whose matching container images are retagged. */
  readonly manifests: readonly string[]
  readonly provenance: Provenance
  /** Write even when the image file records a newer build. */
  readonly force: boolean
  readonly messageTemplate: string
  /** The manifests branch written to; only for the message. */
  readonly targetBranch?: string
  /**
   * The service's own templates, copied into the manifests repository in the same commit as
   * the image (both land or neither).
   */
  readonly templates?: TemplatesRequest
}

/** A service's templates folder, read from its repository, for one bump. */
export interface TemplatesRequest {
  /** The service the templates are for (a DNS label): `<dir>/<service>/<branch>/`. */
  readonly service: string
  /** The manifests repository's service-templates folder (kit.yaml `paths.serviceTemplates`). */
  readonly dir: string
  /** The folder in the service repository, recorded as the source's `path`. */
  readonly sourcePath: string
  /** Every file of the folder, by path inside it. */
  readonly files: readonly TemplateFile[]
}

/** One file's new content, or its removal. */
export interface FileChange {
  readonly path: string
  /** undefined when the file is new. */
  readonly before?: string
  /** undefined when the file is deleted. */
  readonly after?: string
}

/** What a bump would do to one snapshot of the repository. */
export interface BumpPlan {
  /** changed: commit `changes`; unchanged: nothing to do; older: a newer build is recorded. */
  readonly outcome: 'changed' | 'unchanged' | 'older'
  readonly changes: readonly FileChange[]
  readonly message: string
  /** Human-readable lines explaining the decision (logged, and shown in the summary). */
  readonly notes: readonly string[]
}

/** The image file this request writes, or undefined when it writes none. */
export function imageFileOf(request: BumpRequest): string | undefined {
  return request.writeImageFile
    ? imageFileFor(request.imagesDir, request.imageName, request.branch)
    : undefined
}

/** True when a manifests entry is a glob that needs the repository's file list. */
export function isGlob(pattern: string): boolean {
  return /[*?[]/.test(pattern)
}

/**
 * The files a plan reads. Globs are expanded against `listing` (every path in the snapshot),
 * which the caller fetches only when `needsListing` says so.
 */
export function filesToRead(request: BumpRequest, listing?: readonly string[]): string[] {
  const out = new Set<string>()
  const imageFile = imageFileOf(request)
  if (imageFile) out.add(imageFile)
  for (const v of request.values) out.add(v.file)
  for (const m of expandManifests(request.manifests, listing)) out.add(m)
  const record = templateRecordOf(request)
  if (record) out.add(record)
  return [...out]
}

/** Whether any manifests entry is a glob (so the caller must list the repository). */
export function needsListing(request: BumpRequest): boolean {
  return request.manifests.some(isGlob)
}

/** What planBump's steps edit: the files as they will be, which were edited, and why. */
export interface PlanState {
  readonly working: Map<string, string | undefined>
  readonly touched: Set<string>
  readonly notes: string[]
}

/**
 * Plans a bump against one snapshot: pure, so the retry loop can re-plan on every new head
 * (re-applying the edit, never rebasing a stale one). `files` maps each path from
 * `filesToRead` to its content, undefined when missing; with templates, also each path from
 * `templateCopiesToRead` (the second read, at the same head).
 */
export function planBump(
  files: ReadonlyMap<string, string | undefined>,
  request: BumpRequest,
  listing?: readonly string[]
): BumpPlan {
  const state: PlanState = {
    working: new Map<string, string | undefined>(files),
    touched: new Set<string>(),
    notes: []
  }
  const { working, touched, notes } = state

  const older = planImageFile(files, request, working, touched, notes)
  if (older) return older
  planValueEdits(request, state)
  planManifests(request, listing, state)
  // The templates come last: their record follows the image file, and no edit above may have
  // reached into the copy.
  const imageFile = imageFileOf(request)
  const imageChanged = imageFile !== undefined && working.get(imageFile) !== files.get(imageFile)
  const olderTemplates = planTemplates(files, request, state, imageChanged)
  if (olderTemplates) return olderTemplates

  const changes: FileChange[] = [...touched]
    .filter((path) => working.get(path) !== files.get(path))
    .sort()
    .map((path) => ({ path, before: files.get(path), after: working.get(path) }))
  if (changes.length === 0) return { outcome: 'unchanged', changes, message: '', notes }
  return {
    outcome: 'changed',
    changes,
    message: renderCommitMessage(request.messageTemplate, messageValues(request, changes)),
    notes
  }
}

/** planBump's `values` step: sets each YAML path to the image (or a part of it). */
function planValueEdits(request: BumpRequest, { working, touched, notes }: PlanState): void {
  for (const edit of request.values) {
    const current = working.get(edit.file)
    if (current === undefined && !edit.create)
      throw new InputError(
        `file does not exist in the manifests repository (set create to add it)`,
        {
          file: edit.file
        }
      )
    const value = imageField(request.image, edit.field, edit.file)
    const result = setYamlValue(current ?? '', edit.path, value, {
      file: edit.file,
      create: edit.create
    })
    if (result.changed) {
      working.set(edit.file, result.text)
      touched.add(edit.file)
      notes.push(`${edit.file}: ${formatYamlPath(edit.path)} → ${value}`)
    } else notes.push(`${edit.file}: ${formatYamlPath(edit.path)} already ${value}`)
  }
}

/** planBump's `manifests` step: retags the matching container images of every file. */
function planManifests(
  request: BumpRequest,
  listing: readonly string[] | undefined,
  { working, touched, notes }: PlanState
): void {
  const manifests = expandManifests(request.manifests, listing)
  let matched = 0
  for (const file of manifests) {
    const current = working.get(file)
    if (current === undefined)
      throw new InputError('manifest file does not exist in the manifests repository', { file })
    const result = retagContainerImages(current, file, request.image)
    matched += result.matched
    if (result.replacements.length > 0) {
      working.set(file, result.text)
      touched.add(file)
      for (const r of result.replacements)
        notes.push(`${file}: document ${r.document + 1} ${r.path}: ${r.before} → ${r.after}`)
    }
  }
  if (request.manifests.length > 0 && matched === 0) {
    throw new InputError(
      `no container image with repository ${formatImageRef({ ...request.image, tag: undefined, digest: undefined })} in ${manifests.join(', ') || request.manifests.join(', ')}`
    )
  }
}

/**
 * planBump's image-file step: creates or moves the image file in `working` (noting it in
 * `touched` and `notes`); returns the whole plan instead when the file records a newer build.
 */
function planImageFile(
  files: ReadonlyMap<string, string | undefined>,
  request: BumpRequest,
  working: Map<string, string | undefined>,
  touched: Set<string>,
  notes: string[]
): BumpPlan | undefined {
  const imageFile = imageFileOf(request)
  if (!imageFile) return undefined
  const imageText = formatImageRef(request.image)
  const existing = files.get(imageFile)
  if (existing === undefined) {
    working.set(imageFile, renderImageFile(request.image, request.provenance))
    touched.add(imageFile)
    notes.push(`${imageFile}: created with ${imageText}`)
    return undefined
  }
  const recorded = readImageFile(existing, imageFile)
  if (recorded.image === imageText && (recorded.digest ?? '') === (request.image.digest ?? '')) {
    notes.push(`${imageFile}: already records ${imageText}`)
    return undefined
  }
  const newer = newerRecorded(recorded.source, request.provenance)
  if (newer && !request.force)
    return {
      outcome: 'older',
      changes: [],
      message: '',
      notes: [
        `${imageFile} records a newer build (${recorded.image}, ${describeTime(recorded.source)}) than ${imageText} (${describeTime(request.provenance)}); not downgrading (set force to override)`
      ]
    }
  if (newer) notes.push(`${imageFile}: replacing a newer build because force is set`)
  working.set(imageFile, updateImageFile(existing, imageFile, request.image, request.provenance))
  touched.add(imageFile)
  notes.push(`${imageFile}: ${recorded.image} → ${imageText}`)
  return undefined
}

function imageField(ref: ImageRef, field: ImageField, file: string): string {
  switch (field) {
    case 'ref':
      return formatImageRef(ref)
    case 'name':
      return formatImageRef({ registry: ref.registry, repository: ref.repository })
    case 'tag':
      if (!ref.tag) throw new InputError('the image has no tag to write', { file })
      return ref.tag
    case 'digest':
      if (!ref.digest) throw new InputError('the image has no digest to write', { file })
      return ref.digest
  }
}

/**
 * Every container image in a manifest file whose repository is `image`'s, moved to its tag and
 * digest. `matched` counts matching containers, changed or already current.
 */
export function retagContainerImages(
  text: string,
  file: string,
  image: ImageRef
): { text: string; replacements: ImageReplacement[]; matched: number } {
  let matched = 0
  const result = setContainerImages(
    text,
    {
      matches: (value) => {
        const ref = tryParse(value)
        const hit = ref !== undefined && sameRepository(ref, image)
        if (hit) matched++
        return hit
      },
      retag: (value) => formatImageRef(retagImage(parseImageRef(value), image))
    },
    file
  )
  return { ...result, matched }
}

function tryParse(image: string): ImageRef | undefined {
  try {
    return parseImageRef(image)
  } catch {
    return undefined
  }
}

function messageValues(request: BumpRequest, changes: readonly FileChange[]): MessageValues {
  const p = request.provenance
  return {
    image: formatImageRef(request.image),
    'image-name': request.imageName,
    branch: request.branch,
    version: imageVersion(request.image),
    tag: request.image.tag,
    digest: request.image.digest,
    'source-repository': p.repository,
    'source-commit': p.commit,
    'short-commit': p.commit?.slice(0, 7),
    'source-ref': p.ref,
    'run-url': p.runUrl,
    'built-at': p.builtAt,
    'committed-at': p.committedAt,
    'target-branch': request.targetBranch,
    files: changes.map((c) => c.path).join(', '),
    templates: templatesSummary(request, changes)
  }
}

/** Manifest entries with globs expanded (sorted, deduplicated); plain paths pass through. */
export function expandManifests(
  patterns: readonly string[],
  listing?: readonly string[]
): string[] {
  const out = new Set<string>()
  for (const pattern of patterns) {
    if (!isGlob(pattern)) {
      out.add(pattern)
      continue
    }
    if (!listing) throw new Error(`internal: the glob ${pattern} needs the repository listing`)
    const hits = listing.filter((p) => matchesGlob(p, pattern) && /\.ya?ml$/.test(p))
    if (hits.length === 0)
      throw new InputError(`no YAML file in the manifests repository matches '${pattern}'`)
    for (const h of hits) out.add(h)
  }
  return [...out].sort()
}
