/**
 * The service repository's build workflow, as written, against the example manifests
 * repository: its two image-deployer steps run from the action's bundle with exactly the
 * `with:` of examples/service-repo/.github/workflows/build.yml (expressions filled in as the
 * runner would), against the local GitHub API stand-in holding examples/manifests-repo. Then
 * the deploymentizer renders what was committed. This checks that the two example layouts
 * fit together: a develop build reaches staging only, a main build becomes a pull request.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import {
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
const sha = (branch: string) => (branch === 'main' ? '1111111' : '2222222').repeat(6).slice(0, 40)

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

/** Runs build.yml's image-deployer step for `branch`, as the runner would on a push there. */
function record(branch: 'develop' | 'main'): Promise<ActionRun> {
  const step = bumpSteps.find((s) => s.if === `github.ref_name == '${branch}'`)
  if (!step?.with) throw new Error(`build.yml has no image-deployer step for ${branch}`)
  const image = `${build.env.IMAGE}:${branch}-${sha(branch).slice(0, 7)}`
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
      GITHUB_REPOSITORY: 'acme/api',
      GITHUB_SHA: sha(branch),
      GITHUB_REF: `refs/heads/${branch}`,
      GITHUB_REF_NAME: branch,
      GITHUB_HEAD_REF: undefined,
      GITHUB_EVENT_PATH: undefined,
      GITHUB_RUN_ID: '4242'
    },
    timeoutMs: 60_000
  })
}

const show = (ref: string, path: string) => api.git('acme', 'manifests', ['show', `${ref}:${path}`])

/** The manifests repository at `ref`, rendered by the deploymentizer bundle. */
async function renderAt(ref: string): Promise<(cluster: string) => string> {
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
      spec: { template: { spec: { containers: { image: string }[] } } }
    }
    return d.spec.template.spec.containers[0].image
  }
}

describe('build.yml against the example manifests repository', () => {
  it('has one image-deployer step per branch, both on the GitHub API transport', () => {
    expect(bumpSteps).toHaveLength(2)
    expect(bumpSteps.map((s) => s.with?.transport)).toEqual(['api', 'api'])
  })

  describe('a push to develop', () => {
    let run: ActionRun
    beforeAll(async () => {
      run = await record('develop')
    })

    it('commits images/api/develop.yaml straight to the manifests main branch', async () => {
      expect(run.exitCode).toBe(0)
      expect(run.outputs).toMatchObject({ changed: 'true', result: 'committed' })
      expect(JSON.parse(run.outputs.files)).toEqual(['images/api/develop.yaml'])
      expect((await api.git('acme', 'manifests', ['rev-parse', 'main'])).trim()).toBe(
        run.outputs['commit-sha']
      )
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

    it('reaches the staging cluster only, pinned by digest', async () => {
      const image = await renderAt('main')
      expect(image('staging-us')).toBe(
        `ghcr.io/acme/api:develop-${sha('develop').slice(0, 7)}@${digest}`
      )
      const mainImage = (
        load(readFileSync(join(example, 'images', 'api', 'main.yaml'), 'utf8')) as { image: string }
      ).image
      expect([image('prod-eu'), image('prod-us')]).toEqual([mainImage, mainImage])
    })

    it('is a no-op when the same build is recorded again', async () => {
      const again = await record('develop')
      expect(again.exitCode).toBe(0)
      expect(again.outputs).toMatchObject({
        changed: 'false',
        result: 'unchanged',
        'commit-sha': ''
      })
    })
  })

  describe('a push to main', () => {
    let run: ActionRun
    let mainBefore: string
    beforeAll(async () => {
      mainBefore = (await api.git('acme', 'manifests', ['rev-parse', 'main'])).trim()
      run = await record('main')
    })

    it('opens a pull request instead of touching the protected main branch', async () => {
      expect(run.exitCode).toBe(0)
      expect(run.outputs.changed).toBe('true')
      expect(run.outputs['pull-request-url']).not.toBe('')
      expect((await api.git('acme', 'manifests', ['rev-parse', 'main'])).trim()).toBe(mainBefore)
      const pulls = api.pulls('acme', 'manifests').filter((p) => p.state === 'open')
      expect(pulls.map((p) => [p.head, p.base])).toEqual([['kit/bump/api/main', 'main']])
    })

    it('proposes the new main image for production on the bump branch', async () => {
      const image = await renderAt('kit/bump/api/main')
      const expected = `ghcr.io/acme/api:main-${sha('main').slice(0, 7)}@${digest}`
      expect([image('prod-eu'), image('prod-us')]).toEqual([expected, expected])
      expect(image('staging-us')).toBe(
        `ghcr.io/acme/api:develop-${sha('develop').slice(0, 7)}@${digest}`
      )
    })
  })
})
