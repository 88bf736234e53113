/**
 * A local stand-in for the GitHub REST endpoints the image-deployer uses (and the one GraphQL
 * query it sends, for several files at once), over real bare
 * repositories: blobs, trees and commits are made with git plumbing, ref updates are git's own
 * compare-and-swap (`update-ref <new> <old>`), and compare answers from git's ancestry. Status
 * codes and the response fields kit reads follow GitHub's documentation: 404 Not Found, 401 Bad
 * credentials, 409 for a ref that moved during the update, 422 "Update is not a fast forward" /
 * "Reference already exists" / validation failures (a tree entry with `sha: null` deletes its
 * file, and is refused for a path the base tree lacks), and x-ratelimit-* headers on every
 * response (with a switch to exhaust the limit). Pull requests are kept in memory. Ref updates
 * (the API's pushes) can be failed on purpose, like the git server's pushes: see setRefFaults.
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process'
import type { Readable, Writable } from 'node:stream'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  fastImport,
  PushFaultInjector,
  type PushFaultOptions,
  type PushStats,
  type SeedCommit
} from '../git-server/server.js'
import { DeploymentsStore } from './deployments.js'

interface PullRequest {
  number: number
  title: string
  body: string
  head: string
  base: string
  state: 'open' | 'closed'
}

export interface GitHubStandIn {
  /** Base URL to use as api-url. */
  readonly url: string
  /** The folder of the bare repositories, `<owner>/<repo>.git` (a git server can serve it). */
  readonly root: string
  readonly token: string
  /** Requests per "METHOD route" (e.g. "PATCH /git/refs"). */
  readonly calls: Map<string, number>
  totalCalls(): number
  createRepo(
    owner: string,
    repo: string,
    commits: readonly SeedCommit[],
    branch?: string
  ): Promise<void>
  /** git in a repository's bare folder, for assertions. */
  git(owner: string, repo: string, args: readonly string[]): Promise<string>
  pulls(owner: string, repo: string): readonly PullRequest[]
  /**
   * A repository's GitHub Deployments and environments (./deployments.ts): what the API created,
   * and what an admin (putEnvironment) or the runner (startJob) does outside the API.
   */
  deployments(owner: string, repo: string): DeploymentsStore
  /** The next `count` requests get 403 with x-ratelimit-remaining: 0 and a reset `resetSeconds` ahead. */
  exhaustRateLimit(count: number, resetSeconds: number): void
  /**
   * Starts (or, with undefined, stops) failing ref updates (PATCH /git/refs/heads/…, POST
   * /git/refs), as the git server fails pushes: `http-500`/`http-503` and `reset` apply nothing,
   * `reset-after-apply` moves the ref and then resets the connection (the reply is lost),
   * `reject` answers 422 "Protected branch update failed". Resets the counters.
   */
  setRefFaults(faults: PushFaultOptions | undefined): void
  /** Ref updates seen since the last setRefFaults, and how many were failed. */
  readonly refUpdates: PushStats
  close(): Promise<void>
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly extra: Record<string, unknown> = {}
  ) {
    super(message)
  }
}

