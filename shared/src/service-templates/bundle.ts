/**
 * Reads a service's templates folder from the service repository (`deploy/kit/`) into a
 * bundle the bump copies into the manifests repository. Everything that could let one service
 * write outside its own folder, or carry something the deploymentizer cannot read, is refused
 * here, before any network call: every problem at once, each naming its file.
 */
import { lstatSync, readdirSync, readFileSync, realpathSync } from 'node:fs'
import { isAbsolute, join, relative, sep } from 'node:path'
import { InputError, quoteValue } from '../errors.js'
import { renderFailure, type RenderProblem } from '../render/problems.js'
import { namePattern, problemFrom } from '../render/repository.js'
import { formatBytes } from '../text/bytes.js'
import { decodeUtf8, loadYamlDocuments, loadYamlMapping } from '../yaml/load.js'
import type { TemplateFile } from './record.js'

/** A service's templates, read and checked, ready for the bump. */
export interface TemplateBundle {
  readonly service: string
  /** The folder in the service repository, relative to its root, forward slashes. */
  readonly sourcePath: string
  /** Sorted by path; paths relative to the folder. */
  readonly files: readonly TemplateFile[]
}

/**
 * How much one service may carry. Templates are a service's manifests, not its assets: the
 * limits keep a mistaken folder (a build output, a vendored chart) from landing in the
 * manifests repository, and keep every bump and render small.
 */
export const templateLimits = {
  fileBytes: 1024 * 1024,
  totalBytes: 8 * 1024 * 1024,
  files: 500
} as const

/** File and folder names in a templates folder: portable on every file system and in URLs. */
const entryName = /^[A-Za-z0-9_-][A-Za-z0-9._-]*$/

export interface BundleOptions {
  /** The service repository's root (the workspace). */
  readonly root: string
  /** The templates folder, relative to `root`. */
  readonly folder: string
  readonly service: string
  /** How the front-end names its settings, for messages: `Input 'templates'`, `--templates`. */
  readonly label: (name: string) => string
}

/** Reads and checks the folder; throws one error listing every problem found. */
export function readTemplateBundle(options: BundleOptions): TemplateBundle {
  const { service, label } = options
  if (!namePattern.test(service))
    throw new InputError(
      `${label('service')} ${quoteValue(service)} must be a DNS label: lowercase letters, digits and '-' (at most 63), as service folders are`
    )
  const sourcePath = checkFolderPath(options)
  const problems: RenderProblem[] = []
  const files: TemplateFile[] = []
  let total = 0
  for (const path of listFolder(options.root, sourcePath, problems)) {
    const file = `${sourcePath}/${path}`
    const bytes = readFileSync(join(options.root, file))
    total += bytes.length
    if (bytes.length > templateLimits.fileBytes) {
      problems.push({
        message: `${bytes.length} bytes, over the ${formatBytes(templateLimits.fileBytes)} (${templateLimits.fileBytes} bytes) a template file may have`,
        file
      })
      continue
    }
    const content = readYamlText(bytes, file, path, problems)
    if (content !== undefined) files.push({ path, content })
  }
  if (files.length > templateLimits.files)
    problems.push({
      message: `${files.length} files is over the ${templateLimits.files} a templates folder may hold`,
      file: `${sourcePath}/`
    })
  if (total > templateLimits.totalBytes)
    problems.push({
      message: `${formatBytes(total)} in all is over the ${formatBytes(templateLimits.totalBytes)} a templates folder may hold`,
      file: `${sourcePath}/`
    })
  if (problems.length === 0 && !files.some((f) => isTemplate(f.path)))
    problems.push({
      message: `holds no templates: a templates folder needs at least one manifest (.yaml) besides values.yaml and kit.yaml`,
      file: `${sourcePath}/`
    })
  if (problems.length > 0) throw renderFailure(problems)
  return { service, sourcePath, files }
}

