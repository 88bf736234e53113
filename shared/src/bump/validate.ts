import { InputError, quoteValue } from '../errors.js'
import { isoTime, maxBuildTimeAheadMs } from '../options/validate.js'
import { checkBranchName, imageSourcePattern } from '../images/image-file.js'
import { namePattern } from '../render/repository.js'
import type { BumpRequest } from './plan.js'

/*
 * Checks of everything a bump turns into a path, a ref or a commit, before anything is read or
 * written — shared by the image-deployer action and `kit bump`, so both refuse the same input
 * with the same message. Messages name the setting by its input (and flag) name and quote at
 * most the start of a value.
 */

/** Most entries one `values` or `manifests` list may hold. */
export const maxBumpListEntries = 1000
/** Longest repository path (git's own limit on a path is 4096 bytes). */
export const maxRepoPathLength = 1024
/** Longest commit-message template; a longer one is a mistake (a file pasted into an input). */
export const maxMessageTemplateLength = 16 * 1024
/** Longest token: tokens are under a few KB; HTTP servers refuse headers over 8-16 KB. */
export const maxTokenLength = 16 * 1024

// eslint-disable-next-line no-control-regex
const controlCharacters = /[\u0000-\u001f\u007f]/

/**
 * A path inside the repository as a setting gives it: relative, `/`-separated, no empty, `.`
 * or `..` segment, no control character, at most 1024 characters (255 per segment). Glob
 * characters are allowed where `glob` is set. Returns the path.
 */
