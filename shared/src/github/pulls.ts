import { GitHubApiError, outcomeUnknown, type GitHubClient } from './client.js'

export interface PullRequestSpec {
  readonly owner: string
  readonly repo: string
  /** The bump branch (`kit/bump/<image>/<branch>`). */
  readonly head: string
  /** The branch the PR merges into. */
  readonly base: string
  readonly title: string
  readonly body: string
}

interface PullData {
  number: number
  html_url: string
  title: string
}

/** The branch a pull-request-mode bump writes: one per image and service branch. */
export function bumpBranchName(imageName: string, branch: string): string {
  return `kit/bump/${imageName}/${branch}`
}

function pullsPath(owner: string, repo: string): string {
  return `/repos/${encodeURIComponent(owner)}/${encodeURIComponent(repo)}/pulls`
}

/** The open pull request from `head` into `base`, if any. */
export async function findPullRequest(
  client: GitHubClient,
  owner: string,
  repo: string,
  head: string,
  base: string
): Promise<{ url: string; number: number; title: string } | undefined> {
  const query = `?state=open&head=${encodeURIComponent(`${owner}:${head}`)}&base=${encodeURIComponent(base)}`
  const open = await client.request<PullData[]>('GET', pullsPath(owner, repo) + query)
  const pr = open.data[0]
  return pr ? { url: pr.html_url, number: pr.number, title: pr.title } : undefined
}

/**
 * Opens the pull request for a bump branch, or updates the open one in place (title and body
 * follow the newest build). Endpoints: GET /repos/{o}/{r}/pulls?head=&base=&state=open,
 * POST /repos/{o}/{r}/pulls, PATCH /repos/{o}/{r}/pulls/{n}. Needs pull-requests: write.
 *
 * Opening is never sent twice: when its answer is lost (a 5xx, a dropped connection) or GitHub
 * says one already exists (another run opened it meanwhile), the open pull request is looked
 * up instead.
 */
export async function ensurePullRequest(
  client: GitHubClient,
  spec: PullRequestSpec
): Promise<{ url: string; number: number; created: boolean }> {
  const base = pullsPath(spec.owner, spec.repo)
  const existing = await findPullRequest(client, spec.owner, spec.repo, spec.head, spec.base)
  if (existing) {
    if (existing.title !== spec.title)
      await client.request(
        'PATCH',
        `${base}/${existing.number}`,
        { title: spec.title, body: spec.body },
        [],
        true
      )
    return { url: existing.url, number: existing.number, created: false }
  }
  let created
  try {
    created = await client.request<PullData>(
      'POST',
      base,
      { title: spec.title, body: spec.body, head: spec.head, base: spec.base },
      [422]
    )
  } catch (e) {
    if (!outcomeUnknown(e)) throw e
    const landed = await findPullRequest(client, spec.owner, spec.repo, spec.head, spec.base)
    if (landed) return { url: landed.url, number: landed.number, created: true }
    throw e
  }
  if (created.status === 422) {
    const other = await findPullRequest(client, spec.owner, spec.repo, spec.head, spec.base)
    if (other) return { url: other.url, number: other.number, created: false }
    throw new GitHubApiError(
      `GitHub POST ${base} failed: 422 ${(created.data as { message?: string } | undefined)?.message ?? ''}`,
      422,
      base
    )
  }
  return { url: created.data.html_url, number: created.data.number, created: true }
}
