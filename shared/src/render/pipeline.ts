/**
 * One render, start to finish, for the action and the CLI alike: load, select, render
 * cluster by cluster (each cluster's files handed to writer threads and its index entry
 * spilled to disk as soon as it is rendered, so memory does not grow with the number of
 * clusters), then commit, or compare in check mode, or nothing in dry run.
 */
import { existsSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { Redactor } from '../secrets/index.js'
import { templateSourceText, templateSourceUrl } from '../service-templates/link.js'
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
  type IndexParts,
  type RenderIndex
} from './index-file.js'
import {
  checkOutputLocation,
  indexFileName,
  OutputComparer,
  OutputWriter,
  readIndex,
  type OutputScope
} from './output.js'
import { ProblemList, type RenderProblem } from './problems.js'
import {
  renderCluster,
  type ClusterRender,
  type RenderedService,
  type SkippedService
} from './render.js'
import { loadRepository, type SettingOrigin } from './repository.js'
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
  /** Each image the cluster's services got, and what chose it. */
  readonly images: readonly ImageChoice[]
  /** Where each rendered service's templates came from, and what chose them. */
  readonly templates: readonly TemplateChoice[]
  readonly skipped: readonly SkippedService[]
}

/**
 * Where a service's templates came from on a cluster, and the settings that chose them.
 * Clusters that got the same templates the same way share one object.
 */
export interface TemplateChoice {
  readonly service: string
  readonly origin: 'repository' | 'service'
  /** `services/api`, or `acme/api@3f2a1c9 · deploy/kit (develop)` for a service-owned set. */
  readonly label: string
  /** The templates folder in the service repository at that commit (owner/name repositories). */
  readonly url?: string
  /** `groups/dev.yaml (services.api.templates); branch develop from groups/dev.yaml (branch)`. */
  readonly chosenBy: string
}

/**
 * One image a service got on a cluster, and the setting that chose it. Clusters that got the
 * same image the same way share one object, so a run over many clusters stays small.
 */
