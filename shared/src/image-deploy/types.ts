import type {
  BumpPlan,
  BumpRequest,
  BumpResult,
  RepositorySpec,
  RepoSnapshot,
  RepoTarget
} from '../bump/index.js'
import type { GitIdentity } from '../git/index.js'
import type { GitHubClient } from '../github/index.js'
import type { Deadline } from '../retry/deadline.js'
import type { Redactor } from '../secrets/index.js'

/** How long a bump may take in all, retries included, when the settings do not say: 5 minutes. */
export const defaultBumpTimeoutMs = 5 * 60_000

/** How and where the image-deployer writes; shared by the action and `kit bump`. */
export interface ImageDeploySettings<Transport extends string = string> {
  /** The manifests repository; for the working-copy transport, `gitUrl` is the folder. */
  readonly repository: RepositorySpec
  readonly token?: string
  /** A name from the transport map (transports.ts). */
  readonly transport: Transport
  readonly mode: 'commit' | 'pull-request'
  /** The manifests branch; empty for the repository's default branch. */
  readonly targetBranch: string
  readonly request: BumpRequest
  readonly dryRun: boolean
  /** The time budget of the whole bump (every request and wait); defaultBumpTimeoutMs if unset. */
  readonly timeoutMs?: number
  /** An optional cap on attempts; unset, the time budget alone bounds the retries. */
  readonly maxAttempts?: number
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

/** What a deploy reports to and waits with; `fetch` and `sleep` are replaced in tests. */
export interface ImageDeployIo {
  readonly log: (line: string) => void
  readonly redactor: Redactor
  readonly fetch?: typeof fetch
  readonly sleep?: (ms: number) => Promise<void>
  /**
   * Checked before every write (and in a dry run) on the snapshot the plan was made on: a
   * throw ends the deploy with nothing written (runBump's `check`).
   */
  readonly check?: (snapshot: RepoSnapshot, plan: BumpPlan) => Promise<void>
}

/** The GitHub repository and the client to reach it, when the deploy needs the API. */
export interface GitHubConnection {
  readonly client: GitHubClient
  readonly owner: string
  readonly repo: string
}

/** What a transport gets to open its target. */
export interface TransportContext {
  readonly settings: ImageDeploySettings
  /** The branch to write (empty: the default branch, resolved by the transport). */
  readonly branch: string
  /** Pull-request mode: `branch` is a bump branch, created from this branch when missing. */
  readonly startFrom?: string
  /** Set when the transport declares `needsGitHubApi` (or the mode opens pull requests). */
  readonly github?: GitHubConnection
  readonly io: ImageDeployIo
  /** The run's time budget, which every network call of the transport fits in. */
  readonly deadline: Deadline
}

/** A target ready for the bump loop, and how to release what it holds. */
export interface OpenedTarget {
  readonly target: RepoTarget & { readonly branchName: string }
  close(): Promise<void>
}

/**
 * One way of reaching the manifests repository. Adding a transport is adding one entry to
 * the map in transports.ts; the action's and the CLI's choices are read from it.
 */
export interface Transport {
  /** One line for help texts. */
  readonly summary: string
  /** False for a target given as a local folder rather than a URL or owner/name. */
  readonly remote: boolean
  /** Needs a GitHub repository (owner/name) and a token: the REST API is its wire. */
  readonly needsGitHubApi: boolean
  /** Can write a bump branch for mode: pull-request. */
  readonly pullRequests: boolean
  /** Others may write the branch at the same time (false: one attempt is enough). */
  readonly concurrentWriters: boolean
  open(context: TransportContext): OpenedTarget
}
