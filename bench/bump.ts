/**
 * npm run bench:bump — what a bump costs, measured against named baselines in the same run.
 *
 *  1. The 20-way race (10 images + 10 builds of one image, shuffled) per transport: wall time,
 *     attempts and retries, against one uncontended bump on the same server.
 *  2. One git-transport bump into a repository of 10 files vs one of 10,000 files with a long
 *     history (the large one must cost at most 2x the small one), with a full clone of the large
 *     repository as the "what a naive clone costs" reference.
 *  3. GitHub API calls per bump.
 *  4. (BENCH_ONLY=templates: this section alone) A bump carrying 50 service-owned template files (one of them changed, with the render
 *     check before the write) against the same bump without templates, per transport (the
 *     limit: 1.5x).
 *
 * Prints figures and ratios; asserts nothing about time (the machine is shared).
 */
import { execFile } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { startGitServer, type SeedCommit } from '../testinfra/git-server/server.js'
import { startGitHubStandIn } from '../testinfra/github-api/server.js'
import { GitBranchTarget, basicAuthHeader } from '../shared/src/git/index.js'
import { GitHubBranchTarget, GitHubClient } from '../shared/src/github/index.js'
import { runBump } from '../shared/src/index.js'
import { author, bumpRequest, provenance } from '../image-deployer/__tests__/helpers.js'
import { runRace } from '../image-deployer/__tests__/race.js'
import { checkServiceTemplates, templateCheckReads } from '../shared/src/service-templates/check.js'
import type { BumpRequest, RepoTarget } from '../shared/src/bump/index.js'

const run = promisify(execFile)
const token = 'bench-token-0123456789'
const runs = Number(process.env.BENCH_RUNS ?? 5)
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const fmt = (ms: number): string => `${(ms / 1000).toFixed(2)} s`

function manifest(i: number): string {
  return `apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: svc-${i}\nspec:\n  template:\n    spec:\n      containers:\n        - name: svc-${i}\n          image: ghcr.io/acme/svc-${i}:1.0.0\n`
}

/** 10,000 files in 100 folders, then `history` commits each touching 50 of them. */
function largeRepo(files: number, history: number): SeedCommit[] {
  const first: Record<string, string> = {}
  for (let i = 0; i < files; i++) first[`services/s${i % 100}/svc-${i}.yaml`] = manifest(i)
  const commits: SeedCommit[] = [{ files: first }]
  for (let c = 1; c <= history; c++) {
    const change: Record<string, string> = {}
    for (let k = 0; k < 50; k++) {
      const i = (c * 131 + k * 197) % files
      change[`services/s${i % 100}/svc-${i}.yaml`] = manifest(i).replace('1.0.0', `1.0.${c}`)
    }
    commits.push({ files: change })
  }
  return commits
}

