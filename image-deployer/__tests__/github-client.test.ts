/**
 * kit's one GitHub client (Octokit from @actions/github with kit's retry plugin) against the
 * stand-in, with faults injected between the two: what is replayed after a 5xx or a lost
 * reply, and what is checked instead.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { startGitHubStandIn, type GitHubStandIn } from '../../testinfra/github-api/server.js'
import {
  ensurePullRequest,
  GitHubBranchTarget,
  GitHubClient
} from '../../shared/src/github/index.js'
import { runBump } from '../../shared/src/index.js'
import { bumpRequest } from './helpers.js'

const token = 'client-token-0123456789'
let api: GitHubStandIn

beforeAll(async () => {
  api = await startGitHubStandIn({ token })
})
afterAll(async () => {
  await api.close()
})

type Fault = 'lose-reply' | 'http-502' | 'refuse-connection'

/** A fetch that injects `fault` into the first `count` requests matching `method` and `route`. */
function faultyFetch(method: string, route: RegExp, fault: Fault, count = 1) {
  let left = count
  const seen: string[] = []
  const fetchFn = (async (input: string | URL | Request, init?: RequestInit) => {
    const url = String(input)
    const m = init?.method ?? 'GET'
    seen.push(`${m} ${new URL(url).pathname}`)
    if (m !== method || !route.test(url) || left === 0) return fetch(input, init)
    left--
    if (fault === 'refuse-connection')
      throw Object.assign(new TypeError('fetch failed'), {
        cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })
      })
    if (fault === 'http-502')
      return new Response(JSON.stringify({ message: 'Bad Gateway' }), {
        status: 502,
        headers: { 'content-type': 'application/json' }
      })
    // The server applies the request; its answer never arrives.
    await fetch(input, init)
    throw Object.assign(new TypeError('fetch failed'), {
      cause: Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })
    })
  }) as typeof fetch
  return { fetch: fetchFn, seen }
}

const client = (f?: typeof fetch, log?: (l: string) => void) =>
  new GitHubClient({ apiUrl: api.url, token, fetch: f, sleep: async () => undefined, log })

