/**
 * Optional GitHub Deployments: one deployment per cluster environment
 * (`<environment-prefix><cluster>`) on the deployed commit, with statuses in_progress →
 * success / failure / error, so GitHub's environments page shows what runs where. Tested
 * against a local stand-in for the two REST endpoints it calls, not against live GitHub.
 */
import { GitHubClient } from '../../shared/src/github/client.js'
import type { DeployLog } from '../../shared/src/deploy/cluster/types.js'
import type { FleetRow } from '../../shared/src/deploy/fleet/index.js'
import type { Redactor } from '../../shared/src/secrets/redact.js'
import { plural } from '../../shared/src/text/plural.js'

export interface GithubDeploymentsOptions {
  readonly token: string
  /** owner/name */
  readonly repository: string
  readonly ref: string
  readonly environmentPrefix: string
  readonly runUrl?: string
  /** REST API root (GITHUB_API_URL on the runner). */
  readonly apiUrl: string
  readonly log: DeployLog
  readonly redactor: Redactor
}

/** Hooks for the fleet runner: a deployment when a cluster starts, a final status when it ends. */
export interface GithubDeployments {
  start(cluster: string): Promise<void>
  finish(row: FleetRow): Promise<void>
}

type State = 'in_progress' | 'success' | 'failure' | 'error'

/** The final deployment status of a cluster's outcome. */
export function deploymentState(outcome: FleetRow['outcome']): State {
  if (outcome === 'changed' || outcome === 'unchanged') return 'success'
  if (outcome === 'skipped') return 'error'
  return 'failure'
}

/**
 * Creates the reporter. Every API failure is a warning: reporting must never fail or block a
 * deploy that already happened.
 */
export function createGithubDeployments(options: GithubDeploymentsOptions): GithubDeployments {
  // kit's one GitHub client: rate limits are waited out briefly (reporting must not hold a
  // deploy up), and creating a deployment or a status is never replayed after a 5xx.
  const { octokit } = new GitHubClient({
    apiUrl: options.apiUrl,
    token: options.token,
    redactor: options.redactor,
    maxRateLimitWaitMs: 10_000,
    userAgent: 'kit-deployer',
    log: (line) => options.log.info(line)
  })
  const [owner, repo] = options.repository.split('/')
  const ids = new Map<string, number>()
  const warn = (what: string, err: unknown): void =>
    options.log.warning(
      options.redactor.scrub(
        `GitHub deployment ${what}: ${err instanceof Error ? err.message : String(err)}`
      )
    )
  const setStatus = async (
    cluster: string,
    id: number,
    state: State,
    description: string
  ): Promise<void> => {
    await octokit.rest.repos.createDeploymentStatus({
      owner,
      repo,
      deployment_id: id,
      state,
      description: options.redactor.scrub(description).slice(0, 140),
      environment: `${options.environmentPrefix}${cluster}`,
      ...(options.runUrl ? { log_url: options.runUrl } : {}),
      auto_inactive: state === 'success'
    })
  }
  return {
    async start(cluster) {
      try {
        const res = await octokit.rest.repos.createDeployment({
          owner,
          repo,
          ref: options.ref,
          environment: `${options.environmentPrefix}${cluster}`,
          auto_merge: false,
          required_contexts: [],
          description: `kit deploy to ${cluster}`,
          payload: { cluster }
        })
        const id = (res.data as { id?: number }).id
        if (typeof id !== 'number')
          throw new Error(`no deployment id in the answer (HTTP ${res.status})`)
        ids.set(cluster, id)
        await setStatus(cluster, id, 'in_progress', `deploying to ${cluster}`)
      } catch (err) {
        warn(`for ${cluster} could not be created`, err)
      }
    },
    async finish(row) {
      const id = ids.get(row.cluster)
      if (id === undefined) return
      try {
        await setStatus(
          row.cluster,
          id,
          deploymentState(row.outcome),
          row.reason ?? `${row.outcome}: ${plural(row.objectsChanged, 'object')} changed`
        )
      } catch (err) {
        warn(`status for ${row.cluster} could not be set`, err)
      }
    }
  }
}
