/**
 * Service-owned template sets as the render reads them: the record beside a branch's copy is
 * read, the copy must be exactly what the record lists (no file changed, added or removed by
 * hand, no symbolic link), and only then is the copy loaded, by the same loader as
 * `services/<svc>/`. Paths and the record's content are defined once, in
 * ../service-templates/record.ts.
 */
import { lstatSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { InputError, quoteValue } from '../errors.js'
import {
  contentHash,
  readTemplateRecord,
  templateRecordPath,
  templateSetFolder,
  type TemplateRecord
} from '../service-templates/record.js'
import { decodeUtf8 } from '../yaml/index.js'
import type { RenderProblem } from './problems.js'
import type { ServiceDefinition } from './repository.js'

/** A service-owned name: `service-templates/<svc>/` holding at least one record. */
export interface ServiceTemplates {
  readonly name: string
  /** Repository-relative folder, `service-templates/api`. */
  readonly dir: string
  /** The branches it holds records for, sorted by file name. */
  readonly branches: readonly string[]
}

/** A set read for one service and branch. */
export type TemplateSetRead =
  | {
      readonly status: 'loaded'
      readonly service: ServiceDefinition
      readonly record: TemplateRecord
      /** `service-templates/api/develop.yaml`. */
      readonly recordFile: string
    }
  | { readonly status: 'missing'; readonly recordFile: string }
  | { readonly status: 'broken'; readonly problems: readonly RenderProblem[] }

/**
 * Reads the set of `service` for `branch` under `dir`: its record, the copy checked against
 * it, then the copy loaded with `load` (the loader of `services/<svc>/`), given the bytes the
 * check read by repository path, so what is loaded is what was checked, read once. Throws an
 * InputError when the record itself cannot be read.
 */
export function loadTemplateSet(
  root: string,
  dir: string,
  service: string,
  branch: string,
  load: (
    setDir: string,
    problems: RenderProblem[],
    checked: ReadonlyMap<string, Buffer>
  ) => ServiceDefinition
): TemplateSetRead {
  const recordFile = templateRecordPath(dir, service, branch)
  const setDir = templateSetFolder(dir, service, branch)
  const stat = lstatSync(join(root, recordFile), { throwIfNoEntry: false })
  if (!stat) return { status: 'missing', recordFile }
  if (!stat.isFile())
    throw new InputError(
      stat.isSymbolicLink()
        ? 'symbolic links are not followed'
        : 'a templates record must be a file',
      { file: recordFile }
    )
  const record = readTemplateRecord(
    decodeUtf8(readFileSync(join(root, recordFile)), recordFile),
    recordFile
  )
  if (record.service !== service || record.branch !== branch)
    throw new InputError(
      `the record is for service ${quoteValue(record.service)}, branch ${quoteValue(record.branch)}, but its place is that of service ${quoteValue(service)}, branch ${quoteValue(branch)} (moved or edited by hand?)`,
      { file: recordFile }
    )
  const checked = new Map<string, Buffer>()
  const problems = copyProblems(root, setDir, recordFile, record, checked)
  if (problems.length === 0) {
    const loaded = load(setDir, problems, checked)
    if (loaded.templatesSetting)
      problems.push({
        message: `'templates:' is a setting of the manifests repository (services/${service}/kit.yaml, groups, clusters); a service's own kit.yaml may not set it`,
        file: `${setDir}/kit.yaml`,
        line: loaded.templatesSetting.line
      })
    if (problems.length === 0) return { status: 'loaded', service: loaded, record, recordFile }
  }
  return { status: 'broken', problems: problems.map((p) => ({ ...p, service })) }
}

/**
 * How the copy differs from its record: each file changed, added or removed by hand, or a
 * symbolic link, is a problem naming the file. The image-deployer writes copy and record in
 * one commit, so any difference was made after it, by hand. Each file read is kept in
 * `checked` by repository path.
 */
function copyProblems(
  root: string,
  setDir: string,
  recordFile: string,
  record: TemplateRecord,
  checked: Map<string, Buffer>
): RenderProblem[] {
  const problems: RenderProblem[] = []
  const fix = `change the templates in the service repository${record.source.repository ? ` (${record.source.repository})` : ''}, or restore the copy`
  const listed = new Set(Object.keys(record.files))
  for (const path of listed) {
    if (!isSetPath(path))
      problems.push({
        message: `files: ${quoteValue(path)} is not a path inside the set`,
        file: recordFile
      })
  }
  if (!lstatSync(join(root, setDir), { throwIfNoEntry: false })?.isDirectory()) {
    problems.push({
      message: `the copy ${setDir}/ is missing (its record lists ${listed.size} ${listed.size === 1 ? 'file' : 'files'}); ${fix}`,
      file: recordFile
    })
    return problems
  }
  for (const { path, kind } of listCopy(root, setDir)) {
    const file = `${setDir}/${path}`
    if (kind !== 'file')
      problems.push({
        message: kind === 'symlink' ? 'symbolic links are not followed' : 'is not a file',
        file
      })
    else if (!listed.has(path))
      problems.push({
        message: `is not in its record ${recordFile} (added by hand?); ${fix}`,
        file
      })
    else {
      const bytes = readFileSync(join(root, file))
      if (contentHash(bytes) !== record.files[path])
        problems.push({
          message: `differs from its record ${recordFile} (changed by hand?); ${fix}`,
          file
        })
      else checked.set(file, bytes)
    }
    listed.delete(path)
  }
  for (const path of listed) {
    if (isSetPath(path))
      problems.push({
        message: `is listed in its record ${recordFile} but missing (removed by hand?); ${fix}`,
        file: `${setDir}/${path}`
      })
  }
  return problems
}

/** Every entry of the copy that is not a folder, by path inside it, sorted. */
function listCopy(
  root: string,
  setDir: string
): { path: string; kind: 'file' | 'symlink' | 'other' }[] {
  const out: { path: string; kind: 'file' | 'symlink' | 'other' }[] = []
  const walk = (rel: string): void => {
    const entries = readdirSync(join(root, setDir, rel), { withFileTypes: true })
    for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      const path = rel === '' ? entry.name : `${rel}/${entry.name}`
      if (entry.isDirectory()) walk(path)
      else
        out.push({
          path,
          kind: entry.isFile() ? 'file' : entry.isSymbolicLink() ? 'symlink' : 'other'
        })
    }
  }
  walk('')
  return out
}

/** A relative path with forward slashes, no empty, `.` or `..` segment. */
function isSetPath(path: string): boolean {
  return path.split('/').every((p) => p !== '' && p !== '.' && p !== '..') && !path.includes('\\')
}
