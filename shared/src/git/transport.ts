import { appendFile, mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { InputError } from '../errors.js'
import { Redactor } from '../secrets/index.js'
import {
  decodeText,
  RemoteUnavailableError,
  type FileChange,
  type RepoSnapshot,
  type RepoTarget,
  type SentCommit,
  type WriteOutcome
} from '../bump/index.js'
import { callLimit, formatWait, type Deadline } from '../retry/deadline.js'
import { basicAuthHeader, firstLines, Git, GitCommandError, gitEnv } from './git.js'

/** Who a commit is by; `name <email>`. */
export interface GitIdentity {
  readonly name: string
  readonly email: string
}

export interface GitTargetOptions {
  /** The remote URL (no credentials in it). */
  readonly url: string
  readonly token?: string
  /** The branch to write. Empty: the remote's default branch. */
  readonly branch: string
  /**
   * When set, `branch` is a bump branch (pull-request mode): created from `startFrom` when it
   * does not exist yet, otherwise extended with a new commit.
   */
  readonly startFrom?: string
  readonly author: GitIdentity
  readonly committer?: GitIdentity
  /** Parent for the temporary repository (RUNNER_TEMP in Actions). */
  readonly tempDir?: string
  readonly redactor?: Redactor
  /** The run's time budget: every git command is stopped when it runs out. */
  readonly deadline?: Deadline
  /** The longest one git command may run (default 60 s), budget permitting. */
  readonly callTimeoutMs?: number
}

/**
 * The git transport: a bare, shallow (depth 1), partial (blob:none) repository in a temp
 * folder. A bump fetches one commit and its trees, only the blobs of the files it reads, writes
 * the new blobs and tree with plumbing (no working tree, no checkout), and pushes without
 * force: the server's fast-forward check is the compare-and-swap. The cost does not grow with
 * the repository's history or its number of files' contents. Every git command is bounded in
 * time (its own limit, shortened to what is left of the run's budget); a fetch or push that
 * times out, resets or meets HTTP 5xx is a failure the bump loop retries.
 */
export class GitBranchTarget implements RepoTarget {
  readonly description: string
  private git?: Git
  private branch: string
  private readonly redactor: Redactor

  constructor(private readonly options: GitTargetOptions) {
    this.branch = options.branch
    this.redactor = options.redactor ?? new Redactor()
    if (options.token) {
      this.redactor.add(options.token)
      this.redactor.add(basicAuthHeader(options.token).slice('Authorization: Basic '.length))
    }
    this.description = `${options.url} (${options.branch || 'default branch'}, git)`
  }

  /** git commands run so far (benchmarks report it). */
  get commands(): number {
    return this.git?.commands ?? 0
  }

  /** The branch written (the default branch once resolved). */
  get branchName(): string {
    return this.branch
  }

  async open(): Promise<RepoSnapshot> {
    const git = await this.repo()
    if (this.branch === '') this.branch = await this.defaultBranch(git)
    let head: string
    let creating = false
    try {
      head = await this.fetch(git, this.branch)
    } catch (e) {
      if (!(e instanceof MissingBranch) || !this.options.startFrom) throw e
      head = await this.fetch(git, this.options.startFrom)
      creating = true
    }
    return new GitSnapshot(git, head, this.branch, creating, this.options, this.redactor)
  }

  /** Removes the temporary repository. */
  async close(): Promise<void> {
    if (this.git) await rm(this.git.dir, { recursive: true, force: true })
    this.git = undefined
  }

  private async repo(): Promise<Git> {
    if (this.git) return this.git
    const dir = await mkdtemp(join(this.options.tempDir ?? tmpdir(), 'kit-bump-'))
    const git = new Git(dir, gitEnv(this.options.token), this.redactor, () =>
      callLimit(this.options.deadline, this.options.callTimeoutMs)
    )
    await git.text(['init', '--bare', '--quiet'])
    // A promisor remote lets git fetch a missing blob on demand, so only read files are
    // downloaded. Written straight into the config (one process fewer per bump); no secret here.
    const config = join(dir, 'config')
    const url = this.options.url.replace(/["\\\n]/g, '')
    await appendFile(
      config,
      `[core]\n\trepositoryFormatVersion = 1\n[extensions]\n\tpartialClone = origin\n` +
        `[remote "origin"]\n\turl = "${url}"\n\tpromisor = true\n\tpartialCloneFilter = blob:none\n`
    )
    this.git = git
    return git
  }

  private async defaultBranch(git: Git): Promise<string> {
    const r = await git.run(['ls-remote', '--symref', 'origin', 'HEAD'])
    if (r.code !== 0) throw remoteError(this.options.url, r.stderr)
    const m = /^ref: refs\/heads\/(\S+)\s+HEAD/m.exec(r.stdout.toString('utf8'))
    if (!m)
      throw new InputError(
        `${this.options.url} has no default branch (is it empty?); set target-branch`
      )
    return m[1]
  }

  private async fetch(git: Git, branch: string): Promise<string> {
    const ref = `refs/remotes/origin/${branch}`
    const r = await git.run([
      'fetch',
      '--quiet',
      '--no-tags',
      '--depth=1',
      '--filter=blob:none',
      'origin',
      `+refs/heads/${branch}:${ref}`
    ])
    if (r.code !== 0) {
      if (/couldn't find remote ref/i.test(r.stderr))
        throw new MissingBranch(branch, this.options.url)
      throw remoteError(this.options.url, r.stderr)
    }
    // FETCH_HEAD names the fetched commit; reading it saves a rev-parse process.
    const fetched = /^([0-9a-f]{40,64})\s/.exec(await readFile(join(git.dir, 'FETCH_HEAD'), 'utf8'))
    if (!fetched) throw new GitCommandError(`cannot read the fetched head of ${branch}`, '')
    return fetched[1]
  }
}

/**
 * What a failed fetch or ls-remote means: the token (input error), a missing repository (input
 * error), the network or the server (RemoteUnavailableError: the bump loop retries it), or
 * something else git said.
 */
function remoteError(url: string, stderr: string): Error {
  if (
    /Authentication failed|could not read Username|terminal prompts disabled|HTTP 40[13]|returned error: 40[13]/i.test(
      stderr
    )
  )
    return new InputError(
      `${url}: authentication failed; the token was refused or lacks access (it needs contents: write)`
    )
  if (/not found|does not appear to be a git repository|HTTP 404|returned error: 404/i.test(stderr))
    return new InputError(`${url}: repository not found (or the token cannot see it)`)
  const transient = transientReason(stderr)
  if (transient)
    return new RemoteUnavailableError(`${url}: git failed: ${firstLines(stderr)}`, transient)
  return new GitCommandError(`${url}: git failed: ${firstLines(stderr)}`, stderr)
}

class MissingBranch extends InputError {
  constructor(branch: string, url: string) {
    super(`${url}: target-branch '${branch}' does not exist there`)
  }
}

class GitSnapshot implements RepoSnapshot {
  private readonly modes = new Map<string, string>()
  private entries?: Promise<Map<string, TreeEntry>>

  constructor(
    private readonly git: Git,
    readonly head: string,
    private readonly branch: string,
    private readonly creating: boolean,
    private readonly options: GitTargetOptions,
    private readonly redactor: Redactor
  ) {}

  async read(paths: readonly string[]): Promise<Map<string, string | undefined>> {
    const out = new Map<string, string | undefined>(paths.map((p) => [p, undefined]))
    if (paths.length === 0) return out
    const blobs: { path: string; oid: string }[] = []
    for (const [path, e] of await this.entriesOf(paths)) {
      if (e.type !== 'blob' || !out.has(path)) continue
      this.modes.set(path, e.mode)
      blobs.push({ path, oid: e.oid })
    }
    if (blobs.length === 0) return out
    // git would fetch each blob the partial clone lacks on its own round trip as cat-file meets
    // it: a set of templates is fetched in one request first.
    if (blobs.length > 1) await this.fetchBlobs(blobs.map((b) => b.oid))
    // One batch read; a blob still missing is fetched by git on demand.
    const r = await this.git.run(['cat-file', '--batch'], {
      input: blobs.map((b) => b.oid).join('\n') + '\n'
    })
    if (r.code !== 0) {
      // Blobs a partial clone lacks come from the server: a timeout or 5xx there is a retry.
      const transient = transientReason(r.stderr)
      if (transient)
        throw new RemoteUnavailableError(`reading files failed: ${firstLines(r.stderr)}`, transient)
      throw new GitCommandError(`reading files failed: ${firstLines(r.stderr)}`, r.stderr)
    }
    let offset = 0
    const data = r.stdout
    for (const blob of blobs) {
      const nl = data.indexOf(0x0a, offset)
      const header = data.subarray(offset, nl).toString('utf8')
      const size = Number(header.split(' ')[2])
      if (!header.startsWith(blob.oid) || Number.isNaN(size))
        throw new GitCommandError(`unexpected git cat-file output for ${blob.path}: ${header}`, '')
      out.set(blob.path, decodeText(data.subarray(nl + 1, nl + 1 + size), blob.path))
      offset = nl + 1 + size + 1
    }
    return out
  }

  /**
   * Fetches these blobs in one request, as git's own on-demand fetch does: wanted by id (the
   * blob filter does not hold them back), with no commits offered as "have" (the server would
   * take them to mean the blobs are here already).
   */
  private async fetchBlobs(oids: readonly string[]): Promise<void> {
    const base = gitEnv(this.options.token)
    const n = Number(base.GIT_CONFIG_COUNT ?? 0)
    const r = await this.git.run(
      [
        'fetch',
        '--quiet',
        '--no-tags',
        '--no-write-fetch-head',
        '--recurse-submodules=no',
        '--filter=blob:none',
        'origin',
        ...new Set(oids)
      ],
      {
        env: {
          GIT_CONFIG_COUNT: String(n + 1),
          [`GIT_CONFIG_KEY_${n}`]: 'fetch.negotiationAlgorithm',
          [`GIT_CONFIG_VALUE_${n}`]: 'noop'
        }
      }
    )
    if (r.code !== 0) throw remoteError(this.options.url, r.stderr)
  }

  async list(): Promise<string[]> {
    return [...(await this.tree()).keys()]
  }

  /**
   * The tree entries of `paths`: from the listing when the snapshot has one, otherwise asked
   * of git for these paths alone (a bump that lists nothing never walks a large tree).
   */
  private async entriesOf(paths: readonly string[]): Promise<[string, TreeEntry][]> {
    if (this.entries) {
      const tree = await this.entries
      return paths.flatMap((p) => {
        const e = tree.get(p)
        return e ? [[p, e] as [string, TreeEntry]] : []
      })
    }
    const text = await this.git.text([
      'ls-tree',
      '-r',
      '-z',
      '--full-tree',
      this.head,
      '--',
      ...paths.map(literal)
    ])
    return [...parseTree(text)]
  }

  async blobIds(): Promise<ReadonlyMap<string, string>> {
    const ids = new Map<string, string>()
    for (const [path, e] of await this.tree()) if (e.type === 'blob') ids.set(path, e.oid)
    return ids
  }

  /** Every entry of the head's tree, listed once (the trees are local since the fetch). */
  private tree(): Promise<Map<string, TreeEntry>> {
    this.entries ??= this.git
      .text(['ls-tree', '-r', '-z', '--full-tree', this.head])
      .then(parseTree)
    return this.entries
  }

  /**
   * The shallow fetch holds the head alone: the history below it is fetched in growing steps
   * (16, 64, 256 commits more, trees only) until a pushed commit turns up, or the commit it was
   * made on does (the branch went on without it), or the steps run out (then: not found).
   */
  async findLanded(pushed: readonly SentCommit[]): Promise<string | undefined> {
    // The bump branch is still missing: no push that would have created it landed.
    if (this.creating) return undefined
    let open = [...pushed]
    for (const deepen of [16, 64, 256, 0]) {
      const history = new Set(
        (await this.git.text(['rev-list', this.head])).split('\n').filter(Boolean)
      )
      const found = open.find((p) => history.has(p.commit))
      if (found) return found.commit
      open = open.filter((p) => !history.has(p.parent))
      if (open.length === 0 || deepen === 0) return undefined
      const r = await this.git.run([
        'fetch',
        '--quiet',
        '--no-tags',
        `--deepen=${deepen}`,
        '--filter=blob:none',
        'origin',
        `+refs/heads/${this.branch}:refs/remotes/origin/${this.branch}`
      ])
      if (r.code !== 0) throw remoteError(this.options.url, r.stderr)
    }
    return undefined
  }

  async write(changes: readonly FileChange[], message: string): Promise<WriteOutcome> {
    const git = this.git
    const author = this.options.author
    const committer = this.options.committer ?? author
    // One fast-import process writes the blobs, the trees and the commit on top of the head
    // (instead of hash-object, read-tree, update-index, write-tree and commit-tree).
    const parts: Buffer[] = []
    const add = (s: string | Buffer): number =>
      parts.push(typeof s === 'string' ? Buffer.from(s, 'utf8') : s)
    const data = (s: string): void => {
      const b = Buffer.from(s, 'utf8')
      add(`data ${b.length}\n`)
      add(b)
      add('\n')
    }
    const now = Math.floor(Date.now() / 1000)
    add('feature get-mark\n')
    add(`commit refs/kit/bump\nmark :1\n`)
    add(`author ${identity(author)} ${now} +0000\n`)
    add(`committer ${identity(committer)} ${now} +0000\n`)
    data(message)
    add(`from ${this.head}\n`)
    for (const change of changes) {
      if (change.after === undefined) {
        // A deleted file; git keeps no empty folders, so an emptied folder goes with it.
        add(`D ${quotePath(change.path)}\n`)
        continue
      }
      add(`M ${this.modes.get(change.path) ?? '100644'} inline ${quotePath(change.path)}\n`)
      data(change.after)
    }
    add('\nget-mark :1\n')
    const imported = await git.text(['fast-import', '--quiet', '--force', '--done'], {
      input: Buffer.concat([...parts, Buffer.from('done\n')])
    })
    const commit = imported.trim().split('\n').pop() ?? ''
    if (!/^[0-9a-f]{40,64}$/.test(commit))
      throw new GitCommandError(`git fast-import gave no commit: ${imported}`, '')
    const dest = `refs/heads/${this.branch}`
    // Commit mode: a plain push, so the server refuses anything but a fast-forward. Creating a
    // bump branch: the lease requires that it still does not exist.
    const args = ['push', '--porcelain', '--quiet']
    if (this.creating) args.push(`--force-with-lease=${dest}:`)
    args.push('origin', `${commit}:${dest}`)
    const r = await git.run(args)
    if (r.code === 0) return { kind: 'written', commit }
    const text = this.redactor.scrub(r.stdout.toString('utf8')) + '\n' + r.stderr
    const reason = conflictReason(text)
    // git refuses by itself a push the ref advertisement shows is behind (`[rejected] (fetch
    // first)`): nothing was sent. A `[remote rejected]` is the server's answer, possibly to a
    // request curl sent again after the first one landed, so that commit may be on the branch.
    if (reason)
      return { kind: 'conflict', reason, ...(/remote rejected/.test(text) ? { commit } : {}) }
    if (/pre-receive hook declined|protected branch|hook declined/i.test(text))
      throw new InputError(
        `the server refused the push to '${this.branch}' (a protected branch or a hook): ${firstLines(text.replace(/^To .*$/m, ''))}. Use mode: pull-request for protected branches.`
      )
    if (
      /Authentication failed|could not read Username|terminal prompts disabled|HTTP 40[13]\b|returned error: 40[13]\b/i.test(
        text
      )
    )
      throw new InputError(
        `push to '${this.branch}' was refused: the token cannot write (it needs contents: write)`
      )
    const transient = transientReason(text)
    if (transient) return { kind: 'failed', reason: transient, commit }
    throw new GitCommandError(`push to '${this.branch}' failed: ${firstLines(text)}`, text)
  }
}

/** A tree entry as `git ls-tree` prints it. */
interface TreeEntry {
  readonly mode: string
  readonly type: string
  readonly oid: string
}

/** `git ls-tree -z` output, by path. */
function parseTree(text: string): Map<string, TreeEntry> {
  const out = new Map<string, TreeEntry>()
  for (const entry of text.split('\0')) {
    const m = /^(\d+) (\w+) ([0-9a-f]+)\t(.*)$/s.exec(entry)
    if (m) out.set(m[4], { mode: m[1], type: m[2], oid: m[3] })
  }
  return out
}

/** Push rejections that mean "someone else moved the branch": re-read and re-apply. */
function conflictReason(text: string): string | undefined {
  const checks: [RegExp, string][] = [
    [/\(fetch first\)|non-fast-forward|\(stale info\)/i, 'non-fast-forward'],
    [
      /cannot lock ref|failed to update ref|failed to lock|incorrect old value|reference already exists/i,
      'ref update conflict'
    ]
  ]
  for (const [re, reason] of checks) if (re.test(text)) return reason
  return undefined
}

/**
 * Push failures that say nothing about the branch (the server erred, the connection dropped):
 * worth another attempt. A reply lost after the server applied the push looks the same, so the
 * retry loop checks for the sent commit on its next read.
 */
export function transientReason(text: string): string | undefined {
  // kit stopped git itself (Git's time limit): the reason names the limit.
  const stopped = /kit: git \S+ timed out (?:after (\d+) ms|before it started)/.exec(text)
  if (stopped)
    return stopped[1]
      ? `timed out after ${formatWait(Number(stopped[1]))}`
      : 'timed out: the time limit is used up'
  const status = /(?:HTTP|returned error:) (5\d\d)\b/.exec(text)
  if (status) return `HTTP ${status[1]} from the server`
  const checks: [RegExp, string][] = [
    [/Connection reset|Recv failure|Send failure|Empty reply from server/i, 'connection reset'],
    [/timed out|Operation too slow/i, 'timed out'],
    [/Failed to connect|Couldn't connect|Connection refused/i, 'cannot connect'],
    [/remote end hung up|unexpected disconnect|early EOF|RPC failed/i, 'connection dropped']
  ]
  for (const [re, reason] of checks) if (re.test(text)) return reason
  return undefined
}

/** A pathspec that matches this exact path (no glob magic from file names). */
function literal(path: string): string {
  return `:(literal)${path}`
}

/** `Name <email>` with the characters git's identity format cannot hold removed. */
function identity(who: { name: string; email: string }): string {
  return `${who.name.replace(/[<>\n]/g, '')} <${who.email.replace(/[<>\n\s]/g, '')}>`
}

/** A path as fast-import reads it: C-style quoted when it has a space, quote or newline. */
function quotePath(path: string): string {
  return /["\\\n\s]/.test(path) || path.startsWith('"') ? JSON.stringify(path) : path
}
