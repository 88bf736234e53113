// The action as the runner calls it: the bundled dist/index.js under Node 24, inputs as
// INPUT_* variables (with action.yml's defaults, which the runner injects), and GITHUB_OUTPUT
// and GITHUB_STEP_SUMMARY files. Run `node scripts/bundle.mjs` first.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { parse } from 'yaml'
import { inputNames, outputNames } from '../src/constants.js'
import { fixtureEnv, goldenDir, here, readTree, workspaceWithFixture } from './helpers.js'

const actionDir = join(here, '..')
const bundle = join(actionDir, 'dist/index.js')
const actionYml = parse(readFileSync(join(actionDir, 'action.yml'), 'utf8')) as {
  inputs: Record<string, { default?: string }>
  outputs: Record<string, unknown>
}

interface ActionRun {
  status: number | null
  stdout: string
  outputs: Record<string, string>
  summary: string
}

/** Runs the bundle in `workspace` like the runner does. */
function runAction(
  workspace: string,
  inputs: Record<string, string>,
  env: Record<string, string> = {}
): ActionRun {
  const outFile = join(workspace, `.out-${Date.now()}`)
  const summaryFile = join(workspace, `.summary-${Date.now()}`)
  writeFileSync(outFile, '')
  writeFileSync(summaryFile, '')
  const inputEnv: Record<string, string> = {}
  for (const [name, spec] of Object.entries(actionYml.inputs))
    inputEnv[`INPUT_${name.toUpperCase()}`] = spec.default ?? ''
  for (const [name, value] of Object.entries(inputs))
    inputEnv[`INPUT_${name.toUpperCase()}`] = value
  const r = spawnSync(process.execPath, [bundle], {
    cwd: workspace,
    encoding: 'utf8',
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      GITHUB_WORKSPACE: workspace,
      GITHUB_OUTPUT: outFile,
      GITHUB_STEP_SUMMARY: summaryFile,
      RUNNER_TEMP: workspace,
      ...inputEnv,
      ...env
    }
  })
  const outputs: Record<string, string> = {}
  const text = readFileSync(outFile, 'utf8')
  for (const m of text.matchAll(/^([\w-]+)<<(\S+)\n([\s\S]*?)\n\2$/gm)) outputs[m[1]] = m[3]
  const summary = readFileSync(summaryFile, 'utf8')
  rmSync(outFile)
  rmSync(summaryFile)
  return { status: r.status, stdout: r.stdout + r.stderr, outputs, summary }
}

describe('action.yml', () => {
  it('declares exactly the inputs and outputs the code uses', () => {
    expect(Object.keys(actionYml.inputs)).toEqual(inputNames)
    expect(Object.keys(actionYml.outputs)).toEqual(outputNames)
  })
})

