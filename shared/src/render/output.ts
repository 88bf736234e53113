/**
 * The output folder: `<output>/<cluster>/<service>/<kind>-<namespace>-<name>.yaml` plus
 * `<output>/index.json`. Rendered files go to a staging folder first (see OutputWriter); only
 * when every cluster rendered are they moved into place, so a failed render leaves the
 * previous output untouched, or no output folder at all when there was none.
 *
 * What is replaced (decided so that a partial render can never delete what it did not render):
 * - a full render (no cluster or service filter) replaces the whole folder, so clusters
 *   deleted or disabled in the repository disappear from the output;
 * - a render of some clusters replaces those clusters' folders only;
 * - a render of some services replaces only `<cluster>/<service>/` of those services.
 */
import {
  closeSync,
  existsSync,
  lstatSync,
  openSync,
  readSync,
  writeSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync
} from 'node:fs'
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path'
import { InputError } from '../errors.js'
import type { RenderIndex } from './index-file.js'
import type { ClusterRender } from './render.js'
import { namePattern } from './repository.js'
import { WritePool } from './write-pool.js'

/** The index file's name inside the output folder. */
export const indexFileName = 'index.json'
/** Staging folders are hidden and never a cluster's name (names start with a letter or digit). */
const stagingPrefix = '.kit-staging-'

/** Which part of the output a render owns (and so may replace). */
export interface OutputScope {
  /** Every cluster and every service: the whole folder is replaced. */
  readonly full: boolean
  /** Clusters covered (rendered or disabled), when not full. */
  readonly clusters: readonly string[]
  /** Services covered, when only some services are rendered. */
  readonly services?: readonly string[]
}

/**
 * Refuses an output folder that would put the repository at risk: the repository root
 * itself, a folder containing it, or a folder inside its sources. Returns the absolute path.
 */
export function checkOutputLocation(
  root: string,
  output: string,
  sources: readonly string[]
): string {
  const absRoot = resolve(root)
  const out = resolve(absRoot, output)
  const inside = (child: string, parent: string) => {
    const r = relative(parent, child)
    return r === '' || (!r.startsWith(`..${sep}`) && r !== '..' && !isAbsolute(r))
  }
  if (inside(absRoot, out)) {
    throw new InputError(
      `output folder '${output}' contains the manifests repository; choose a folder such as 'generated'`
    )
  }
  for (const s of sources) {
    if (s !== '' && inside(out, resolve(absRoot, s))) {
      throw new InputError(`output folder '${output}' is inside the source folder '${s}'`)
    }
  }
  return out
}

/**
 * Writes rendered clusters through a staging folder and moves them into place only at commit,
 * so a failed render leaves no trace: not a file, not even the output folder.
 *
 * - No output folder yet: the staging folder is made beside where it will be (in its nearest
 *   existing parent) and is renamed into the output folder at commit, index included.
 * - An output folder from an earlier render: the staging folder is inside it, and only files
 *   whose content changed are staged (the writer threads compare with the file in place). At
 *   commit they are moved over the old ones, files no longer rendered are deleted, and the
 *   index is replaced last.
 */
export class OutputWriter {
  private readonly pool: WritePool
  /** True when the output folder does not exist: the staging folder becomes it at commit. */
  private readonly fresh: boolean
  private readonly staging: string
  private done = false

  constructor(
    /** Absolute output folder. */
    readonly dir: string,
    readonly scope: OutputScope,
    options: { threads?: number } = {}
  ) {
    if (existsSync(dir)) {
      if (!statSync(dir).isDirectory())
        throw new InputError(`output '${dir}' exists and is not a folder`)
      const entries = readdirSync(dir).filter((e) => !/^\.kit-staging-\d+$/.test(e))
      if (entries.length > 0 && !isKitIndex(join(dir, indexFileName))) {
        throw new InputError(
          `output folder '${dir}' has files but no kit ${indexFileName}; refusing to replace what kit did not write (empty it or choose another folder)`
        )
      }
      removeStaleStaging(dir, stagingPrefix)
      this.fresh = false
      this.staging = join(dir, `${stagingPrefix}${process.pid}`)
    } else {
      const parent = nearestExistingFolder(dirname(dir))
      if (!statSync(parent).isDirectory())
        throw new InputError(`output '${dir}' cannot be made: '${parent}' is not a folder`)
      const prefix = `${stagingPrefix}${basename(dir)}-`
      removeStaleStaging(parent, prefix)
      this.fresh = true
      this.staging = join(parent, `${prefix}${process.pid}`)
    }
    this.pool = new WritePool(options.threads)
  }

