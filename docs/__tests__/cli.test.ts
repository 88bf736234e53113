/**
 * docs/cli.md documents every `kit` command with its real `--help` (from the bundled CLI) and
 * the exit codes the CLI uses.
 */
import { describe, expect, it } from '@jest/globals'
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'

const root = process.cwd()
const page = readFileSync(join(root, 'docs', 'cli.md'), 'utf8')

describe('docs/cli.md', () => {
  it("holds every command's --help exactly as the CLI prints it", () => {
    const res = spawnSync(process.execPath, ['scripts/cli-docs.mjs', '--check'], {
      encoding: 'utf8'
    })
    expect(res.stderr).toBe('')
    expect(res.status).toBe(0)
  })

  it('lists every command in its table and gives the exit codes the CLI defines', () => {
    const top = spawnSync(process.execPath, ['cli/dist/kit.js', '--help'], {
      encoding: 'utf8'
    }).stdout
    const names = [...top.slice(top.indexOf('Commands:')).matchAll(/^ {2}([a-z][a-z-]*) /gm)].map(
      (m) => m[1]
    )
    expect(names).toEqual(expect.arrayContaining(['render', 'diff', 'deploy', 'bump']))
    // Local clusters are test infrastructure (npm run clusters), not a command of the user CLI.
    expect(names).not.toContain('clusters')
    expect(page).not.toContain('kit clusters')
    for (const n of names) expect(page).toContain(`| [\`kit ${n}\`](#kit-${n}) |`)
    const command = readFileSync(join(root, 'cli', 'src', 'command.ts'), 'utf8')
    const codes = /ExitCode = \{ ok: (\d), failed: (\d), usage: (\d) \}/.exec(command)
    expect(codes?.slice(1)).toEqual(['0', '1', '2'])
    expect(page).toMatch(/\| `0` \| success \|/)
    expect(page).toMatch(/\| `1` \| the operation failed \|/)
    expect(page).toMatch(/\| `2` \| bad usage or bad input \|/)
  })
})