export interface ImageChoice {
  /** `api`, or `api/proxy` for a service's named image. */
  readonly service: string
  readonly ref: string
  readonly pinned: boolean
  /** `pinned by clusters/a.yaml (services.api.image)`, `branch main from groups/eu.yaml (branch)`. */
  readonly chosenBy: string
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

/** What a run gathers cluster by cluster. */
interface RenderTally {
  readonly problems: ProblemList
  readonly secrets: Set<string>
  readonly summaries: ClusterSummary[]
  readonly indexed: Map<string, IndexEntryRef>
  readonly images: Map<string, IndexImageFile>
  /** The same image choice repeats on every cluster that runs the image: keep one copy. */
  readonly imageChoices: Map<string, ImageChoice>
  /** Likewise the templates choices, by content. */
  readonly templateChoices: Map<string, TemplateChoice>
  /** And by the render's shared object (render.ts) and the setting that chose the branch. */
  readonly templatesByUse: Map<RenderedService['templates'], Map<string, TemplateChoice>>
  /** The server links to service repositories point at (GITHUB_SERVER_URL). */
  readonly server: string
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
    repo.paths.images,
    repo.paths.serviceTemplates
  ])
  const scope: OutputScope = {
    full: !selected.partialClusters && !selected.partialServices,
    clusters: [...selected.clusters.map((c) => c.name), ...selected.disabled],
    services: selected.partialServices ? [...selected.services] : undefined
  }
  const writer = options.mode === 'write' ? new OutputWriter(outputDir, scope) : undefined
  const comparer = options.mode === 'check' ? new OutputComparer(outputDir, scope) : undefined
  // Each cluster's index entry goes to disk as soon as it is made; memory keeps its hash.
  const spill = new SpillFile()
  try {
    const tally: RenderTally = {
      problems: new ProblemList(),
      secrets: new Set<string>(),
      summaries: [],
      indexed: new Map(),
      images: new Map(),
      imageChoices: new Map(),
      templateChoices: new Map(),
      templatesByUse: new Map(),
      server: (options.env.GITHUB_SERVER_URL || 'https://github.com').replace(/\/+$/, '')
    }
    // A render of some services keeps the others' output: what a cluster keeps is in the index.
    const previous = scope.full ? undefined : readIndex(outputDir)
    for (const cluster of selected.clusters) {
      const render = renderCluster(repo, cluster, selected.services, {
        env: options.env,
        secrets: tally.secrets
      })
      const empty = emptyClusterProblem(render, cluster.file, scope, previous)
      await takeCluster(empty ? { ...render, problems: [empty] } : render, tally, {
        writer,
        comparer,
        spill,
        log: options.log
      })
      // Let the event loop breathe between clusters (signals, progress output, writer threads).
      await new Promise<void>((resolve) => setImmediate(resolve))
    }
    if (tally.problems.total === 0 && scope.services && tally.summaries.every((c) => c.files === 0))
      tally.problems.add(nothingSelectedProblem(tally.summaries, scope.services))
    if (tally.problems.total > 0) throwProblems(tally)
    const parts: IndexParts = mergePreviousIndex(
      { clusters: tally.indexed, images: tally.images, disabled: selected.disabled },
      previous,
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

/** Reasons listed in a "renders no files" problem before `and N more`. */
const maxReasons = 5

/** `api: disabled by groups/x.yaml; web: no templates`, the first few. */
function whyNothing(render: ClusterRender): string {
  const reasons = [
    ...render.skipped.map((s) => `${s.name}: ${s.reason}`),
    ...render.services.filter((s) => s.files.length === 0).map((s) => `${s.name}: no templates`)
  ]
  if (reasons.length === 0) return 'no service is selected'
  const shown = reasons.slice(0, maxReasons).join('; ')
  return reasons.length > maxReasons ? `${shown}; and ${reasons.length - maxReasons} more` : shown
}

/**
 * An enabled cluster must keep at least one file: a cluster whose services are all disabled
 * or skipped would have its whole output deleted (and the deployer refuses to prune down to
 * nothing). Disabling the cluster says that on purpose. In a render of some services, the
 * other services' files it keeps (from the previous index) count.
 */
function emptyClusterProblem(
  render: ClusterRender,
  file: string,
  scope: OutputScope,
  previous: RenderIndex | undefined
): RenderProblem | undefined {
  if (render.problems.length > 0 || render.services.some((s) => s.files.length > 0)) return
  if (scope.services) {
    const others = new Set(scope.services)
    const kept = Object.entries(previous?.clusters[render.name]?.services ?? {}).some(
      ([name, s]) => !others.has(name) && s.files.length > 0
    )
    if (kept) return
  }
  return {
    message: `renders no files (${whyNothing(render)}); its output would be deleted. To render nothing for a cluster on purpose, set enabled: false in its file`,
    file,
    cluster: render.name
  }
}

/** A render of some services that renders none of them anywhere. */
function nothingSelectedProblem(
  summaries: readonly ClusterSummary[],
  services: readonly string[]
): RenderProblem {
  const skips = new Map<string, string[]>()
  for (const c of summaries)
    for (const s of c.skipped) {
      const why = `${s.name}: ${s.reason}`
      skips.set(why, [...(skips.get(why) ?? []), c.name])
    }
  const reasons = [...skips].map(([why, on]) => `${why} (${on.join(', ')})`)
  return {
    message: `the selected ${services.length === 1 ? 'service' : 'services'} ${services.join(', ')} ${services.length === 1 ? 'renders' : 'render'} no files on any selected cluster${reasons.length > 0 ? `: ${reasons.slice(0, maxReasons).join('; ')}${reasons.length > maxReasons ? `; and ${reasons.length - maxReasons} more` : ''}` : ''}`
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
  for (const p of render.problems) tally.problems.add(p)
  if (render.problems.length > 0) return
  // Once a cluster failed nothing will be written: keep rendering only to find problems.
  if (tally.problems.total === 0) {
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
    templates: render.services.map((s) => templateChoice(s, tally)),
    images: render.services.flatMap((s) =>
      Object.entries(s.images).map(([key, use]) => {
        const choice: ImageChoice = {
          service: `${s.name}${key === 'image' ? '' : `/${key}`}`,
          ref: use.ref,
          pinned: use.pinned,
          chosenBy: use.pinned
            ? `pinned by ${origin(use.pinnedBy)}`
            : `branch ${s.branch} from ${origin(s.branchFrom)}`
        }
        const id = JSON.stringify([choice.service, choice.ref, choice.pinned, choice.chosenBy])
        const known = tally.imageChoices.get(id)
        if (known !== undefined) return known
        tally.imageChoices.set(id, choice)
        return choice
      })
    ),
    skipped: render.skipped
  })
  out.log?.(
    `${render.name}: ${plural(render.services.length, 'service')}, ${plural(files, 'file')}${render.skipped.length ? `, ${render.skipped.length} skipped` : ''}`
  )
}

/**
 * Where a rendered service's templates came from, for the summary; one object per distinct
 * choice. Templates no setting chose or pinned are one object on every cluster (render.ts), so
 * they are found by that object (and the branch's setting) before any text is built.
 */
function templateChoice(s: RenderedService, tally: RenderTally): TemplateChoice {
  const use = s.templates
  const shared = !use.chosenBy && !(use.origin === 'service' && use.pinnedBy)
  const from =
    use.origin === 'service' && s.branchFrom ? `${s.branchFrom.file}\u0000${s.branchFrom.key}` : ''
  const hit = shared ? tally.templatesByUse.get(use)?.get(from) : undefined
  if (hit) return hit
  const by = use.chosenBy ? origin(use.chosenBy) : 'the only templates'
  let choice: TemplateChoice
  if (use.origin === 'repository') {
    choice = { service: s.name, origin: use.origin, label: use.dir, chosenBy: by }
  } else {
    const url = templateSourceUrl(use.source, tally.server)
    choice = {
      service: s.name,
      origin: use.origin,
      label: `${templateSourceText(use.source) ?? use.dir} (${use.branch})`,
      ...(url ? { url } : {}),
      chosenBy: `${by}; ${use.pinnedBy ? `branch ${use.branch} pinned by ${origin(use.pinnedBy)}` : `branch ${use.branch} from ${origin(s.branchFrom)}`}`
    }
  }
  const id = JSON.stringify([choice.service, choice.label, choice.url, choice.chosenBy])
  const known = tally.templateChoices.get(id) ?? choice
  tally.templateChoices.set(id, known)
  if (shared) {
    let byFrom = tally.templatesByUse.get(use)
    if (!byFrom) tally.templatesByUse.set(use, (byFrom = new Map()))
    byFrom.set(from, known)
  }
  return known
}

/** A setting as summaries show it: `groups/eu.yaml (services.api.branch)`. */
function origin(from: SettingOrigin | undefined): string {
  return from ? `${from.file} (${from.key})` : "kit's default"
}

/** Every problem of the run (capped, with a count of the rest), env values scrubbed. */
function throwProblems(tally: RenderTally): never {
  // A message may quote a rendered value (a bad name, say); env values never leave here.
  const redactor = new Redactor()
  for (const s of tally.secrets) redactor.add(s)
  throw tally.problems.failure((m) => redactor.scrub(m))
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
