/**
 * A real git smart-HTTP server for tests: Node's http server on 127.0.0.1 (random port) in
 * front of `git http-backend` (the CGI program git ships), with token auth. Clients speak the
 * same protocol they speak to GitHub, so fetch, partial clone, push and push rejections are
 * git's own behaviour, not a mock.
 */
import { spawn, execFile } from 'node:child_process'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { mkdtemp, mkdir, rm, writeFile, chmod } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'

const run = promisify(execFile)

/** One commit of a test repository: files to write (content) or delete (null). */
export interface SeedCommit {
  readonly files: Readonly<Record<string, string | null>>
  readonly message?: string
}

/**
 * How an injected push fault fails (only `git-receive-pack` POSTs, the request that carries a
 * push, are faulted; fetches and ref advertisements are always served):
 * - `http-500` / `http-503`: the server answers with that status and does not run the push;
 * - `reset`: the connection is reset as the request arrives, nothing applied;
 * - `reset-after-apply`: the push runs to completion (the branch moves), then the connection
 *   is reset before the client hears about it — the ambiguous case a client must check;
 * - `reject`: a pre-receive hook declines the push, as a server-side policy would.
 */
export type PushFaultKind = 'http-500' | 'http-503' | 'reset' | 'reset-after-apply' | 'reject'

export const pushFaultKinds: readonly PushFaultKind[] = [
  'http-500',
  'http-503',
  'reset',
  'reset-after-apply',
  'reject'
]

/** Fails a fraction of pushes, deterministically for a seed (the n-th push gets the n-th draw). */
export interface PushFaultOptions {
  /** Fraction of pushes that fail, from 0 to 1. */
  readonly rate: number
  readonly seed: number
  /** The kinds drawn from, uniformly; default every kind. */
  readonly kinds?: readonly PushFaultKind[]
  /**
   * Exactly `rate` of the pushes, spread evenly (at 0.25: the 4th, 8th, 12th…), each failing
   * with the next of `kinds` in turn, instead of seeded draws: a short race then meets every
   * kind for sure.
   */
  readonly evenly?: boolean
}

/** Pushes (receive-pack POSTs that passed authentication) seen since the faults were set. */
export interface PushStats {
  readonly attempted: number
  readonly failed: number
  readonly byKind: Readonly<Record<PushFaultKind, number>>
}

export interface GitServer {
  /** e.g. http://127.0.0.1:41234 */
  readonly url: string
  /** The folder holding the bare repositories. */
  readonly root: string
  readonly token: string
  /** HTTP requests served (auth failures included). */
  requests: number
  /** Creates `<name>.git` with the commits on `branch` (default main); returns its URL. */
  createRepo(name: string, commits: readonly SeedCommit[], branch?: string): Promise<string>
  /**
   * Serves `<name>.git`, a bare repository already in `root` (made by another stand-in, e.g.
   * the GitHub API's `acme/m`), with the settings createRepo gives; returns its URL.
   */
  adoptRepo(name: string): Promise<string>
  /** Makes a pre-receive hook refuse every push to `branch` (a protected branch). */
  protectBranch(name: string, branch: string): Promise<void>
  /** Runs git in a bare repository (for assertions: log, show, rev-parse). */
  git(name: string, args: readonly string[]): Promise<string>
  /** Starts (or, with undefined, stops) failing pushes; resets the push counters. */
  setPushFaults(faults: PushFaultOptions | undefined): void
  /** Push counters since the last setPushFaults (or the start). */
  readonly pushes: PushStats
  close(): Promise<void>
}

/**
 * Starts the server. Every request must carry the token as basic-auth password or bearer.
 * `pushFaults` fails a fraction of pushes from the start (see setPushFaults).
 */
