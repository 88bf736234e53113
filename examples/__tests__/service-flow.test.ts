/**
 * The service repository's build workflow, as written, against the example manifests
 * repository: its two image-deployer steps run from the action's bundle with exactly the
 * `with:` of examples/service-repo/.github/workflows/build.yml (expressions filled in as the
 * runner would), in a checkout of examples/service-repo (the record job's actions/checkout, so
 * `templates: deploy/kit` is read from it), against the local GitHub API stand-in holding
 * examples/manifests-repo. Then the deploymentizer renders what was committed. This checks that
 * the two example layouts fit together: a build records its image and api's templates in one
 * commit, a develop build reaches staging only, a main build becomes a pull request, and a
 * template change travels with the image of its branch.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync
} from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, relative } from 'node:path'
import { load } from 'js-yaml'
import { startGitHubStandIn, type GitHubStandIn } from '../../testinfra/github-api/server.js'
import { runAction, type ActionRun } from '../../testinfra/runner/run-action.js'

const root = process.cwd()
const example = join(root, 'examples', 'manifests-repo')
const token = 'app-installation-token-0123456789'
const digest = `sha256:${'ab12'.repeat(16)}`
/** A commit of the service repository, 40 hex digits from a 7-digit pattern. */
const commit = (seed: string) => seed.repeat(6).slice(0, 40)
const sha = (branch: string) => commit(branch === 'main' ? '1111111' : '2222222')

interface Step {
  if?: string
  uses?: string
  with?: Record<string, string>
}
const build = load(
  readFileSync(join(root, 'examples', 'service-repo', '.github', 'workflows', 'build.yml'), 'utf8')
) as {
  env: { IMAGE: string }
  jobs: { record: { steps: Step[] } }
}
const bumpSteps = build.jobs.record.steps.filter((s) => s.uses?.endsWith('/kit/image-deployer@v1'))

function filesOf(dir: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const entry of readdirSync(dir, { recursive: true }) as string[]) {
    const full = join(dir, entry)
    if (statSync(full).isFile()) out[relative(dir, full)] = readFileSync(full, 'utf8')
  }
  return out
}

let api: GitHubStandIn
const temp: string[] = []

beforeAll(async () => {
  api = await startGitHubStandIn({ token })
  await api.createRepo('acme', 'manifests', [
    { files: filesOf(example), message: 'example manifests' }
  ])
})
afterAll(async () => {
  await api.close()
  temp.forEach((d) => rmSync(d, { recursive: true, force: true }))
})

/**
 * A checkout of examples/service-repo, as the record job's actions/checkout makes it, with
 * `change` applied: the commit that was built.
 */
function checkout(change?: (dir: string) => void): string {
  const dir = mkdtempSync(join(tmpdir(), 'kit-service-repo-'))
  temp.push(dir)
  cpSync(join(root, 'examples', 'service-repo'), dir, { recursive: true })
  change?.(dir)
  return dir
}

/**
 * Runs build.yml's image-deployer step for `branch` in `workspace`, as the runner would on a
 * push of `built` there.
 */
function record(
  branch: 'develop' | 'main',
  workspace: string,
  built = sha(branch)
): Promise<ActionRun> {
  const step = bumpSteps.find((s) => s.if === `github.ref_name == '${branch}'`)
  if (!step?.with) throw new Error(`build.yml has no image-deployer step for ${branch}`)
  const image = `${build.env.IMAGE}:${branch}-${built.slice(0, 7)}`
  const expressions: Record<string, string> = {
    'steps.app-token.outputs.token': token,
    'needs.build.outputs.image': image,
    'needs.build.outputs.digest': digest
  }
  const inputs = Object.fromEntries(
    Object.entries(step.with).map(([k, v]) => [
      k,
      String(v).replace(/\$\{\{\s*([\w.-]+)\s*\}\}/g, (_m, e: string) => {
        if (!(e in expressions)) throw new Error(`unexpected expression ${e} in build.yml`)
        return expressions[e]
      })
    ])
  )
  return runAction(root, 'image-deployer', {
    inputs,
    env: {
      GITHUB_API_URL: api.url,
      GITHUB_SERVER_URL: 'https://github.com',
      GITHUB_WORKSPACE: workspace,
      GITHUB_REPOSITORY: 'acme/api',
      GITHUB_SHA: built,
      GITHUB_REF: `refs/heads/${branch}`,
      GITHUB_REF_NAME: branch,
      GITHUB_HEAD_REF: undefined,
      GITHUB_EVENT_PATH: undefined,
      GITHUB_RUN_ID: '4242'
    },
    cwd: workspace,
    timeoutMs: 60_000
  })
}