describe('deploymentizer bundle', () => {
  let ws: string
  beforeAll(() => {
    if (!existsSync(bundle)) throw new Error(`${bundle} is missing: run node scripts/bundle.mjs`)
    ws = workspaceWithFixture()
  })
  afterAll(() => rmSync(ws, { recursive: true, force: true }))

  it('renders the fixture, sets outputs, masks env values and writes the summary', () => {
    const run = runAction(ws, { path: 'manifests', 'shard-size': '4' }, fixtureEnv)
    expect(run.status).toBe(0)
    expect(run.outputs.result).toBe('success')
    expect(JSON.parse(run.outputs.clusters)).toEqual([
      'dev-eu-1',
      'dev-us-1',
      'prod-eu-1',
      'prod-us-1',
      'prod-us-2',
      'staging-us-1'
    ])
    expect(JSON.parse(run.outputs.matrix)).toEqual({
      include: [
        { shard: '1-of-2', clusters: 'dev-eu-1,dev-us-1,prod-eu-1,prod-us-1' },
        { shard: '2-of-2', clusters: 'prod-us-2,staging-us-1' }
      ]
    })
    expect(run.outputs.index).toBe('manifests/generated/index.json')
    expect(JSON.parse(run.outputs.rendered)).toEqual({
      clusters: 6,
      services: 52,
      files: 82,
      skipped: 8
    })
    expect(run.outputs.hash).toMatch(/^sha256:[0-9a-f]{64}$/)
    // Byte for byte the same as the in-process golden render.
    expect(readTree(join(ws, 'manifests/generated'))).toEqual(readTree(goldenDir))
    // Every env value used is masked; the values appear nowhere else in the log or summary.
    expect(run.stdout).toContain('::add-mask::s3cret-pass')
    expect(run.stdout).toContain(`::add-mask::${Buffer.from('s3cret-pass').toString('base64')}`)
    expect(run.stdout).toContain('::add-mask::tok-1234567890')
    expect(run.stdout.replace(/::add-mask::.*\n/g, '')).not.toMatch(/s3cret-pass|tok-1234567890/)
    expect(run.summary).not.toMatch(/s3cret-pass|tok-1234567890/)
    // One annotation per skipped service and reason, naming its clusters (not one per cluster).
    expect(run.stdout.match(/::warning::service canary skipped/g)).toHaveLength(1)
    expect(run.stdout).toMatch(
      /::warning::service canary skipped on clusters prod-eu-1, prod-us-1, prod-us-2: no image file for acme\/canary/
    )
    // Images are listed once each with their clusters, not repeated on every cluster's row.
    expect(run.summary).toContain('| Cluster | Services | Files |')
    expect(run.summary).toContain(
      '| worker | `ghcr.io/acme/worker:main-1111111` (pinned) | prod-eu-1 |'
    )
    expect(run.summary.split('ghcr.io/acme/api:main-a1b2c3d`')).toHaveLength(2)
  })

  it('matrix without shard-size is one job per cluster, and check mode reports up to date', () => {
    const run = runAction(ws, { path: 'manifests', check: 'true' }, fixtureEnv)
    expect(run.status).toBe(0)
    expect(run.outputs['up-to-date']).toBe('true')
    expect(JSON.parse(run.outputs.matrix).include[0]).toEqual({ cluster: 'dev-eu-1' })
  })

  it('fails check mode when the output is stale', () => {
    writeFileSync(
      join(ws, 'manifests/generated/dev-us-1/web/deployment-acme-web.yaml'),
      'stale: true\n'
    )
    const run = runAction(ws, { path: 'manifests', check: 'true' }, fixtureEnv)
    expect(run.status).toBe(1)
    expect(run.outputs['up-to-date']).toBe('false')
    expect(run.outputs.result).toBe('failure')
    expect(run.stdout).toContain('changed dev-us-1/web/deployment-acme-web.yaml')
    expect(run.stdout).toContain('::error::manifests/generated is not up to date (1 difference)')
    expect(run.stdout.match(/::error/g)).toHaveLength(1)
  })

  it('annotates every problem with file and line, fails, and writes nothing', () => {
    const broken = workspaceWithFixture()
    try {
      const file = join(broken, 'manifests/services/worker/deployment.yaml')
      writeFileSync(file, readFileSync(file, 'utf8').replace('values.queue', 'values.queues'))
      const run = runAction(broken, { path: 'manifests' }, fixtureEnv)
      expect(run.status).toBe(1)
      expect(run.stdout).toMatch(
        /::error title=kit render,file=manifests\/services\/worker\/deployment.yaml,line=19::cluster dev-eu-1, service worker: 'values.queues': no value 'queues' in values/
      )
      // One annotation per distinct problem (the same message on two clusters is one, naming
      // both), and no other: the step's verdict is a log line.
      expect(run.stdout).toMatch(
        /::error title=kit render,file=manifests\/services\/worker\/deployment.yaml,line=19::clusters prod-us-1, prod-us-2, service worker: 'values.queues'/
      )
      expect(run.stdout.match(/::error title=kit render/g)).toHaveLength(5)
      expect(run.stdout.match(/::error/g)).toHaveLength(5)
      expect(run.stdout).toContain('\nrender failed with 5 problems; nothing was written')
      expect(existsSync(join(broken, 'manifests/generated'))).toBe(false)
      expect(run.summary).toContain('render failed, nothing was written')
      expect(run.outputs).toEqual({ result: 'failure' })
    } finally {
      rmSync(broken, { recursive: true, force: true })
    }
  })

  it('annotates a YAML syntax error once, with line and column, not once per cluster using it', () => {
    const broken = workspaceWithFixture()
    try {
      // canary is named by the production and development groups: no "unknown service" noise.
      writeFileSync(
        join(broken, 'manifests/services/canary/kit.yaml'),
        'image: acme/canary\nimages: [\n'
      )
      const run = runAction(broken, { path: 'manifests' }, fixtureEnv)
      expect(run.status).toBe(1)
      expect(run.stdout.match(/::error/g)).toHaveLength(1)
      expect(run.stdout).toMatch(
        /::error title=kit render,file=manifests\/services\/canary\/kit.yaml,line=\d+,col=\d+::invalid YAML: /
      )
      expect(run.stdout).not.toContain('unknown service')
      expect(run.stdout).toContain('\nrender failed with 1 problem; nothing was written')
      expect(existsSync(join(broken, 'manifests/generated'))).toBe(false)
    } finally {
      rmSync(broken, { recursive: true, force: true })
    }
  })

  it('refuses an empty secret (a GitHub secret that does not exist) and writes nothing', () => {
    const fresh = workspaceWithFixture()
    try {
      const run = runAction(fresh, { path: 'manifests' }, { ...fixtureEnv, DB_PASSWORD: '' })
      expect(run.status).toBe(1)
      expect(run.stdout).toMatch(
        /::error title=kit render,file=manifests\/services\/app-secrets\/secret.yaml,line=10::clusters dev-eu-1, dev-us-1, prod-eu-1, prod-us-1, prod-us-2 and 1 more, service app-secrets: 'env.DB_PASSWORD \| base64': environment variable DB_PASSWORD is empty/
      )
      expect(readdirSync(fresh)).toEqual(['manifests'])
      expect(existsSync(join(fresh, 'manifests/generated'))).toBe(false)
    } finally {
      rmSync(fresh, { recursive: true, force: true })
    }
  })

  it('fails with the input named when an input is invalid', () => {
    const run = runAction(ws, { path: 'manifests', 'dry-run': 'yes please' })
    expect(run.status).toBe(1)
    expect(run.stdout).toContain("::error::Input 'dry-run' must be true or false, got 'yes please'")
    expect(run.stdout.match(/::error/g)).toHaveLength(1)
    // A later step with `if: always()` reads why, as after any other failure.
    expect(run.outputs).toEqual({ result: 'failure' })
  })

  it('warns when the output folder holding Secrets is tracked by git', () => {
    const tracked = workspaceWithFixture()
    try {
      const git = (...args: string[]) =>
        spawnSync('git', ['-C', tracked, ...args], { encoding: 'utf8' })
      expect(runAction(tracked, { path: 'manifests' }, fixtureEnv).status).toBe(0)
      git('init', '-q')
      git('add', 'manifests/generated')
      const run = runAction(tracked, { path: 'manifests' }, fixtureEnv)
      expect(run.status).toBe(0)
      expect(run.stdout).toContain(
        '::warning::manifests/generated is tracked by git and this render wrote values from env.*'
      )
    } finally {
      rmSync(tracked, { recursive: true, force: true })
    }
  })
})
