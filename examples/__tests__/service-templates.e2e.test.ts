/**
 * Service-owned templates end to end, every step through the actions' bundles as the runner
 * runs them (image-deployer → deploymentizer → deployer), against the real smart-HTTP git server
 * (testinfra/git-server) holding the manifests repository and two of the shared local clusters
 * standing in for a staging cluster (development group, follows `develop`) and a production
 * cluster (production group, follows `main`), deployed in two waves by a cluster label.
 *
 * The service repository `acme/api` keeps its Deployment in `deploy/kit/`; each build is a folder
 * of its own (the runner's checkout of that commit) from which the image-deployer records the
 * image and the templates in one commit. The flow: a develop build changes the image and adds an
 * environment variable, and staging gets both in one deploy while production is untouched; the
 * main build brings both to production in its wave; a broken template is refused before anything
 * is written; a deploy that fails rolls the image and the template change back together.
 *
 * Everything on the clusters lives in a namespace and an inventory of this run's own (the
 * clusters are shared with the other suites), removed at the end.
 */
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals'
import { execFile } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { promisify } from 'node:util'
import { AppsV1Api, KubernetesObjectApi, type V1Deployment } from '@kubernetes/client-node'
import { startGitServer, type GitServer } from '../../testinfra/git-server/server.js'
import { testClusters, uniqueName, type TestCluster } from '../../testinfra/jest/clusters.js'
import { runAction, type ActionRun } from '../../testinfra/runner/run-action.js'

const run = promisify(execFile)
const root = process.cwd()
const token = 'manifests-token-0123456789abcdef'
const namespace = uniqueName('svc-tpl')
const inventory = uniqueName('inv')
const registry = 'registry.example/acme/api'
/** Builds are dated in the past, one minute apart, so their order is clear to the newer-wins rule. */
const buildsStart = Date.now() - 60 * 60_000

// Real rollouts on shared, busy clusters, a rollback among them.
jest.setTimeout(180_000)

let git: GitServer
let manifestsUrl: string
let clusters: { staging: TestCluster; production: TestCluster }
const temp: string[] = []

const tempDir = (prefix: string): string => {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  temp.push(dir)
  return dir
}

/** Prints what the lead quotes: one block per action run, outputs and summary. */
function show(title: string, r: ActionRun, extra = ''): void {
  const outputs = Object.entries(r.outputs)
    .map(([k, v]) => `  ${k}: ${v}`)
    .join('\n')
  console.log(
    `── ${title} (exit ${r.exitCode})\noutputs:\n${outputs}\nsummary:\n${r.summary.trimEnd()}` +
      (extra ? `\n${extra}` : '')
  )
}

/** The step's log as the runner shows it (the runner consumes its mask commands). */
const logOf = (r: ActionRun): string =>
  `log:\n${[r.stdout, r.stderr]
    .join('\n')
    .split('\n')
    .filter((l) => l.trim() !== '' && !l.startsWith('::add-mask::'))
    .join('\n')}`

function write(dir: string, files: Record<string, string>): void {
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true })
    writeFileSync(join(dir, path), content)
  }
}

// ---------------------------------------------------------------- the manifests repository

/** Groups follow a branch, choose the service's own templates and set the run's namespace. */
const group = (branch: string, description: string) => `description: ${description}
branch: ${branch}
values:
  namespace: ${namespace}
services:
  api:
    templates: service
`

const manifestsRepo: Record<string, string> = {
  'kit.yaml': `defaults:
  branch: main
  missingImage: error
`,
  'groups/development.yaml': group('develop', 'Development clusters, on the develop builds.'),
  'groups/production.yaml': group('main', 'Production clusters, on the main builds.'),
  'clusters/staging.yaml': `description: Staging
groups: [development]
labels:
  wave: '1'
`,
  'clusters/production.yaml': `description: Production
groups: [production]
labels:
  wave: '2'
`,
  // The namespace belongs to the manifests repository (a repository-owned service, no image).
  'services/namespace/namespace.yaml': `apiVersion: v1
kind: Namespace
metadata:
  name: \${{ values.namespace }}
`
}

// ---------------------------------------------------------------- the service repository

