/**
 * Optional GitHub Deployments: one deployment per cluster on the deployed commit, in the
 * environment the `environment` input names (`{cluster}` by default: one environment per
 * cluster), with statuses in_progress → success / failure / error, so GitHub's environments page
 * shows what runs where. Tested against the GitHub API stand-in (testinfra/github-api), which
 * creates a missing environment on a deployment as GitHub does, not against live GitHub.
 *
 * A deployment made through the API never waits for an environment's protection rules (they gate
 * jobs), and GitHub creates an environment it does not know without any: so kit never invents an
 * environment of its own, and in a job that has one, the input names it (docs/deployer.md).
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
  /** The environment's name, `{cluster}` standing for the cluster (default: the cluster). */
  readonly environment?: string
  /** Put before the name (the older form of environment: 'prefix{cluster}'). */
  readonly environmentPrefix?: string
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

/** The GitHub environment of a cluster's deployment. */
export function environmentName(
  cluster: string,
  options: Pick<GithubDeploymentsOptions, 'environment' | 'environmentPrefix'>
): string {
  return `${options.environmentPrefix ?? ''}${(options.environment ?? '{cluster}').replaceAll('{cluster}', cluster)}`
}

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
  const environment = (cluster: string): string => environmentName(cluster, options)
  // Several clusters in one environment (a wave's): a success must not mark the other clusters'
  // deployments there inactive, or the environment would show only the last cluster.
  const perCluster = (options.environment ?? '{cluster}').includes('{cluster}')
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
      environment: environment(cluster),
      ...(options.runUrl ? { log_url: options.runUrl } : {}),
      auto_inactive: state === 'success' && perCluster
    })
  }
  return {
    async start(cluster) {
      try {
        const res = await octokit.rest.repos.createDeployment({
          owner,
          repo,
          ref: options.ref,
          environment: environment(cluster),
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
