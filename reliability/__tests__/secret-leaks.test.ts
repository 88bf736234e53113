/**
 * Secret leakage: the end-to-end flow run with KNOWN secret values, then everything it
 * produced searched for them. The flow is the main job of docs (scripts/demo.mjs's shape), each
 * action from its bundle as the runner runs it, against the real git server and the shared test
 * clusters:
 *   image-deployer (git token) → deploymentizer (Secret from env.*) → deployer (kubeconfig with
 *   known token and client key): a deploy, `kit render` / `kit diff` / `kit deploy`, a dry run
 *   with a changed Secret, a failing deploy that rolls back — and the git repositories written.
 * Planted: the git token (and a wrong one), a GitHub token input, each kubeconfig token, the
 * client key (PEM and base64), every env.* value of every render (a URL full of special
 * characters, a token, a multi-line key) — so every Secret data value, plain and base64.
 * Searched in every stdout/stderr, step summary, GITHUB_OUTPUT value, annotation, diff, every
 * file of the workspace, the output folders and RUNNER_TEMP (the rendered Secret manifests
 * excepted) and every object of the git repositories, raw, base64 (any alignment), URL-encoded,
 * JSON-escaped and line by line. A failure names where, never the secret.
 */
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { KubernetesObjectApi, type KubernetesObject } from '@kubernetes/client-node'
import { startGitServer, type GitServer } from '../../testinfra/git-server/server.js'
import { testClusters, testKubeconfigPath, uniqueName } from '../../testinfra/jest/clusters.js'
import { runAction, type ActionRun } from '../../testinfra/runner/run-action.js'
import { record } from '../record.js'
import {
  clientCertificate,
  cloneWithToken,
  envSecrets,
  gitText,
  kubeconfigWithKnownCredentials,
  manifestsRepoFiles,
  plantedEnv,
  pullWithToken,
  runKit,
  type CliRun,
  type EnvSecrets
} from '../secrets/flow.js'
import { isSecretManifest, LeakScanner, needlesFor, type PlantedSecret } from '../secrets/scan.js'

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
jest.setTimeout(600_000)

const gitToken = `ghs_${randomBytes(18).toString('hex')}`
const wrongToken = `ghs_wrong${randomBytes(16).toString('hex')}`
const githubToken = `ghp_${randomBytes(18).toString('hex')}`
const namespace = uniqueName('leak')
const inventory = uniqueName('leak-inv')

let server: GitServer
let scanner: LeakScanner
let work: string
/** The job's workspace: the manifests checkout (its generated/ is the render output). */
let checkout: string
/** Outside the workspace, as a secret file the runner writes would be: the kubeconfig for the CLI. */
let credsDir: string
let kubeconfig: string
let repoUrl: string
let clusterNames: string[]
const envA = envSecrets()
const envB = envSecrets()
const envC = envSecrets()

beforeAll(async () => {
  execFileSync(process.execPath, [join(repoRoot, 'scripts', 'bundle.mjs')], {
    cwd: repoRoot,
    stdio: 'ignore'
  })
  clusterNames = testClusters().map((c) => c.name)
  work = mkdtempSync(join(tmpdir(), 'kit-leak-'))
  checkout = join(work, 'workspace')
  credsDir = mkdtempSync(join(tmpdir(), 'kit-leak-creds-'))
  const known = kubeconfigWithKnownCredentials(
    readFileSync(testKubeconfigPath(), 'utf8'),
    await clientCertificate()
  )
  kubeconfig = known.text
  writeFileSync(join(credsDir, 'kubeconfig'), kubeconfig, { mode: 0o600 })
  const planted: PlantedSecret[] = [
    { label: 'git token', value: gitToken },
    { label: 'wrong git token', value: wrongToken },
    { label: 'deployer token input', value: githubToken },
    ...known.secrets,
    ...plantedEnv(envA, 'render A'),
    ...plantedEnv(envB, 'render B'),
    ...plantedEnv(envC, 'render C')
  ]
  // Markers inside the env values: any fragment in any encoding around them is caught too.
  for (const env of [envA, envB, envC])
    for (const [k, v] of Object.entries(env)) {
      const m = /kitleak[0-9a-f]{12}/.exec(v)
      if (m) planted.push({ label: `marker of env.${k}`, value: m[0] })
    }
  scanner = new LeakScanner(planted)
  server = await startGitServer({ token: gitToken })
  repoUrl = await server.createRepo('manifests', [
    { files: manifestsRepoFiles(namespace, clusterNames), message: 'Manifests for api' }
  ])
})

