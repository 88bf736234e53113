/**
 * GitHub Deployments and environments in the GitHub API stand-in (./server.ts), kept in memory:
 * the endpoints the deployer's github-deployments calls, what a repository admin does in
 * Settings → Environments (PUT an environment with protection rules), and what the runner does
 * when a job with `environment:` starts. Behaviour follows GitHub's documentation: a deployment
 * or status naming an environment that does not exist creates it, without protection rules; a
 * deployment's `environment` defaults to `production`; `auto_inactive` on a success marks the
 * earlier deployments of the same environment inactive; an unknown ref is 422.
 */

export interface StandInEnvironment {
  readonly name: string
  /** GitHub's protection rule types: `required_reviewers`, `wait_timer`, `branch_policy`. */
  readonly protectionRules: readonly string[]
  /** Who made it: an admin in Settings, a job's `environment:`, or an API deployment. */
  readonly createdBy: 'settings' | 'job' | 'deployment'
}

export interface StandInDeploymentStatus {
  readonly state: string
  readonly description: string
  readonly environment: string
  readonly logUrl?: string
}

export interface StandInDeployment {
  readonly id: number
  readonly ref: string
  readonly sha: string
  environment: string
  readonly description: string
  readonly payload: unknown
  /** `api` for a POST /deployments, `job` for the runner's deployment of a job. */
  readonly createdBy: 'api' | 'job'
  readonly statuses: StandInDeploymentStatus[]
}

/** An answer for the server to send, or an error status with GitHub's message. */
export type DeploymentsAnswer =
  | { readonly status: number; readonly data: unknown }
  | { readonly error: number; readonly message: string }

const states = ['error', 'failure', 'inactive', 'in_progress', 'queued', 'pending', 'success']

/** One repository's deployments and environments. */
export class DeploymentsStore {
  private readonly envs = new Map<string, StandInEnvironment>()
  private readonly list: StandInDeployment[] = []
  private nextId = 1

  constructor(private readonly resolveRef: (ref: string) => Promise<string | undefined>) {}

  get environments(): readonly StandInEnvironment[] {
    return [...this.envs.values()]
  }

  get deployments(): readonly StandInDeployment[] {
    return this.list
  }

  /** What an admin does in Settings → Environments (or PUT /environments/{name}). */
  putEnvironment(name: string, settings: Record<string, unknown>): StandInEnvironment {
    const rules: string[] = []
    if (Array.isArray(settings.reviewers) && settings.reviewers.length > 0)
      rules.push('required_reviewers')
    if (typeof settings.wait_timer === 'number' && settings.wait_timer > 0) rules.push('wait_timer')
    if (settings.deployment_branch_policy) rules.push('branch_policy')
    const env: StandInEnvironment = { name, protectionRules: rules, createdBy: 'settings' }
    this.envs.set(name.toLowerCase(), env)
    return env
  }

  /**
   * What the runner does when a job with `environment: <name>` starts (after the environment's
   * rules let it): the environment is created if missing, and the job gets a deployment there.
   */
  async startJob(environment: string, ref: string): Promise<StandInDeployment> {
    this.ensure(environment, 'job')
    return this.create({ ref, environment, description: '', payload: '' }, 'job')
  }

  /** The REST routes under /repos/{owner}/{repo}, or undefined for a path that is not one. */
  async route(method: string, rest: string, input: Record<string, unknown>) {
    let r: RegExpExecArray | null
    if (rest === '/environments' && method === 'GET')
      return this.ok(200, {
        total_count: this.envs.size,
        environments: this.environments.map((e) => environmentData(e))
      })
    if ((r = /^\/environments\/([^/]+)$/.exec(rest)) && method === 'PUT')
      return this.ok(200, environmentData(this.putEnvironment(decodeURIComponent(r[1]), input)))
    if (rest === '/deployments' && method === 'GET')
      return this.ok(200, this.list.map((d) => deploymentData(d)).reverse())
    if (rest === '/deployments' && method === 'POST') {
      if (typeof input.ref !== 'string') return this.refused(422, 'Invalid request: ref missing')
      const environment = typeof input.environment === 'string' ? input.environment : 'production'
      const sha = await this.resolveRef(input.ref)
      if (!sha) return this.refused(422, `No ref found for: ${input.ref}`)
      this.ensure(environment, 'deployment')
      const d = await this.create(
        {
          ref: input.ref,
          environment,
          description: typeof input.description === 'string' ? input.description : '',
          payload: input.payload ?? {}
        },
        'api'
      )
      return this.ok(201, deploymentData(d))
    }
    if ((r = /^\/deployments\/(\d+)\/statuses$/.exec(rest)) && method === 'POST') {
      const d = this.list.find((x) => x.id === Number(r?.[1]))
      if (!d) return this.refused(404, 'Not Found')
      if (typeof input.state !== 'string' || !states.includes(input.state))
        return this.refused(422, 'Validation Failed')
      return this.ok(201, this.addStatus(d, input))
    }
    return undefined
  }

  private addStatus(d: StandInDeployment, input: Record<string, unknown>) {
    // A status may move its deployment to another environment (created if missing).
    if (typeof input.environment === 'string' && input.environment !== d.environment) {
      this.ensure(input.environment, 'deployment')
      d.environment = input.environment
    }
    const status: StandInDeploymentStatus = {
      state: String(input.state),
      description: typeof input.description === 'string' ? input.description : '',
      environment: d.environment,
      ...(typeof input.log_url === 'string' ? { logUrl: input.log_url } : {})
    }
    d.statuses.push(status)
    if (status.state === 'success' && input.auto_inactive !== false)
      for (const other of this.list)
        if (
          other !== d &&
          other.environment.toLowerCase() === d.environment.toLowerCase() &&
          other.statuses.at(-1)?.state !== 'inactive'
        )
          other.statuses.push({ state: 'inactive', description: '', environment: d.environment })
    return { id: d.statuses.length, ...status }
  }

  private ensure(name: string, by: StandInEnvironment['createdBy']): void {
    if (!this.envs.has(name.toLowerCase()))
      this.envs.set(name.toLowerCase(), { name, protectionRules: [], createdBy: by })
  }

  private async create(
    d: Pick<StandInDeployment, 'ref' | 'environment' | 'description' | 'payload'>,
    by: StandInDeployment['createdBy']
  ): Promise<StandInDeployment> {
    const deployment: StandInDeployment = {
      ...d,
      id: this.nextId++,
      sha: (await this.resolveRef(d.ref)) ?? d.ref,
      createdBy: by,
      statuses: []
    }
    this.list.push(deployment)
    return deployment
  }

  private ok(status: number, data: unknown): DeploymentsAnswer {
    return { status, data }
  }

  private refused(error: number, message: string): DeploymentsAnswer {
    return { error, message }
  }
}

function environmentData(e: StandInEnvironment) {
  return { name: e.name, protection_rules: e.protectionRules.map((type) => ({ type })) }
}

function deploymentData(d: StandInDeployment) {
  return {
    id: d.id,
    ref: d.ref,
    sha: d.sha,
    environment: d.environment,
    description: d.description,
    payload: d.payload
  }
}