interface Build {
  readonly branch: 'main' | 'develop'
  /** The build's number: its commit, run id and time. */
  readonly n: number
  readonly tag: string
  /** The app container's environment, beyond LOG_LEVEL. */
  readonly env?: Record<string, string>
  /** A line with a placeholder no values file sets. */
  readonly broken?: boolean
}

const commitOf = (b: Build) => `${b.n}`.repeat(40).slice(0, 40)
const imageOf = (b: Build) => `${registry}:${b.tag}`

/** The service's deploy/kit/ at a build, as its repository holds it. */
function serviceTemplates(b: Build): Record<string, string> {
  const env = Object.entries({ LOG_LEVEL: 'info', ...b.env })
    .map(([name, value]) => `            - name: ${name}\n              value: '${value}'`)
    .join('\n')
  return {
    'deploy/kit/kit.yaml': 'description: Storefront API\nimage: api\n',
    'deploy/kit/values.yaml': 'replicas: 1\n',
    'deploy/kit/deployment.yaml': `apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
  namespace: \${{ values.namespace }}
  labels:
    app.kubernetes.io/name: api
spec:
  replicas: \${{ values.replicas }}
  selector:
    matchLabels:
      app.kubernetes.io/name: api
  template:
    metadata:
      labels:
        app.kubernetes.io/name: api
    spec:
      containers:
        - name: api
          image: \${{ image }}
${b.broken ? '          workingDir: ${{ values.missing }}\n' : ''}          env:
${env}
`
  }
}

/** The service's build recording its image and templates: the image-deployer bundle, git transport. */
async function record(b: Build): Promise<{ run: ActionRun; workspace: string }> {
  const workspace = tempDir(`kit-api-${b.branch}-${b.n}-`)
  write(workspace, serviceTemplates(b))
  const r = await runAction(root, 'image-deployer', {
    inputs: {
      repository: manifestsUrl,
      token,
      image: imageOf(b),
      templates: 'deploy/kit',
      'committed-at': new Date(buildsStart + b.n * 60_000).toISOString(),
      timeout: '60s'
    },
    env: {
      GITHUB_WORKSPACE: workspace,
      GITHUB_REPOSITORY: 'acme/api',
      GITHUB_SERVER_URL: 'https://github.com',
      GITHUB_SHA: commitOf(b),
      GITHUB_REF: `refs/heads/${b.branch}`,
      GITHUB_REF_NAME: b.branch,
      GITHUB_RUN_ID: String(1000 + b.n),
      GITHUB_HEAD_REF: undefined,
      GITHUB_EVENT_PATH: undefined
    },
    cwd: workspace,
    timeoutMs: 90_000
  })
  show(`image-deployer: ${b.branch} build ${b.n} (${imageOf(b)})`, r, logOf(r))
  return { run: r, workspace }
}

const head = async () => (await git.git('manifests', ['rev-parse', 'main'])).trim()

/** Files a commit changed, as `<status>\t<path>` lines, sorted. */
async function commitFiles(sha: string): Promise<string[]> {
  const out = await git.git('manifests', ['show', '--name-status', '--format=', sha])
  return out.split('\n').filter(Boolean).sort()
}

// ---------------------------------------------------------------- render and deploy

interface Deployed {
  readonly checkout: string
  readonly commit: string
  readonly render: ActionRun
  readonly deploy: ActionRun
  readonly rows: { cluster: string; result: string; reason?: string; objectsChanged?: number }[]
}

/** A fresh checkout of the manifests main branch, as actions/checkout leaves it. */
async function checkout(): Promise<string> {
  const dir = tempDir('kit-manifests-checkout-')
  await run('git', [
    '-c',
    `http.extraHeader=Authorization: Bearer ${token}`,
    'clone',
    '--quiet',
    manifestsUrl,
    dir
  ])
  return dir
}