afterAll(async () => {
  for (const c of testClusters()) {
    const api = KubernetesObjectApi.makeApiClient(c.kubeConfig)
    await api
      .delete({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } })
      .catch(() => undefined)
    for (const o of await kitRecords(c.kubeConfig).catch(() => []))
      await api.delete(o).catch(() => undefined)
  }
  await server?.close()
  for (const d of [work, credsDir]) if (d) rmSync(d, { recursive: true, force: true })
})

/** kit's own objects for this inventory in kit-system (state record, ApplySet parent). */
async function kitRecords(
  kc: ReturnType<typeof testClusters>[number]['kubeConfig']
): Promise<KubernetesObject[]> {
  const api = KubernetesObjectApi.makeApiClient(kc)
  const out: KubernetesObject[] = []
  for (const [apiVersion, kind] of [
    ['v1', 'ConfigMap'],
    ['v1', 'Secret']
  ]) {
    const list = await api.list(apiVersion, kind, 'kit-system')
    for (const o of list.items)
      if (o.metadata?.name?.includes(inventory)) out.push({ ...o, apiVersion, kind })
  }
  return out
}

/** Scans one stage and records it; returns the printable leak list (where, which, form). */
function finishStage(
  name: string,
  target: string,
  begin: { scanned: number; leaks: number; at: number },
  observedOk: string,
  sane: string[]
): string[] {
  const leaks = scanner.describe(scanner.leaks.slice(begin.leaks))
  const filesScanned = scanner.scanned - begin.scanned
  const ok = leaks.length === 0 && sane.length === 0
  record({
    section: 'secrets',
    name,
    target,
    observed:
      sane.length > 0
        ? `flow did not run as planned: ${sane.join('; ')}`
        : leaks.length === 0
          ? observedOk
          : `${leaks.length} leak(s): ${leaks.slice(0, 5).join('; ')}`,
    ok,
    figures: { filesScanned, leaks: leaks.length, durationMs: Date.now() - begin.at }
  })
  return leaks
}

/** The end of an output for a failure message, every planted value scrubbed from it. */
const tail = (text: string): string => scanner.scrub(text).slice(-1500)

const mark = () => ({ scanned: scanner.scanned, leaks: scanner.leaks.length, at: Date.now() })

/** Everything an action run shows: streams, summary, each output, each annotation. */
function scanAction(label: string, run: ActionRun): void {
  // `::add-mask::<value>` is how an action hands a secret to the runner's log masking: the
  // runner consumes the command and never shows it. Every other line is what the log shows.
  const shown = run.stdout
    .split('\n')
    .filter((l) => !l.startsWith('::add-mask::'))
    .join('\n')
  scanner.scanText(`${label} stdout`, shown)
  scanner.scanText(`${label} stderr`, run.stderr)
  scanner.scanText(`${label} step summary`, run.summary)
  for (const [k, v] of Object.entries(run.outputs)) scanner.scanText(`${label} output ${k}`, v)
  run.annotations.forEach((a, i) =>
    scanner.scanText(`${label} annotation ${i + 1} (${a.level})`, `${a.properties} ${a.message}`)
  )
}

function scanCli(label: string, run: CliRun): void {
  scanner.scanText(`${label} stdout`, run.stdout)
  scanner.scanText(`${label} stderr`, run.stderr)
}

