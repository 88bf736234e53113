import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { spawn } from 'node:child_process'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parse } from 'yaml'
import { startGitServer, type GitServer } from '../../testinfra/git-server/server.js'
import { startGitHubStandIn, type GitHubStandIn } from '../../testinfra/github-api/server.js'
import { Inputs, outputNames } from '../src/constants.js'

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const actionYml = parse(await readFile(join(root, 'image-deployer', 'action.yml'), 'utf8')) as {
  inputs: Record<string, { default?: string }>
  outputs: Record<string, unknown>
}
const token = 'action-token-0123456789abcdef'
const seed = [{ files: { 'README.md': '# manifests\n' } }]
let gitServer: GitServer
let api: GitHubStandIn
let work: string

beforeAll(async () => {
  ;[gitServer, api] = await Promise.all([startGitServer({ token }), startGitHubStandIn({ token })])
  work = await mkdtemp(join(tmpdir(), 'kit-action-test-'))
})
afterAll(async () => {
  await Promise.all([gitServer.close(), api.close(), rm(work, { recursive: true, force: true })])
})

interface ActionRun {
  code: number
  stdout: string
  stderr: string
  outputs: Record<string, string>
  summary: string
}

/** Runs the bundled action as the runner does: INPUT_* (with action.yml defaults), output files. */
async function runAction(
  inputs: Record<string, string>,
  env: Record<string, string> = {}
): Promise<ActionRun> {
  const dir = await mkdtemp(join(work, 'run-'))
  const outputFile = join(dir, 'output')
  const summaryFile = join(dir, 'summary')
  await writeFile(outputFile, '')
  await writeFile(summaryFile, '')
  const inputEnv: Record<string, string> = {}
  for (const [name, spec] of Object.entries(actionYml.inputs))
    inputEnv[`INPUT_${name.toUpperCase()}`] = spec.default ?? ''
  for (const [name, value] of Object.entries(inputs))
    inputEnv[`INPUT_${name.toUpperCase()}`] = value
  const child = spawn(process.execPath, [join(root, 'image-deployer', 'dist', 'index.js')], {
    env: {
      PATH: process.env.PATH,
      HOME: dir,
      RUNNER_TEMP: dir,
      GITHUB_OUTPUT: outputFile,
      GITHUB_STEP_SUMMARY: summaryFile,
      GITHUB_REPOSITORY: 'acme/api',
      GITHUB_SHA: 'f'.repeat(40),
      GITHUB_REF: 'refs/heads/main',
      GITHUB_REF_NAME: 'main',
      GITHUB_RUN_ID: '42',
      GITHUB_SERVER_URL: 'https://github.com',
      ...inputEnv,
      ...env
    }
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
  const code = await new Promise<number>((resolve) => child.on('close', (c) => resolve(c ?? 1)))
  return {
    code,
    stdout,
    stderr,
    outputs: parseOutputs(await readFile(outputFile, 'utf8')),
    summary: await readFile(summaryFile, 'utf8')
  }
}

/** Parses the runner's `name<<delimiter` output file format. */
function parseOutputs(text: string): Record<string, string> {
  const out: Record<string, string> = {}
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const m = /^([^<]+)<<(.+)$/.exec(lines[i])
    if (!m) continue
    const value: string[] = []
    while (++i < lines.length && lines[i] !== m[2]) value.push(lines[i])
    out[m[1]] = value.join('\n')
  }
  return out
}

/** The token appears only in the runner's `::add-mask::` command (which the runner consumes). */
function expectNoToken(run: ActionRun, secret = token): void {
  const stdout = run.stdout.replace(/^::add-mask::.*$/gm, '')
  expect(run.stdout).toContain(`::add-mask::${secret}`)
  for (const text of [stdout, run.stderr, run.summary, JSON.stringify(run.outputs)])
    expect(text).not.toContain(secret)
}

describe('image-deployer action.yml', () => {
  it('declares exactly the inputs and outputs the code reads and writes', () => {
    expect(Object.keys(actionYml.inputs).sort()).toEqual(Object.values(Inputs).sort())
    expect(Object.keys(actionYml.outputs)).toEqual(outputNames)
  })
})

describe('the bundled action, run as the runner runs it', () => {
  it('commits over git, sets every output and writes a summary line', async () => {
    const url = await gitServer.createRepo('action-git', seed)
    const run = await runAction({
      [Inputs.repository]: url,
      [Inputs.token]: token,
      [Inputs.image]: 'ghcr.io/acme/api:main-1'
    })
    expect(run.stderr).toBe('')
    expect(run.code).toBe(0)
    const head = (await gitServer.git('action-git', ['rev-parse', 'main'])).trim()
    expect(run.outputs).toEqual({
      'commit-sha': head,
      changed: 'true',
      result: 'committed',
      'pull-request-url': '',
      files: '["images/api/main.yaml"]'
    })
    expect(run.summary).toMatch(
      /^image-deployer: api → ghcr\.io\/acme\/api:main-1 committed to main as [0-9a-f]{7} \(images\/api\/main\.yaml; attempt 1\)\n$/
    )
    const file = await gitServer.git('action-git', ['show', 'main:images/api/main.yaml'])
    expect(file).toContain('runUrl: https://github.com/acme/api/actions/runs/42')
    expect(file).toContain(`commit: ${'f'.repeat(40)}`)
    const log = await gitServer.git('action-git', ['log', '-1', '--format=%an <%ae>%n%B', 'main'])
    expect(log).toMatch(
      /^github-actions\[bot\] <41898282\+github-actions\[bot\]@users\.noreply\.github\.com>\nBump api \(main\) to main-1\n/
    )
    expectNoToken(run)

    const again = await runAction({
      [Inputs.repository]: url,
      [Inputs.token]: token,
      [Inputs.image]: 'ghcr.io/acme/api:main-1'
    })
    expect(again.code).toBe(0)
    expect(again.outputs.changed).toBe('false')
    expect(again.outputs.result).toBe('unchanged')
    expect(again.summary).toMatch(/already at ghcr\.io\/acme\/api:main-1 on main; no commit/)
    expect((await gitServer.git('action-git', ['rev-parse', 'main'])).trim()).toBe(head)
  })

  it('fails with a clear error and leaves the remote unchanged on bad input', async () => {
    const url = await gitServer.createRepo('action-bad', seed)
    const before = await gitServer.git('action-bad', ['for-each-ref'])
    const badImage = await runAction({
      [Inputs.repository]: url,
      [Inputs.token]: token,
      [Inputs.image]: 'ghcr.io/Acme/api:1'
    })
    expect(badImage.code).toBe(1)
    expect(badImage.stdout).toMatch(
      /::error::Input 'image' 'ghcr\.io\/Acme\/api:1' is not a valid image reference: repository component 'Acme'/
    )
    const wrongToken = await runAction({
      [Inputs.repository]: url,
      [Inputs.token]: 'not-the-token',
      [Inputs.image]: 'ghcr.io/acme/api:1'
    })
    expect(wrongToken.code).toBe(1)
    expect(wrongToken.stdout).toMatch(/::error::.*authentication failed/)
    expectNoToken(wrongToken, 'not-the-token')
    const missing = await runAction({
      [Inputs.repository]: `${gitServer.url}/missing.git`,
      [Inputs.token]: token,
      [Inputs.image]: 'ghcr.io/acme/api:1'
    })
    expect(missing.stdout).toMatch(/::error::.*repository not found/)
    await gitServer.protectBranch('action-bad', 'main')
    const protectedRun = await runAction({
      [Inputs.repository]: url,
      [Inputs.token]: token,
      [Inputs.image]: 'ghcr.io/acme/api:1'
    })
    expect(protectedRun.code).toBe(1)
    expect(protectedRun.stdout).toMatch(
      /::error::.*refused the push to 'main' \(a protected branch or a hook\)/
    )
    expect(await gitServer.git('action-bad', ['for-each-ref'])).toBe(before)
    for (const run of [badImage, wrongToken, missing, protectedRun]) {
      if (run !== wrongToken) expectNoToken(run)
      // Refused inputs too: a later `if: always()` step reads why, and one annotation says it.
      expect(run.outputs).toEqual({ result: 'failure', changed: 'false' })
      expect(run.stdout.match(/::error/g)).toHaveLength(1)
    }
  })

  it('annotates each refused template at its file and line, and lists them in the summary', async () => {
    const url = await gitServer.createRepo('action-templates-bad', seed)
    const before = await gitServer.git('action-templates-bad', ['for-each-ref'])
    const workspace = await mkdtemp(join(work, 'service-'))
    await mkdir(join(workspace, 'deploy', 'kit'), { recursive: true })
    await writeFile(
      join(workspace, 'deploy', 'kit', 'deployment.yaml'),
      'kind: Deployment\nspec: [\n'
    )
    await writeFile(join(workspace, 'deploy', 'kit', 'run.sh'), 'echo\n')
    const run = await runAction(
      {
        [Inputs.repository]: url,
        [Inputs.token]: token,
        [Inputs.image]: 'ghcr.io/acme/api:1',
        templates: 'deploy/kit'
      },
      { GITHUB_WORKSPACE: workspace }
    )
    expect(run.code).toBe(1)
    const annotations = run.stdout.match(/^::error .*$/gm) ?? []
    expect(annotations).toEqual([
      expect.stringMatching(
        /^::error title=kit image-deployer,file=deploy\/kit\/run\.sh::deploy\/kit\/run\.sh: not a YAML file/
      ),
      expect.stringMatching(
        /^::error title=kit image-deployer,file=deploy\/kit\/deployment\.yaml,line=\d+(,col=\d+)?::deploy\/kit\/deployment\.yaml:\d+/
      )
    ])
    expect(run.stdout).toMatch(/the templates were refused with 2 problems; nothing was committed/)
    expect(run.summary).toMatch(
      /^### ❌ kit image-deployer: the service's templates were refused, nothing was committed\n\n- deploy\/kit\/run\.sh: not a YAML file.*\n- deploy\/kit\/deployment\.yaml:3:1: invalid YAML/
    )
    expect(run.outputs).toEqual({ result: 'failure', changed: 'false' })
    expect(await gitServer.git('action-templates-bad', ['for-each-ref'])).toBe(before)
    expectNoToken(run)
  })

  it('opens one pull request per image and branch over the API, and updates it in place', async () => {
    await api.createRepo('acme', 'manifests', seed)
    const common = {
      [Inputs.repository]: 'acme/manifests',
      [Inputs.token]: token,
      [Inputs.transport]: 'api',
      [Inputs.mode]: 'pull-request',
      [Inputs.apiUrl]: api.url,
      [Inputs.branch]: 'feature/login'
    }
    const first = await runAction({
      ...common,
      [Inputs.image]: 'ghcr.io/acme/api:f-1',
      [Inputs.builtAt]: '2026-11-26T07:00:00Z'
    })
    expect(first.stdout).not.toMatch(/::error::/)
    expect(first.code).toBe(0)
    expect(first.outputs['pull-request-url']).toMatch(/\/acme\/manifests\/pull\/1$/)
    expect(first.outputs.files).toBe('["images/api/feature%2Flogin.yaml"]')
    const second = await runAction({
      ...common,
      [Inputs.image]: 'ghcr.io/acme/api:f-2',
      [Inputs.builtAt]: '2026-11-26T08:00:00Z'
    })
    expect(second.code).toBe(0)
    expect(second.outputs['pull-request-url']).toBe(first.outputs['pull-request-url'])
    const pulls = api.pulls('acme', 'manifests')
    expect(pulls).toHaveLength(1)
    expect(pulls[0]).toMatchObject({
      head: 'kit/bump/api/feature/login',
      base: 'main',
      title: 'Bump api (feature/login) to f-2'
    })
    // The base branch is untouched; the bump branch holds the newest build.
    expect(await api.git('acme', 'manifests', ['ls-tree', '-r', '--name-only', 'main'])).toBe(
      'README.md\n'
    )
    expect(
      await api.git('acme', 'manifests', [
        'show',
        'kit/bump/api/feature/login:images/api/feature%2Flogin.yaml'
      ])
    ).toContain('image: ghcr.io/acme/api:f-2')
    // An older build arriving late does not replace it.
    const late = await runAction({
      ...common,
      [Inputs.image]: 'ghcr.io/acme/api:f-0',
      [Inputs.builtAt]: '2026-11-26T06:00:00Z'
    })
    expect(late.code).toBe(0)
    expect(late.outputs.result).toBe('older')
    expect(late.outputs['pull-request-url']).toBe(first.outputs['pull-request-url'])
    expectNoToken(second)
  })

  it('opens the missing pull request for a bump branch an earlier run left behind', async () => {
    await api.createRepo('acme', 'orphan', [
      { files: { 'images/api/main.yaml': 'image: ghcr.io/acme/api:9\n' } }
    ])
    await api.git('acme', 'orphan', ['branch', 'kit/bump/api/main', 'main'])
    const run = await runAction({
      [Inputs.repository]: 'acme/orphan',
      [Inputs.token]: token,
      [Inputs.transport]: 'api',
      [Inputs.mode]: 'pull-request',
      [Inputs.apiUrl]: api.url,
      [Inputs.image]: 'ghcr.io/acme/api:9'
    })
    expect(run.code).toBe(0)
    expect(run.outputs.result).toBe('unchanged')
    expect(run.outputs['pull-request-url']).toMatch(/\/acme\/orphan\/pull\/1$/)
    expect(api.pulls('acme', 'orphan')).toHaveLength(1)
  })

  it('shows the change in a dry run and writes nothing', async () => {
    const url = await gitServer.createRepo('action-dry', seed)
    const before = await gitServer.git('action-dry', ['for-each-ref'])
    const run = await runAction({
      [Inputs.repository]: url,
      [Inputs.token]: token,
      [Inputs.image]: 'ghcr.io/acme/api:2',
      [Inputs.dryRun]: 'true'
    })
    expect(run.code).toBe(0)
    expect(run.outputs.result).toBe('dry-run')
    // changed means the same in a dry run as in the deployer: there is something to change.
    expect(run.outputs.changed).toBe('true')
    expect(run.outputs['commit-sha']).toBe('')
    expect(run.stdout).toContain('+image: ghcr.io/acme/api:2')
    expect(await gitServer.git('action-dry', ['for-each-ref'])).toBe(before)
  })
})