export async function startGitServer(options: {
  token: string
  pushFaults?: PushFaultOptions
  /**
   * Serve the repositories in this folder (the GitHub API stand-in's `root`, so git and the API
   * see one repository) instead of a new temporary one; the folder is left in place on close.
   */
  root?: string
}): Promise<GitServer> {
  const root = options.root ?? (await mkdtemp(join(tmpdir(), 'kit-git-server-')))
  const execPath = (await run('git', ['--exec-path'])).stdout.trim()
  const state = { requests: 0 }
  // Hooks for the `reject` fault live outside every repository; a faulted push points
  // core.hooksPath here through the backend's environment, leaving the repositories' own hooks.
  const faultHooks = join(root, '.fault-hooks')
  await mkdir(faultHooks, { recursive: true })
  await writeFile(
    join(faultHooks, 'pre-receive'),
    '#!/bin/sh\necho "push declined by server policy (injected fault)" >&2\nexit 1\n'
  )
  await chmod(join(faultHooks, 'pre-receive'), 0o755)
  const faults = new PushFaultInjector(options.pushFaults)

  const server = createServer((req, res) => {
    state.requests++
    const user = authorizedUser(req, options.token)
    if (user === undefined) {
      res.writeHead(401, {
        'WWW-Authenticate': 'Basic realm="kit-test"',
        'Content-Type': 'text/plain'
      })
      res.end('authentication required\n')
      return
    }
    const fault = isPush(req) ? faults.next() : undefined
    switch (fault) {
      case undefined:
        serveCgi(req, res, root, user, execPath)
        return
      case 'http-500':
      case 'http-503':
        // Read the pack first: the client must see the status, not a write error.
        req.resume()
        req.on('end', () => {
          res.writeHead(fault === 'http-500' ? 500 : 503, { 'Content-Type': 'text/plain' })
          res.end(`injected fault: ${fault}\n`)
        })
        return
      case 'reset':
        req.socket.resetAndDestroy()
        return
      case 'reset-after-apply':
        serveCgi(req, res, root, user, execPath, { dropResponse: true })
        return
      case 'reject':
        serveCgi(req, res, root, user, execPath, { hooksPath: faultHooks })
        return
    }
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  if (address === null || typeof address === 'string') throw new Error('git server has no port')
  const url = `http://127.0.0.1:${address.port}`

  const repoDir = (name: string): string => join(root, `${name}.git`)
  return {
    url,
    root,
    token: options.token,
    get requests() {
      return state.requests
    },
    set requests(n: number) {
      state.requests = n
    },
    async createRepo(name, commits, branch = 'main') {
      const dir = repoDir(name)
      await mkdir(dir, { recursive: true })
      await run('git', ['init', '--bare', '--quiet', `--initial-branch=${branch}`, dir])
      await configureRepo(dir)
      if (commits.length > 0) {
        await fastImport(dir, branch, commits)
        // fast-import's pack is unoptimised (long delta chains); every real host repacks.
        await run('git', ['-C', dir, 'repack', '-a', '-d', '-q'])
      }
      return `${url}/${name}.git`
    },
    async adoptRepo(name) {
      await configureRepo(repoDir(name))
      return `${url}/${name}.git`
    },
    async protectBranch(name, branch) {
      if (!/^[\w./-]+$/.test(branch)) throw new Error(`unsafe branch name for a hook: ${branch}`)
      const hook = join(repoDir(name), 'hooks', 'pre-receive')
      await writeFile(
        hook,
        [
          '#!/bin/sh',
          'while read old new ref; do',
          `  if [ "$ref" = "refs/heads/${branch}" ]; then`,
          '    echo "protected branch: pushes to $ref are not allowed" >&2',
          '    exit 1',
          '  fi',
          'done',
          'exit 0',
          ''
        ].join('\n')
      )
      await chmod(hook, 0o755)
    },
    async git(name, args) {
      const r = await run('git', ['-C', repoDir(name), ...args], { maxBuffer: 64 * 1024 * 1024 })
      return r.stdout
    },
    setPushFaults(next) {
      faults.reset(next)
    },
    get pushes() {
      return faults.stats()
    },
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()))
      server.closeAllConnections()
      if (options.root === undefined) await rm(root, { recursive: true, force: true })
      else await rm(faultHooks, { recursive: true, force: true })
    }
  }
}