/** The workspace (checkout with its generated/ and the CLI's outputs), Secret manifests aside. */
function scanWorkspace(label: string): number {
  return scanner.scanDir(checkout, label, (_path, text) => isSecretManifest(text))
}

/** A RUNNER_TEMP of our own for one step, so what the step leaves behind can be scanned. */
function runnerTemp(step: string): string {
  const dir = join(work, 'runner-temp', step)
  mkdirSync(dir, { recursive: true })
  return dir
}

function renderEnv(env: EnvSecrets): Record<string, string> {
  return { ...env }
}

async function bump(image: string, token: string, step: string): Promise<ActionRun> {
  return runAction(repoRoot, 'image-deployer', {
    inputs: {
      repository: repoUrl,
      token,
      image,
      'image-name': 'api',
      branch: 'main',
      'target-branch': 'main'
    },
    env: {
      GITHUB_REPOSITORY: 'acme/api',
      GITHUB_SHA: 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678',
      GITHUB_REF: 'refs/heads/main',
      GITHUB_RUN_ID: '4242',
      RUNNER_TEMP: runnerTemp(step)
    },
    timeoutMs: 300_000
  })
}

async function deploymentizer(env: EnvSecrets, step: string): Promise<ActionRun> {
  return runAction(repoRoot, 'deploymentizer', {
    inputs: { path: '.' },
    env: { GITHUB_WORKSPACE: checkout, RUNNER_TEMP: runnerTemp(step), ...renderEnv(env) },
    cwd: checkout,
    timeoutMs: 300_000
  })
}

async function deployer(step: string, extra: Record<string, string> = {}): Promise<ActionRun> {
  const commit = await gitText(checkout, ['rev-parse', 'HEAD'])
  return runAction(repoRoot, 'deployer', {
    inputs: {
      manifests: join(checkout, 'generated'),
      kubeconfig,
      inventory,
      timeout: '3m',
      'fail-fast-grace': '10s',
      'lock-timeout': '3m',
      token: githubToken,
      commit,
      ...extra
    },
    env: {
      GITHUB_WORKSPACE: checkout,
      GITHUB_REPOSITORY: 'acme/manifests',
      GITHUB_SHA: commit,
      GITHUB_RUN_ID: String(Date.now()),
      RUNNER_TEMP: runnerTemp(step)
    },
    cwd: checkout,
    timeoutMs: 420_000
  })
}

/** The rendered Secret manifests: they must exist and hold the values (the positive control). */
function secretManifests(dir: string): string[] {
  const out: string[] = []
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const full = join(d, e.name)
      if (e.isDirectory()) walk(full)
      else if (isSecretManifest(readFileSync(full, 'utf8'))) out.push(full)
    }
  }
  walk(dir)
  return out
}

/** True when the scanner finds `env` in `text` (proves planting and scanning work at all). */
function holds(text: string, env: EnvSecrets): boolean {
  const probe = new LeakScanner(plantedEnv(env, 'probe'))
  probe.scanText('probe', text)
  return probe.leaks.length > 0
}

