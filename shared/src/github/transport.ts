import { InputError } from '../errors.js'
import {
  decodeText,
  RemoteUnavailableError,
  type FileChange,
  type RepoSnapshot,
  type RepoTarget,
  type SentCommit,
  type WriteOutcome
} from '../bump/index.js'
import { mapLimit } from '../data/map-limit.js'
import { encodePath, GitHubApiError, outcomeUnknown, type GitHubClient } from './client.js'

/**
 * Files read at once. GitHub asks integrators to keep concurrent requests few (its secondary
 * rate limit counts them); a bump reads a handful of files, and eight at a time turns their
 * round trips into one or two without coming near that limit.
 */
const readConcurrency = 8

/** Files per GraphQL query (GitHub limits a query's cost; a hundred blobs is far below it). */
const graphqlBatch = 100

/** A file the GraphQL answer cannot give exactly: read through the contents endpoint. */
const restRead = Symbol('read through the contents endpoint')

/** A Blob in a GraphQL answer (a tree or submodule answers with none of these fields). */
interface BlobData {
  readonly text?: string | null
  readonly isBinary?: boolean
  readonly isTruncated?: boolean
  readonly byteSize?: number
}

export interface GitHubTargetOptions {
  readonly client: GitHubClient
  readonly owner: string
  readonly repo: string
  /** The branch to write. Empty: the repository's default branch. */
  readonly branch: string
  /** Pull-request mode: `branch` is a bump branch, created from `startFrom` when missing. */
  readonly startFrom?: string
  /**
   * Commit author/committer. Unset: GitHub uses the token's identity, and signs the commit
   * when the token belongs to a GitHub App.
   */
  readonly author?: { name: string; email: string }
  readonly committer?: { name: string; email: string }
}

interface RefData {
  object: { sha: string }
}
interface CommitData {
  sha: string
  tree: { sha: string }
}
interface ContentData {
  type: string
  encoding?: string
  content?: string
  sha: string
}

/**
 * The GitHub API transport, no clone: read the ref and the files (GraphQL, or the contents
 * endpoint), then write a tree (inline contents) on the head's tree, a commit and move the ref with
 * `force: false` — GitHub's compare-and-swap: 422 "Update is not a fast forward" when the
 * branch moved, which the retry loop turns into a re-read and re-apply.
 *
 * Endpoints: GET /repos/{o}/{r} (default branch, and to explain a 404), GET
 * /repos/{o}/{r}/git/ref/heads/{b}, GET /git/commits/{sha}, POST /graphql (several files in
 * one query), GET /contents/{path}?ref= (one file, or what the query cannot give exactly), GET
 * /git/blobs/{sha} (files over 1 MB), GET /git/trees/{sha}?recursive=1 (globs, checks), POST
 * /git/trees, POST /git/commits, PATCH /git/refs/heads/{b}, POST /git/refs, and after a ref
 * update whose answer was lost, GET /compare/{sent}...{head} (did it land under later commits?).
 * A read that times out or meets a 5xx (after the client's own replays) is a
 * RemoteUnavailableError, which the bump loop retries.
 */
export class GitHubBranchTarget implements RepoTarget {
  readonly description: string
  private branch: string

  constructor(private readonly options: GitHubTargetOptions) {
    this.branch = options.branch
    this.description = `${options.owner}/${options.repo} (${options.branch || 'default branch'}, GitHub API)`
  }

  get branchName(): string {
    return this.branch
  }

  private get base(): string {
    return `/repos/${encodeURIComponent(this.options.owner)}/${encodeURIComponent(this.options.repo)}`
  }

  open(): Promise<RepoSnapshot> {
    return unavailableOnServerFailure(() => this.openHead())
  }

  private async openHead(): Promise<RepoSnapshot> {
    const { client } = this.options
    if (this.branch === '') this.branch = await this.defaultBranch()
    let ref = await client.request<RefData>(
      'GET',
      `${this.base}/git/ref/heads/${encodePath(this.branch)}`,
      undefined,
      [404]
    )
    let creating = false
    if (ref.status === 404 && this.options.startFrom) {
      ref = await client.request<RefData>(
        'GET',
        `${this.base}/git/ref/heads/${encodePath(this.options.startFrom)}`,
        undefined,
        [404]
      )
      creating = true
    }
    if (ref.status === 404) {
      await this.defaultBranch() // throws the clearer "repository not found" when that is the cause
      throw new InputError(
        `${this.options.owner}/${this.options.repo}: target-branch '${creating ? this.options.startFrom : this.branch}' does not exist there`
      )
    }
    return new GitHubSnapshot(this.options, this.base, this.branch, ref.data.object.sha, creating)
  }

  private async defaultBranch(): Promise<string> {
    const repo = await this.options.client.request<{ default_branch: string }>(
      'GET',
      this.base,
      undefined,
      [404]
    )
    if (repo.status === 404)
      throw new InputError(
        `${this.options.owner}/${this.options.repo}: repository not found (or the token cannot see it)`
      )
    return repo.data.default_branch
  }
}