/** The folder, normalised to forward slashes; refused when it could leave the repository. */
function checkFolderPath({ root, folder, label }: BundleOptions): string {
  const what = `${label('templates')} ${quoteValue(folder)}`
  if (folder.trim() === '') throw new InputError(`${label('templates')} is empty`)
  if (isAbsolute(folder) || /^[A-Za-z]:/.test(folder))
    throw new InputError(
      `${what} is an absolute path; give the folder relative to the repository root`
    )
  const parts = folder.split(/[\\/]+/).filter((p) => p !== '' && p !== '.')
  if (parts.includes('..'))
    throw new InputError(`${what} contains '..'; the folder must be inside the repository`)
  if (parts.length === 0)
    throw new InputError(
      `${what} is the repository root; name the templates folder, e.g. deploy/kit`
    )
  const rel = parts.join('/')
  // Every step below the root must be a real folder: a linked folder could point anywhere.
  for (let i = 1; i <= parts.length; i++) {
    const step = parts.slice(0, i).join('/')
    const stat = lstatSync(join(root, step), { throwIfNoEntry: false })
    if (!stat) throw new InputError(`${what}: '${step}' does not exist in ${root}`)
    if (stat.isSymbolicLink())
      throw new InputError(`${what}: '${step}' is a symbolic link; links are not followed`)
    if (!stat.isDirectory()) throw new InputError(`${what}: '${step}' is not a folder`)
  }
  const real = relative(realpathSync(root), realpathSync(join(root, rel)))
  if (real.startsWith('..') || isAbsolute(real))
    throw new InputError(`${what} resolves outside the repository`)
  return rel
}

/** Every file under the folder (paths relative to it, sorted); what cannot be copied is a problem. */
function listFolder(root: string, folder: string, problems: RenderProblem[]): string[] {
  const out: string[] = []
  const walk = (rel: string): void => {
    const entries = readdirSync(join(root, folder, rel), { withFileTypes: true })
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    for (const entry of entries) {
      const path = rel === '' ? entry.name : `${rel}/${entry.name}`
      const file = `${folder}/${path}`
      if (!entryName.test(entry.name) || Buffer.byteLength(entry.name) > 255) {
        problems.push({
          message: `the name ${quoteValue(entry.name)} is refused: names in a templates folder are letters, digits, '.', '_' and '-', not starting with '.'`,
          file
        })
      } else if (entry.isSymbolicLink()) {
        problems.push({ message: 'symbolic links are not followed', file })
      } else if (entry.isDirectory()) {
        walk(path)
      } else if (!entry.isFile()) {
        problems.push({ message: 'not a regular file', file })
      } else if (!/\.ya?ml$/.test(entry.name)) {
        problems.push({
          message:
            'not a YAML file: a templates folder holds manifests (.yaml or .yml), values.yaml and kit.yaml only',
          file
        })
      } else out.push(path)
    }
  }
  walk('')
  return out
}

/**
 * The file's text when it is UTF-8 YAML that kit reads, byte for byte what is on disk (the copy
 * must be exact, so a byte order mark, which the reader drops, is refused).
 */
function readYamlText(
  bytes: Buffer,
  file: string,
  path: string,
  problems: RenderProblem[]
): string | undefined {
  try {
    const text = decodeUtf8(bytes, file)
    if (!Buffer.from(text, 'utf8').equals(bytes))
      throw new InputError('starts with a byte order mark; save the file as UTF-8 without one', {
        file
      })
    if (path === 'values.yaml' || path === 'kit.yaml') loadYamlMapping(text, file)
    else loadYamlDocuments(text, file)
    return text
  } catch (err) {
    if (!(err instanceof InputError)) throw err
    problems.push(problemFrom(err))
    return undefined
  }
}

/** A manifest, not the folder's own settings. */
function isTemplate(path: string): boolean {
  return path !== 'values.yaml' && path !== 'kit.yaml'
}

/** `deploy\kit` → `deploy/kit` on every platform. */
export function toPosix(p: string): string {
  return p.split(sep).join('/')
}
