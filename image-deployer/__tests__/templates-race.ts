/**
 * The templates race: 20 deployImage runs at once against one manifests branch, mixing bumps
 * with and without service-owned templates, and what the history must show afterwards. Used by
 * race.test.ts (both transports, a quarter of the pushes failing) and by the reliability suite.
 */
import { createHash } from 'node:crypto'
import { readImageFile } from '../../shared/src/index.js'
import {
  readTemplateRecord,
  templateRecordPath,
  templateSetFolder,
  type TemplateFile
} from '../../shared/src/service-templates/record.js'
import {
  checkDefaultsRace,
  raceStart,
  runRaceJobs,
  type DefaultsRaceRun,
  type DefaultsRaceTarget,
  type RaceJob
} from './race.js'

/**
 * The manifests repository the race starts from: one cluster (following main), so every bump's
 * render check loads its templates before the commit.
 */
export const templatesRaceSeed = [
  { files: { 'README.md': '# manifests\n', 'clusters/dev.yaml': 'description: dev\n' } }
]

/** The set build `k` of a service carries: every build changes, adds and removes files. */
export function templatesOfBuild(service: string, k: number): TemplateFile[] {
  const files: TemplateFile[] = [
    {
      path: 'deployment.yaml',
      content: `apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: ${service}\n  annotations:\n    build: "${k}"\n`
    },
    // CRLF and no final newline: the copy must keep both.
    {
      path: 'service.yaml',
      content: `apiVersion: v1\r\nkind: Service\r\nmetadata:\r\n  name: ${service}`
    },
    {
      path: `extra-${k % 3}.yaml`,
      content: `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: extra-${k}\n`
    }
  ]
  // Every other build has a sub-folder, so a later build removes it whole.
  if (k % 2 === 0)
    files.push({
      path: 'config/greeting.yaml',
      content: `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: greeting\ndata:\n  greeting: "grüße #${k}, 世界 🚀"\n`
    })
  return files
}

/**
 * 20 runs: 8 builds of `api` each carrying its templates, 6 builds of `web` without any (both
 * started in a shuffled order, so older builds often arrive after newer ones), and 6 distinct
 * images `svc-0..5`, the even ones with templates.
 */
export function templatesRaceJobs(): RaceJob[] {
  const start = Date.parse(raceStart)
  const templates = (service: string, k: number) => ({
    service,
    dir: 'service-templates',
    sourcePath: 'deploy/kit',
    files: templatesOfBuild(service, k)
  })
  const jobs: RaceJob[] = []
  for (let k = 0; k < 8; k++)
    jobs.push({
      name: `api#${k}`,
      image: `ghcr.io/acme/api:build-${k}`,
      source: 'acme/api',
      file: 'images/api/main.yaml',
      builtAt: new Date(start + k * 60_000).toISOString(),
      templates: templates('api', k)
    })
  for (let k = 0; k < 6; k++)
    jobs.push({
      name: `web#${k}`,
      image: `ghcr.io/acme/web:build-${k}`,
      source: 'acme/web',
      file: 'images/web/main.yaml',
      builtAt: new Date(start + k * 60_000).toISOString()
    })
  for (let i = 0; i < 6; i++)
    jobs.push({
      name: `svc-${i}`,
      image: `ghcr.io/acme/svc-${i}:1.0.${i}`,
      source: `acme/svc-${i}`,
      file: `images/svc-${i}/main.yaml`,
      builtAt: new Date(start + i * 1000).toISOString(),
      templates: i % 2 === 0 ? templates(`svc-${i}`, i) : undefined
    })
  return jobs
}

export function runTemplatesRace(target: DefaultsRaceTarget, seed = 7) {
  return runRaceJobs(target, templatesRaceJobs(), seed)
}

/** git's id of a blob holding exactly these UTF-8 bytes. */
export function blobId(content: string): string {
  return createHash('sha1')
    .update(`blob ${Buffer.byteLength(content, 'utf8')}\0`)
    .update(content, 'utf8')
    .digest('hex')
}