/** The paths a commit of the manifests repository changed, with git's status letter. */
async function changedBy(sha: string): Promise<string[]> {
  const out = await api.git('acme', 'manifests', [
    'diff-tree',
    '--no-commit-id',
    '-r',
    '--name-status',
    sha
  ])
  return out.split('\n').filter(Boolean)
}

const show = (ref: string, path: string) => api.git('acme', 'manifests', ['show', `${ref}:${path}`])

interface Container {
  image: string
  env: { name: string; value?: string }[]
}

/** The manifests repository at `ref`, rendered by the deploymentizer bundle: api's container. */
async function renderAt(ref: string): Promise<(cluster: string) => Container> {
  const dir = mkdtempSync(join(tmpdir(), 'kit-service-flow-'))
  temp.push(dir)
  const list = await api.git('acme', 'manifests', ['ls-tree', '-r', '--name-only', ref])
  for (const path of list.split('\n').filter(Boolean)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true })
    writeFileSync(join(dir, path), await show(ref, path))
  }
  const run = await runAction(root, 'deploymentizer', {
    env: { GITHUB_WORKSPACE: dir, API_DATABASE_URL: 'postgres://flow-test/shop' },
    cwd: dir,
    timeoutMs: 60_000
  })
  expect({
    exitCode: run.exitCode,
    errors: run.annotations.filter((a) => a.level === 'error')
  }).toEqual({
    exitCode: 0,
    errors: []
  })
  return (cluster) => {
    const d = load(
      readFileSync(join(dir, 'generated', cluster, 'api', 'deployment-shop-api.yaml'), 'utf8')
    ) as {
      spec: { template: { spec: { containers: Container[] } } }
    }
    return d.spec.template.spec.containers[0]
  }
}

/** The image files' and records' content in the example, as committed before any build here. */
const exampleFile = (path: string) => load(readFileSync(join(example, path), 'utf8')) as Tree
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Tree = Record<string, any>
const envNames = (c: Container) => c.env.map((e) => e.name)

