import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { readdir, readFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startGitServer, type GitServer } from '../../testinfra/git-server/server.js'
import { GitBranchTarget } from '../../shared/src/git/index.js'
import { runBump, readImageFile, InputError } from '../../shared/src/index.js'
import { author, bumpRequest, provenance } from './helpers.js'

const token = 'test-token-git-0123456789'
let server: GitServer

beforeAll(async () => {
  server = await startGitServer({ token })
})
afterAll(async () => {
  await server.close()
})

function target(
  url: string,
  branch = 'main',
  extra: Partial<ConstructorParameters<typeof GitBranchTarget>[0]> = {}
) {
  return new GitBranchTarget({ url, token, branch, author, ...extra })
}

const seed = [
  {
    files: {
      'README.md': '# manifests\n',
      'services/api/deployment.yaml':
        'kind: Deployment\nspec:\n  template:\n    spec:\n      containers:\n        - name: api\n          image: ghcr.io/acme/api:1.0.0 # pinned by kit\n'
    }
  }
]

async function remoteFile(repo: string, path: string, ref = 'main'): Promise<string> {
  return server.git(repo, ['show', `${ref}:${path}`])
}

describe('git transport over smart HTTP', () => {
  it('creates the image file in one commit and leaves the token out of every kept file', async () => {
    const url = await server.createRepo('create', seed)
    const t = target(url)
    const result = await runBump(t, bumpRequest('ghcr.io/acme/api:1.1.0'), {
      maxAttempts: 3,
      dryRun: false
    })
    expect(result.outcome).toBe('committed')
    expect(result.files).toEqual(['images/api/main.yaml'])
    const head = (await server.git('create', ['rev-parse', 'main'])).trim()
    expect(head).toBe(result.commit)
    const file = readImageFile(await remoteFile('create', 'images/api/main.yaml'), 'f')
    expect(file.image).toBe('ghcr.io/acme/api:1.1.0')
    expect(file.source.commit).toBe(provenance().commit)
    // The temp repository's config and every other file hold neither the token nor its header.
    const dir = (t as unknown as { git: { dir: string } }).git.dir
    const config = await readFile(join(dir, 'config'), 'utf8')
    expect(config).not.toContain(token)
    expect(config).not.toContain(Buffer.from(`x-access-token:${token}`).toString('base64'))
    expect(config).toContain(url)
    await t.close()
    expect((await readdir(tmpdir())).some((d) => d === dir.split('/').pop())).toBe(false)
  })

  it('makes no commit when the image is already recorded', async () => {
    const url = await server.createRepo('noop', seed)
    await runBump(target(url), bumpRequest('ghcr.io/acme/api:2.0.0'), {
      maxAttempts: 3,
      dryRun: false
    })
    const before = (await server.git('noop', ['rev-parse', 'main'])).trim()
    const again = await runBump(
      target(url),
      bumpRequest('ghcr.io/acme/api:2.0.0', {
        provenance: provenance({ builtAt: '2026-11-26T08:00:00Z' })
      }),
      {
        maxAttempts: 3,
        dryRun: false
      }
    )
    expect(again.outcome).toBe('unchanged')
    expect((await server.git('noop', ['rev-parse', 'main'])).trim()).toBe(before)
  })

  it('retags matching containers in a manifest, changing only the tag', async () => {
    const url = await server.createRepo('manifests', seed)
    const result = await runBump(
      target(url),
      bumpRequest('ghcr.io/acme/api:1.2.3', {
        writeImageFile: false,
        manifests: ['services/**/*.yaml']
      }),
      { maxAttempts: 3, dryRun: false }
    )
    expect(result.outcome).toBe('committed')
    const diff = await server.git('manifests', ['diff', '-U0', 'main~1', 'main'])
    const changed = diff.split('\n').filter((l) => /^[-+][^-+]/.test(l))
    expect(changed).toEqual([
      '-          image: ghcr.io/acme/api:1.0.0 # pinned by kit',
      '+          image: ghcr.io/acme/api:1.2.3 # pinned by kit'
    ])
  })

  it('reports a missing repository, a wrong token and a missing branch clearly', async () => {
    await server.createRepo('errors', seed)
    const run = (t: GitBranchTarget) =>
      runBump(t, bumpRequest('ghcr.io/acme/api:1.0.1'), { maxAttempts: 2, dryRun: false })
    await expect(run(target(`${server.url}/nope.git`))).rejects.toThrow(/repository not found/)
    const wrong = new GitBranchTarget({
      url: `${server.url}/errors.git`,
      token: 'wrong-token-xyz',
      branch: 'main',
      author
    })
    const err = await run(wrong).catch((e: unknown) => e as Error)
    expect(err).toBeInstanceOf(InputError)
    expect(err.message).toMatch(/authentication failed/)
    expect(err.message).not.toContain('wrong-token-xyz')
    await expect(run(target(`${server.url}/errors.git`, 'nope'))).rejects.toThrow(
      /target-branch 'nope' does not exist there/
    )
  })

  it('refuses a protected branch with a clear error and leaves the remote unchanged', async () => {
    const url = await server.createRepo('protected', seed)
    await server.protectBranch('protected', 'main')
    const before = await server.git('protected', ['for-each-ref'])
    const err = await runBump(target(url), bumpRequest('ghcr.io/acme/api:9.9.9'), {
      maxAttempts: 5,
      dryRun: false
    }).catch((e: unknown) => e as Error)
    expect(err.message).toMatch(/refused the push to 'main' \(a protected branch/)
    expect(await server.git('protected', ['for-each-ref'])).toBe(before)
  })

  it('resolves the default branch when none is given', async () => {
    const url = await server.createRepo('default', seed, 'trunk')
    const t = target(url, '')
    const result = await runBump(t, bumpRequest('ghcr.io/acme/api:3.0.0'), {
      maxAttempts: 2,
      dryRun: false
    })
    expect(result.outcome).toBe('committed')
    expect(t.branchName).toBe('trunk')
    expect(await remoteFile('default', 'images/api/main.yaml', 'trunk')).toContain(
      'ghcr.io/acme/api:3.0.0'
    )
  })

  it('creates a bump branch from the base, then extends it (pull-request mode)', async () => {
    const url = await server.createRepo('bump-branch', seed)
    const base = (await server.git('bump-branch', ['rev-parse', 'main'])).trim()
    const bumpBranch = 'kit/bump/api/main'
    const first = await runBump(
      target(url, bumpBranch, { startFrom: 'main' }),
      bumpRequest('ghcr.io/acme/api:5.0.0'),
      { maxAttempts: 2, dryRun: false }
    )
    expect(first.outcome).toBe('committed')
    expect((await server.git('bump-branch', ['rev-parse', `${bumpBranch}~1`])).trim()).toBe(base)
    const second = await runBump(
      target(url, bumpBranch, { startFrom: 'main' }),
      bumpRequest('ghcr.io/acme/api:5.0.1', {
        provenance: provenance({ builtAt: '2026-11-26T09:00:00Z' })
      }),
      { maxAttempts: 2, dryRun: false }
    )
    expect((await server.git('bump-branch', ['rev-parse', `${bumpBranch}~1`])).trim()).toBe(
      first.commit
    )
    expect(second.outcome).toBe('committed')
    expect((await server.git('bump-branch', ['rev-parse', 'main'])).trim()).toBe(base)
  })
})