/** The manifests workflow: check out main, render with the deploymentizer, deploy in waves. */
async function renderAndDeploy(title: string): Promise<Deployed> {
  const dir = await checkout()
  const commit = (await run('git', ['-C', dir, 'rev-parse', 'HEAD'])).stdout.trim()
  const env = { GITHUB_WORKSPACE: dir, GITHUB_SHA: commit, GITHUB_SERVER_URL: 'https://github.com' }
  const render = await runAction(root, 'deploymentizer', { env, cwd: dir, timeoutMs: 60_000 })
  show(`deploymentizer: ${title} at ${commit.slice(0, 7)}`, render, render.stderr.trim())
  expect({
    exitCode: render.exitCode,
    errors: render.annotations.filter((a) => a.level === 'error')
  }).toEqual({ exitCode: 0, errors: [] })
  const deploy = await runAction(root, 'deployer', {
    inputs: {
      manifests: 'generated',
      kubeconfigs: JSON.stringify({
        staging: readFileSync(clusters.staging.kubeconfigPath, 'utf8'),
        production: readFileSync(clusters.production.kubeconfigPath, 'utf8')
      }),
      'wave-label': 'wave',
      inventory,
      commit,
      timeout: '90s',
      'fail-fast-grace': '3s'
    },
    env,
    cwd: dir,
    timeoutMs: 170_000
  })
  const waves = deploy.stdout.split('\n').filter((l) => /^waves: /.test(l))
  show(`deployer: ${title} at ${commit.slice(0, 7)}`, deploy, waves.join('\n'))
  const rows = JSON.parse(deploy.outputs['cluster-results'] ?? '[]') as Deployed['rows']
  return { checkout: dir, commit, render, deploy, rows }
}

const resultOf = (d: Deployed, cluster: string) => d.rows.find((r) => r.cluster === cluster)

/** The live Deployment `api`, straight from the cluster. */
async function live(cluster: TestCluster): Promise<V1Deployment> {
  return cluster.kubeConfig
    .makeApiClient(AppsV1Api)
    .readNamespacedDeployment({ name: 'api', namespace })
}

function appContainer(d: V1Deployment): { image?: string; env: Record<string, string> } {
  const c = d.spec?.template.spec?.containers.find((x) => x.name === 'api')
  return {
    image: c?.image,
    env: Object.fromEntries((c?.env ?? []).map((e) => [e.name, e.value ?? '']))
  }
}

/** What must not move on an untouched cluster: the object's version and its whole spec. */
const fingerprint = (d: V1Deployment) => ({
  resourceVersion: d.metadata?.resourceVersion,
  generation: d.metadata?.generation,
  spec: JSON.stringify(d.spec)
})

// ---------------------------------------------------------------- setup

beforeAll(async () => {
  const all = testClusters()
  if (all.length < 2) throw new Error(`two test clusters needed, found ${all.length}`)
  clusters = { staging: all[0], production: all[1] }
  git = await startGitServer({ token })
  manifestsUrl = await git.createRepo('manifests', [
    { files: manifestsRepo, message: 'manifests repository' }
  ])
})

afterAll(async () => {
  for (const c of Object.values(clusters ?? {})) {
    const api = KubernetesObjectApi.makeApiClient(c.kubeConfig)
    const gone = [
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } },
      ...['kit-applyset', 'kit-deploy-state'].map((prefix) => ({
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: `${prefix}-${inventory}`, namespace: 'kit-system' }
      }))
    ]
    await Promise.all(gone.map((o) => api.delete(o).catch(() => undefined)))
  }
  await git?.close()
  temp.forEach((d) => rmSync(d, { recursive: true, force: true }))
})

// ---------------------------------------------------------------- the flow

const main1: Build = { branch: 'main', n: 1, tag: 'main-1111111' }
const develop2: Build = { branch: 'develop', n: 2, tag: 'develop-2222222' }
const newEnv = { FEATURE_CHECKOUT: 'on' }
const develop3: Build = { branch: 'develop', n: 3, tag: 'develop-3333333', env: newEnv }
const main4: Build = { branch: 'main', n: 4, tag: 'main-4444444', env: newEnv }
const broken5: Build = { branch: 'develop', n: 5, tag: 'develop-5555555', env: newEnv, broken: true }
const failing6: Build = {
  branch: 'develop',
  n: 6,
  // The fake kubelet runs a tag ending in -crashloop as a container that keeps exiting 1.
  tag: 'develop-6666666-crashloop',
  env: { ...newEnv, PAYMENTS_V2: 'on' }
}