export function checkRepoPath(
  what: string,
  path: string,
  options: { glob?: boolean } = {}
): string {
  const fail = (why: string): never => {
    throw new InputError(`${what}: ${quoteValue(path)} ${why}`)
  }
  if (path === '') fail('is empty')
  if (path.length > maxRepoPathLength) fail(`is longer than ${maxRepoPathLength} characters`)
  if (controlCharacters.test(path)) fail('contains a line break or control character')
  if (path.startsWith('/') || /^[A-Za-z]:[\\/]/.test(path))
    fail('is absolute; give a path inside the manifests repository')
  if (path.includes('\\')) fail("contains '\\'; separate folders with '/'")
  const segments = path.split('/')
  if (segments.some((s) => s === '..')) fail("leaves the manifests repository ('..')")
  if (segments.some((s) => s === '' || s === '.'))
    fail("has an empty or '.' folder; write it like deploy/api.yaml")
  if (segments.some((s) => Buffer.byteLength(s) > 255)) fail('has a name longer than 255 bytes')
  if (!options.glob && /[*?[]/.test(path)) fail('contains glob characters')
  return path
}

/** The token git or the API sends: never quoted, only described. */
export function checkToken(what: string, token: string): void {
  if (token.length > maxTokenLength)
    throw new InputError(
      `${what} is ${token.length} characters long; a token is at most ${maxTokenLength}`
    )
  // eslint-disable-next-line no-control-regex
  if (/[\s\u0000-\u001f\u007f]/.test(token))
    throw new InputError(`${what} contains whitespace or a control character; check the secret`)
}

/**
 * An ISO 8601 time, at most a day in the future (a time from the future would block every later
 * bump): the options' one time validator (shared/src/options/validate.ts).
 */
export function checkTime(what: string, value: string, now = Date.now()): string {
  return isoTime(value, what, { now, maxFutureMs: maxBuildTimeAheadMs })
}

/** Single-line text of bounded length (provenance recorded in the image file and the message). */
function checkLine(what: string, value: string, max: number): void {
  if (value.length > max)
    throw new InputError(`${what} ${quoteValue(value)} is longer than ${max} characters`)
  if (controlCharacters.test(value))
    throw new InputError(`${what} ${quoteValue(value)} contains a line break or control character`)
}

/**
 * Checks a bump request before anything is read or written. Throws an InputError naming the
 * setting (`image-name`, `branch`, `images-dir`, `values`, `manifests`, `commit-message` and the
 * provenance settings; `label` turns a setting into how the caller names it, e.g. "Input 'x'")
 * and what is wrong.
 */
export function checkBumpRequest(
  request: BumpRequest,
  now = Date.now(),
  label: (setting: string) => string = (setting) => setting
): void {
  const name = request.imageName
  if (name.length > 128 || !imageSourcePattern.test(name))
    throw new InputError(
      `${label('image-name')} ${quoteValue(name)} must be lowercase path segments like api or acme/api (letters, digits, '.', '_', '-'; at most 128 characters)`
    )
  checkBranchName(label('branch'), request.branch)
  // A leading '/' or './' is dropped, as imageFileFor does (the original kit wrote /images).
  const imagesDir = request.imagesDir.replace(/^(\.?\/)+/, '').replace(/\/+$/, '')
  if (imagesDir !== '' && imagesDir !== '.') checkRepoPath(label('images-dir'), imagesDir)
  for (const [setting, list] of [
    ['values', request.values.map((v) => v.file)],
    ['manifests', request.manifests]
  ] as const) {
    const what = label(setting)
    if (list.length > maxBumpListEntries)
      throw new InputError(`${what} has ${list.length} entries; at most ${maxBumpListEntries}`)
    for (const entry of list) checkRepoPath(what, entry, { glob: setting === 'manifests' })
  }
  if (request.templates) checkTemplates(request.templates, label)
  if (request.messageTemplate.length > maxMessageTemplateLength)
    throw new InputError(
      `${label('commit-message')} is ${request.messageTemplate.length} characters long; at most ${maxMessageTemplateLength}`
    )
  const p = request.provenance
  if (p.repository !== undefined) checkLine(label('source-repository'), p.repository, 512)
  if (p.commit !== undefined && !/^[0-9a-fA-F]{4,64}$/.test(p.commit))
    throw new InputError(
      `${label('source-commit')} ${quoteValue(p.commit)} must be a commit SHA (4 to 64 hexadecimal digits)`
    )
  if (p.ref !== undefined) checkLine(label('source-ref'), p.ref, 1024)
  if (p.runUrl !== undefined) {
    checkLine(label('run-url'), p.runUrl, 2048)
    if (!/^https?:\/\/[^\s/]+/.test(p.runUrl))
      throw new InputError(`${label('run-url')} ${quoteValue(p.runUrl)} must be an http(s) URL`)
  }
  if (p.builtAt !== undefined) checkTime(label('built-at'), p.builtAt, now)
  if (p.committedAt !== undefined) checkTime(label('committed-at'), p.committedAt, now)
}

/**
 * The templates a bump copies: the service a DNS label (it names a folder), the folders and
 * every file's path inside the manifests repository, no path twice. The service repository's
 * side (symlinks, sizes, YAML) is checked where the folder is read.
 */
function checkTemplates(
  templates: NonNullable<BumpRequest['templates']>,
  label: (setting: string) => string
): void {
  if (!namePattern.test(templates.service))
    throw new InputError(
      `${label('service')} ${quoteValue(templates.service)} must be a DNS label: lowercase letters, digits and '-' (at most 63)`
    )
  const dir = templates.dir.replace(/^(\.?\/)+/, '').replace(/\/+$/, '')
  if (dir !== '' && dir !== '.') checkRepoPath(label('service-templates-dir'), dir)
  checkLine(label('templates'), templates.sourcePath, maxRepoPathLength)
  // An empty set would leave a record listing nothing: a service without templates sets none.
  if (templates.files.length === 0)
    throw new InputError(`${label('templates')} ${quoteValue(templates.sourcePath)} holds no file`)
  const seen = new Set<string>()
  for (const f of templates.files) {
    checkRepoPath(`${label('templates')} file`, f.path)
    if (seen.has(f.path))
      throw new InputError(`${label('templates')} lists ${quoteValue(f.path)} twice`)
    seen.add(f.path)
  }
}