  /** Hands one cluster's files to the writer threads (waits only when they are behind). */
  async write(render: ClusterRender): Promise<void> {
    checkName(render.name)
    const files: [string, string][] = []
    for (const service of render.services) {
      for (const file of service.files) {
        checkRelative(file.path)
        files.push([file.path, file.content])
      }
    }
    const current = join(this.dir, render.name)
    const inPlace = !this.fresh && lstatSync(current, { throwIfNoEntry: false })?.isDirectory()
    await this.pool.submit({
      root: join(this.staging, render.name),
      compareRoot: inPlace ? current : undefined,
      files
    })
  }

  /**
   * Moves the staged output into place and writes the index from its chunks.
   * `rendered`: the clusters rendered by this run; `filesOf`: each one's files, relative to the
   * output folder (from its index entry), which decide what is kept in place.
   */
  async commit(
    rendered: readonly string[],
    filesOf: (cluster: string) => readonly string[],
    indexChunks: Iterable<string>
  ): Promise<void> {
    await this.pool.drain()
    await this.pool.close()
    mkdirSync(this.staging, { recursive: true })
    const stagedIndex = join(this.staging, indexFileName)
    writeChunks(stagedIndex, indexChunks)
    if (this.fresh) {
      mkdirSync(dirname(this.dir), { recursive: true })
      renameSync(this.staging, this.dir)
      this.done = true
      return
    }
    const { scope } = this
    const renderedSet = new Set(rendered)
    if (scope.full) {
      // A full render owns the folder: clusters removed or disabled in the repository go.
      const staging = basename(this.staging)
      for (const entry of readdirSync(this.dir)) {
        if (entry !== staging && entry !== indexFileName && !renderedSet.has(entry))
          rmSync(join(this.dir, entry), { recursive: true, force: true })
      }
    }
    for (const cluster of scope.full ? rendered : scope.clusters) {
      checkName(cluster)
      if (renderedSet.has(cluster)) this.commitCluster(cluster, filesOf(cluster))
      else this.commitCluster(cluster, [])
    }
    renameSync(stagedIndex, join(this.dir, indexFileName))
    rmSync(this.staging, { recursive: true, force: true })
    this.done = true
  }

  /** Stops the writer threads and removes the staging folder (after a failure). */
  async discard(): Promise<void> {
    await this.pool.close()
    if (!this.done) rmSync(this.staging, { recursive: true, force: true })
  }

  /** Files written, and files left in place because their content was already the same. */
  get stats(): { written: number; unchanged: number } {
    return { written: this.pool.written, unchanged: this.pool.unchanged }
  }

  /**
   * One cluster in place: delete what it no longer has (within the part this render owns),
   * then move the changed files over. A cluster new to the folder is moved in whole.
   */
  private commitCluster(cluster: string, files: readonly string[]): void {
    const target = join(this.dir, cluster)
    const staged = join(this.staging, cluster)
    const services = this.scope.services
    if (!services && !existsSync(target)) {
      if (existsSync(staged)) renameSync(staged, target)
      return
    }
    const owned = services ? services.map((s) => join(target, s)) : [target]
    const expected = new Set(files.map((f) => join(this.dir, f)))
    for (const root of owned) {
      let removed = 0
      for (const path of listEntries(root)) {
        if (!expected.has(path)) {
          rmSync(path)
          removed++
        }
      }
      if (removed > 0) removeEmptyFolders(root)
    }
    for (const from of listEntries(staged)) {
      const to = join(target, relative(staged, from))
      mkdirSync(dirname(to), { recursive: true })
      renameSync(from, to)
    }
    if (existsSync(target) && readdirSync(target).length === 0) rmSync(target, { recursive: true })
  }
}

/** Cluster names become folder names: validated on load, checked again here as a backstop. */
function checkName(name: string): void {
  if (!namePattern.test(name))
    throw new InputError(`refusing to write cluster '${name}': not a valid folder name`)
}

/** A rendered path must stay inside its cluster's folder. */
function checkRelative(path: string): void {
  const parts = path.split('/')
  if (
    isAbsolute(path) ||
    parts.some((p) => p === '' || p === '.' || p === '..' || p.includes('\\'))
  )
    throw new InputError(`refusing to write '${path}': it would escape the output folder`)
}

/** The folder itself if it exists, else its closest existing parent. */
function nearestExistingFolder(dir: string): string {
  let d = resolve(dir)
  while (!existsSync(d)) {
    const up = dirname(d)
    if (up === d) break
    d = up
  }
  return d
}

/** Staging folders (`<prefix><pid>`) left behind by a render that was killed. */
function removeStaleStaging(dir: string, prefix: string): void {
  for (const e of readdirSync(dir)) {
    if (e.startsWith(prefix) && /^\d+$/.test(e.slice(prefix.length)))
      rmSync(join(dir, e), { recursive: true, force: true })
  }
}

/**
 * Every file and link under a folder, absolute (the path itself when it is not a folder; none
 * when absent). Links are listed, never followed: a link inside the output folder is removed
 * or replaced as a link, and nothing outside the folder is ever touched through it.
 */
