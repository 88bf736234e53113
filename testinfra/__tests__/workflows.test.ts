/**
 * The workflows a user copies (examples/) and the project's own (.github/) call the actions
 * with inputs, outputs and secrets that exist; the README's action tables match action.yml.
 */
import { describe, expect, it } from '@jest/globals'
import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import {
  checkWorkflow,
  kitActionOf,
  kitActions,
  readActionMetadata,
  secretsUsed,
  type ActionMetadata,
  type KitAction
} from '../workflows/check-workflows.js'

const root = process.cwd()
const actions = Object.fromEntries(
  kitActions.map((a) => [a, readActionMetadata(root, a)])
) as Record<KitAction, ActionMetadata>

function workflowFiles(dir: string): string[] {
  if (!existsSync(dir)) return []
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter(
      (d) =>
        d.isFile() && /\.ya?ml$/.test(d.name) && /(^|\/)\.github\/workflows$/.test(d.parentPath)
    )
    .map((d) => join(d.parentPath, d.name))
}

const projectWorkflows = readdirSync(join(root, '.github', 'workflows'))
  .filter((f) => /\.ya?ml$/.test(f))
  .map((f) => join(root, '.github', 'workflows', f))
const exampleWorkflows = workflowFiles(join(root, 'examples'))

describe('workflow checker', () => {
  it('recognises every way a workflow names a kit action', () => {
    expect(kitActionOf('./deployer')).toBe('deployer')
    expect(kitActionOf('acme/kit/image-deployer@v1')).toBe('image-deployer')
    expect(kitActionOf('acme/kit/deploymentizer@0123abc')).toBe('deploymentizer')
    expect(kitActionOf('actions/checkout@v5')).toBeUndefined()
  })

  it('reports an undeclared input, a missing required input and an undeclared output', () => {
    const fake: Record<KitAction, ActionMetadata> = {
      'image-deployer': { inputs: {}, outputs: {} },
      deploymentizer: { inputs: { path: { required: true } }, outputs: { matrix: {} } },
      deployer: { inputs: {}, outputs: {} }
    }
    const wf = [
      'jobs:',
      '  render:',
      '    steps:',
      '      - id: r',
      '        uses: ./deploymentizer',
      '        with: { colour: blue }',
      '      - run: echo ${{ steps.r.outputs.nope }}'
    ].join('\n')
    const problems = checkWorkflow(wf, 'wf.yml', fake)
    expect(problems).toEqual([
      "wf.yml: job 'render' step r (./deploymentizer): input 'colour' is not declared by deploymentizer/action.yml",
      "wf.yml: job 'render' step r (./deploymentizer): required input 'path' is missing",
      "wf.yml: job 'render' reads steps.r.outputs.nope, which deploymentizer/action.yml does not declare"
    ])
  })
})

describe('workflows in this repository', () => {
  it('has project workflows and example workflows to check', () => {
    expect(projectWorkflows.length).toBeGreaterThanOrEqual(3)
    expect(exampleWorkflows.length).toBeGreaterThanOrEqual(3)
  })

  it.each([...projectWorkflows, ...exampleWorkflows].map((f) => [f.slice(root.length + 1)]))(
    '%s uses only declared inputs and outputs',
    (file) => {
      expect(checkWorkflow(readFileSync(join(root, file), 'utf8'), file, actions)).toEqual([])
    }
  )

  it('documents every secret the example workflows read', () => {
    const docs = readFileSync(join(root, 'examples', 'README.md'), 'utf8')
    const missing = exampleWorkflows
      .flatMap((f) => secretsUsed(readFileSync(f, 'utf8')))
      .filter((s) => s !== 'GITHUB_TOKEN' && !docs.includes(s))
    expect([...new Set(missing)]).toEqual([])
  })
})

describe('README', () => {
  it("has each action's inputs and outputs exactly as its action.yml declares them", () => {
    const res = spawnSync(process.execPath, ['scripts/action-docs.mjs', '--check'], {
      encoding: 'utf8'
    })
    expect(res.stderr).toBe('')
    expect(res.status).toBe(0)
  })
})