const server = await startGitServer({ token })
const api = await startGitHubStandIn({ token })
try {
  // BENCH_ONLY=templates runs section 4 alone.
  if (process.env.BENCH_ONLY !== 'templates') {
    console.log(`kit image-deployer benchmark (medians of ${runs} runs where repeated)\n`)

    // 2. Small vs large repository, git transport.
    const small = await server.createRepo('small', [
      {
        files: Object.fromEntries(
          Array.from({ length: 10 }, (_, i) => [`services/svc-${i}.yaml`, manifest(i)])
        )
      }
    ])
    const largeStart = Date.now()
    const large = await server.createRepo('large', largeRepo(10_000, 300))
    const packs = await server.git('large', ['count-objects', '-v'])
    console.log(
      `large repository: 10,000 files, 301 commits, created in ${fmt(Date.now() - largeStart)} (${/size-pack: (\d+)/.exec(packs)?.[1] ?? /size: (\d+)/.exec(packs)?.[1]} KiB)`
    )
    const oneBump = async (url: string, n: number) => {
      const t = new GitBranchTarget({ url, token, branch: 'main', author })
      const requestsBefore = server.requests
      const began = Date.now()
      const r = await runBump(
        t,
        bumpRequest(`ghcr.io/acme/svc-1:2.0.${n}`, {
          imageName: 'svc-1',
          writeImageFile: true,
          manifests: [url.includes('large') ? 'services/s1/svc-1.yaml' : 'services/svc-1.yaml'],
          provenance: provenance({
            builtAt: new Date(Date.parse('2026-01-01T00:00:00Z') + n * 60_000).toISOString()
          })
        }),
        { maxAttempts: 3, dryRun: false }
      )
      const ms = Date.now() - began
      const commands = t.commands
      await t.close()
      if (r.outcome !== 'committed') throw new Error(`bench bump did not commit: ${r.outcome}`)
      return { ms, commands, requests: server.requests - requestsBefore }
    }
    const smallTimes: number[] = []
    const largeTimes: number[] = []
    let smallStats = { commands: 0, requests: 0 }
    let largeStats = { commands: 0, requests: 0 }
    for (let i = 0; i < runs; i++) {
      const s = await oneBump(small, i)
      const l = await oneBump(large, i)
      smallTimes.push(s.ms)
      largeTimes.push(l.ms)
      smallStats = s
      largeStats = l
    }
    const cloneTimes: number[] = []
    for (let i = 0; i < runs; i++) {
      const dir = await mkdtemp(join(tmpdir(), 'kit-bench-clone-'))
      const began = Date.now()
      await run('git', [
        '-c',
        `http.extraHeader=${basicAuthHeader(token)}`,
        'clone',
        '--quiet',
        '--bare',
        large,
        dir
      ])
      cloneTimes.push(Date.now() - began)
      await rm(dir, { recursive: true, force: true })
    }
    const ratio = median(largeTimes) / median(smallTimes)
    console.log(
      '\n1 bump, git transport (depth 1, blob:none partial fetch, plumbing commit, plain push)'
    )
    console.log(
      `  small repo (10 files, 1 commit)            ${fmt(median(smallTimes))}   ${smallStats.commands} git commands, ${smallStats.requests} HTTP requests   [baseline]`
    )
    console.log(
      `  large repo (10,000 files, 301 commits)     ${fmt(median(largeTimes))}   ${largeStats.commands} git commands, ${largeStats.requests} HTTP requests`
    )
    console.log(
      `  ratio large/small                          ${ratio.toFixed(2)}x   (limit 2.00x: ${ratio <= 2 ? 'met' : 'NOT met'})`
    )
    console.log(
      `  reference: full bare clone of the large repo ${fmt(median(cloneTimes))} (${(median(cloneTimes) / median(largeTimes)).toFixed(2)}x a whole bump)`
    )

    // 3. API calls per bump.
    await api.createRepo('acme', 'calls', [
      {
        files: {
          'images/api/main.yaml': 'image: ghcr.io/acme/api:1\n',
          'k8s/api.yaml': manifest(0).replace('ghcr.io/acme/svc-0', 'ghcr.io/acme/api')
        }
      }
    ])
    const apiBump = async (image: string, extra = {}) => {
      const client = new GitHubClient({ apiUrl: api.url, token })
      await runBump(
        new GitHubBranchTarget({ client, owner: 'acme', repo: 'calls', branch: 'main' }),
        bumpRequest(image, extra),
        { maxAttempts: 3, dryRun: false }
      )
      return client.calls
    }
    console.log('\nGitHub API calls per bump (stand-in)')
    console.log(
      `  create a new image file                    ${await apiBump('ghcr.io/acme/web:1')}`
    )
    console.log(
      `  update an existing image file              ${await apiBump('ghcr.io/acme/api:2')}`
    )
    console.log(
      `  image file + one named manifest            ${await apiBump('ghcr.io/acme/api:3', { manifests: ['k8s/api.yaml'] })}`
    )
    console.log(
      `  no change (already recorded)               ${await apiBump('ghcr.io/acme/api:3')}`
    )

    // 1. The race, per transport.
    const seed = [{ files: { 'README.md': '# manifests\n' } }]
    const soloGit = await server.createRepo('solo', seed)
    const soloBegan = Date.now()
    await runBump(
      new GitBranchTarget({ url: soloGit, token, branch: 'main', author }),
      bumpRequest('ghcr.io/acme/solo:1'),
      { maxAttempts: 1, dryRun: false }
    )
    const soloGitMs = Date.now() - soloBegan
    const raceUrl = await server.createRepo('race', seed)
    const targets: GitBranchTarget[] = []
    const gitRace = await runRace(() => {
      const t = new GitBranchTarget({ url: raceUrl, token, branch: 'main', author })
      targets.push(t)
      return t
    })
    await Promise.all(targets.map((t) => t.close()))
    await api.createRepo('acme', 'race', seed)
    const soloApiBegan = Date.now()
    await apiBump('ghcr.io/acme/solo:1')
    const soloApiMs = Date.now() - soloApiBegan
    const callsBefore = api.totalCalls()
    const apiRace = await runRace(
      () =>
        new GitHubBranchTarget({
          client: new GitHubClient({ apiUrl: api.url, token }),
          owner: 'acme',
          repo: 'race',
          branch: 'main'
        })
    )
    const apiCalls = api.totalCalls() - callsBefore
    const line = (name: string, r: typeof gitRace, solo: number, extra = '') => {
      const committed = r.results.filter((x) => x.result.outcome === 'committed').length
      const older = r.results.filter((x) => x.result.outcome === 'older').length
      console.log(
        `  ${name.padEnd(5)} wall ${fmt(r.wallMs)} (${(r.wallMs / solo).toFixed(1)}x one uncontended bump of ${fmt(solo)}), ${r.attempts} attempts = ${r.attempts - 20} retries, ${committed} commits, ${older} skipped as older${extra}`
      )
    }
    console.log('\n20 bumps at once (10 images + 10 shuffled builds of one image)')
    line('git', gitRace, soloGitMs)
    line(
      'api',
      apiRace,
      soloApiMs,
      `, ${apiCalls} API calls (${(apiCalls / 20).toFixed(1)} per bump)`
    )
  }
  await templatesBench(server, api)

  const load = await run('cat', ['/proc/loadavg'])
    .then((r) => r.stdout.trim().split(' ').slice(0, 3).join(' '))
    .catch(() => 'n/a')
  console.log(`\nload average during the run: ${load} (2-core machine shared with other work)`)
} finally {
  await Promise.all([server.close(), api.close()])
}

