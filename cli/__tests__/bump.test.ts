import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { spawn } from 'node:child_process'
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { startGitServer, type GitServer } from '../../testinfra/git-server/server.js'

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const token = 'cli-token-0123456789'
let server: GitServer
let work: string

beforeAll(async () => {
  server = await startGitServer({ token })
  work = await mkdtemp(join(tmpdir(), 'kit-cli-bump-'))
})
afterAll(async () => {
  await Promise.all([server.close(), rm(work, { recursive: true, force: true })])
})

/** Runs the bundled CLI as a user would. */
async function kit(
  args: string[],
  env: Record<string, string> = {}
): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [join(root, 'cli', 'dist', 'kit.js'), ...args], {
    env: { PATH: process.env.PATH, HOME: work, NO_COLOR: '1', ...env }
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
  const code = await new Promise<number>((resolve) => child.on('close', (c) => resolve(c ?? 1)))
  return { code, stdout, stderr }
}

describe('kit bump', () => {
  it('prints its help', async () => {
    const r = await kit(['bump', '--help'])
    expect(r.code).toBe(0)
    expect(r.stdout).toContain('kit bump --repository <owner/name|git URL|dir> --image <ref>')
  })

  it('commits to a remote over git with the token from the environment', async () => {
    const url = await server.createRepo('cli', [{ files: { 'README.md': 'x\n' } }])
    const r = await kit(
      [
        'bump',
        '--repository',
        url,
        '--image',
        'ghcr.io/acme/api:7',
        '--branch',
        'release/1.x',
        '--built-at',
        '2026-11-26T07:00:00Z'
      ],
      {
        KIT_TOKEN: token
      }
    )
    expect(r.stderr).not.toContain(token)
    expect(r.code).toBe(0)
    const head = (await server.git('cli', ['rev-parse', 'main'])).trim()
    expect(r.stdout).toContain(`ghcr.io/acme/api:7 committed to main as ${head}`)
    expect(await server.git('cli', ['show', 'main:images/api/release%2F1.x.yaml'])).toContain(
      'image: ghcr.io/acme/api:7'
    )
  })

  it('edits a local working copy in place', async () => {
    const dir = join(work, 'copy')
    await mkdir(join(dir, 'k8s'), { recursive: true })
    const manifest =
      '# keep me\nspec:\n  containers:\n    - name: api\n      image: "ghcr.io/acme/api:1"\n'
    await writeFile(join(dir, 'k8s', 'api.yaml'), manifest)
    const r = await kit([
      'bump',
      '--repository',
      dir,
      '--image',
      'ghcr.io/acme/api:2',
      '--branch',
      'main',
      '--manifests',
      'k8s/*.yaml'
    ])
    expect(r.code).toBe(0)
    expect(await readFile(join(dir, 'k8s', 'api.yaml'), 'utf8')).toBe(
      manifest.replace('api:1', 'api:2')
    )
    expect(await readFile(join(dir, 'images', 'api', 'main.yaml'), 'utf8')).toContain(
      'image: ghcr.io/acme/api:2'
    )
  })

  it('exits 2 with a clear message on bad input', async () => {
    const r = await kit([
      'bump',
      '--repository',
      'acme/m',
      '--image',
      'ghcr.io/acme/API:1',
      '--branch',
      'main'
    ])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain("--image 'ghcr.io/acme/API:1' is not a valid image reference")
    const usage = await kit(['bump', '--image', 'x:1'])
    expect(usage.code).toBe(2)
    expect(usage.stderr).toContain('--repository is required')
    for (const [old, now] of [
      ['--repo', '--repository'],
      ['--message', '--commit-message']
    ]) {
      const renamed = await kit(['bump', old, 'x', '--image', 'x:1'])
      expect(renamed.code).toBe(2)
      expect(renamed.stderr).toContain(`${old} is now ${now}`)
    }
  })
})
