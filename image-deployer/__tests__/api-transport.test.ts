import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { startGitHubStandIn, type GitHubStandIn } from '../../testinfra/github-api/server.js'
import { GitHubBranchTarget, GitHubClient } from '../../shared/src/github/index.js'
import { InputError, readImageFile, runBump } from '../../shared/src/index.js'
import { bumpRequest } from './helpers.js'

const token = 'api-token-0123456789'
let api: GitHubStandIn

beforeAll(async () => {
  api = await startGitHubStandIn({ token })
  await api.createRepo('acme', 'm', [
    {
      files: {
        'images/api/main.yaml': '# api\nimage: ghcr.io/acme/api:1.0.0 # current\n',
        'k8s/api.yaml':
          'spec:\n  template:\n    spec:\n      containers:\n        - image: ghcr.io/acme/api:1.0.0\n'
      }
    }
  ])
})
afterAll(async () => {
  await api.close()
})

const client = (overrides: Partial<ConstructorParameters<typeof GitHubClient>[0]> = {}) =>
  new GitHubClient({ apiUrl: api.url, token, ...overrides })
const target = (c = client(), branch = 'main', repo = 'm') =>
  new GitHubBranchTarget({ client: c, owner: 'acme', repo, branch })

describe('GitHub API transport against the stand-in', () => {
  it('edits existing files in one commit with a compare-and-swap ref update, in few calls', async () => {
    const c = client()
    const result = await runBump(
      target(c),
      bumpRequest('ghcr.io/acme/api:1.1.0', { manifests: ['k8s/*.yaml'] }),
      { maxAttempts: 3, dryRun: false }
    )
    expect(result.outcome).toBe('committed')
    expect(result.files).toEqual(['images/api/main.yaml', 'k8s/api.yaml'])
    expect((await api.git('acme', 'm', ['rev-parse', 'main'])).trim()).toBe(result.commit)
    const file = await api.git('acme', 'm', ['show', 'main:images/api/main.yaml'])
    expect(file.startsWith('# api\nimage: ghcr.io/acme/api:1.1.0 # current\n')).toBe(true)
    expect(readImageFile(file, 'f').source.repository).toBe('acme/api')
    // ref, tree listing (glob), both files and the head's tree in one GraphQL query, tree,
    // commit, ref update.
    expect(c.calls).toBe(6)
    expect(api.calls.get('GET /git/commits')).toBeUndefined()
    expect(api.calls.get('PATCH /git/refs')).toBeGreaterThanOrEqual(1)
  })

  it('reads several files in one GraphQL query, and through the contents endpoint what the query cannot give exactly', async () => {
    const big = `x: "${'y'.repeat(600 * 1024)}"\n`
    await api.createRepo('acme', 'g', [
      {
        files: {
          'a.yaml': 'a: 1\n',
          'b/c.yaml': 'c: ü\n',
          'big.yaml': big,
          'nul.yaml': 'a: "\u0000"\n',
          'fffd.yaml': 'r: \uFFFD\n'
        }
      }
    ])
    const snapshot = await target(client(), 'main', 'g').open()
    const count = (route: string) => api.calls.get(route) ?? 0
    const before = { query: count('POST /graphql'), contents: count('GET /contents') }
    const paths = ['a.yaml', 'b/c.yaml', 'missing.yaml', 'big.yaml', 'nul.yaml', 'fffd.yaml']
    const read = await snapshot.read(paths)
    expect([...read]).toEqual([
      ['a.yaml', 'a: 1\n'],
      ['b/c.yaml', 'c: ü\n'],
      ['missing.yaml', undefined],
      ['big.yaml', big],
      ['nul.yaml', 'a: "\u0000"\n'],
      ['fffd.yaml', 'r: \uFFFD\n']
    ])
    // One query; the truncated, the binary and the replacement-character file came again whole.
    expect(count('POST /graphql') - before.query).toBe(1)
    expect(count('GET /contents') - before.contents).toBe(3)
    // A folder is not a file, whichever way it is asked for.
    await expect(snapshot.read(['a.yaml', 'b'])).rejects.toThrow('b is not a file in acme/g')
  })

  it('reads every file through the contents endpoint when GitHub does not answer GraphQL', async () => {
    const noGraphql: typeof fetch = (input, init) =>
      String(input instanceof Request ? input.url : input).endsWith('/graphql')
        ? Promise.resolve(new Response('{"message":"Not Found"}', { status: 404 }))
        : fetch(input, init)
    const c = client({ fetch: noGraphql })
    const snapshot = await target(c, 'main', 'g').open()
    const read = await snapshot.read(['a.yaml', 'b/c.yaml'])
    expect(read.get('b/c.yaml')).toBe('c: ü\n')
    expect(read.get('a.yaml')).toBe('a: 1\n')
    // ref, the refused query, two files; the head's tree is asked for when a write needs it.
    expect(c.calls).toBe(4)
    const commits = api.calls.get('GET /git/commits') ?? 0
    const written = await snapshot.write([{ path: 'z.yaml', after: 'z: 1\n' }], 'z')
    expect(written.kind).toBe('written')
    expect(api.calls.get('GET /git/commits')).toBe(commits + 1)
    expect(await api.git('acme', 'g', ['show', 'main:a.yaml'])).toBe('a: 1\n')
  })

  it('turns a ref that moved into a conflict, never an overwrite', async () => {
    const first = await target().open()
    await runBump(target(), bumpRequest('ghcr.io/acme/other:1'), { maxAttempts: 1, dryRun: false })
    const moved = (await api.git('acme', 'm', ['rev-parse', 'main'])).trim()
    const outcome = await first.write([{ path: 'x.yaml', after: 'a: 1\n' }], 'stale')
    expect(outcome).toEqual({ kind: 'conflict', reason: '422 Update is not a fast forward' })
    expect((await api.git('acme', 'm', ['rev-parse', 'main'])).trim()).toBe(moved)
  })

  it('reports a wrong token, a missing repository and a missing branch clearly', async () => {
    const bad = new GitHubClient({ apiUrl: api.url, token: 'wrong-token-abc' })
    const err = await runBump(target(bad), bumpRequest('ghcr.io/acme/api:2'), {
      maxAttempts: 3,
      dryRun: false
    }).catch((e: unknown) => e as Error)
    expect(err).toBeInstanceOf(InputError)
    expect(err.message).toBe(
      'GitHub refused the token (401 Bad credentials); check the token input'
    )
    await expect(
      runBump(target(client(), 'main', 'nope'), bumpRequest('ghcr.io/acme/api:2'), {
        maxAttempts: 1,
        dryRun: false
      })
    ).rejects.toThrow('acme/nope: repository not found (or the token cannot see it)')
    await expect(
      runBump(target(client(), 'gone'), bumpRequest('ghcr.io/acme/api:2'), {
        maxAttempts: 1,
        dryRun: false
      })
    ).rejects.toThrow("acme/m: target-branch 'gone' does not exist there")
  })

  it('waits for the rate-limit reset, and refuses to wait too long', async () => {
    const waits: number[] = []
    const c = client({ sleep: async (ms) => void waits.push(ms) })
    api.exhaustRateLimit(2, 3)
    const snapshot = await target(c).open()
    expect(snapshot.head).toMatch(/^[0-9a-f]{40}$/)
    expect(waits).toHaveLength(2)
    for (const w of waits) expect(w).toBeGreaterThan(1000)
    api.exhaustRateLimit(1, 3600)
    await expect(target(client({ sleep: async () => undefined })).open()).rejects.toThrow(
      /GitHub rate limit exhausted until .*; retry later/
    )
    api.exhaustRateLimit(0, 0)
  })
})
