import type { GitHubClient } from './client.js'

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

/** The open pull request from `head` into `base`, if any. */
export async function findPullRequest(
  client: GitHubClient,
  owner: string,
  repo: string,
  head: string,
  base: string
): Promise<{ url: string; number: number } | undefined> {
  const path = `/repos/${encodeURIComponent(owner)}/${encodeURIComponent(repo)}/pulls`
  const query = `?state=open&head=${encodeURIComponent(`${owner}:${head}`)}&base=${encodeURIComponent(base)}`
  const open = await client.request<PullData[]>('GET', path + query)
  const pr = open.data[0]
  return pr ? { url: pr.html_url, number: pr.number } : undefined
}

/**
 * Opens the pull request for a bump branch, or updates the open one in place (title and body
 * follow the newest build). Endpoints: GET /repos/{o}/{r}/pulls?head=&base=&state=open,
 * POST /repos/{o}/{r}/pulls, PATCH /repos/{o}/{r}/pulls/{n}. Needs pull-requests: write.
 */
export async function ensurePullRequest(
  client: GitHubClient,
  spec: PullRequestSpec
): Promise<{ url: string; number: number; created: boolean }> {
  const base = `/repos/${encodeURIComponent(spec.owner)}/${encodeURIComponent(spec.repo)}/pulls`
  const query = `?state=open&head=${encodeURIComponent(`${spec.owner}:${spec.head}`)}&base=${encodeURIComponent(spec.base)}`
  const open = await client.request<PullData[]>('GET', base + query)
  const existing = open.data[0]
  if (existing) {
    if (existing.title !== spec.title)
      await client.request('PATCH', `${base}/${existing.number}`, {
        title: spec.title,
        body: spec.body
      })
    return { url: existing.html_url, number: existing.number, created: false }
  }
  const created = await client.request<PullData>('POST', base, {
    title: spec.title,
    body: spec.body,
    head: spec.head,
    base: spec.base
  })
  return { url: created.data.html_url, number: created.data.number, created: true }
}
