/**
 * A bump's service-owned templates, planned on one snapshot (pure): which files of the copy in
 * the manifests repository are written or deleted, and whether its record is rewritten. Where
 * the copy and the record live, and what the record says, come from service-templates/record.ts
 * alone; this module decides only what changes.
 *
 * The record is the plan's only index of the copy: a file whose hash equals the record's is
 * left alone (not even read), so a bump costs what changed, not the size of the set.
 */
import { createHash } from 'node:crypto'
import { InputError, quoteValue } from '../errors.js'
import { formatImageRef } from '../images/index.js'
import {
  contentHash,
  readTemplateRecord,
  recordFor,
  renderTemplateRecord,
  templateRecordPath,
  templateSetFolder,
  type TemplateFile,
  type TemplateRecord
} from '../service-templates/record.js'
import { describeTime, newerRecorded } from './order.js'
import type { BumpPlan, BumpRequest, FileChange, PlanState } from './plan.js'

/** Where a request's templates go: the set's folder and its record. */
interface Places {
  readonly folder: string
  readonly record: string
}

function placesOf(request: BumpRequest): Places | undefined {
  const t = request.templates
  if (!t) return undefined
  return {
    folder: templateSetFolder(t.dir, t.service, request.branch),
    record: templateRecordPath(t.dir, t.service, request.branch)
  }
}

/** The record a request's templates are planned from (the first read), if it carries any. */
export function templateRecordOf(request: BumpRequest): string | undefined {
  return placesOf(request)?.record
}

/**
 * The copies the plan needs as they are (the second read, at the same head as the first): the
 * files whose hash differs from the record's, and those the record lists that the bundle no
 * longer has — so diffs and dry runs show what they were, and a deletion is only sent for a
 * file that exists. Files the record does not list are new: not read. `files` is the first read.
 */
export function templateCopiesToRead(
  request: BumpRequest,
  files: ReadonlyMap<string, string | undefined>
): string[] {
  const places = placesOf(request)
  if (!places || !request.templates) return []
  const record = recordedAt(files, request, places)
  const diff = diffAgainst(record, request.templates.files)
  return [...diff.changed, ...diff.removed].map((p) => `${places.folder}/${p}`)
}

/**
 * The copies that differ from the bundle by their git blob ids (the transport's listing), and
 * those the bundle no longer has: a guess at what templateCopiesToRead will ask for, made
 * before the record is read so that one read serves both. Only a hint: which files the plan
 * reads and writes is still decided by the record alone.
 */
export function templateCopiesLikelyChanged(
  request: BumpRequest,
  blobIds: ReadonlyMap<string, string>
): string[] {
  const places = placesOf(request)
  if (!places || !request.templates) return []
  const prefix = `${places.folder}/`
  const bundle = new Map(request.templates.files.map((f) => [`${prefix}${f.path}`, f.content]))
  const out: string[] = []
  for (const [path, id] of blobIds) {
    if (!path.startsWith(prefix)) continue
    const content = bundle.get(path)
    if (content === undefined || gitBlobId(content, id.length) !== id) out.push(path)
  }
  return out
}

/** The id git gives a file's content: SHA-1 (or SHA-256, by the id's length) of its blob. */
function gitBlobId(content: string, length: number): string {
  const bytes = Buffer.from(content, 'utf8')
  return createHash(length === 64 ? 'sha256' : 'sha1')
    .update(`blob ${bytes.length}\0`)
    .update(bytes)
    .digest('hex')
}

/**
 * planBump's templates step. Nothing differs from the record and the image file is unchanged:
 * nothing to do. Otherwise the record is checked (a newer build's templates are never replaced,
 * and then neither is the image: the whole plan is `older`), new and changed files are written
 * into the set's folder, files the bundle no longer has are deleted, and the record is rewritten
 * with the bump's provenance (and image, when it writes the image file).
 */
export function planTemplates(
  files: ReadonlyMap<string, string | undefined>,
  request: BumpRequest,
  state: PlanState,
  imageChanged: boolean
): BumpPlan | undefined {
  const t = request.templates
  const places = placesOf(request)
  if (!t || !places) return undefined
  const record = recordedAt(files, request, places)
  const diff = diffAgainst(record, t.files)
  const unread = [...diff.changed, ...diff.removed]
    .map((p) => `${places.folder}/${p}`)
    .filter((p) => !files.has(p))
  if (unread.length > 0)
    throw new Error(`internal: the template copies ${unread.join(', ')} were not read`)
  const differs = diff.added.length + diff.changed.length + diff.removed.length > 0
  if (!differs && !imageChanged) {
    state.notes.push(`${places.folder}/: already the ${t.files.length} files of ${t.sourcePath}`)
    return undefined
  }
  if (record && newerRecorded(record.source, request.provenance)) {
    if (!request.force)
      return {
        outcome: 'older',
        changes: [],
        message: '',
        notes: [
          `${places.record} records the templates of a newer build (${describeTime(record.source)}) than this one (${describeTime(request.provenance)}); not replacing them, nor the image (set force to override)`
        ]
      }
    state.notes.push(`${places.record}: replacing a newer build's templates because force is set`)
  }
  for (const path of state.touched)
    if (path === places.record || path.startsWith(`${places.folder}/`))
      throw new InputError(
        `${path} is part of ${t.service}'s templates copy; a values or manifests entry must not edit it (change the templates in ${t.sourcePath} instead)`
      )
  writeSet(files, request, places, diff, state)
  return undefined
}