export async function startGitHubStandIn(options: { token: string }): Promise<GitHubStandIn> {
  const root = await mkdtemp(join(tmpdir(), 'kit-github-standin-'))
  const calls = new Map<string, number>()
  const pulls = new Map<string, PullRequest[]>()
  const defaults = new Map<string, string>()
  const rate = { limit: 5000, used: 0, exhausted: 0, resetAt: 0 }
  const deploymentStores = new Map<string, DeploymentsStore>()
  const refFaults = new PushFaultInjector(undefined)
  let tempCounter = 0

  const repoDir = (owner: string, repo: string): string => join(root, owner, `${repo}.git`)
  const git = (dir: string, args: readonly string[], input?: string, env?: NodeJS.ProcessEnv) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      const child = spawn('git', ['-C', dir, ...args], {
        env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1', ...env },
        stdio: ['pipe', 'pipe', 'pipe']
      })
      let stdout = ''
      let stderr = ''
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')))
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')))
      child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }))
      // git may exit before reading stdin (a failed lookup); that is not an error here.
      child.stdin.on('error', () => undefined)
      child.stdin.end(input ?? '')
    })
  const must = async (
    dir: string,
    args: readonly string[],
    input?: string,
    env?: NodeJS.ProcessEnv
  ) => {
    const r = await git(dir, args, input, env)
    if (r.code !== 0) throw new HttpError(422, `git ${args[0]} failed: ${r.stderr.trim()}`)
    return r.stdout
  }
  const readers = new Map<string, BatchReader>()
  const reader = (dir: string): BatchReader => {
    let r = readers.get(dir)
    if (!r) readers.set(dir, (r = new BatchReader(dir)))
    return r
  }
  const exists = async (dir: string, object: string, type: string) =>
    /^[0-9a-f]{40}$/.test(object) && (await reader(dir).read(object))?.type === type

  async function handle(req: IncomingMessage, res: ServerResponse, body: unknown): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost')
    const method = req.method ?? 'GET'
    if (url.pathname === '/graphql' && method === 'POST') {
      calls.set('POST /graphql', (calls.get('POST /graphql') ?? 0) + 1)
      return reply(res, 200, await graphql(body))
    }
    const m = /^\/repos\/([^/]+)\/([^/]+)(\/.*)?$/.exec(url.pathname)
    if (!m) throw new HttpError(404, 'Not Found')
    const owner = decodeURIComponent(m[1])
    const repo = decodeURIComponent(m[2])
    const rest = m[3] ?? ''
    const dir = repoDir(owner, repo)
    const key = `${owner}/${repo}`
    if (!defaults.has(key)) throw new HttpError(404, 'Not Found')
    const count = (route: string) =>
      calls.set(`${method} ${route}`, (calls.get(`${method} ${route}`) ?? 0) + 1)
    const send = (status: number, data: unknown) => reply(res, status, data)
    const input = (body ?? {}) as Record<string, unknown>

    if (rest === '' && method === 'GET') {
      count('/repos')
      return send(200, {
        name: repo,
        full_name: key,
        owner: { login: owner },
        default_branch: defaults.get(key),
        private: true
      })
    }
    let r: RegExpExecArray | null
    if ((r = /^\/git\/ref\/(heads\/.+)$/.exec(rest)) && method === 'GET') {
      count('/git/ref')
      const ref = `refs/${decodeURIComponent(r[1])}`
      const sha = await git(dir, ['rev-parse', '--verify', '--quiet', ref])
      if (sha.code !== 0) throw new HttpError(404, 'Not Found')
      return send(200, refData(ref, sha.stdout.trim()))
    }
    if ((r = /^\/git\/commits\/([0-9a-f]{40})$/.exec(rest)) && method === 'GET') {
      count('/git/commits')
      const object = await reader(dir).read(r[1])
      if (object?.type !== 'commit') throw new HttpError(404, 'Not Found')
      const raw = object.content.toString('utf8')
      const tree = /^tree ([0-9a-f]{40})$/m.exec(raw)?.[1]
      const parents = [...raw.matchAll(/^parent ([0-9a-f]{40})$/gm)].map((p) => ({ sha: p[1] }))
      return send(200, {
        sha: r[1],
        tree: { sha: tree },
        parents,
        message: raw.split('\n\n').slice(1).join('\n\n')
      })
    }
    if ((r = /^\/compare\/([0-9a-f]{40})\.\.\.([0-9a-f]{40})$/.exec(rest)) && method === 'GET') {
      count('/compare')
      const [base, head] = [r[1], r[2]]
      if (!(await exists(dir, base, 'commit')) || !(await exists(dir, head, 'commit')))
        throw new HttpError(404, 'Not Found')
      const ancestor = async (a: string, b: string) =>
        (await git(dir, ['merge-base', '--is-ancestor', a, b])).code === 0
      const status =
        base === head
          ? 'identical'
          : (await ancestor(base, head))
            ? 'ahead'
            : (await ancestor(head, base))
              ? 'behind'
              : 'diverged'
      const count_ = async (range: string) =>
        Number((await must(dir, ['rev-list', '--count', range])).trim())
      const aheadBy = await count_(`${base}..${head}`)
      const perPage = Number(url.searchParams.get('per_page') ?? 250)
      const commits = (await must(dir, ['rev-list', '--reverse', `${base}..${head}`]))
        .split('\n')
        .filter(Boolean)
        .slice(0, perPage)
        .map((sha) => ({ sha }))
      const mergeBase = (await git(dir, ['merge-base', base, head])).stdout.trim()
      return send(200, {
        status,
        ahead_by: aheadBy,
        behind_by: await count_(`${head}..${base}`),
        total_commits: aheadBy,
        merge_base_commit: mergeBase ? { sha: mergeBase } : null,
        commits
      })
    }
    if ((r = /^\/contents\/(.+)$/.exec(rest)) && method === 'GET') {
      count('/contents')
      const path = decodeURIComponent(r[1])
      const ref = url.searchParams.get('ref') ?? defaults.get(key)
      const object = await reader(dir).read(`${ref}:${path}`)
      if (!object) throw new HttpError(404, 'Not Found')
      if (object.type !== 'blob') return send(200, [])
      const content = object.content
      return send(200, {
        type: 'file',
        encoding: 'base64',
        size: content.length,
        name: path.split('/').pop(),
        path,
        sha: object.sha,
        // GitHub wraps base64 content at 60 characters; clients must join the lines.
        content: (content.toString('base64').match(/.{1,60}/g) ?? []).join('\n') + '\n'
      })
    }
    if ((r = /^\/git\/blobs\/([0-9a-f]{40})$/.exec(rest)) && method === 'GET') {
      count('/git/blobs')
      const object = await reader(dir).read(r[1])
      if (object?.type !== 'blob') throw new HttpError(404, 'Not Found')
      const content = object.content
      return send(200, {
        sha: r[1],
        size: content.length,
        encoding: 'base64',
        content: content.toString('base64')
      })
    }
    if ((r = /^\/git\/trees\/([0-9a-f]{40})$/.exec(rest)) && method === 'GET') {
      count('/git/trees')
      // GitHub takes a commit's SHA for its tree.
      const object = await reader(dir).read(r[1])
      if (object?.type !== 'tree' && object?.type !== 'commit')
        throw new HttpError(404, 'Not Found')
      const treeSha = object.type === 'commit' ? treeOf(object.content) : r[1]
      const args = [
        'ls-tree',
        '-z',
        '-l',
        ...(url.searchParams.get('recursive') ? ['-r', '-t'] : []),
        treeSha
      ]
      const tree = (await must(dir, args))
        .split('\0')
        .filter(Boolean)
        .map((e) => {
          const p = /^(\d+) (\w+) ([0-9a-f]{40})\s+(\S+)\t(.*)$/s.exec(e) as RegExpExecArray
          return {
            path: p[5],
            mode: p[1],
            type: p[2],
            sha: p[3],
            ...(p[2] === 'blob' ? { size: Number(p[4]) } : {})
          }
        })
      return send(200, { sha: treeSha, tree, truncated: false })
    }
    if (rest === '/git/trees' && method === 'POST') {
      count('/git/trees')
      const entries = input.tree
      if (!Array.isArray(entries))
        throw new HttpError(422, 'Invalid request.\n\n"tree" wasn\'t supplied.')
      const index = { GIT_INDEX_FILE: join(root, `index-${++tempCounter}`) }
      if (typeof input.base_tree === 'string') {
        if (!(await exists(dir, input.base_tree, 'tree')))
          throw new HttpError(422, 'Invalid base_tree')
        await must(dir, ['read-tree', input.base_tree], undefined, index)
      } else await must(dir, ['read-tree', '--empty'], undefined, index)
      // The entries are checked, then applied with one process per step (not per file): the
      // stand-in answers races of many bumps on two cores.
      const lines: string[] = []
      const contents: { path: string; mode: string; content: string }[] = []
      const deletes: string[] = []
      for (const e of entries as Record<string, unknown>[]) {
        if (typeof e.path !== 'string' || e.path.startsWith('/') || e.path.includes('..'))
          throw new HttpError(422, 'Invalid tree info: path')
        if ('content' in e && 'sha' in e)
          throw new HttpError(
            422,
            'Must supply either tree.sha or tree.content. Request will be rejected if both are present.'
          )
        const mode = String(e.mode ?? '100644')
        if (typeof e.content === 'string') contents.push({ path: e.path, mode, content: e.content })
        else if (e.sha === null) deletes.push(e.path)
        else if (typeof e.sha === 'string' && (await exists(dir, e.sha, 'blob')))
          lines.push(`${mode} ${e.sha}\t${e.path}`)
        else throw new HttpError(422, 'Invalid tree info')
      }
      if (deletes.length > 0) {
        // GitHub deletes the file; a path the tree lacks (or a folder) is refused.
        const staged = new Set((await must(dir, ['ls-files', '-z'], undefined, index)).split('\0'))
        if (deletes.some((path) => !staged.has(path)))
          throw new HttpError(422, 'GitRPC::BadObjectState')
        // Mode 0 removes the entry (--force-remove would need a work tree).
        for (const path of deletes) lines.push(`0 ${'0'.repeat(40)}\t${path}`)
      }
      if (contents.length > 0) {
        const files = join(root, `blobs-${++tempCounter}`)
        await mkdir(files)
        try {
          const paths = await Promise.all(
            contents.map(async (c, i) => {
              const file = join(files, String(i))
              await writeFile(file, c.content)
              return file
            })
          )
          const shas = (await must(dir, ['hash-object', '-w', '--stdin-paths'], paths.join('\n')))
            .trim()
            .split('\n')
          contents.forEach((c, i) => lines.push(`${c.mode} ${shas[i]}\t${c.path}`))
        } finally {
          await rm(files, { recursive: true, force: true })
        }
      }
      if (lines.length > 0)
        await must(dir, ['update-index', '--add', '--index-info'], `${lines.join('\n')}\n`, index)
      const sha = (await must(dir, ['write-tree'], undefined, index)).trim()
      await rm(index.GIT_INDEX_FILE, { force: true })
      return send(201, { sha, tree: [], truncated: false })
    }
    if (rest === '/git/commits' && method === 'POST') {
      count('/git/commits')
      const { message, tree, parents } = input as {
        message?: unknown
        tree?: unknown
        parents?: unknown
      }
      if (typeof message !== 'string' || typeof tree !== 'string' || !Array.isArray(parents))
        throw new HttpError(422, 'Invalid request: message, tree and parents are required')
      if (!(await exists(dir, tree, 'tree'))) throw new HttpError(422, 'Tree SHA does not exist')
      for (const p of parents)
        if (typeof p !== 'string' || !(await exists(dir, p, 'commit')))
          throw new HttpError(422, 'Parent SHA does not exist or is not a commit object')
      const who = (v: unknown, fallback: { name: string; email: string }) =>
        v && typeof v === 'object' ? (v as { name: string; email: string }) : fallback
      // Without an author, GitHub uses the token's user (and signs for apps); the stand-in has a bot.
      const bot = { name: 'standin-bot[bot]', email: 'standin-bot@users.noreply.example.com' }
      const a = who(input.author, bot)
      const c = who(input.committer, a)
      const sha = (
        await must(
          dir,
          ['commit-tree', tree, ...parents.flatMap((p: string) => ['-p', p]), '-F', '-'],
          message,
          {
            GIT_AUTHOR_NAME: a.name,
            GIT_AUTHOR_EMAIL: a.email,
            GIT_COMMITTER_NAME: c.name,
            GIT_COMMITTER_EMAIL: c.email
          }
        )
      ).trim()
      return send(201, {
        sha,
        tree: { sha: tree },
        parents: parents.map((p: string) => ({ sha: p })),
        message,
        verification: { verified: !input.author }
      })
    }
    if ((r = /^\/git\/refs\/(heads\/.+)$/.exec(rest)) && method === 'PATCH') {
      count('/git/refs')
      const ref = `refs/${decodeURIComponent(r[1])}`
      const sha = input.sha
      if (typeof sha !== 'string' || !(await exists(dir, sha, 'commit')))
        throw new HttpError(422, 'Object does not exist')
      const current = await git(dir, ['rev-parse', '--verify', '--quiet', ref])
      if (current.code !== 0) throw new HttpError(422, 'Reference does not exist')
      const old = current.stdout.trim()
      if (
        input.force !== true &&
        (await git(dir, ['merge-base', '--is-ancestor', old, sha])).code !== 0
      )
        throw new HttpError(422, 'Update is not a fast forward')
      // git's own compare-and-swap: fails when the ref moved since it was read above.
      const cas = await git(dir, ['update-ref', ref, sha, old])
      if (cas.code !== 0) throw new HttpError(409, 'Reference update failed')
      return send(200, refData(ref, sha))
    }
    if (rest === '/git/refs' && method === 'POST') {
      count('/git/refs')
      const { ref, sha } = input as { ref?: unknown; sha?: unknown }
      if (typeof ref !== 'string' || !/^refs\/heads\/[\w./-]+$/.test(ref) || ref.includes('..'))
        throw new HttpError(422, 'Reference name is not valid')
      if (typeof sha !== 'string' || !(await exists(dir, sha, 'commit')))
        throw new HttpError(422, 'Object does not exist')
      const cas = await git(dir, ['update-ref', ref, sha, ''])
      if (cas.code !== 0) throw new HttpError(422, 'Reference already exists')
      return send(201, refData(ref, sha))
    }
    if (rest === '/pulls' && method === 'GET') {
      count('/pulls')
      const head = url.searchParams.get('head')
      const base = url.searchParams.get('base')
      const state = url.searchParams.get('state') ?? 'open'
      const list = (pulls.get(key) ?? []).filter(
        (p) =>
          (state === 'all' || p.state === state) &&
          (head === null || `${owner}:${p.head}` === head) &&
          (base === null || p.base === base)
      )
      return send(
        200,
        list.map((p) => pullData(key, p))
      )
    }
    if (rest === '/pulls' && method === 'POST') {
      count('/pulls')
      const { title, head, base } = input as { title?: unknown; head?: unknown; base?: unknown }
      if (typeof title !== 'string' || typeof head !== 'string' || typeof base !== 'string')
        throw new HttpError(422, 'Validation Failed', {
          errors: [{ resource: 'PullRequest', code: 'missing_field' }]
        })
      if ((await git(dir, ['rev-parse', '--verify', '--quiet', `refs/heads/${head}`])).code !== 0)
        throw new HttpError(422, 'Validation Failed', {
          errors: [{ resource: 'PullRequest', field: 'head', code: 'invalid' }]
        })
      const list = pulls.get(key) ?? []
      if (list.some((p) => p.state === 'open' && p.head === head && p.base === base))
        throw new HttpError(422, 'Validation Failed', {
          errors: [{ message: `A pull request already exists for ${owner}:${head}.` }]
        })
      const pr: PullRequest = {
        number: list.length + 1,
        title,
        body: String(input.body ?? ''),
        head,
        base,
        state: 'open'
      }
      pulls.set(key, [...list, pr])
      return send(201, pullData(key, pr))
    }
    if ((r = /^\/pulls\/(\d+)$/.exec(rest)) && method === 'PATCH') {
      count('/pulls')
      const pr = (pulls.get(key) ?? []).find((p) => p.number === Number(r?.[1]))
      if (!pr) throw new HttpError(404, 'Not Found')
      if (typeof input.title === 'string') pr.title = input.title
      if (typeof input.body === 'string') pr.body = input.body
      return send(200, pullData(key, pr))
    }
    const answer = await deploymentsOf(owner, repo).route(method, rest, input)
    if (answer) {
      count(
        rest
          .replace(/\/[^/]+\/statuses$/, '/{id}/statuses')
          .replace(/^(\/environments)\/.+/, '$1/{name}')
      )
      if ('error' in answer) throw new HttpError(answer.error, answer.message)
      return send(answer.status, answer.data)
    }
    throw new HttpError(404, 'Not Found')
  }

  /** A repository's deployments; refs resolve to commits of its bare repository. */
  function deploymentsOf(owner: string, repo: string): DeploymentsStore {
    const key = `${owner}/${repo}`
    let store = deploymentStores.get(key)
    if (!store) {
      store = new DeploymentsStore(async (ref) => {
        const r = await git(repoDir(owner, repo), [
          'rev-parse',
          '--verify',
          '--quiet',
          `${ref}^{commit}`
        ])
        return r.code === 0 ? r.stdout.trim() : undefined
      })
      deploymentStores.set(key, store)
    }
    return store
  }

  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const now = Math.floor(Date.now() / 1000)
      rate.used++
      const headers = {
        'x-ratelimit-limit': String(rate.limit),
        'x-ratelimit-remaining': String(
          rate.exhausted > 0 ? 0 : Math.max(0, rate.limit - rate.used)
        ),
        'x-ratelimit-used': String(rate.used),
        'x-ratelimit-reset': String(rate.exhausted > 0 ? rate.resetAt : now + 3600),
        'x-ratelimit-resource': 'core'
      }
      for (const [k, v] of Object.entries(headers)) res.setHeader(k, v)
      const auth = req.headers.authorization ?? ''
      const m = /^(?:Bearer|token)\s+(.+)$/i.exec(auth)
      if (!m || m[1] !== options.token) return reply(res, 401, { message: 'Bad credentials' })
      if (rate.exhausted > 0) {
        rate.exhausted--
        return reply(res, 403, { message: 'API rate limit exceeded for installation.' })
      }
      let body: unknown
      try {
        body = chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : undefined
      } catch {
        return reply(res, 400, { message: 'Problems parsing JSON' })
      }
      const fault = isRefUpdate(req) ? refFaults.next() : undefined
      if (fault === 'http-500' || fault === 'http-503')
        return reply(res, fault === 'http-500' ? 500 : 503, { message: 'Server Error' })
      if (fault === 'reset') return req.socket.resetAndDestroy()
      if (fault === 'reject')
        return reply(res, 422, { message: 'Protected branch update failed (injected fault).' })
      if (fault === 'reset-after-apply') {
        // The update runs to the end; only its answer is replaced by a reset.
        res.end = (() => {
          req.socket.resetAndDestroy()
          return res
        }) as typeof res.end
      }
      handle(req, res, body).catch((e: unknown) => {
        if (e instanceof HttpError) reply(res, e.status, { message: e.message, ...e.extra })
        else reply(res, 500, { message: e instanceof Error ? e.message : String(e) })
      })
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  if (address === null || typeof address === 'string') throw new Error('stand-in has no port')
  const url = `http://127.0.0.1:${address.port}`

  return {
    url,
    root,
    token: options.token,
    calls,
    totalCalls: () => [...calls.values()].reduce((a, b) => a + b, 0),
    async createRepo(owner, repo, commits, branch = 'main') {
      const dir = repoDir(owner, repo)
      await mkdir(dir, { recursive: true })
      await must(root, ['init', '--bare', '--quiet', `--initial-branch=${branch}`, dir])
      if (commits.length > 0) await fastImport(dir, branch, commits)
      defaults.set(`${owner}/${repo}`, branch)
    },
    async git(owner, repo, args) {
      return (await must(repoDir(owner, repo), args)).toString()
    },
    pulls: (owner, repo) => pulls.get(`${owner}/${repo}`) ?? [],
    exhaustRateLimit(count, resetSeconds) {
      rate.exhausted = count
      rate.resetAt = Math.floor(Date.now() / 1000) + resetSeconds
    },
    deployments: deploymentsOf,
    setRefFaults(faults) {
      refFaults.reset(faults)
    },
    get refUpdates() {
      return refFaults.stats()
    },
    async close() {
      for (const r of readers.values()) r.close()
      await new Promise<void>((resolve) => server.close(() => resolve()))
      server.closeAllConnections()
      await rm(root, { recursive: true, force: true })
    }
  }

  /**
   * GitHub's GraphQL endpoint, for the one query shape kit sends: blobs of a repository by
   * `<commit>:<path>` (`object(expression:)` with `... on Blob { text isBinary isTruncated
   * byteSize }`), and a commit's tree (`... on Commit { tree { oid } }`). Anything else is answered with a GraphQL error, as GitHub answers a query it
   * cannot run: 200 with `errors`. A missing object is null; a tree or submodule has none of
   * the Blob fields; `text` is null for a binary blob (one holding a NUL byte, git's own test)
   * and cut at 512 KiB with `isTruncated`.
   */
  async function graphql(body: unknown): Promise<unknown> {
    const { query, variables = {} } = (body ?? {}) as {
      query?: string
      variables?: Record<string, string>
    }
    const error = (message: string) => ({ data: null, errors: [{ message }] })
    if (typeof query !== 'string') return error('A query attribute must be specified')
    const repo = /repository\(owner: \$owner, name: \$name\) \{(.*)\}\s*\}\s*$/s.exec(query)
    if (!repo) return error(`the stand-in does not answer this query: ${query.slice(0, 80)}`)
    const key = `${variables.owner}/${variables.name}`
    if (!defaults.has(key))
      return {
        data: { repository: null },
        errors: [
          {
            type: 'NOT_FOUND',
            message: `Could not resolve to a Repository with the name '${key}'.`
          }
        ]
      }
    const field =
      /(\w+): object\(expression: \$(\w+)\) \{ \.\.\. on (Blob \{ text isBinary isTruncated byteSize \}|Commit \{ tree \{ oid \} \}) \}/g
    const fields = [...repo[1].matchAll(field)]
    if (fields.length === 0 || repo[1].replace(field, '').trim() !== '')
      return error(`the stand-in does not answer this query: ${query.slice(0, 80)}`)
    const dir = repoDir(String(variables.owner), String(variables.name))
    const repository: Record<string, unknown> = {}
    for (const [, alias, variable, on] of fields) {
      const object = await reader(dir).read(String(variables[variable] ?? ''))
      if (!object) repository[alias] = null
      else if (on.startsWith('Commit'))
        repository[alias] =
          object.type === 'commit' ? { tree: { oid: treeOf(object.content) } } : {}
      else if (object.type !== 'blob') repository[alias] = {}
      else {
        const binary = object.content.subarray(0, 8000).includes(0)
        const truncated = object.content.length > 512 * 1024
        repository[alias] = {
          text: binary ? null : object.content.subarray(0, 512 * 1024).toString('utf8'),
          isBinary: binary,
          isTruncated: truncated,
          byteSize: object.content.length
        }
      }
    }
    return { data: { repository } }
  }

  function pullData(key: string, p: PullRequest) {
    return {
      number: p.number,
      state: p.state,
      title: p.title,
      body: p.body,
      html_url: `${url.replace(/\/$/, '')}/${key}/pull/${p.number}`,
      head: { ref: p.head },
      base: { ref: p.base }
    }
  }
}