/** What every served repository allows: pushes, partial clones, and fast-forwards only. */
async function configureRepo(dir: string): Promise<void> {
  for (const [k, v] of [
    ['http.receivepack', 'true'],
    ['uploadpack.allowFilter', 'true'],
    ['uploadpack.allowAnySHA1InWant', 'true'],
    ['receive.denyNonFastForwards', 'true']
  ])
    await run('git', ['-C', dir, 'config', k, v])
}

function authorizedUser(req: IncomingMessage, token: string): string | undefined {
  const header = req.headers.authorization ?? ''
  const basic = /^Basic\s+(.+)$/i.exec(header)
  if (basic) {
    const decoded = Buffer.from(basic[1], 'base64').toString('utf8')
    const colon = decoded.indexOf(':')
    if (colon >= 0 && decoded.slice(colon + 1) === token) return decoded.slice(0, colon) || 'token'
  }
  const bearer = /^Bearer\s+(.+)$/i.exec(header)
  if (bearer && bearer[1] === token) return 'token'
  return undefined
}

/** A push is the POST to `.../git-receive-pack` (the ref advertisement GET is not). */
function isPush(req: IncomingMessage): boolean {
  return (
    req.method === 'POST' &&
    /\/git-receive-pack$/.test(new URL(req.url ?? '/', 'http://x').pathname)
  )
}

/**
 * Decides, push by push, whether and how to fail: a seeded PRNG (mulberry32) drawn twice per
 * push, so a seed always gives the same sequence of outcomes in arrival order. The GitHub API
 * stand-in uses it for its ref updates, the API's pushes.
 */
export class PushFaultInjector {
  private options?: PushFaultOptions
  private state = 0
  private attempted = 0
  private byKind = emptyCounts()
  /** `evenly`: the failure owed so far (a failure is due each time it reaches 1). */
  private owed = 0
  private failures = 0

  constructor(options: PushFaultOptions | undefined) {
    this.reset(options)
  }

  reset(options: PushFaultOptions | undefined): void {
    if (options) {
      if (!(options.rate >= 0 && options.rate <= 1))
        throw new Error(`push fault rate must be within 0..1, got ${options.rate}`)
      if (options.kinds && options.kinds.length === 0)
        throw new Error('push fault kinds must not be empty')
    }
    this.options = options
    this.state = (options?.seed ?? 0) >>> 0
    this.attempted = 0
    this.byKind = emptyCounts()
    this.owed = 0
    this.failures = 0
  }

  next(): PushFaultKind | undefined {
    this.attempted++
    const o = this.options
    if (!o) return undefined
    if (o.evenly) {
      this.owed += o.rate
      if (this.owed < 1 - 1e-9) return undefined
      this.owed -= 1
      const kinds = o.kinds ?? pushFaultKinds
      const kind = kinds[this.failures++ % kinds.length]
      this.byKind[kind]++
      return kind
    }
    const fail = this.random() < o.rate
    const kinds = o.kinds ?? pushFaultKinds
    const kind = kinds[Math.floor(this.random() * kinds.length)]
    if (!fail) return undefined
    this.byKind[kind]++
    return kind
  }

  stats(): PushStats {
    const byKind = { ...this.byKind }
    const failed = Object.values(byKind).reduce((a, b) => a + b, 0)
    return { attempted: this.attempted, failed, byKind }
  }