/** The manifests repository of the templates benchmark: 3 clusters following main use api's own templates. */
function templatesSeed(): Record<string, string> {
  return {
    'groups/prod.yaml': 'branch: main\nservices:\n  api:\n    templates: service\n',
    'clusters/eu-1.yaml': 'groups: [prod]\n',
    'clusters/eu-2.yaml': 'groups: [prod]\n',
    'clusters/us-1.yaml': 'groups: [prod]\n',
    'images/api/main.yaml': 'image: ghcr.io/acme/api:1.0.0\n'
  }
}

/** 50 template files: a Deployment and 49 ConfigMaps; `n` changes one ConfigMap. */
function templateFiles(n: number): { path: string; content: string }[] {
  const files = [
    { path: 'kit.yaml', content: 'image: api\n' },
    {
      path: 'deployment.yaml',
      content:
        'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\n  namespace: apps\nspec:\n  template:\n    spec:\n      containers:\n        - name: api\n          image: ${{ image }}\n'
    }
  ]
  for (let i = 0; i < 48; i++)
    files.push({
      path: `config/cm-${i}.yaml`,
      content: `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-${i}\n  namespace: apps\ndata:\n  rev: "${i === 0 ? n : 0}"\n`
    })
  return files
}

/** Section 4: a bump with 50 template files against the same bump without, per transport. */
async function templatesBench(
  server: Awaited<ReturnType<typeof startGitServer>>,
  api: Awaited<ReturnType<typeof startGitHubStandIn>>
): Promise<void> {
  const gitUrl = await server.createRepo('templates', [{ files: templatesSeed() }])
  await api.createRepo('acme', 'templates', [{ files: templatesSeed() }])
  let n = 0
  let checkMs: number[] = []
  const bumpOnce = async (target: RepoTarget, withTemplates: boolean) => {
    n++
    const request: BumpRequest = bumpRequest(`ghcr.io/acme/api:1.0.${n}`, {
      provenance: provenance({
        builtAt: new Date(Date.parse('2026-02-01T00:00:00Z') + n * 60_000).toISOString()
      }),
      ...(withTemplates
        ? {
            templates: {
              service: 'api',
              dir: 'service-templates',
              sourcePath: 'deploy/kit',
              files: templateFiles(n)
            }
          }
        : {})
    })
    const began = Date.now()
    const r = await runBump(target, request, {
      maxAttempts: 1,
      dryRun: false,
      checkReads: withTemplates ? (listing) => templateCheckReads(listing, request) : undefined,
      check: withTemplates
        ? async (snapshot, plan) => {
            const t = Date.now()
            await checkServiceTemplates(snapshot, plan, request)
            checkMs.push(Date.now() - t)
          }
        : undefined
    })
    if (r.outcome !== 'committed') throw new Error(`templates bench did not commit: ${r.outcome}`)
    return Date.now() - began
  }
  const transports: [string, () => RepoTarget, () => number][] = [
    [
      'git',
      () => new GitBranchTarget({ url: gitUrl, token, branch: 'main', author }),
      () => server.requests
    ],
    [
      'api',
      () =>
        new GitHubBranchTarget({
          client: new GitHubClient({ apiUrl: api.url, token }),
          owner: 'acme',
          repo: 'templates',
          branch: 'main'
        }),
      () => api.totalCalls()
    ]
  ]
  console.log(
    '\n1 bump with 50 service-owned template files (1 changed, render check on 3 clusters) vs without'
  )
  await bumpOnce(transports[0][1](), true) // the first bump writes all 50 files; not measured
  await bumpOnce(transports[1][1](), true)
  for (const [name, open, requests] of transports) {
    const plain: number[] = []
    const withT: number[] = []
    let plainRequests = 0
    let withRequests = 0
    checkMs = []
    for (let i = 0; i < runs; i++) {
      let before = requests()
      const a = open()
      plain.push(await bumpOnce(a, false))
      plainRequests = requests() - before
      before = requests()
      const b = open()
      withT.push(await bumpOnce(b, true))
      withRequests = requests() - before
      for (const t of [a, b]) if (t instanceof GitBranchTarget) await t.close()
    }
    const ratio = median(withT) / median(plain)
    console.log(
      `  ${name.padEnd(4)} without ${fmt(median(plain))} (${plainRequests} requests) [baseline]   with ${fmt(median(withT))} (${withRequests} requests)   ratio ${ratio.toFixed(2)}x (limit 1.50x: ${ratio <= 1.5 ? 'met' : 'NOT met'}); of it the render check ${fmt(median(checkMs))}`
    )
  }
}
