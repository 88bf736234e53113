/**
 * Image references in a render are read with the grammar `kit bump` writes them with
 * (parseImageRef, shared/src/images/image-ref.ts), wherever they come from: image files,
 * pins in groups and clusters, container images written in a template, and container images a
 * placeholder fills in (`image: ${{ values.image }}`). A reference the bump would refuse is
 * refused here too, with the file and line it came from.
 */
import { InputError } from '../errors.js'
import {
  forEachContainerImage,
  holdsNoContainerImage,
  isContainerImageKey
} from '../images/container-images.js'
import { parseImageRef } from '../images/image-ref.js'
import { lineOf, type LoadedDocument } from '../yaml/index.js'
import { formatYamlPath } from '../yaml-edit/path.js'
import { isPlainMap } from './merge.js'
import type { CompiledNode, Expression } from './placeholders.js'
import type { RenderProblem } from './problems.js'
import type { Layer } from './repository.js'

type Path = readonly (string | number)[]

/**
 * The reason `ref` is not a reference, in parseImageRef's words; undefined when it is one, or
 * null (Kubernetes reads a null image as none, which workload templates allow).
 */
export function imageRefProblem(ref: unknown, what: string): string | undefined {
  if (ref === null || ref === undefined) return undefined
  if (typeof ref !== 'string') return `${what} must be an image reference (a string)`
  if (known.has(ref)) return undefined
  try {
    parseImageRef(ref, what)
  } catch (err) {
    if (err instanceof InputError) return err.message
    throw err
  }
  // The same few references recur on every cluster: each is parsed once.
  if (known.size >= maxKnown) known.clear()
  known.add(ref)
  return undefined
}

/** References already read as valid, and how many are kept. */
const known = new Set<string>()
const maxKnown = 10_000

/** Every pin (`services.<s>.image`, `services.<s>.images.<name>`) of a group or cluster file. */
export function pinProblems(layer: Layer): RenderProblem[] {
  const problems: RenderProblem[] = []
  const check = (ref: string, at: string[]) => {
    const message = imageRefProblem(ref, at.join('.'))
    if (message)
      problems.push({
        message,
        file: layer.file,
        line: layer.doc ? lineOf(layer.doc, at) : undefined
      })
  }
  for (const [service, own] of Object.entries(layer.services ?? {})) {
    if (own.image !== undefined) check(own.image, ['services', service, 'image'])
    for (const [name, ref] of Object.entries(own.images ?? {}))
      check(ref, ['services', service, 'images', name])
  }
  return problems
}

/**
 * An image file's reference, and its digest appended to it (what the render writes). Throws an
 * InputError naming the file and the line of the key that is wrong.
 */
export function checkImageFile(
  record: { image: string; digest?: string },
  file: string,
  doc: LoadedDocument | undefined
): void {
  const fail = (message: string | undefined, key: string): void => {
    if (message) throw new InputError(message, { file, line: doc ? lineOf(doc, [key]) : undefined })
  }
  fail(imageRefProblem(record.image, 'image'), 'image')
  // Checked even when the image carries its own digest (which the render then uses).
  if (record.digest !== undefined)
    fail(imageRefProblem(`${record.image.split('@')[0]}@${record.digest}`, 'digest'), 'digest')
}

/**
 * Container images written in a template (not through a placeholder), checked once when the
 * template is loaded. `lineAt` maps a path to its line in the file.
 */
export function literalImageProblems(
  node: CompiledNode,
  lineAt: (path: Path) => number
): { message: string; line: number }[] {
  const found: { message: string; line: number }[] = []
  walkCompiled(node, [], (path, value, from) => {
    if (from !== undefined) return
    forEachContainerImage(value, path, (at, image) => {
      const message = imageRefProblem(image, formatYamlPath(at))
      if (message) found.push({ message, line: lineAt(at) })
    })
  })
  return found
}

/** A place in a template where a placeholder may put a container image. */
export interface ImageSite {
  readonly path: Path
  /** The placeholder's line, and its expressions (for messages). */
  readonly line: number
  readonly exprs: readonly Expression[]
}

/**
 * Where a template's placeholders may put container images, found once per template so a
 * render checks only those places in each object.
 */
export function placeholderImageSites(node: CompiledNode): ImageSite[] {
  const sites: ImageSite[] = []
  walkCompiled(node, [], (path, _value, from) => {
    if (from !== undefined) sites.push({ path: [...path], ...from })
  })
  return sites
}

/**
 * Container images placeholders filled in, in one rendered object: each problem with the
 * placeholder's line and the expressions it came from.
 */
export function placeholderImageProblems(
  sites: readonly ImageSite[],
  object: unknown
): { message: string; line: number }[] {
  const found: { message: string; line: number }[] = []
  for (const site of sites) {
    forEachContainerImage(valueAt(object, site.path), site.path, (at, image) => {
      const message = imageRefProblem(image, formatYamlPath(at))
      if (message) found.push({ message: `${sources(site.exprs)}: ${message}`, line: site.line })
    })
  }
  return found
}

/**
 * Visits the template's subtrees: literal ones with their value, and ones a placeholder
 * produces (a whole-value placeholder, or a string with placeholders inside) with the
 * placeholder. Subtrees that cannot hold a container image (metadata, a container's fields
 * other than its image) are skipped; any other placeholder may produce a pod spec.
 */
function walkCompiled(
  node: CompiledNode,
  path: (string | number)[],
  visit: (
    path: Path,
    value: unknown,
    from: { line: number; exprs: readonly Expression[] } | undefined
  ) => void
): void {
  if (holdsNoContainerImage(path)) return
  switch (node.t) {
    case 'literal':
      visit(path, node.value, undefined)
      return
    case 'whole':
      visit(path, undefined, { line: node.line, exprs: [node.expr] })
      return
    case 'text': {
      // A string only matters where it is a container's image.
      const last = path[path.length - 1]
      if (typeof last === 'string' && isContainerImageKey(path.slice(0, -1), last)) {
        const exprs = node.parts.filter((p): p is Expression => typeof p !== 'string')
        visit(path, undefined, { line: node.line, exprs })
      }
      return
    }
    case 'map':
      for (const [key, child] of node.entries) {
        path.push(key)
        walkCompiled(child, path, visit)
        path.pop()
      }
      return
    case 'list':
      node.items.forEach((child, i) => {
        path.push(i)
        walkCompiled(child, path, visit)
        path.pop()
      })
  }
}

function valueAt(object: unknown, path: Path): unknown {
  let value = object
  for (const key of path) {
    if (typeof key === 'number' && Array.isArray(value)) value = value[key]
    else if (isPlainMap(value)) value = value[key as string]
    else return undefined
  }
  return value
}

function sources(exprs: readonly Expression[]): string {
  return exprs.map((e) => `'${e.source}'`).join(', ')
}