describe('service-owned templates, from the service build to the clusters', () => {
  it('seeds: the main and develop builds record image and templates; both clusters deploy them', async () => {
    for (const b of [main1, develop2]) {
      const { run: r } = await record(b)
      expect({ exitCode: r.exitCode, result: r.outputs.result }).toEqual({
        exitCode: 0,
        result: 'committed'
      })
    }
    const d = await renderAndDeploy('seeds')
    expect(d.deploy.exitCode).toBe(0)
    expect(d.rows.map((r) => [r.cluster, r.result]).sort()).toEqual([
      ['production', 'changed'],
      ['staging', 'changed']
    ])
    expect(appContainer(await live(clusters.staging))).toEqual({
      image: imageOf(develop2),
      env: { LOG_LEVEL: 'info' }
    })
    expect(appContainer(await live(clusters.production))).toEqual({
      image: imageOf(main1),
      env: { LOG_LEVEL: 'info' }
    })
  })

  describe('a develop build changing the image and the Deployment', () => {
    let before: string
    let bump: ActionRun
    let workspace: string
    let productionBefore: V1Deployment
    let deployed: Deployed

    beforeAll(async () => {
      productionBefore = await live(clusters.production)
      before = await head()
      ;({ run: bump, workspace } = await record(develop3))
      deployed = await renderAndDeploy('develop build 3')
    })

    it('is one commit holding the image file, the templates copy and its record', async () => {
      expect(bump.exitCode).toBe(0)
      expect(bump.outputs).toMatchObject({ result: 'committed', changed: 'true' })
      const sha = bump.outputs['commit-sha']
      expect(sha).toBe(await head())
      expect((await git.git('manifests', ['rev-parse', `${sha}^`])).trim()).toBe(before)
      const files = [
        'images/api/develop.yaml',
        'service-templates/api/develop.yaml',
        'service-templates/api/develop/deployment.yaml'
      ]
      expect((JSON.parse(bump.outputs.files) as string[]).sort()).toEqual(files)
      expect(await commitFiles(sha)).toEqual(files.map((f) => `M\t${f}`))
      // The copy is the service repository's file, byte for byte.
      expect(
        await git.git('manifests', ['show', `${sha}:service-templates/api/develop/deployment.yaml`])
      ).toBe(readFileSync(join(workspace, 'deploy/kit/deployment.yaml'), 'utf8'))
      expect(await git.git('manifests', ['show', `${sha}:images/api/develop.yaml`])).toContain(
        `image: ${imageOf(develop3)}`
      )
    })

    it("names where staging's templates came from in the render index", () => {
      const index = JSON.parse(
        readFileSync(join(deployed.checkout, 'generated', 'index.json'), 'utf8')
      ) as {
        clusters: Record<string, { services: Record<string, { templates?: unknown }> }>
      }
      expect(index.clusters.staging.services.api.templates).toMatchObject({
        origin: 'service',
        dir: 'service-templates/api/develop',
        record: 'service-templates/api/develop.yaml',
        branch: 'develop',
        source: { repository: 'acme/api', commit: commitOf(develop3), path: 'deploy/kit' }
      })
      expect(index.clusters.production.services.api.templates).toMatchObject({
        origin: 'service',
        dir: 'service-templates/api/main',
        source: { commit: commitOf(main1) }
      })
    })

    it('reaches staging in one deploy: the new image and the new variable together', async () => {
      expect(deployed.deploy.exitCode).toBe(0)
      // One object changed: the Deployment, with its new image and new variable in one apply.
      expect(resultOf(deployed, 'staging')).toMatchObject({ result: 'changed', objectsChanged: 1 })
      expect(JSON.parse(deployed.deploy.outputs['changed-clusters'])).toEqual(['staging'])
      expect(appContainer(await live(clusters.staging))).toEqual({
        image: imageOf(develop3),
        env: { LOG_LEVEL: 'info', FEATURE_CHECKOUT: 'on' }
      })
      // The summary links the changed Deployment to the service commit its templates came from.
      expect(deployed.deploy.summary).toContain(
        `templates from [acme/api@${commitOf(develop3).slice(0, 7)} · deploy/kit](https://github.com/acme/api/tree/${commitOf(develop3)}/deploy/kit)`
      )
    })

    it('leaves production untouched: same resourceVersion, same spec', async () => {
      expect(resultOf(deployed, 'production')?.result).toBe('unchanged')
      const after = await live(clusters.production)
      expect(fingerprint(after)).toEqual(fingerprint(productionBefore))
      expect(appContainer(after)).toEqual({ image: imageOf(main1), env: { LOG_LEVEL: 'info' } })
    })
  })

  describe('the main build with the same change', () => {
    let bump: ActionRun
    let stagingBefore: V1Deployment
    let deployed: Deployed

    beforeAll(async () => {
      stagingBefore = await live(clusters.staging)
      ;({ run: bump } = await record(main4))
      deployed = await renderAndDeploy('main build 4')
    })

    it('is one commit for main: image file, templates copy and record', async () => {
      expect(bump.exitCode).toBe(0)
      expect(await commitFiles(bump.outputs['commit-sha'])).toEqual([
        'M\timages/api/main.yaml',
        'M\tservice-templates/api/main.yaml',
        'M\tservice-templates/api/main/deployment.yaml'
      ])
    })

    it('reaches production in its wave, after staging; staging is left as it was', async () => {
      expect(deployed.deploy.exitCode).toBe(0)
      expect(deployed.deploy.stdout).toMatch(/^waves: wave=1: staging → wave=2: production$/m)
      expect(deployed.rows.map((r) => [r.cluster, r.result]).sort()).toEqual([
        ['production', 'changed'],
        ['staging', 'unchanged']
      ])
      expect(appContainer(await live(clusters.production))).toEqual({
        image: imageOf(main4),
        env: { LOG_LEVEL: 'info', FEATURE_CHECKOUT: 'on' }
      })
      expect(fingerprint(await live(clusters.staging))).toEqual(fingerprint(stagingBefore))
    })
  })

  it('refuses a broken template before writing: the service file and line named, nothing lands', async () => {
    const before = await head()
    const { run: r } = await record(broken5)
    const lines = serviceTemplates(broken5)['deploy/kit/deployment.yaml'].split('\n')
    const line = lines.findIndex((l) => l.includes('values.missing')) + 1
    expect(r.exitCode).not.toBe(0)
    expect(r.outputs).toMatchObject({ result: 'failure', changed: 'false' })
    expect(r.outputs['commit-sha'] ?? '').toBe('')
    const errors = r.annotations
      .filter((a) => a.level === 'error')
      .map((a) => a.message)
      .join('\n')
    expect(errors).toMatch(new RegExp(`deploy/kit/deployment\\.yaml:${line}\\b.*missing`))
    // The message points at the service repository, never at the manifests repository's copy.
    expect(errors).not.toContain('service-templates/api/develop/')
    expect(await head()).toBe(before)
  })

  describe('a develop build whose deploy fails', () => {
    let bump: ActionRun
    let productionBefore: V1Deployment
    let deployed: Deployed

    beforeAll(async () => {
      productionBefore = await live(clusters.production)
      ;({ run: bump } = await record(failing6))
      deployed = await renderAndDeploy('develop build 6 (crash-looping image)')
    })

    it('lands as one commit like any other build', async () => {
      expect(bump.exitCode).toBe(0)
      expect(await commitFiles(bump.outputs['commit-sha'])).toEqual([
        'M\timages/api/develop.yaml',
        'M\tservice-templates/api/develop.yaml',
        'M\tservice-templates/api/develop/deployment.yaml'
      ])
    })

    it('is rolled back on staging: the previous image and no new variable', async () => {
      expect(deployed.deploy.exitCode).not.toBe(0)
      expect(deployed.deploy.outputs.result).toBe('failure')
      expect(resultOf(deployed, 'staging')).toMatchObject({ result: 'rolled-back' })
      expect(resultOf(deployed, 'staging')?.reason).toMatch(/CrashLoopBackOff/)
      expect(JSON.parse(deployed.deploy.outputs['failed-clusters'])).toEqual(['staging'])
      const after = await live(clusters.staging)
      expect(appContainer(after)).toEqual({
        image: imageOf(develop3),
        env: { LOG_LEVEL: 'info', FEATURE_CHECKOUT: 'on' }
      })
      // The deployer waited for the restored version to be healthy again.
      expect(after.status?.readyReplicas).toBe(1)
    })

    it('stops the later wave: production is not deployed and keeps what it ran', async () => {
      expect(resultOf(deployed, 'production')).toMatchObject({
        result: 'skipped',
        reason: 'not started: wave wave=1 did not succeed (staging)'
      })
      expect(fingerprint(await live(clusters.production))).toEqual(fingerprint(productionBefore))
    })
  })
})
