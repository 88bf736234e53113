/**
 * The transports, in one map: the only place that knows which exist. The action's
 * `transport` input, `kit bump --transport` and deployImage all read this map, so a new
 * transport is one entry here (an object implementing Transport), nothing else.
 */
import { GitBranchTarget, type GitIdentity } from '../git/index.js'
import { GitHubBranchTarget } from '../github/index.js'
import type { Transport } from './types.js'
import { WorkingCopyTarget } from './working-copy.js'

/** Who commits when the git transport has no author input: GitHub Actions' own bot. */
export const defaultGitAuthor: GitIdentity = {
  name: 'github-actions[bot]',
  email: '41898282+github-actions[bot]@users.noreply.github.com'
}

export const transports = {
  git: {
    summary: 'git over HTTPS: a shallow partial fetch and a plain push (any git host)',
    remote: true,
    needsGitHubApi: false,
    pullRequests: true,
    concurrentWriters: true,
    open({ settings, branch, startFrom, io, deadline }) {
      const target = new GitBranchTarget({
        url: settings.repository.gitUrl,
        token: settings.token,
        branch,
        startFrom,
        author: settings.author ?? defaultGitAuthor,
        committer: settings.committer,
        tempDir: settings.tempDir,
        redactor: io.redactor,
        deadline
      })
      return { target, close: () => target.close() }
    }
  },
  api: {
    summary: 'the GitHub REST API: no clone, commits GitHub can sign',
    remote: true,
    needsGitHubApi: true,
    pullRequests: true,
    concurrentWriters: true,
    open({ settings, branch, startFrom, github }) {
      if (!github) throw new Error('internal: the api transport opened without a GitHub client')
      const target = new GitHubBranchTarget({
        client: github.client,
        owner: github.owner,
        repo: github.repo,
        branch,
        startFrom,
        author: settings.author,
        committer: settings.committer
      })
      return { target, close: async () => undefined }
    }
  },
  'working-copy': {
    summary: 'a local folder, edited in place (nothing is committed)',
    remote: false,
    needsGitHubApi: false,
    pullRequests: false,
    concurrentWriters: false,
    open({ settings }) {
      return {
        target: new WorkingCopyTarget(settings.repository.gitUrl),
        close: async () => undefined
      }
    }
  }
} as const satisfies Record<string, Transport>

export type TransportName = keyof typeof transports

/** Every transport name, in the map's order. */
export const transportNames = Object.keys(transports) as TransportName[]

/** The transports that reach a remote repository (what a `transport` setting may name). */
export const remoteTransportNames = transportNames.filter((n) => transports[n].remote)

/** The transport named `name`; undefined for a name the map does not hold. */
export function transportNamed(name: string): Transport | undefined {
  return Object.hasOwn(transports, name) ? transports[name as TransportName] : undefined
}
