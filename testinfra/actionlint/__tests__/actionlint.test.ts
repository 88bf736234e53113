/**
 * actionlint, GitHub's workflow linter most projects run (pinned in testinfra/actionlint/go.mod,
 * built by build.sh beside it), on every workflow of the project (.github/workflows) and of the
 * examples a user copies. It reads them as GitHub does: syntax, expressions and their types,
 * contexts, job needs, runner labels, and the inputs of well-known actions.
 *
 * Its shell (shellcheck) and Python (pyflakes) checks are off: they depend on what else a
 * machine has installed, and the result must not.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { execFileSync, spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..')
const work = mkdtempSync(join(tmpdir(), 'kit-actionlint-'))
let actionlint: string

beforeAll(() => {
  const out = execFileSync('bash', [join(root, 'testinfra', 'actionlint', 'build.sh')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit']
  })
  actionlint = out.trim().split('\n').pop() ?? ''
}, 600_000)
afterAll(() => rmSync(work, { recursive: true, force: true }))

/** Every workflow file under dir: .github/workflows/*.y(a)ml at any depth. */
function workflowsUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter(
      (d) =>
        d.isFile() &&
        /\.ya?ml$/.test(d.name) &&
        /(^|[\\/])\.github[\\/]workflows$/.test(d.parentPath) &&
        !/[\\/]node_modules[\\/]/.test(d.parentPath)
    )
    .map((d) => relative(root, join(d.parentPath, d.name)))
    .sort()
}

const lint = (files: string[], cwd = root) =>
  spawnSync(actionlint, ['-no-color', '-shellcheck=', '-pyflakes=', ...files], {
    cwd,
    encoding: 'utf8'
  })

describe('actionlint', () => {
  it('finds nothing in the project workflows or the example workflows', () => {
    const files = [
      ...workflowsUnder(join(root, '.github')),
      ...workflowsUnder(join(root, 'examples'))
    ]
    expect(files).toEqual(expect.arrayContaining(['.github/workflows/test.yml']))
    expect(files.filter((f) => f.startsWith('examples/')).length).toBeGreaterThanOrEqual(4)
    const r = lint(files)
    expect(r.stdout + r.stderr).toBe('')
    expect(r.status).toBe(0)
  })

  it('fails on a workflow with a finding, naming the file and line', () => {
    const dir = join(work, '.github', 'workflows')
    mkdirSync(dir, { recursive: true })
    writeFileSync(
      join(dir, 'broken.yml'),
      [
        'on: push',
        'jobs:',
        '  deploy:',
        '    runs-on: ubuntu-latest',
        '    steps:',
        '      - run: echo "${{ steps.render.outputs.clusters }}"',
        ''
      ].join('\n')
    )
    const r = lint(['.github/workflows/broken.yml'], work)
    expect(r.status).toBe(1)
    expect(r.stdout).toMatch(/^\.github\/workflows\/broken\.yml:6:\d+: .*"render"/m)
  })
})