/** A ref create or move: what a push is to the API. */
function isRefUpdate(req: IncomingMessage): boolean {
  const path = new URL(req.url ?? '/', 'http://x').pathname
  return (
    (req.method === 'PATCH' && /^\/repos\/[^/]+\/[^/]+\/git\/refs\/heads\/./.test(path)) ||
    (req.method === 'POST' && /^\/repos\/[^/]+\/[^/]+\/git\/refs$/.test(path))
  )
}

/** The tree a commit object names. */
function treeOf(commit: Buffer): string {
  const m = /^tree ([0-9a-f]{40})/.exec(commit.toString('utf8'))
  if (!m) throw new HttpError(500, 'a commit without a tree')
  return m[1]
}

function refData(ref: string, sha: string) {
  return { ref, node_id: `REF_${sha.slice(0, 8)}`, object: { sha, type: 'commit' } }
}

function reply(res: ServerResponse, status: number, data: unknown): void {
  const payload =
    status >= 400 && data && typeof data === 'object' && !Array.isArray(data)
      ? { ...data, documentation_url: 'https://docs.github.com/rest', status: String(status) }
      : data
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8' })
  res.end(JSON.stringify(payload))
}

/**
 * One long-running `git cat-file --batch` per repository: object reads and existence checks
 * without a process each (the stand-in answers hundreds of calls in a race on two cores).
 */