/** Writes the plan's template changes into `state`, each confined to the set or its record. */
function writeSet(
  files: ReadonlyMap<string, string | undefined>,
  request: BumpRequest,
  places: Places,
  diff: SetDiff,
  state: PlanState
): void {
  const t = request.templates as NonNullable<BumpRequest['templates']>
  const planned = new Map<string, string | undefined>()
  const content = new Map(t.files.map((f) => [f.path, f.content]))
  for (const p of [...diff.added, ...diff.changed])
    planned.set(`${places.folder}/${p}`, content.get(p))
  for (const p of diff.removed) {
    const path = `${places.folder}/${p}`
    // A file the record lists but the copy lacks is already gone: no deletion to send.
    if (files.get(path) !== undefined) planned.set(path, undefined)
  }
  const image = request.writeImageFile ? formatImageRef(request.image) : undefined
  const source = { ...request.provenance, path: t.sourcePath }
  const record = recordFor({ service: t.service, branch: request.branch, image, source }, t.files)
  planned.set(places.record, renderTemplateRecord(record))
  assertConfined(planned.keys(), places)
  for (const [path, text] of planned) {
    state.working.set(path, text)
    state.touched.add(path)
  }
  const counts = describeCounts(diff.added.length, diff.changed.length, diff.removed.length)
  state.notes.push(`${places.folder}/: ${counts || 'no file changed'} (from ${t.sourcePath})`)
  state.notes.push(`${places.record}: records ${t.files.length} files`)
}

/** How the bundle differs from the record, by path inside the set (record order, bundle order). */
interface SetDiff {
  readonly added: string[]
  readonly changed: string[]
  readonly removed: string[]
}

function diffAgainst(record: TemplateRecord | undefined, files: readonly TemplateFile[]): SetDiff {
  const recorded = new Map(Object.entries(record?.files ?? {}))
  const diff: SetDiff = { added: [], changed: [], removed: [] }
  const inBundle = new Set<string>()
  for (const f of files) {
    inBundle.add(f.path)
    const hash = recorded.get(f.path)
    if (hash === undefined) diff.added.push(f.path)
    else if (hash !== contentHash(f.content)) diff.changed.push(f.path)
  }
  for (const path of recorded.keys()) if (!inBundle.has(path)) diff.removed.push(path)
  return diff
}

/**
 * The set's record, undefined when there is none. A record that names another service or
 * branch, or lists a path leaving the set, was changed by hand: refused, naming the file.
 */
function recordedAt(
  files: ReadonlyMap<string, string | undefined>,
  request: BumpRequest,
  places: Places
): TemplateRecord | undefined {
  const text = files.get(places.record)
  const t = request.templates
  if (text === undefined || !t) return undefined
  const record = parsedRecord(text, places.record)
  if (record.service !== t.service || record.branch !== request.branch)
    throw new InputError(
      `the record names service ${quoteValue(record.service)} and branch ${quoteValue(record.branch)}, but it is the record of ${t.service}@${request.branch} (changed by hand?); restore it from the history`,
      { file: places.record }
    )
  for (const path of Object.keys(record.files))
    if (!insideSet(path))
      throw new InputError(
        `the record lists ${quoteValue(path)}, which is not a path inside ${places.folder}/ (changed by hand?); restore it from the history`,
        { file: places.record }
      )
  return record
}

/**
 * The record parsed once per text: a plan reads it twice (which copies to read, then the plan
 * itself), and a record of a large set is the plan's slowest file to parse.
 */
let lastRecord: { text: string; path: string; record: TemplateRecord } | undefined
function parsedRecord(text: string, path: string): TemplateRecord {
  if (lastRecord?.text !== text || lastRecord.path !== path)
    lastRecord = { text, path, record: readTemplateRecord(text, path) }
  return lastRecord.record
}

/**
 * The confinement promise: a service's bump writes its own set and record, nothing else. A
 * path outside them here is a bug (the request's paths are checked before the first read),
 * so the run ends before anything is written.
 */
function assertConfined(paths: Iterable<string>, places: Places): void {
  for (const path of paths) {
    const inside =
      path === places.record ||
      (path.startsWith(`${places.folder}/`) && insideSet(path.slice(places.folder.length + 1)))
    if (!inside)
      throw new Error(
        `internal: the templates plan reached ${path}, outside ${places.folder}/ and ${places.record}`
      )
  }
}

/** A relative path that stays where it is joined: no empty, `.` or `..` segment, no `\`. */
function insideSet(path: string): boolean {
  // eslint-disable-next-line no-control-regex
  if (path === '' || path.includes('\\') || /[\u0000-\u001f\u007f]/.test(path)) return false
  return path.split('/').every((s) => s !== '' && s !== '.' && s !== '..')
}

function describeCounts(added: number, changed: number, removed: number): string {
  return [
    added > 0 && `${added} added`,
    changed > 0 && `${changed} changed`,
    removed > 0 && `${removed} removed`
  ]
    .filter(Boolean)
    .join(', ')
}

/**
 * The `{templates}` placeholder: `api@develop from deploy/kit: 2 added, 1 removed` (counted
 * from the commit's changes), `…: no file changed` when only the record moved with the image;
 * undefined when the bump carries no templates.
 */
export function templatesSummary(
  request: BumpRequest,
  changes: readonly FileChange[]
): string | undefined {
  const t = request.templates
  const places = placesOf(request)
  if (!t || !places) return undefined
  let added = 0
  let changed = 0
  let removed = 0
  for (const c of changes) {
    if (!c.path.startsWith(`${places.folder}/`)) continue
    if (c.after === undefined) removed++
    else if (c.before === undefined) added++
    else changed++
  }
  const counts = describeCounts(added, changed, removed) || 'no file changed'
  return `${t.service}@${request.branch} from ${t.sourcePath}: ${counts}`
}