describe('GitHub client: replays only what cannot happen twice', () => {
  it('replays a GET after a 502', async () => {
    await api.createRepo('acme', 'get', [{ files: { 'a.yaml': 'a: 1\n' } }])
    const faults = faultyFetch('GET', /\/git\/ref\/heads\/main$/, 'http-502')
    const c = client(faults.fetch)
    const snapshot = await new GitHubBranchTarget({
      client: c,
      owner: 'acme',
      repo: 'get',
      branch: 'main'
    }).open()
    expect(snapshot.head).toMatch(/^[0-9a-f]{40}$/)
    expect(faults.seen.filter((s) => s.endsWith('/git/ref/heads/main'))).toHaveLength(2)
  })

  it('never replays a ref move whose reply was lost: the bump loop finds it landed', async () => {
    await api.createRepo('acme', 'lost', [{ files: { 'a.yaml': 'a: 1\n' } }])
    const faults = faultyFetch('PATCH', /\/git\/refs\/heads\/main$/, 'lose-reply')
    const lines: string[] = []
    const before = api.calls.get('PATCH /git/refs') ?? 0
    const result = await runBump(
      new GitHubBranchTarget({
        client: client(faults.fetch),
        owner: 'acme',
        repo: 'lost',
        branch: 'main'
      }),
      bumpRequest('ghcr.io/acme/api:2'),
      { maxAttempts: 3, dryRun: false, sleep: async () => undefined, log: (l) => lines.push(l) }
    )
    expect(result.outcome).toBe('committed')
    // Sent once, applied once; the loop's next read saw the branch at the sent commit.
    expect((api.calls.get('PATCH /git/refs') ?? 0) - before).toBe(1)
    expect((await api.git('acme', 'lost', ['rev-parse', 'main'])).trim()).toBe(result.commit)
    expect(lines.join('\n')).toMatch(/landed although its reply was lost/)
    expect((await api.git('acme', 'lost', ['rev-list', '--count', 'main'])).trim()).toBe('2')
  })

  it('never replays a ref create after a 502; the next attempt writes it once', async () => {
    await api.createRepo('acme', 'create', [{ files: { 'a.yaml': 'a: 1\n' } }])
    const faults = faultyFetch('POST', /\/git\/refs$/, 'http-502')
    const before = api.calls.get('POST /git/refs') ?? 0
    const result = await runBump(
      new GitHubBranchTarget({
        client: client(faults.fetch),
        owner: 'acme',
        repo: 'create',
        branch: 'kit/bump/api/main',
        startFrom: 'main'
      }),
      bumpRequest('ghcr.io/acme/api:3'),
      { maxAttempts: 3, dryRun: false, sleep: async () => undefined }
    )
    expect(result.outcome).toBe('committed')
    expect(result.attempts).toBe(2)
    // The 502 came from the fault, not the stand-in: one create reached it, on attempt 2.
    expect((api.calls.get('POST /git/refs') ?? 0) - before).toBe(1)
    expect(faults.seen.filter((s) => s.endsWith('/git/refs'))).toHaveLength(2)
  })

  it('replays a tree or commit create (content-addressed) after a refused connection', async () => {
    await api.createRepo('acme', 'tree', [{ files: { 'a.yaml': 'a: 1\n' } }])
    const faults = faultyFetch('POST', /\/git\/trees$/, 'refuse-connection')
    const result = await runBump(
      new GitHubBranchTarget({
        client: client(faults.fetch),
        owner: 'acme',
        repo: 'tree',
        branch: 'main'
      }),
      bumpRequest('ghcr.io/acme/api:4'),
      { maxAttempts: 1, dryRun: false }
    )
    expect(result.outcome).toBe('committed')
    expect(faults.seen.filter((s) => s.endsWith('/git/trees'))).toHaveLength(2)
  })

  it('looks a pull request up instead of opening it twice when the reply was lost', async () => {
    await api.createRepo('acme', 'pr', [{ files: { 'a.yaml': 'a: 1\n' } }])
    await api.git('acme', 'pr', ['branch', 'kit/bump/api/main', 'main'])
    const faults = faultyFetch('POST', /\/pulls$/, 'lose-reply')
    const pr = await ensurePullRequest(client(faults.fetch), {
      owner: 'acme',
      repo: 'pr',
      head: 'kit/bump/api/main',
      base: 'main',
      title: 'Bump api (main) to 5',
      body: ''
    })
    expect(pr.created).toBe(true)
    expect(api.pulls('acme', 'pr')).toHaveLength(1)
    expect(pr.url).toMatch(/\/acme\/pr\/pull\/1$/)
    expect(faults.seen.filter((s) => s.startsWith('POST'))).toHaveLength(1)
  })

  it('fails clearly, without a replay, when a ref move keeps failing on the server', async () => {
    await api.createRepo('acme', 'down', [{ files: { 'a.yaml': 'a: 1\n' } }])
    const faults = faultyFetch('PATCH', /\/git\/refs\/heads\/main$/, 'http-502', 10)
    const before = api.calls.get('PATCH /git/refs') ?? 0
    await expect(
      runBump(
        new GitHubBranchTarget({
          client: client(faults.fetch),
          owner: 'acme',
          repo: 'down',
          branch: 'main'
        }),
        bumpRequest('ghcr.io/acme/api:6'),
        { maxAttempts: 2, dryRun: false, sleep: async () => undefined }
      )
    ).rejects.toThrow(/gave up after 2 attempts; 0 lost a race and 2 failed on the server/)
    expect(faults.seen.filter((s) => s.startsWith('PATCH'))).toHaveLength(2)
    expect((api.calls.get('PATCH /git/refs') ?? 0) - before).toBe(0)
  })
})
