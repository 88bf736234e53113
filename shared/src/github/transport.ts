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
import { encodePath, GitHubApiError, outcomeUnknown, type GitHubClient } from './client.js'

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
 * The GitHub API transport, no clone: read the ref, the commit and the files (contents
 * endpoint), then write a tree (inline contents), a commit and move the ref with
 * `force: false` — GitHub's compare-and-swap: 422 "Update is not a fast forward" when the
 * branch moved, which the retry loop turns into a re-read and re-apply.
 *
 * Endpoints: GET /repos/{o}/{r} (default branch, and to explain a 404), GET
 * /repos/{o}/{r}/git/ref/heads/{b}, GET /git/commits/{sha}, GET /contents/{path}?ref=, GET
 * /git/blobs/{sha} (files over 1 MB), GET /git/trees/{sha}?recursive=1 (globs), POST
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
    const head = ref.data.object.sha
    const commit = await client.request<CommitData>('GET', `${this.base}/git/commits/${head}`)
    return new GitHubSnapshot(
      this.options,
      this.base,
      this.branch,
      head,
      commit.data.tree.sha,
      creating
    )
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
  constructor(
    private readonly options: GitHubTargetOptions,
    private readonly base: string,
    private readonly branch: string,
    readonly head: string,
    private readonly tree: string,
    private readonly creating: boolean
  ) {}

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

  private async readFiles(paths: readonly string[]): Promise<Map<string, string | undefined>> {
    const { client } = this.options
    const out = new Map<string, string | undefined>()
    for (const path of paths) {
      const r = await client.request<ContentData | ContentData[]>(
        'GET',
        `${this.base}/contents/${encodePath(path)}?ref=${this.head}`,
        undefined,
        [404]
      )
      if (r.status === 404) {
        out.set(path, undefined)
        continue
      }
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
      out.set(path, decodeText(Buffer.from(content, 'base64'), path))
    }
    return out
  }

  list(): Promise<string[]> {
    return unavailableOnServerFailure(() => this.listFiles())
  }

  private async listFiles(): Promise<string[]> {
    const r = await this.options.client.request<{
      truncated: boolean
      tree: { path: string; type: string }[]
    }>('GET', `${this.base}/git/trees/${this.tree}?recursive=1`)
    if (r.data.truncated)
      throw new InputError(
        'the repository tree is too large to list through the API; name manifest files instead of globs'
      )
    return r.data.tree.filter((e) => e.type === 'blob').map((e) => e.path)
  }

  async write(changes: readonly FileChange[], message: string): Promise<WriteOutcome> {
    const { client, author, committer } = this.options
    // Trees and commits are content-addressed: sending one twice changes nothing visible, so
    // the client may replay them after a 5xx or a lost connection.
    const tree = await client.request<{ sha: string }>(
      'POST',
      `${this.base}/git/trees`,
      {
        base_tree: this.tree,
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