describe('secret leakage: the end-to-end flow with known secrets, everything it wrote scanned', () => {
  it('the scanner finds a planted value in every encoding it claims', () => {
    const value = envA.LEAK_DATABASE_URL
    const probe = new LeakScanner([{ label: 'probe', value }])
    const b64 = Buffer.from(`xy${value}tail`).toString('base64')
    probe.scanText('raw', `before ${value} after`)
    probe.scanText('base64 offset', b64)
    probe.scanText('url', `https://x/?q=${encodeURIComponent(value)}`)
    probe.scanText('json', JSON.stringify({ v: value }))
    const multi = new LeakScanner([{ label: 'pem', value: envA.LEAK_TLS_KEY }])
    multi.scanText('one line of it', envA.LEAK_TLS_KEY.split('\n')[2])
    expect(new Set(probe.leaks.map((l) => l.where))).toEqual(
      new Set(['raw', 'base64 offset', 'url', 'json'])
    )
    expect(multi.leaks.length).toBeGreaterThan(0)
    expect(needlesFor({ label: 'x', value }).length).toBeGreaterThan(5)
  })

  it('image-deployer: the git token never shows, on success or on a refused token', async () => {
    const begin = mark()
    const ok = await bump('ghcr.io/acme/api:v1', gitToken, 'bump-v1')
    const refused = await bump('ghcr.io/acme/api:v9', wrongToken, 'bump-wrong-token')
    scanAction('image-deployer (v1)', ok)
    scanAction('image-deployer (wrong token)', refused)
    scanner.scanDir(runnerTemp('bump-v1'), 'RUNNER_TEMP of image-deployer (v1)')
    scanner.scanDir(runnerTemp('bump-wrong-token'), 'RUNNER_TEMP of image-deployer (wrong token)')
    const sane = [
      ok.exitCode === 0 && ok.outputs.result === 'committed' ? '' : `bump exit ${ok.exitCode}`,
      refused.exitCode === 1 && /authentication failed/.test(refused.stdout)
        ? ''
        : `wrong token: exit ${refused.exitCode}`
    ].filter(Boolean)
    const leaks = finishStage(
      'image-deployer: git token (bump, and a refused token)',
      'image-deployer (bundle)',
      begin,
      'no token in logs, summary, outputs, annotations or RUNNER_TEMP; the refused token is named "authentication failed" only',
      sane
    )
    expect(sane).toEqual([])
    expect(leaks).toEqual([])
  })

  it('deploymentizer: env.* values only in the rendered Secret manifests', async () => {
    const begin = mark()
    await cloneWithToken(repoUrl, gitToken, checkout)
    const render = await deploymentizer(envA, 'render-a')
    scanAction('deploymentizer (render A)', render)
    const files = scanWorkspace('workspace after render A')
    scanner.scanDir(runnerTemp('render-a'), 'RUNNER_TEMP of deploymentizer (render A)')
    const secrets = secretManifests(join(checkout, 'generated'))
    const sane = [
      render.exitCode === 0 ? '' : `render exit ${render.exitCode}`,
      secrets.length === clusterNames.length ? '' : `${secrets.length} Secret manifests`,
      secrets.every((f) => holds(readFileSync(f, 'utf8'), envA))
        ? ''
        : 'a Secret manifest without the env values',
      files > 5 ? '' : `only ${files} files in the workspace`
    ].filter(Boolean)
    const leaks = finishStage(
      'deploymentizer: env.* values in a Secret (special characters, multi-line)',
      'deploymentizer (bundle)',
      begin,
      `values only in the ${secrets.length} rendered Secret manifests (excluded); none in logs, summary, outputs, index or other files`,
      sane
    )
    expect(sane).toEqual([])
    expect(leaks).toEqual([])
  })

  it('deployer: a deploy with known kubeconfig credentials and Secret data', async () => {
    const begin = mark()
    const deploy = await deployer('deploy-a')
    scanAction('deployer (deploy A)', deploy)
    scanner.scanDir(runnerTemp('deploy-a'), 'RUNNER_TEMP of deployer (deploy A)')
    scanWorkspace('workspace after deploy A')
    const sane = [deploy.exitCode === 0 ? '' : `deploy exit ${deploy.exitCode}`].filter(Boolean)
    const leaks = finishStage(
      'deployer: deploy with kubeconfig token + client key, Secret from env',
      'deployer (bundle)',
      begin,
      `deployed to ${clusterNames.length} clusters; no credential or Secret value in logs, summary, outputs, annotations or files`,
      sane
    )
    expect(sane).toEqual([])
    expect(leaks).toEqual([])
  })

  it('kit render, kit diff (Secret changed) and kit deploy from the CLI', async () => {
    const begin = mark()
    const out = join(checkout, 'cli-out')
    const render = await runKit(repoRoot, ['render', '.', '--output', out, '--json'], {
      cwd: checkout,
      env: renderEnv(envB)
    })
    const kubeconfigFile = join(credsDir, 'kubeconfig')
    const common = ['--kubeconfig', kubeconfigFile, '--inventory', inventory, '--json']
    // The diff as a person reads it (no --json): the per-object diff is the point.
    const diff = await runKit(
      repoRoot,
      [
        'diff',
        out,
        '--kubeconfig',
        kubeconfigFile,
        '--inventory',
        inventory,
        '--summary',
        join(checkout, 'kit-diff-summary.md')
      ],
      { cwd: checkout }
    )
    const diffShown =
      diff.stdout + diff.stderr + readFileSync(join(checkout, 'kit-diff-summary.md'), 'utf8')
    const deploy = await runKit(
      repoRoot,
      [
        'deploy',
        out,
        ...common,
        '--timeout',
        '3m',
        '--fail-fast-grace',
        '10s',
        '--summary',
        join(checkout, 'kit-deploy-summary.md')
      ],
      { cwd: checkout }
    )
    scanCli('kit render', render)
    scanCli('kit diff', diff)
    scanCli('kit deploy', deploy)
    scanWorkspace('workspace after the CLI')
    const sane = [
      render.code === 0 ? '' : `kit render exit ${render.code}`,
      diff.code === 0 ? '' : `kit diff exit ${diff.code}`,
      /<redacted, changed>/.test(diffShown) && /api-credentials/.test(diffShown)
        ? ''
        : `kit diff did not show the Secret as changed: ${tail(diffShown)}`,
      deploy.code === 0 ? '' : `kit deploy exit ${deploy.code}`
    ].filter(Boolean)
    const leaks = finishStage(
      'kit CLI: render, diff with a changed Secret, deploy',
      'kit render / diff / deploy',
      begin,
      'the Secret change shown redacted; no credential or value in output, --json, --summary or files',
      sane
    )
    expect(sane).toEqual([])
    expect(leaks).toEqual([])
  })

  it('deployer dry run: a changed Secret diffed without its values', async () => {
    const begin = mark()
    const render = await deploymentizer(envC, 'render-c')
    const dry = await deployer('dry-run-c', { 'dry-run': 'true' })
    scanAction('deploymentizer (render C)', render)
    scanAction('deployer (dry run C)', dry)
    scanner.scanDir(runnerTemp('render-c'), 'RUNNER_TEMP of deploymentizer (render C)')
    scanner.scanDir(runnerTemp('dry-run-c'), 'RUNNER_TEMP of deployer (dry run C)')
    scanWorkspace('workspace after dry run C')
    const shown = dry.stdout + dry.summary
    const sane = [
      render.exitCode === 0 ? '' : `render exit ${render.exitCode}`,
      dry.exitCode === 0 ? '' : `dry run exit ${dry.exitCode}`,
      /<redacted, changed>/.test(shown) && /api-credentials/.test(shown)
        ? ''
        : `the dry run did not show the Secret as changed: ${tail(shown)}`
    ].filter(Boolean)
    const leaks = finishStage(
      'deployer dry run: diff of a changed Secret',
      'deployer (bundle, dry-run)',
      begin,
      'the Secret is listed as changed, its old and new values never shown',
      sane
    )
    expect(sane).toEqual([])
    expect(leaks).toEqual([])
  })

  it('a failing deploy (crash-looping image) that rolls back', async () => {
    const begin = mark()
    const bad = await bump('ghcr.io/acme/api:v2-crashloop', gitToken, 'bump-crashloop')
    await pullWithToken(checkout, gitToken)
    const render = await deploymentizer(envC, 'render-crashloop')
    // In waves, as the demo deploys: the first cluster fails and rolls back, the others are
    // never touched.
    const deploy = await deployer('deploy-crashloop', {
      waves: `${clusterNames[0]}\n${clusterNames.slice(1).join(',')}`,
      timeout: '90s'
    })
    scanAction('image-deployer (crashloop)', bad)
    scanAction('deploymentizer (crashloop)', render)
    scanAction('deployer (crashloop)', deploy)
    for (const step of ['bump-crashloop', 'render-crashloop', 'deploy-crashloop'])
      scanner.scanDir(runnerTemp(step), `RUNNER_TEMP of ${step}`)
    scanWorkspace('workspace after the failed deploy')
    const sane = [
      bad.exitCode === 0 ? '' : `bump exit ${bad.exitCode}`,
      render.exitCode === 0 ? '' : `render exit ${render.exitCode}`,
      deploy.exitCode === 1 ? '' : `failing deploy exit ${deploy.exitCode}`,
      /roll/i.test(deploy.stdout + deploy.summary) ? '' : 'no rollback reported',
      deploy.annotations.some((a) => a.level === 'error') ? '' : 'no error annotation'
    ].filter(Boolean)
    const leaks = finishStage(
      'deployer: failing deploy and its rollback (errors, annotations, rollback log)',
      'deployer (bundle)',
      begin,
      `failed as expected (${scanner.scrub(deploy.annotations.find((a) => a.level === 'error')?.message ?? '').slice(0, 120)}); no credential or Secret value in errors, annotations, logs or summary`,
      sane
    )
    expect(sane).toEqual([])
    expect(leaks).toEqual([])
  })

  it('the git repositories written: every object of every ref', async () => {
    const begin = mark()
    await scanner.scanGitRepo(join(server.root, 'manifests.git'), 'manifests repository (server)')
    await scanner.scanGitRepo(join(checkout, '.git'), 'workspace checkout')
    const commits = Number(await server.git('manifests', ['rev-list', '--count', '--all']))
    const sane = [commits >= 3 ? '' : `${commits} commits`].filter(Boolean)
    const leaks = finishStage(
      'git repositories written (git log -p --all, cat-file --batch-all-objects)',
      'image-deployer commits, workspace clone',
      begin,
      `${commits} commits and every object of both repositories: no token, no env value`,
      sane
    )
    expect(sane).toEqual([])
    expect(leaks).toEqual([])
  })

  it("kit's records on the clusters (deploy state, ApplySet parent, annotations)", async () => {
    const begin = mark()
    let objects = 0
    for (const c of testClusters()) {
      for (const o of await kitRecords(c.kubeConfig)) {
        objects++
        scanner.scanText(
          `${c.name} kit-system ${o.kind}/${o.metadata?.name}`,
          JSON.stringify(o.kind === 'Secret' ? { metadata: o.metadata } : o)
        )
      }
      const api = KubernetesObjectApi.makeApiClient(c.kubeConfig)
      for (const [apiVersion, kind] of [
        ['v1', 'ConfigMap'],
        ['apps/v1', 'Deployment'],
        ['apps/v1', 'ReplicaSet'],
        ['v1', 'Secret']
      ]) {
        for (const o of (await api.list(apiVersion, kind, namespace)).items) {
          objects++
          // A Secret's data is where the values belong; its metadata (annotations) is not.
          scanner.scanText(
            `${c.name} ${namespace} ${kind}/${o.metadata?.name}`,
            JSON.stringify(kind === 'Secret' ? { metadata: o.metadata } : o)
          )
        }
      }
    }
    const sane = [objects > 0 ? '' : 'no objects found'].filter(Boolean)
    const leaks = finishStage(
      "kit's records on the clusters (state, ApplySet parent, annotations, ReplicaSets)",
      'deployer (cluster side)',
      begin,
      `${objects} objects: Secret values only in the Secret's data`,
      sane
    )
    expect(sane).toEqual([])
    expect(leaks).toEqual([])
  })
})