class GitHubSnapshot implements RepoSnapshot {
  private listing?: Promise<Map<string, string>>
  /**
   * The head commit's tree, which the write builds on: learnt with a GraphQL read, else asked
   * of the commits endpoint when the write needs it (so no call is spent on it up front).
   */
  private tree?: string

  constructor(
    private readonly options: GitHubTargetOptions,
    private readonly base: string,
    private readonly branch: string,
    readonly head: string,
    private readonly creating: boolean
  ) {}

  private async treeOfHead(): Promise<string> {
    if (this.tree === undefined) {
      const commit = await this.options.client.request<CommitData>(
        'GET',
        `${this.base}/git/commits/${this.head}`
      )
      this.tree = commit.data.tree.sha
    }
    return this.tree
  }

  read(paths: readonly string[]): Promise<Map<string, string | undefined>> {
    return unavailableOnServerFailure(() => this.readFiles(paths))
  }

  /**
   * GitHub's compare of a sent commit with the head: `ahead` or `identical` means the head's
   * history holds it. A commit GitHub does not know (404) never landed.
   */
  findLanded(pushed: readonly SentCommit[]): Promise<string | undefined> {
    return unavailableOnServerFailure(async () => {
      if (this.creating) return undefined
      for (const p of pushed) {
        const r = await this.options.client.request<{ status: string }>(
          'GET',
          `${this.base}/compare/${p.commit}...${this.head}?per_page=1`,
          undefined,
          [404]
        )
        if (r.status === 200 && ['ahead', 'identical'].includes(r.data.status)) return p.commit
      }
      return undefined
    })
  }

  /**
   * Several files come from one GraphQL query (blobs by `commit:path`, a hundred a query); one
   * file, and any file the query cannot give exactly as stored, from the contents endpoint.
   */
  private async readFiles(paths: readonly string[]): Promise<Map<string, string | undefined>> {
    const out = new Map<string, string | undefined>()
    const rest: string[] = []
    if (paths.length < 2) rest.push(...paths)
    else
      for (let i = 0; i < paths.length; i += graphqlBatch) {
        const batch = paths.slice(i, i + graphqlBatch)
        const read = await this.readBatch(batch)
        for (const p of batch) {
          const r = read?.get(p)
          if (r === undefined || r === restRead) rest.push(p)
          else out.set(p, r.content)
        }
      }
    const contents = await mapLimit(rest, readConcurrency, (path) => this.readFile(path))
    rest.forEach((p, i) => out.set(p, contents[i]))
    return new Map(paths.map((p) => [p, out.get(p)]))
  }

  /**
   * One GraphQL query for these files at the snapshot's commit: a file's text, `{ content:
   * undefined }` for a missing one, and `restRead` where only the contents endpoint gives the
   * exact bytes (binary, truncated, not valid UTF-8, not a file). Undefined when GitHub does
   * not answer the query (an older server, a token without GraphQL): every file is read
   * through the contents endpoint then. A failure on the server or the network is thrown.
   */
  private async readBatch(
    paths: readonly string[]
  ): Promise<Map<string, { content: string | undefined } | typeof restRead> | undefined> {
    const variables: Record<string, string> = {
      owner: this.options.owner,
      name: this.options.repo,
      head: this.head
    }
    const fields = paths.map((p, i) => {
      variables[`e${i}`] = `${this.head}:${p}`
      return `f${i}: object(expression: $e${i}) { ... on Blob { text isBinary isTruncated byteSize } }`
    })
    // The head's tree comes with it: the write builds on it.
    fields.push('head: object(expression: $head) { ... on Commit { tree { oid } } }')
    const query =
      `query($owner: String!, $name: String!, $head: String!, ${paths.map((_, i) => `$e${i}: String!`).join(', ')}) ` +
      `{ repository(owner: $owner, name: $name) { ${fields.join(' ')} } }`
    let answer: {
      repository: (Record<string, BlobData | null> & { head?: { tree?: { oid?: string } } }) | null
    }
    try {
      answer = await this.options.client.graphql(query, variables)
    } catch (e) {
      if (outcomeUnknown(e)) throw e
      return undefined
    }
    if (!answer.repository) return undefined
    this.tree ??= answer.repository.head?.tree?.oid
    const out = new Map<string, { content: string | undefined } | typeof restRead>()
    paths.forEach((p, i) => {
      const blob = answer.repository?.[`f${i}`]
      if (blob === null || blob === undefined) return out.set(p, { content: undefined })
      const exact =
        typeof blob.text === 'string' &&
        blob.isBinary === false &&
        blob.isTruncated === false &&
        !blob.text.includes('\uFFFD') &&
        Buffer.byteLength(blob.text, 'utf8') === blob.byteSize
      out.set(
        p,
        exact ? { content: decodeText(Buffer.from(blob.text as string, 'utf8'), p) } : restRead
      )
    })
    return out
  }

