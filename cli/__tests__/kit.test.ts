/**
 * The CLI's conventions, on the bundled CLI as users run it: --version from the package, `kit help
 * <command>`, "did you mean" for commands and flags, one form for every error
 * (`kit <command>: error: …`), and --json on every command with the action's output names.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { spawnSync } from 'node:child_process'
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { outputNames } from '../../shared/src/outputs/table.js'

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const fixtures = join(root, 'deploymentizer', '__tests__', 'fixtures', 'manifests')
let work: string

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'kit-cli-conventions-'))
  cpSync(fixtures, join(work, 'manifests'), { recursive: true })
})
afterAll(() => rmSync(work, { recursive: true, force: true }))

function kit(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [join(root, 'cli', 'dist', 'kit.js'), ...args], {
    cwd: work,
    encoding: 'utf8',
    env: { PATH: process.env.PATH, HOME: work, NO_COLOR: '1', ...env }
  })
  return { code: r.status, stdout: r.stdout, stderr: r.stderr }
}

/** Every line of stderr that reports an error is in the one form. */
function expectErrorForm(stderr: string, prog: string): void {
  const lines = stderr.split('\n').filter((l) => /error/i.test(l))
  expect(lines.length).toBeGreaterThan(0)
  for (const l of lines) expect(l.startsWith(`${prog}: error: `)).toBe(true)
}

const renderEnv = { DB_PASSWORD: 's3cret-pass', API_TOKEN: 'tok-1234567890' }

describe('kit --version and kit help', () => {
  it('prints the version of the CLI package', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'cli', 'package.json'), 'utf8')) as {
      version: string
    }
    const r = kit(['--version'])
    expect([r.code, r.stdout, r.stderr]).toEqual([0, `kit ${pkg.version}\n`, ''])
  })

  it('kit help <command> is kit <command> --help; kit help alone is kit --help', () => {
    for (const c of ['render', 'diff', 'deploy', 'bump']) {
      const help = kit(['help', c])
      expect(help.code).toBe(0)
      expect(help.stdout).toBe(kit([c, '--help']).stdout)
    }
    expect(kit(['help']).stdout).toBe(kit(['--help']).stdout)
    expect(kit(['--help']).stdout).toContain('kit help <command>')
  })
})

describe('did you mean', () => {
  it.each([
    [['rendr'], 'kit', "unknown command 'rendr'; did you mean 'render'?"],
    [['help', 'deplyo'], 'kit', "unknown command 'deplyo'; did you mean 'deploy'?"],
    [['--verison'], 'kit', 'unknown option --verison; did you mean --version?'],
    [
      ['render', 'manifests', '--clustr', 'x'],
      'kit render',
      'unknown option --clustr; did you mean --clusters?'
    ],
    [
      ['render', 'manifests', '--dry'],
      'kit render',
      'unknown option --dry; did you mean --dry-run?'
    ],
    [['diff', '--no-wiat'], 'kit diff', 'unknown option --no-wiat; did you mean --no-wait?'],
    [['bump', '--imgae', 'x'], 'kit bump', 'unknown option --imgae; did you mean --image?'],
    [
      ['deploy', '--metrics-token', 'x'],
      'kit deploy',
      '--metrics-token is an action input with no kit flag (read from KIT_METRICS_TOKEN, never a flag)'
    ],
    [
      ['bump', '--token=x'],
      'kit bump',
      '--token is an action input with no kit flag (read from KIT_TOKEN or GITHUB_TOKEN, never a flag)'
    ]
  ])('%j', (args, prog, message) => {
    const r = kit(args)
    expect(r.code).toBe(2)
    expect(r.stderr.split('\n')[0]).toBe(`${prog}: error: ${message}`)
    // Node's own parser text never reaches the user.
    expect(r.stderr).not.toMatch(/positional argument|ERR_PARSE_ARGS|place it at the end/)
  })

  it('words a flag without its value, or with one it does not take, in kit’s words', () => {
    const missing = kit(['render', 'manifests', '--shard-size'])
    expect(missing.stderr.split('\n')[0]).toBe('kit render: error: --shard-size needs a value')
    const dashed = kit(['render', 'manifests', '--clusters', '--dry-run'])
    expect(dashed.stderr.split('\n')[0]).toBe(
      'kit render: error: --clusters needs a value (write --clusters=--dry-run if the value starts with -)'
    )
    const valued = kit(['deploy', '--prune=yes'])
    expect(valued.stderr.split('\n')[0]).toBe(
      'kit deploy: error: --prune takes no value (it is on or off: --prune or --no-prune)'
    )
    for (const r of [missing, dashed, valued]) expect(r.code).toBe(2)
    expect(missing.stderr).toContain("Run 'kit render --help' for usage.")
  })
})

