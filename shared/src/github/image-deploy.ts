import { InputError } from '../errors.js'
import type { Redactor } from '../secrets/index.js'
import {
  checkBranchRef,
  checkToken,
  runBump,
  type BumpRequest,
  type BumpResult,
  type RepositorySpec,
  type RepoTarget
} from '../bump/index.js'
import { GitBranchTarget, type GitIdentity } from '../git/index.js'
import { encodePath, GitHubClient } from './client.js'
import { bumpBranchName, ensurePullRequest, findPullRequest } from './pulls.js'
import { GitHubBranchTarget } from './transport.js'

/** How and where the image-deployer writes; shared by the action and `kit bump`. */
export interface ImageDeploySettings {
  readonly repository: RepositorySpec
  readonly token?: string
  readonly transport: 'git' | 'api'
  readonly mode: 'commit' | 'pull-request'
  /** The manifests branch; empty for the repository's default branch. */
  readonly targetBranch: string
  readonly request: BumpRequest
  readonly dryRun: boolean
  readonly maxAttempts: number
  /** Required by the git transport; optional for the API (GitHub then uses the token's identity). */
  readonly author?: GitIdentity
  readonly committer?: GitIdentity
  readonly apiUrl: string
  readonly tempDir?: string
}

export interface ImageDeployResult extends BumpResult {
  /** The branch written: the target branch, or the bump branch in pull-request mode. */
  readonly branch: string
  readonly targetBranch: string
  readonly pullRequestUrl?: string
  /** API calls made (API transport and pull requests). */
  readonly apiCalls: number
}

/** Who commits when the git transport has no author input: GitHub Actions' own bot. */
export const defaultGitAuthor: GitIdentity = {
  name: 'github-actions[bot]',
  email: '41898282+github-actions[bot]@users.noreply.github.com'
}

/**
 * Runs one image bump end to end: picks the transport, resolves the target branch, runs the
 * retrying core, and in pull-request mode writes the bump branch `kit/bump/<image>/<branch>`
 * and opens or updates its pull request.
 */
export async function deployImage(
  settings: ImageDeploySettings,
  io: {
    log: (line: string) => void
    redactor: Redactor
    fetch?: typeof fetch
    sleep?: (ms: number) => Promise<void>
  }
): Promise<ImageDeployResult> {
  const { repository, request, token } = settings
  if (token) {
    io.redactor.add(token)
    checkToken('the token', token)
  }
  if (settings.targetBranch !== '') checkBranchRef('target-branch', settings.targetBranch)
  const github = repository.github
  const needsApi = settings.transport === 'api' || settings.mode === 'pull-request'
  if (needsApi && !github)
    throw new InputError(
      `${settings.transport === 'api' ? 'transport: api' : 'mode: pull-request'} needs a GitHub repository (owner/name); ${repository.gitUrl} is not on the GitHub server`
    )
  if (needsApi && !token) throw new InputError('the token input is required for the GitHub API')
  const client =
    needsApi && token
      ? new GitHubClient({
          apiUrl: settings.apiUrl,
          token,
          fetch: io.fetch,
          sleep: io.sleep,
          log: io.log,
          redactor: io.redactor
        })
      : undefined

  let targetBranch = settings.targetBranch
  if (settings.mode === 'pull-request' && targetBranch === '' && client && github) {
    const repo = await client.request<{ default_branch: string }>(
      'GET',
      `/repos/${github.owner}/${github.repo}`,
      undefined,
      [404]
    )
    if (repo.status === 404)
      throw new InputError(
        `${github.owner}/${github.repo}: repository not found (or the token cannot see it)`
      )
    targetBranch = repo.data.default_branch
  }
  const prBranch =
    settings.mode === 'pull-request' ? bumpBranchName(request.imageName, request.branch) : undefined
  const branch = prBranch ?? targetBranch

  let target: RepoTarget & { branchName: string }
  let cleanup = async (): Promise<void> => undefined
  if (settings.transport === 'api' && client && github) {
    target = new GitHubBranchTarget({
      client,
      owner: github.owner,
      repo: github.repo,
      branch,
      startFrom: prBranch ? targetBranch : undefined,
      author: settings.author,
      committer: settings.committer
    })
  } else {
    const git = new GitBranchTarget({
      url: repository.gitUrl,
      token,
      branch,
      startFrom: prBranch ? targetBranch : undefined,
      author: settings.author ?? defaultGitAuthor,
      committer: settings.committer,
      tempDir: settings.tempDir,
      redactor: io.redactor
    })
    target = git
    cleanup = () => git.close()
  }

  try {
    const result = await runBump(
      target,
      { ...request, targetBranch: targetBranch || undefined },
      {
        maxAttempts: settings.maxAttempts,
        dryRun: settings.dryRun,
        log: io.log,
        sleep: io.sleep
      }
    )
    const resolvedTarget = targetBranch || target.branchName
    let pullRequestUrl: string | undefined
    if (prBranch && client && github) {
      const body = (message: string): string =>
        [
          ...message.split('\n').slice(1),
          '',
          'Opened by kit image-deployer; newer builds of this image and branch update this pull request.'
        ]
          .join('\n')
          .trim()
      const spec = (title: string, message: string) => ({
        owner: github.owner,
        repo: github.repo,
        head: prBranch,
        base: resolvedTarget,
        title,
        body: body(message)
      })
      if (result.outcome === 'committed') {
        const pr = await ensurePullRequest(
          client,
          spec(result.message.split('\n')[0], result.message)
        )
        pullRequestUrl = pr.url
        io.log(`${pr.created ? 'opened' : 'updated'} pull request ${pr.url}`)
      } else {
        pullRequestUrl = (
          await findPullRequest(client, github.owner, github.repo, prBranch, resolvedTarget)
        )?.url
        // A bump branch left without a pull request (an earlier run could not open it) gets
        // one now, even though this run had nothing new to commit.
        const refPath = `/repos/${encodeURIComponent(github.owner)}/${encodeURIComponent(github.repo)}/git/ref/heads/${encodePath(prBranch)}`
        if (
          !pullRequestUrl &&
          result.outcome === 'unchanged' &&
          (await client.request('GET', refPath, undefined, [404])).status === 200
        ) {
          const title = `Bump ${request.imageName} (${request.branch})`
          pullRequestUrl = (await ensurePullRequest(client, spec(title, ''))).url
          io.log(`opened pull request ${pullRequestUrl} for the existing ${prBranch}`)
        }
      }
    }
    return {
      ...result,
      branch: target.branchName,
      targetBranch: resolvedTarget,
      pullRequestUrl,
      apiCalls: client?.calls ?? 0
    }
  } finally {
    await cleanup()
  }
}
