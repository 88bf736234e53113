import { checkBranchName } from '../images/index.js'
import { checkToken, runBump } from '../bump/index.js'
import { InputError } from '../errors.js'
import { bumpBranchName, GitHubClient } from '../github/index.js'
import { deadlineIn, type Deadline } from '../retry/deadline.js'
import { checkServiceTemplates, templateCheckReads } from '../service-templates/check.js'
import { settlePullRequest } from './pull-request.js'
import { transportNamed } from './transports.js'
import {
  defaultBumpTimeoutMs,
  type GitHubConnection,
  type ImageDeployIo,
  type ImageDeployResult,
  type ImageDeploySettings,
  type Transport
} from './types.js'

/**
 * Runs one image bump end to end: picks the transport from the map, resolves the target
 * branch, runs the retrying core, and in pull-request mode writes the bump branch
 * `kit/bump/<image>/<branch>` and opens or updates its pull request. Everything, network calls
 * and waits alike, fits in the settings' time budget (`timeout`).
 */
export async function deployImage(
  settings: ImageDeploySettings,
  io: ImageDeployIo
): Promise<ImageDeployResult> {
  const transport = checkSettings(settings, io)
  const deadline = deadlineIn(settings.timeoutMs ?? defaultBumpTimeoutMs)
  const github = connectGitHub(settings, transport, io, deadline)
  const targetBranch = await resolveTargetBranch(settings, github)
  const prBranch =
    settings.mode === 'pull-request'
      ? bumpBranchName(settings.request.imageName, settings.request.branch)
      : undefined
  const opened = transport.open({
    settings,
    branch: prBranch ?? targetBranch,
    startFrom: prBranch ? targetBranch : undefined,
    github,
    io,
    deadline
  })
  try {
    const result = await runBump(
      opened.target,
      { ...settings.request, targetBranch: targetBranch || undefined },
      {
        maxAttempts: transport.concurrentWriters ? settings.maxAttempts : 1,
        deadline,
        dryRun: settings.dryRun,
        log: io.log,
        sleep: io.sleep,
        check: preWriteCheck(settings, io),
        checkReads: settings.request.templates
          ? (listing) => templateCheckReads(listing, settings.request)
          : undefined
      }
    )
    const resolvedTarget = targetBranch || opened.target.branchName
    const pullRequestUrl =
      prBranch && github
        ? await settlePullRequest(
            github,
            settings.request,
            result,
            prBranch,
            resolvedTarget,
            io.log
          )
        : undefined
    return {
      ...result,
      branch: opened.target.branchName,
      targetBranch: resolvedTarget,
      pullRequestUrl,
      apiCalls: github?.client.calls ?? 0
    }
  } finally {
    await opened.close()
  }
}

/**
 * What runs before every write: the caller's check, and for a bump carrying service-owned
 * templates, the render of the planned state on the clusters that would use them (so a broken
 * template never lands).
 */
function preWriteCheck(settings: ImageDeploySettings, io: ImageDeployIo): ImageDeployIo['check'] {
  const { request } = settings
  if (!request.templates) return io.check
  return async (snapshot, plan) => {
    await io.check?.(snapshot, plan)
    const checked = await checkServiceTemplates(snapshot, plan, request)
    io.log(checked.note)
  }
}

/** The transport the settings name, once they are consistent with it. */
function checkSettings(settings: ImageDeploySettings, io: ImageDeployIo): Transport {
  const transport = transportNamed(settings.transport)
  if (!transport) throw new InputError(`transport '${settings.transport}' is unknown`)
  if (settings.token) {
    io.redactor.add(settings.token)
    checkToken('the token', settings.token)
  }
  if (settings.targetBranch !== '') checkBranchName('target-branch', settings.targetBranch)
  if (settings.mode === 'pull-request' && !transport.pullRequests)
    throw new InputError(
      `transport: ${settings.transport} cannot open pull requests; use mode: commit`
    )
  const needsApi = transport.needsGitHubApi || settings.mode === 'pull-request'
  if (needsApi && !settings.repository.github)
    throw new InputError(
      `${transport.needsGitHubApi ? `transport: ${settings.transport}` : 'mode: pull-request'} needs a GitHub repository (owner/name); ${settings.repository.gitUrl} is not on the GitHub server`
    )
  if (needsApi && !settings.token)
    throw new InputError('the token input is required for the GitHub API')
  return transport
}

/** The GitHub client, when the transport or pull-request mode needs the API. */
function connectGitHub(
  settings: ImageDeploySettings,
  transport: Transport,
  io: ImageDeployIo,
  deadline: Deadline
): GitHubConnection | undefined {
  const { github } = settings.repository
  const needsApi = transport.needsGitHubApi || settings.mode === 'pull-request'
  if (!needsApi || !github || !settings.token) return undefined
  const client = new GitHubClient({
    apiUrl: settings.apiUrl,
    token: settings.token,
    fetch: io.fetch,
    sleep: io.sleep,
    log: io.log,
    redactor: io.redactor,
    userAgent: 'kit-image-deployer',
    deadline
  })
  return { client, owner: github.owner, repo: github.repo }
}

/**
 * The manifests branch: as set, or in pull-request mode the repository's default branch (the
 * pull request needs a base). Empty in commit mode: the transport resolves it.
 */
async function resolveTargetBranch(
  settings: ImageDeploySettings,
  github: GitHubConnection | undefined
): Promise<string> {
  if (settings.targetBranch !== '' || settings.mode !== 'pull-request' || !github)
    return settings.targetBranch
  const repo = await github.client.request<{ default_branch: string }>(
    'GET',
    `/repos/${github.owner}/${github.repo}`,
    undefined,
    [404]
  )
  if (repo.status === 404)
    throw new InputError(
      `${github.owner}/${github.repo}: repository not found (or the token cannot see it)`
    )
  return repo.data.default_branch
}