class BatchReader {
  private readonly child: ChildProcessByStdio<Writable, Readable, null>
  private buffer = Buffer.alloc(0)
  private readonly waiting: ((r: BatchObject | undefined) => void)[] = []

  constructor(dir: string) {
    this.child = spawn('git', ['-C', dir, 'cat-file', '--batch'], {
      env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1' },
      stdio: ['pipe', 'pipe', 'ignore']
    })
    this.child.stdin.on('error', () => undefined)
    this.child.stdout.on('data', (d: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, d])
      this.drain()
    })
  }

  /** The object named by `object` (a sha or `<rev>:<path>`); undefined when missing. */
  read(object: string): Promise<BatchObject | undefined> {
    if (/[\n\r]/.test(object)) return Promise.resolve(undefined)
    return new Promise((resolve) => {
      this.waiting.push(resolve)
      this.child.stdin.write(`${object}\n`)
    })
  }

  close(): void {
    this.child.stdin.end()
    this.child.kill()
  }

  private drain(): void {
    for (;;) {
      const nl = this.buffer.indexOf(0x0a)
      if (nl < 0 || this.waiting.length === 0) return
      const m = /^([0-9a-f]{40}) (\w+) (\d+)$/.exec(this.buffer.subarray(0, nl).toString('utf8'))
      if (!m) {
        // "<object> missing" (or ambiguous): one line, no content.
        this.buffer = this.buffer.subarray(nl + 1)
        this.waiting.shift()?.(undefined)
        continue
      }
      const size = Number(m[3])
      if (this.buffer.length < nl + 1 + size + 1) return
      const content = Buffer.from(this.buffer.subarray(nl + 1, nl + 1 + size))
      this.buffer = this.buffer.subarray(nl + 1 + size + 1)
      this.waiting.shift()?.({ sha: m[1], type: m[2], content })
    }
  }
}

interface BatchObject {
  readonly sha: string
  readonly type: string
  readonly content: Buffer
}
