/**
 * The output folder: `<output>/<cluster>/<service>/<kind>-<namespace>-<name>.yaml` plus
 * `<output>/index.json`. Rendered files go to a staging folder inside the output folder
 * first; only when every cluster rendered are they moved into place, so a failed render
 * leaves the previous output untouched. Nothing outside the output folder is ever touched.
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
  openSync,
  writeSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync
} from 'node:fs'
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path'
import { InputError } from '../errors.js'
import type { RenderIndex } from './index-file.js'
import type { ClusterRender } from './render.js'

/** The index file's name inside the output folder. */
export const indexFileName = 'index.json'
const stagingPrefix = '.kit-staging-'
/** Inside the staging folder; a dot name can never be a cluster. */
const indexEntriesDir = '.index'

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

/** Writes rendered clusters to a staging folder, then swaps them into place. */
export class OutputWriter {
  private staging: string | undefined
  /** True when prepare() created the output folder (a failed render then removes it again). */
  private created = false

  constructor(
    /** Absolute output folder. */
    readonly dir: string,
    readonly scope: OutputScope
  ) {}

  /**
   * Makes sure the folder is ours to change: absent, empty, or holding kit's index. A folder
   * with other content is refused rather than emptied.
   */
  prepare(): void {
    if (existsSync(this.dir)) {
      if (!statSync(this.dir).isDirectory())
        throw new InputError(`output '${this.dir}' exists and is not a folder`)
      const entries = readdirSync(this.dir).filter((e) => !e.startsWith(stagingPrefix))
      if (entries.length > 0 && !isKitIndex(join(this.dir, indexFileName))) {
        throw new InputError(
          `output folder '${this.dir}' has files but no kit ${indexFileName}; refusing to replace what kit did not write (empty it or choose another folder)`
        )
      }
      for (const e of readdirSync(this.dir))
        if (e.startsWith(stagingPrefix)) rmSync(join(this.dir, e), { recursive: true, force: true })
    }
    this.created = !existsSync(this.dir)
    this.staging = join(this.dir, `${stagingPrefix}${process.pid}`)
    mkdirSync(this.staging, { recursive: true })
  }

  /** Writes one cluster's files into the staging folder. */
  stage(render: ClusterRender): void {
    const staging = this.requireStaging()
    for (const service of render.services) {
      const serviceDir = this.safeJoin(staging, render.name, service.name)
      mkdirSync(serviceDir, { recursive: true })
      for (const file of service.files)
        writeFileSync(this.safeJoin(staging, render.name, file.path), file.content)
    }
  }

  /** Keeps a cluster's serialised index entry on disk until commit (memory stays flat). */
  stageIndexEntry(cluster: string, text: string): void {
    const dir = join(this.requireStaging(), indexEntriesDir)
    mkdirSync(dir, { recursive: true })
    writeFileSync(this.safeJoin(dir, `${cluster}.json`), text)
  }

  /** Reads back an entry stored by stageIndexEntry. */
  readIndexEntry(cluster: string): string {
    return readFileSync(join(this.requireStaging(), indexEntriesDir, `${cluster}.json`), 'utf8')
  }

  /** Moves the staged output into place and writes the index from its chunks. */
  commit(indexChunks: Iterable<string>): void {
    const staging = this.requireStaging()
    const { scope } = this
    if (scope.full) {
      for (const entry of readdirSync(this.dir)) {
        if (join(this.dir, entry) !== staging)
          rmSync(join(this.dir, entry), { recursive: true, force: true })
      }
      for (const cluster of readdirSync(staging)) {
        if (cluster !== indexEntriesDir) renameSync(join(staging, cluster), join(this.dir, cluster))
      }
    } else {
      for (const cluster of scope.clusters) {
        const target = this.safeJoin(this.dir, cluster)
        const staged = join(staging, cluster)
        if (!scope.services) {
          rmSync(target, { recursive: true, force: true })
          if (existsSync(staged)) renameSync(staged, target)
          continue
        }
        for (const service of scope.services) {
          const t = this.safeJoin(this.dir, cluster, service)
          rmSync(t, { recursive: true, force: true })
          const s = join(staged, service)
          if (existsSync(s)) {
            mkdirSync(dirname(t), { recursive: true })
            renameSync(s, t)
          }
        }
        if (existsSync(target) && readdirSync(target).length === 0)
          rmSync(target, { recursive: true })
      }
    }
    const fd = openSync(join(this.dir, indexFileName), 'w')
    try {
      for (const chunk of indexChunks) writeSync(fd, chunk)
    } finally {
      closeSync(fd)
    }
    this.discard()
  }

  /** Removes the staging folder (after a failure, or after commit). */
  discard(): void {
    if (this.staging) rmSync(this.staging, { recursive: true, force: true })
    if (this.staging && this.created && readdirSync(this.dir).length === 0)
      rmSync(this.dir, { recursive: true })
    this.staging = undefined
  }

  private requireStaging(): string {
    if (!this.staging) throw new Error('OutputWriter.prepare() was not called')
    return this.staging
  }

  /** Joins and proves the result stays inside the output folder (names are validated, this is the backstop). */
  private safeJoin(base: string, ...parts: string[]): string {
    const p = join(base, ...parts)
    const r = relative(this.dir, p)
    if (r === '' || r.startsWith('..') || isAbsolute(r)) {
      throw new InputError(
        `refusing to write '${parts.join('/')}': it would escape the output folder`
      )
    }
    return p
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

  compareIndex(wanted: string): void {
    const path = join(this.dir, indexFileName)
    const actual = existsSync(path) ? readFileSync(path, 'utf8') : undefined
    if (actual === undefined) this.differences.push(`added ${indexFileName}`)
    else if (actual !== wanted) this.differences.push(`changed ${indexFileName}`)
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