  private random(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0
    let t = this.state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

function emptyCounts(): Record<PushFaultKind, number> {
  return { 'http-500': 0, 'http-503': 0, reset: 0, 'reset-after-apply': 0, reject: 0 }
}

/**
 * Runs `git http-backend` as CGI: request metadata in env, body on stdin, headers then body out.
 * `dropResponse` runs the request to completion but resets the connection instead of answering;
 * `hooksPath` points the push's hooks at another folder (the `reject` fault).
 */
function serveCgi(
  req: IncomingMessage,
  res: ServerResponse,
  root: string,
  user: string,
  execPath: string,
  fault: { dropResponse?: boolean; hooksPath?: string } = {}
): void {
  const url = new URL(req.url ?? '/', 'http://localhost')
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: root,
    GIT_PROJECT_ROOT: root,
    GIT_HTTP_EXPORT_ALL: '1',
    PATH_INFO: decodeURIComponent(url.pathname),
    REQUEST_METHOD: req.method ?? 'GET',
    QUERY_STRING: url.search.replace(/^\?/, ''),
    CONTENT_TYPE: req.headers['content-type'] ?? '',
    REMOTE_USER: user,
    REMOTE_ADDR: '127.0.0.1',
    GIT_CONFIG_NOSYSTEM: '1'
  }
  if (req.headers['content-length']) env.CONTENT_LENGTH = req.headers['content-length']
  if (req.headers['content-encoding']) env.HTTP_CONTENT_ENCODING = req.headers['content-encoding']
  const protocol = req.headers['git-protocol']
  if (typeof protocol === 'string') env.GIT_PROTOCOL = protocol
  if (fault.hooksPath) {
    env.GIT_CONFIG_COUNT = '1'
    env.GIT_CONFIG_KEY_0 = 'core.hooksPath'
    env.GIT_CONFIG_VALUE_0 = fault.hooksPath
  }
  const child = spawn(join(execPath, 'git-http-backend'), [], {
    env,
    stdio: ['pipe', 'pipe', 'pipe']
  })
  req.pipe(child.stdin)
  child.stdin.on('error', () => undefined)
  if (fault.dropResponse) {
    child.stdout.resume()
    child.stderr.resume()
    child.on('close', () => req.socket.resetAndDestroy())
    return
  }
  let headerBuf = Buffer.alloc(0)
  let headersDone = false
  child.stdout.on('data', (chunk: Buffer) => {
    if (headersDone) {
      res.write(chunk)
      return
    }
    headerBuf = Buffer.concat([headerBuf, chunk])
    let end = headerBuf.indexOf('\r\n\r\n')
    let sepLen = 4
    if (end < 0) {
      end = headerBuf.indexOf('\n\n')
      sepLen = 2
    }
    if (end < 0) return
    headersDone = true
    let status = 200
    const headers: Record<string, string> = {}
    for (const line of headerBuf.subarray(0, end).toString('latin1').split(/\r?\n/)) {
      const colon = line.indexOf(':')
      if (colon < 0) continue
      const name = line.slice(0, colon).trim()
      const value = line.slice(colon + 1).trim()
      if (name.toLowerCase() === 'status') status = Number(value.split(' ')[0])
      else headers[name] = value
    }
    res.writeHead(status, headers)
    res.write(headerBuf.subarray(end + sepLen))
  })
  child.stderr.on('data', () => undefined)
  child.on('close', () => {
    if (!headersDone) {
      res.writeHead(500, { 'Content-Type': 'text/plain' })
      res.end('git http-backend failed\n')
    } else res.end()
  })
}

/** Writes commits with `git fast-import`: thousands of files and commits in well under a second. */
export async function fastImport(
  dir: string,
  branch: string,
  commits: readonly SeedCommit[]
): Promise<void> {
  const parts: Buffer[] = []
  const text = (s: string): void => {
    parts.push(Buffer.from(s, 'utf8'))
  }
  const data = (s: string): void => {
    const b = Buffer.from(s, 'utf8')
    text(`data ${b.length}\n`)
    parts.push(b)
    text('\n')
  }
  const start = 1_700_000_000
  commits.forEach((c, i) => {
    text(`commit refs/heads/${branch}\nmark :${i + 1}\n`)
    text(`committer seed <seed@example.com> ${start + i} +0000\n`)
    data(c.message ?? `seed ${i + 1}`)
    if (i > 0) text(`from :${i}\n`)
    for (const [path, content] of Object.entries(c.files)) {
      if (content === null) text(`D ${path}\n`)
      else {
        text(`M 100644 inline ${path}\n`)
        data(content)
      }
    }
    text('\n')
  })
  await new Promise<void>((resolve, reject) => {
    const child = spawn('git', ['-C', dir, 'fast-import', '--quiet'], {
      stdio: ['pipe', 'ignore', 'pipe']
    })
    let err = ''
    child.stderr.on('data', (d: Buffer) => (err += d.toString()))
    child.on('close', (code) =>
      code === 0 ? resolve() : reject(new Error(`fast-import failed: ${err}`))
    )
    child.stdin.end(Buffer.concat(parts))
  })
}