describe('build.yml against the example manifests repository', () => {
  it('has one image-deployer step per branch, both on the GitHub API transport, with templates', () => {
    expect(bumpSteps).toHaveLength(2)
    expect(bumpSteps.map((s) => s.with?.transport)).toEqual(['api', 'api'])
    expect(bumpSteps.map((s) => s.with?.templates)).toEqual(['deploy/kit', 'deploy/kit'])
  })

  describe('a push to develop', () => {
    let run: ActionRun
    beforeAll(async () => {
      run = await record('develop', checkout())
    })

    it('commits the image file and the record of its templates in one commit to main', async () => {
      expect(run.exitCode).toBe(0)
      expect(run.outputs).toMatchObject({ changed: 'true', result: 'committed' })
      // deploy/kit is what the example's develop set already holds: no copy is rewritten, the
      // record is, because it names the build that brought the templates.
      expect(JSON.parse(run.outputs.files)).toEqual([
        'images/api/develop.yaml',
        'service-templates/api/develop.yaml'
      ])
      expect((await api.git('acme', 'manifests', ['rev-parse', 'main'])).trim()).toBe(
        run.outputs['commit-sha']
      )
      expect(await changedBy(run.outputs['commit-sha'])).toEqual([
        'M\timages/api/develop.yaml',
        'M\tservice-templates/api/develop.yaml'
      ])
    })

    it('records image, digest and provenance, and keeps the file header byte for byte', async () => {
      const before = readFileSync(join(example, 'images', 'api', 'develop.yaml'), 'utf8')
      const after = await show('main', 'images/api/develop.yaml')
      const header = before.split('\n').filter((l) => l.startsWith('#'))
      expect(after.split('\n').slice(0, header.length)).toEqual(header)
      expect(load(after)).toMatchObject({
        // The reference carries the digest too, so even a tool that ignores `digest:` pins it.
        image: `ghcr.io/acme/api:develop-${sha('develop').slice(0, 7)}@${digest}`,
        digest,
        source: {
          repository: 'acme/api',
          commit: sha('develop'),
          ref: 'refs/heads/develop',
          runUrl: 'https://github.com/acme/api/actions/runs/4242'
        }
      })
    })

    it('records the same templates as coming from this build', async () => {
      const record = load(await show('main', 'service-templates/api/develop.yaml')) as Tree
      expect(record).toMatchObject({
        service: 'api',
        branch: 'develop',
        image: `ghcr.io/acme/api:develop-${sha('develop').slice(0, 7)}@${digest}`,
        source: { repository: 'acme/api', commit: sha('develop'), path: 'deploy/kit' }
      })
      expect(record.files).toEqual(exampleFile('service-templates/api/develop.yaml').files)
    })

    it('reaches the staging cluster only, pinned by digest', async () => {
      const container = await renderAt('main')
      expect(container('staging-us').image).toBe(
        `ghcr.io/acme/api:develop-${sha('develop').slice(0, 7)}@${digest}`
      )
      const mainImage = exampleFile('images/api/main.yaml').image
      expect([container('prod-eu').image, container('prod-us').image]).toEqual([
        mainImage,
        mainImage
      ])
    })

    it('is a no-op when the same build is recorded again', async () => {
      const again = await record('develop', checkout())
      expect(again.exitCode).toBe(0)
      expect(again.outputs).toMatchObject({
        changed: 'false',
        result: 'unchanged',
        'commit-sha': ''
      })
    })
  })

  // The next develop commit: the code reads a new environment variable, and deploy/kit's
  // Deployment sets it. Both must reach a cluster together.
  const newVariable = (dir: string) => {
    const file = join(dir, 'deploy', 'kit', 'deployment.yaml')
    const text = readFileSync(file, 'utf8')
    const at = '            - name: DATABASE_URL\n'
    if (!text.includes(at)) throw new Error('deploy/kit/deployment.yaml has no DATABASE_URL entry')
    writeFileSync(
      file,
      text.replace(at, `            - name: CHECKOUT_V2\n              value: 'true'\n${at}`)
    )
  }
  const templateBuild = commit('3333333')

  describe('a template change refused by the check', () => {
    it('fails at its line in deploy/kit, and nothing lands', async () => {
      const before = (await api.git('acme', 'manifests', ['rev-parse', 'main'])).trim()
      const broken = checkout((dir) => {
        const file = join(dir, 'deploy', 'kit', 'deployment.yaml')
        const text = readFileSync(file, 'utf8')
        writeFileSync(file, text.replace('${{ values.logLevel }}', '${{ values.logLevl }}'))
      })
      const run = await record('develop', broken, commit('4444444'))
      expect(run.exitCode).not.toBe(0)
      expect(run.outputs).toMatchObject({ result: 'failure', changed: 'false' })
      // Named in the service repository, where the fix is made; staging-us is the one cluster
      // that renders api's develop templates.
      expect(run.annotations.filter((a) => a.level === 'error').map((a) => a.message)).toEqual([
        "deploy/kit/deployment.yaml:26: cluster staging-us, service api: 'values.logLevl': no value 'logLevl' in values (it has: replicas, logLevel, metricsSidecar, resources)"
      ])
      expect((await api.git('acme', 'manifests', ['rev-parse', 'main'])).trim()).toBe(before)
    })
  })

  describe('a develop build that changes its Deployment', () => {
    let run: ActionRun
    beforeAll(async () => {
      run = await record('develop', checkout(newVariable), templateBuild)
    })

    it('commits the image, the changed copy and the record together', async () => {
      expect(run.exitCode).toBe(0)
      expect(run.outputs).toMatchObject({ changed: 'true', result: 'committed' })
      expect(await changedBy(run.outputs['commit-sha'])).toEqual([
        'M\timages/api/develop.yaml',
        'M\tservice-templates/api/develop.yaml',
        'M\tservice-templates/api/develop/deployment.yaml'
      ])
      expect(await show('main', 'service-templates/api/develop/deployment.yaml')).toBe(
        readFileSync(join(checkout(newVariable), 'deploy', 'kit', 'deployment.yaml'), 'utf8')
      )
    })

    it('gives staging the new image with the new variable, and leaves production as it was', async () => {
      const container = await renderAt('main')
      expect(container('staging-us').image).toBe(
        `ghcr.io/acme/api:develop-${templateBuild.slice(0, 7)}@${digest}`
      )
      expect(envNames(container('staging-us'))).toEqual([
        'LOG_LEVEL',
        'CHECKOUT_V2',
        'DATABASE_URL'
      ])
      const mainImage = exampleFile('images/api/main.yaml').image
      for (const prod of ['prod-eu', 'prod-us']) {
        expect(container(prod).image).toBe(mainImage)
        expect(envNames(container(prod))).toEqual(['LOG_LEVEL', 'DATABASE_URL'])
      }
    })
  })

  describe('a push to main', () => {
    let run: ActionRun
    let mainBefore: string
    beforeAll(async () => {
      mainBefore = (await api.git('acme', 'manifests', ['rev-parse', 'main'])).trim()
      run = await record('main', checkout(newVariable))
    })

    it('opens a pull request instead of touching the protected main branch', async () => {
      expect(run.exitCode).toBe(0)
      expect(run.outputs.changed).toBe('true')
      expect(run.outputs['pull-request-url']).not.toBe('')
      expect((await api.git('acme', 'manifests', ['rev-parse', 'main'])).trim()).toBe(mainBefore)
      const pulls = api.pulls('acme', 'manifests').filter((p) => p.state === 'open')
      expect(pulls.map((p) => [p.head, p.base])).toEqual([['kit/bump/api/main', 'main']])
    })

    it("holds main's image, copy and record in one commit on the bump branch", async () => {
      const head = (await api.git('acme', 'manifests', ['rev-parse', 'kit/bump/api/main'])).trim()
      expect((await api.git('acme', 'manifests', ['rev-parse', `${head}^`])).trim()).toBe(
        mainBefore
      )
      expect(await changedBy(head)).toEqual([
        'M\timages/api/main.yaml',
        'M\tservice-templates/api/main.yaml',
        'M\tservice-templates/api/main/deployment.yaml'
      ])
    })

    it('proposes the new main image with its templates for production on the bump branch', async () => {
      const container = await renderAt('kit/bump/api/main')
      const expected = `ghcr.io/acme/api:main-${sha('main').slice(0, 7)}@${digest}`
      for (const prod of ['prod-eu', 'prod-us']) {
        expect(container(prod).image).toBe(expected)
        expect(envNames(container(prod))).toEqual(['LOG_LEVEL', 'CHECKOUT_V2', 'DATABASE_URL'])
      }
      expect(container('staging-us').image).toBe(
        `ghcr.io/acme/api:develop-${templateBuild.slice(0, 7)}@${digest}`
      )
    })
  })
})