describe('one form for every error', () => {
  it('usage, input and operation errors of every command', () => {
    expectErrorForm(kit(['nope']).stderr, 'kit')
    expectErrorForm(kit(['render', 'missing-folder']).stderr, 'kit render')
    const failed = kit(['render', 'manifests', '--dry-run']) // DB_PASSWORD is not set
    expect(failed.code).toBe(1)
    expectErrorForm(failed.stderr, 'kit render')
    expectErrorForm(kit(['diff', 'manifests', '--kubeconfig', 'missing.yaml']).stderr, 'kit diff')
    expectErrorForm(kit(['deploy', '--timeout', 'soon']).stderr, 'kit deploy')
    expectErrorForm(kit(['bump', '--image', 'ghcr.io/acme/api:1']).stderr, 'kit bump')
  })
})

describe('--json on every command', () => {
  it('render: the deploymentizer’s outputs, as JSON types', () => {
    const r = kit(['render', 'manifests', '--dry-run', '--json'], renderEnv)
    expect(r.code).toBe(0)
    const json = JSON.parse(r.stdout) as Record<string, unknown>
    expect(Object.keys(json)).toEqual([
      ...outputNames('deploymentizer').filter((n) => n !== 'up-to-date'),
      'disabled',
      'differences'
    ])
    expect(json.result).toBe('success')
    const check = JSON.parse(
      kit(['render', 'manifests', '--output', 'out', '--json'], renderEnv).stdout
    ) as Record<string, unknown>
    expect(check.result).toBe('success')
    const upToDate = JSON.parse(
      kit(['render', 'manifests', '--output', 'out', '--check', '--json'], renderEnv).stdout
    ) as Record<string, unknown>
    expect(upToDate['up-to-date']).toBe(true)
  })

  it('bump: the image-deployer’s outputs, with the diff', () => {
    const repo = join(work, 'working-copy')
    cpSync(fixtures, repo, { recursive: true })
    const r = kit(
      [
        'bump',
        '--repository',
        repo,
        '--image',
        'ghcr.io/acme/api:9.9.9',
        '--branch',
        'main',
        '--json',
        '--dry-run'
      ],
      { GITHUB_TOKEN: '' }
    )
    expect(r.code).toBe(0)
    const json = JSON.parse(r.stdout) as Record<string, unknown>
    expect(Object.keys(json)).toEqual([...outputNames('image-deployer'), 'diff'])
    expect(json).toMatchObject({ result: 'dry-run', changed: true, 'commit-sha': '' })
  })

  it('a command that fails still prints its result as JSON', () => {
    const refused = kit(['bump', '--repository', work, '--image', 'ghcr.io/Acme/api:1', '--json'])
    expect(refused.code).toBe(2)
    expect(JSON.parse(refused.stdout)).toEqual({
      result: 'failure',
      error: expect.stringContaining('is not a valid image reference')
    })
    const failed = kit(['render', 'manifests', '--dry-run', '--json'])
    expect(failed.code).toBe(1)
    expect(JSON.parse(failed.stdout)).toMatchObject({
      result: 'failure',
      problems: expect.arrayContaining([expect.stringContaining('DB_PASSWORD')])
    })
    const deploy = kit(['deploy', 'nowhere', '--kubeconfig', 'missing.yaml', '--json'])
    expect(JSON.parse(deploy.stdout)).toMatchObject({ result: 'failure' })
  })
})