  private async readFile(path: string): Promise<string | undefined> {
    const { client } = this.options
    const r = await client.request<ContentData | ContentData[]>(
      'GET',
      `${this.base}/contents/${encodePath(path)}?ref=${this.head}`,
      undefined,
      [404]
    )
    if (r.status === 404) return undefined
    if (Array.isArray(r.data) || r.data.type !== 'file')
      throw new InputError(`${path} is not a file in ${this.options.owner}/${this.options.repo}`)
    let content = r.data.content
    if (r.data.encoding !== 'base64' || content === undefined || content === '') {
      // Files over 1 MB come without content; the blob endpoint serves them.
      const blob = await client.request<{ content: string }>(
        'GET',
        `${this.base}/git/blobs/${r.data.sha}`
      )
      content = blob.data.content
    }
    return decodeText(Buffer.from(content, 'base64'), path)
  }

  list(): Promise<string[]> {
    return unavailableOnServerFailure(async () => [...(await this.blobs()).keys()])
  }

  blobIds(): Promise<ReadonlyMap<string, string>> {
    return unavailableOnServerFailure(() => this.blobs())
  }

  /** The head's files and their blob ids, asked of the tree endpoint once per snapshot. */
  private blobs(): Promise<Map<string, string>> {
    this.listing ??= this.listFiles().catch((e: unknown) => {
      this.listing = undefined // a failed listing is asked again on the next call
      throw e
    })
    return this.listing
  }

  private async listFiles(): Promise<Map<string, string>> {
    // The endpoint takes the commit's SHA for its tree (GitHub resolves it), so the listing
    // costs no call for the tree's own SHA.
    const r = await this.options.client.request<{
      truncated: boolean
      tree: { path: string; type: string; sha: string }[]
    }>('GET', `${this.base}/git/trees/${this.head}?recursive=1`)
    if (r.data.truncated)
      throw new InputError(
        'the repository tree is too large to list through the API; name manifest files instead of globs'
      )
    return new Map(r.data.tree.filter((e) => e.type === 'blob').map((e) => [e.path, e.sha]))
  }

  async write(changes: readonly FileChange[], message: string): Promise<WriteOutcome> {
    const { client, author, committer } = this.options
    // Trees and commits are content-addressed: sending one twice changes nothing visible, so
    // the client may replay them after a 5xx or a lost connection.
    const tree = await client.request<{ sha: string }>(
      'POST',
      `${this.base}/git/trees`,
      {
        base_tree: await this.treeOfHead(),
        // `sha: null` deletes the path (GitHub refuses it for a path the base tree lacks: the
        // plan only deletes files it read).
        tree: changes.map((c) =>
          c.after === undefined
            ? { path: c.path, mode: '100644', type: 'blob', sha: null }
            : { path: c.path, mode: '100644', type: 'blob', content: c.after }
        )
      },
      [],
      true
    )
    const commit = await client.request<{ sha: string }>(
      'POST',
      `${this.base}/git/commits`,
      {
        message,
        tree: tree.data.sha,
        parents: [this.head],
        ...(author ? { author } : {}),
        ...(committer ? { committer } : author ? { committer: author } : {})
      },
      [],
      true
    )
    const sha = commit.data.sha
    const ref = `refs/heads/${this.branch}`
    let r
    try {
      // Never replayed: a ref create or move whose answer was lost is checked by the retry
      // loop's next read of the branch (is it at `sha`?), not sent again.
      r = this.creating
        ? await client.request('POST', `${this.base}/git/refs`, { ref, sha }, [409, 422])
        : await client.request(
            'PATCH',
            `${this.base}/git/${encodePath(ref)}`,
            { sha, force: false },
            [409, 422]
          )
    } catch (e) {
      if (outcomeUnknown(e)) return { kind: 'failed', reason: (e as Error).message, commit: sha }
      throw e
    }
    if (r.status < 300) return { kind: 'written', commit: sha }
    const text = JSON.stringify(r.data ?? '')
    if (r.status === 409 || /fast forward|already exists|conflict/i.test(text))
      return {
        kind: 'conflict',
        reason: `${r.status} ${(r.data as { message?: string } | undefined)?.message ?? ''}`.trim()
      }
    throw new GitHubApiError(`updating ${ref} failed: ${r.status} ${text}`, r.status, ref)
  }
}

/** A read that failed on the network or the server: the bump loop's retry, not the run's end. */
async function unavailableOnServerFailure<T>(read: () => Promise<T>): Promise<T> {
  try {
    return await read()
  } catch (e) {
    if (!outcomeUnknown(e)) throw e
    const { status, message } = e as GitHubApiError
    // The message without its `METHOD path: `, e.g. `no answer from https://… within 30s`.
    const cause = /^[A-Z]+ \S+: (.+)$/s.exec(message)?.[1] ?? message
    throw new RemoteUnavailableError(
      message,
      status === 0 ? cause.slice(0, 200) : `HTTP ${status} from the API`
    )
  }
}