function listEntries(dir: string): string[] {
  const stat = lstatSync(dir, { throwIfNoEntry: false })
  if (!stat) return []
  if (!stat.isDirectory()) return [dir]
  const out: string[] = []
  walk(dir, (path, isDir) => {
    if (!isDir) out.push(path)
  })
  return out
}

/** Visits everything under `dir` depth first, children before their folder; links not followed. */
function walk(dir: string, visit: (path: string, isDir: boolean) => void): void {
  for (const d of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, d.name)
    if (d.isDirectory()) {
      walk(path, visit)
      visit(path, true)
    } else visit(path, false)
  }
}

/** Removes folders left empty under `dir` (and `dir` itself when empty), deepest first. */
function removeEmptyFolders(dir: string): void {
  if (!lstatSync(dir, { throwIfNoEntry: false })?.isDirectory()) return
  walk(dir, (path, isDir) => {
    if (isDir && readdirSync(path).length === 0) rmSync(path, { recursive: true })
  })
  if (readdirSync(dir).length === 0) rmSync(dir, { recursive: true })
}

/** True when the file holds exactly the chunks' text. */
function sameBytes(path: string, chunks: Iterable<string>): boolean {
  const fd = openSync(path, 'r')
  try {
    let offset = 0
    for (const chunk of chunks) {
      const want = Buffer.from(chunk, 'utf8')
      const have = Buffer.allocUnsafe(want.length)
      let got = 0
      while (got < want.length) {
        const n = readSync(fd, have, got, want.length - got, offset + got)
        if (n === 0) return false
        got += n
      }
      if (!have.equals(want)) return false
      offset += want.length
    }
    return readSync(fd, Buffer.allocUnsafe(1), 0, 1, offset) === 0
  } finally {
    closeSync(fd)
  }
}

function writeChunks(path: string, chunks: Iterable<string>): void {
  const fd = openSync(path, 'w')
  try {
    for (const chunk of chunks) writeSync(fd, chunk)
  } finally {
    closeSync(fd)
  }
}

/**
 * Compares a render with what is on disk (check mode): returns the differences as
 * `added|changed|removed <path>` lines, relative to the output folder, sorted.
 */
export class OutputComparer {
  private readonly differences: string[] = []

  constructor(
    readonly dir: string,
    readonly scope: OutputScope
  ) {}

  compare(render: ClusterRender): void {
    const expected = new Map<string, string>()
    for (const s of render.services)
      for (const f of s.files) expected.set(`${render.name}/${f.path}`, f.content)
    const prefixes = this.scope.services
      ? this.scope.services.map((s) => `${render.name}/${s}`)
      : [render.name]
    this.diff(expected, prefixes)
  }

  /** Output of clusters that should not exist any more (disabled, or removed in a full render). */
  compareAbsent(clusters: readonly string[]): void {
    this.diff(
      new Map(),
      clusters
        .map((c) => (this.scope.services ? this.scope.services.map((s) => `${c}/${s}`) : [c]))
        .flat()
    )
  }

  /** Compares the index file with the wanted text, chunk by chunk (never whole in memory). */
  compareIndex(wanted: Iterable<string>): void {
    const path = join(this.dir, indexFileName)
    if (!existsSync(path)) {
      this.differences.push(`added ${indexFileName}`)
      return
    }
    if (!sameBytes(path, wanted)) this.differences.push(`changed ${indexFileName}`)
  }

  result(): string[] {
    return [...new Set(this.differences)].sort()
  }

  private diff(expected: Map<string, string>, prefixes: readonly string[]): void {
    const actual = new Set<string>()
    for (const prefix of prefixes)
      for (const f of listFiles(join(this.dir, prefix))) actual.add(`${prefix}/${f}`)
    for (const [path, content] of expected) {
      if (!actual.has(path)) this.differences.push(`added ${path}`)
      else if (readFileSync(join(this.dir, path), 'utf8') !== content)
        this.differences.push(`changed ${path}`)
    }
    for (const path of actual) if (!expected.has(path)) this.differences.push(`removed ${path}`)
  }
}

function listFiles(dir: string): string[] {
  if (!existsSync(dir)) return []
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => relative(dir, join(d.parentPath, d.name)).split(sep).join('/'))
}

function isKitIndex(path: string): boolean {
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as { kind?: unknown }
    return parsed.kind === 'KitRenderIndex'
  } catch {
    return false
  }
}

/** Reads a previous index (for partial renders), or undefined when absent or not kit's. */
export function readIndex(dir: string): RenderIndex | undefined {
  const path = join(dir, indexFileName)
  if (!existsSync(path)) return undefined
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as RenderIndex
    return parsed.kind === 'KitRenderIndex' &&
      parsed.clusters &&
      typeof parsed.clusters === 'object'
      ? parsed
      : undefined
  } catch {
    return undefined
  }
}