type Git = (args: readonly string[]) => Promise<string>

/** The copy at `commit`: path inside the set → blob id. */
async function copyAt(git: Git, commit: string, folder: string): Promise<Record<string, string>> {
  const out = await git(['ls-tree', '-r', commit, '--', `${folder}/`])
  const entries = out
    .split('\n')
    .filter(Boolean)
    .map((l) => /^\d+ blob ([0-9a-f]+)\t(.*)$/.exec(l) as RegExpExecArray)
  return Object.fromEntries(entries.map((m) => [m[2].slice(folder.length + 1), m[1]]))
}

const idsOf = (files: readonly TemplateFile[]) =>
  Object.fromEntries(files.map((f) => [f.path, blobId(f.content)]))

/**
 * checkDefaultsRace's promises for the images (every run landed or was older than a landed
 * newer build, each reported its own commit, image files only moved forward and end at the
 * newest build), and for the templates: every commit that touches a service's set or record
 * writes the image file of the same build with it (both or neither), the record only moves
 * forward, the copy at each such commit is exactly that build's set byte for byte (removed
 * files and folders gone), and the copy ends as the newest build's. A bump without templates
 * never touches a set. Returns the problems found.
 */
export async function checkTemplatesRace(git: Git, runs: readonly DefaultsRaceRun[]) {
  const problems = await checkDefaultsRace(git, runs)
  for (const service of new Set(runs.flatMap((r) => r.templates?.service ?? []))) {
    const own = runs.filter((r) => r.templates?.service === service)
    problems.push(...(await checkService(git, service, own)))
  }
  for (const r of runs.filter((r) => !r.templates && r.commit)) {
    const touched = await git(['show', '--name-only', '--format=', r.commit ?? ''])
    if (touched.includes('service-templates/'))
      problems.push(`${r.name} has no templates, but its commit touched ${touched.trim()}`)
  }
  return problems
}

async function checkService(
  git: Git,
  service: string,
  runs: readonly DefaultsRaceRun[]
): Promise<string[]> {
  const problems: string[] = []
  const folder = templateSetFolder('service-templates', service, 'main')
  const record = templateRecordPath('service-templates', service, 'main')
  const commits = (await git(['log', '--reverse', '--format=%H', 'main', '--', folder, record]))
    .split('\n')
    .filter(Boolean)
  let last = ''
  for (const c of commits) {
    const recorded = readTemplateRecord(await git(['show', `${c}:${record}`]), record)
    const image = readImageFile(await git(['show', `${c}:${runs[0].file}`]), runs[0].file)
    const writer = runs.find((r) => r.image === recorded.image)
    const at = `${service} at ${c.slice(0, 7)}`
    if (!writer) {
      problems.push(`${at}: the record names ${recorded.image}, which no run built`)
      continue
    }
    if (image.image !== writer.image || image.source.builtAt !== recorded.source.builtAt)
      problems.push(`${at}: the image file records ${image.image}, the templates ${writer.image}`)
    const touched = (await git(['show', '--name-only', '--format=', c])).split('\n')
    if (!touched.includes(runs[0].file))
      problems.push(`${at}: the templates moved without the image file`)
    if ((recorded.source.builtAt ?? '') <= last)
      problems.push(`${at}: the record went from ${last} to ${recorded.source.builtAt}`)
    last = recorded.source.builtAt ?? ''
    const want = idsOf(writer.templates?.files ?? [])
    if (JSON.stringify(sorted(await copyAt(git, c, folder))) !== JSON.stringify(sorted(want)))
      problems.push(`${at}: the copy is not exactly ${writer.name}'s templates`)
  }
  const newest = runs.reduce((a, r) => (r.builtAt > a.builtAt ? r : a))
  const final = sorted(await copyAt(git, 'main', folder))
  if (JSON.stringify(final) !== JSON.stringify(sorted(idsOf(newest.templates?.files ?? []))))
    problems.push(`${service}: the copy on main is not ${newest.name}'s templates`)
  return problems
}

function sorted(o: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
}
