/**
 * One render, start to finish, for the action and the CLI alike: load, select, render
 * cluster by cluster (each cluster's files handed to writer threads and its index entry
 * spilled to disk as soon as it is rendered, so memory does not grow with the number of
 * clusters), then commit, or compare in check mode, or nothing in dry run.
 */
import { existsSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { Redactor } from '../secrets/index.js'
import { plural } from '../text/plural.js'
import {
  entryFiles,
  indexChunks,
  indexCluster,
  indexHash,
  mergePreviousIndex,
  serializeEntry,
  type IndexEntryRef,
  type IndexImageFile,
  type IndexParts
} from './index-file.js'
import {
  checkOutputLocation,
  indexFileName,
  OutputComparer,
  OutputWriter,
  readIndex,
  type OutputScope
} from './output.js'
import { RenderFailedError, type RenderProblem } from './problems.js'
import { renderCluster, type SkippedService } from './render.js'
import { loadRepository } from './repository.js'
import { selectTargets, type Selection } from './select.js'
import { SpillFile } from './spill.js'

export type RenderMode = 'write' | 'dry-run' | 'check'

export interface RenderRunOptions {
  /** The manifests repository root. */
  readonly root: string
  /** Output folder, relative to the root (or absolute); default kit.yaml paths.output. */
  readonly output?: string
  readonly selection?: Selection
  readonly mode: RenderMode
  /** The build environment for `env.*`. */
  readonly env: Readonly<Record<string, string | undefined>>
  /** Progress lines (one per cluster). */
  readonly log?: (line: string) => void
}

/** Per-cluster facts for summaries: a few strings, so a run over many clusters stays small. */
export interface ClusterSummary {
  readonly name: string
  /** Services rendered. */
  readonly services: number
  readonly files: number
  /** One markdown line per image: ``api: `ghcr.io/acme/api:1` `` (plus ` (pinned)`). */
  readonly images: readonly string[]
  readonly skipped: readonly SkippedService[]
}

export interface RenderRunResult {
  readonly mode: RenderMode
  /** Absolute output folder and index path. */
  readonly outputDir: string
  readonly indexPath: string
  /** Rendered (enabled, selected) clusters in order. */
  readonly clusters: readonly ClusterSummary[]
  /** Selected but disabled clusters. */
  readonly disabled: readonly string[]
  readonly counts: {
    readonly clusters: number
    readonly services: number
    readonly files: number
    readonly skipped: number
  }
  /** Env values used (and their encoded forms): the caller must mask them. */
  readonly secrets: readonly string[]
  /** The index hash (sha256 over the whole output). */
  readonly hash: string
  /** Check mode: differences between the render and the output on disk (empty = current). */
  readonly differences: readonly string[]
}

/** How many problems are reported before the rest are summarised as a count. */
export const maxReportedProblems = 50

/** What a run gathers cluster by cluster. */
interface RenderTally {
  readonly problems: RenderProblem[]
  problemCount: number
  readonly secrets: Set<string>
  readonly summaries: ClusterSummary[]
  readonly indexed: Map<string, IndexEntryRef>
  readonly images: Map<string, IndexImageFile>
  /** The same image line repeats on every cluster that runs the image: keep one copy. */
  readonly imageLines: Map<string, string>
}

/**
 * Runs a render. Throws RenderFailedError (every problem, with file, line, cluster and
 * service) or InputError; in either case nothing has been written.
 */
export async function runRender(options: RenderRunOptions): Promise<RenderRunResult> {
  const repo = loadRepository(options.root)
  const selected = selectTargets(repo, options.selection ?? {})
  const outputDir = checkOutputLocation(repo.root, options.output ?? repo.paths.output, [
    repo.paths.services,
    repo.paths.groups,
    repo.paths.clusters,
    repo.paths.images
  ])
  const scope: OutputScope = {
    full: !selected.partialClusters && !selected.partialServices,
    clusters: [...selected.clusters.map((c) => c.name), ...selected.disabled],
    services: selected.partialServices ? selected.services.map((s) => s.name) : undefined
  }
  const writer = options.mode === 'write' ? new OutputWriter(outputDir, scope) : undefined
  const comparer = options.mode === 'check' ? new OutputComparer(outputDir, scope) : undefined
  // Each cluster's index entry goes to disk as soon as it is made; memory keeps its hash.
  const spill = new SpillFile()
  try {
    const tally: RenderTally = {
      problems: [],
      problemCount: 0,
      secrets: new Set<string>(),
      summaries: [],
      indexed: new Map(),
      images: new Map(),
      imageLines: new Map()
    }
    for (const cluster of selected.clusters) {
      const render = renderCluster(repo, cluster, selected.services, {
        env: options.env,
        secrets: tally.secrets
      })
      await takeCluster(render, tally, { writer, comparer, spill, log: options.log })
      // Let the event loop breathe between clusters (signals, progress output, writer threads).
      await new Promise<void>((resolve) => setImmediate(resolve))
    }
    if (tally.problemCount > 0) throwProblems(tally)
    const parts: IndexParts = mergePreviousIndex(
      { clusters: tally.indexed, images: tally.images, disabled: selected.disabled },
      scope.full ? undefined : readIndex(outputDir),
      scope
    )
    const differences = comparer
      ? checkAgainstDisk(comparer, outputDir, scope, selected.disabled, tally.indexed, parts)
      : []
    if (writer) await commitOutput(writer, tally.indexed, parts, options.log)
    const summaries = tally.summaries
    return {
      mode: options.mode,
      outputDir,
      indexPath: join(outputDir, indexFileName),
      clusters: summaries,
      disabled: selected.disabled,
      counts: {
        clusters: summaries.length,
        services: summaries.reduce((n, c) => n + c.services, 0),
        files: summaries.reduce((n, c) => n + c.files, 0),
        skipped: summaries.reduce((n, c) => n + c.skipped.length, 0)
      },
      secrets: [...tally.secrets].filter((s) => s !== '').sort(),
      hash: indexHash(parts),
      differences
    }
  } catch (err) {
    await writer?.discard()
    throw err
  } finally {
    spill.dispose()
  }
}

/**
 * Takes one cluster's render into the tally: its problems, or (while no cluster failed) its
 * files written or compared, its index entry spilled to disk and its summary line.
 */
async function takeCluster(
  render: ReturnType<typeof renderCluster>,
  tally: RenderTally,
  out: {
    writer?: OutputWriter
    comparer?: OutputComparer
    spill: SpillFile
    log?: RenderRunOptions['log']
  }
): Promise<void> {
  tally.problemCount += render.problems.length
  for (const p of render.problems)
    if (tally.problems.length < maxReportedProblems) tally.problems.push(p)
  if (render.problems.length > 0) return
  // Once a cluster failed nothing will be written: keep rendering only to find problems.
  if (tally.problemCount === 0) {
    await out.writer?.write(render)
    out.comparer?.compare(render)
  }
  const ref = out.spill.put(serializeEntry(indexCluster(render, tally.images)))
  tally.indexed.set(render.name, { hash: render.hash, read: () => out.spill.read(ref) })
  const files = render.services.reduce((n, s) => n + s.files.length, 0)
  tally.summaries.push({
    name: render.name,
    files,
    services: render.services.length,
    images: render.services.flatMap((s) =>
      Object.entries(s.images).map(([key, use]) => {
        const line = `${s.name}${key === 'image' ? '' : `/${key}`}: \`${use.ref}\`${use.pinned ? ' (pinned)' : ''}`
        const known = tally.imageLines.get(line)
        if (known !== undefined) return known
        tally.imageLines.set(line, line)
        return line
      })
    ),
    skipped: render.skipped
  })
  out.log?.(
    `${render.name}: ${plural(render.services.length, 'service')}, ${plural(files, 'file')}${render.skipped.length ? `, ${render.skipped.length} skipped` : ''}`
  )
}

/** Every problem of the run (capped, with a count of the rest), env values scrubbed. */
function throwProblems(tally: RenderTally): never {
  const problems = [...tally.problems]
  if (tally.problemCount > problems.length)
    problems.push({
      message: `... and ${plural(tally.problemCount - problems.length, 'more problem', 'more problems')}`
    })
  // A message may quote a rendered value (a bad name, say); env values never leave here.
  const redactor = new Redactor()
  for (const s of tally.secrets) redactor.add(s)
  throw new RenderFailedError(
    problems.map((p) => ({ ...p, message: redactor.scrub(p.message) })),
    tally.problemCount
  )
}

/** Check mode: what differs between the render and the output on disk. */
function checkAgainstDisk(
  comparer: OutputComparer,
  outputDir: string,
  scope: OutputScope,
  disabled: readonly string[],
  indexed: ReadonlyMap<string, IndexEntryRef>,
  parts: IndexParts
): string[] {
  comparer.compareAbsent(disabled)
  if (scope.full && existsSync(outputDir)) {
    const extra = readdirSync(outputDir, { withFileTypes: true })
      .filter((d) => d.isDirectory() && !d.name.startsWith('.') && !indexed.has(d.name))
      .map((d) => d.name)
    comparer.compareAbsent(extra)
  }
  comparer.compareIndex(indexChunks(parts))
  return comparer.result()
}

/** Write mode: the rendered clusters and the index replace the output, all at once. */
async function commitOutput(
  writer: OutputWriter,
  indexed: ReadonlyMap<string, IndexEntryRef>,
  parts: IndexParts,
  log: RenderRunOptions['log']
): Promise<void> {
  await writer.commit(
    [...indexed.keys()],
    (name) => entryFiles(indexed.get(name)!.read()),
    indexChunks(parts)
  )
  const { written, unchanged } = writer.stats
  log?.(
    `${plural(written, 'file')} written${unchanged > 0 ? `, ${unchanged} already up to date` : ''}`
  )
}
