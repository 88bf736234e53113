import type { BumpRequest, BumpResult } from '../bump/index.js'
import { encodePath, ensurePullRequest, findPullRequest } from '../github/index.js'
import type { GitHubConnection } from './types.js'

/** The pull request's description: the commit message's body, and who opened it. */
function pullRequestBody(message: string): string {
  return [
    ...message.split('\n').slice(1),
    '',
    'Opened by kit image-deployer; newer builds of this image and branch update this pull request.'
  ]
    .join('\n')
    .trim()
}

/**
 * After a pull-request-mode bump: opens or updates the pull request from the bump branch
 * `head` into `base`. A bump branch left without a pull request (an earlier run could not open
 * it) gets one now, even when this run had nothing new to commit. Returns its URL, if any.
 */
export async function settlePullRequest(
  github: GitHubConnection,
  request: BumpRequest,
  result: BumpResult,
  head: string,
  base: string,
  log: (line: string) => void
): Promise<string | undefined> {
  const { client, owner, repo } = github
  const spec = (title: string, message: string) => ({
    owner,
    repo,
    head,
    base,
    title,
    body: pullRequestBody(message)
  })
  if (result.outcome === 'committed') {
    const pr = await ensurePullRequest(client, spec(result.message.split('\n')[0], result.message))
    log(`${pr.created ? 'opened' : 'updated'} pull request ${pr.url}`)
    return pr.url
  }
  const url = (await findPullRequest(client, owner, repo, head, base))?.url
  if (url || result.outcome !== 'unchanged') return url
  const refPath = `/repos/${encodeURIComponent(owner)}/${encodeURIComponent(repo)}/git/ref/heads/${encodePath(head)}`
  if ((await client.request('GET', refPath, undefined, [404])).status !== 200) return undefined
  const pr = await ensurePullRequest(
    client,
    spec(`Bump ${request.imageName} (${request.branch})`, '')
  )
  log(`opened pull request ${pr.url} for the existing ${head}`)
  return pr.url
}
