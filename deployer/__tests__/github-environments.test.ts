/**
 * Which GitHub environments a deploy with `github-deployments: true` ends up with, counted on the
 * GitHub API stand-in (testinfra/github-api), which creates a missing environment on a deployment
 * without protection rules, as GitHub does. The runner's part (a job with `environment:` gets a
 * deployment there) and the admin's (protected environments made in Settings) are played by the
 * stand-in's startJob and putEnvironment.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { readOptions } from '../../shared/src/action/options.js'
import { deployOptions, deployRequest } from '../../shared/src/options/deploy.js'
import type { FleetRow } from '../../shared/src/deploy/fleet/index.js'
import { Redactor } from '../../shared/src/secrets/redact.js'
import { startGitHubStandIn, type GitHubStandIn } from '../../testinfra/github-api/server.js'
import { createGithubDeployments, environmentName } from '../src/github-deployments.js'

const token = 'ghs_environments_test_token'
let api: GitHubStandIn
let repoNumber = 0
const reviewers = { reviewers: [{ type: 'User', id: 1 }] }

beforeAll(async () => {
  api = await startGitHubStandIn({ token })
})
afterAll(async () => {
  await api.close()
})

/** A fresh repository with one commit; returns its name and that commit. */
async function repository(): Promise<{ repo: string; sha: string }> {
  const repo = `manifests-${++repoNumber}`
  await api.createRepo('acme', repo, [{ files: { 'README.md': 'manifests\n' } }])
  const sha = (await api.git('acme', repo, ['rev-parse', 'main'])).trim()
  return { repo, sha }
}

const row = (cluster: string): FleetRow => ({
  cluster,
  outcome: 'changed',
  objectsChanged: 2,
  durationMs: 1_000,
  failures: [],
  changes: []
})

/**
 * One deployer step as the action runs it: the `environment` input read through the option table
 * (its default when unset), then a deployment per cluster with its final status.
 */
async function deployStep(
  repo: string,
  sha: string,
  clusters: readonly string[],
  inputs: Record<string, string> = {}
): Promise<string[]> {
  const v = readOptions(deployOptions, (name) => inputs[name] ?? '')
  const request = deployRequest(v, { credentials: {}, commit: sha, dryRun: false })
  const warnings: string[] = []
  const gh = createGithubDeployments({
    token,
    repository: `acme/${repo}`,
    ref: sha,
    environmentPrefix: request.notify.environmentPrefix,
    environment: request.notify.environment,
    runUrl: 'https://github.com/acme/manifests/actions/runs/7',
    apiUrl: api.url,
    log: { info: () => {}, debug: () => {}, warning: (m) => void warnings.push(m) },
    redactor: new Redactor()
  })
  for (const c of clusters) await gh.start(c)
  for (const c of clusters) await gh.finish(row(c))
  return warnings
}

const summary = (repo: string) =>
  api
    .deployments('acme', repo)
    .environments.map((e) => `${e.name}${e.protectionRules.length ? ' (protected)' : ''}`)
    .sort()

describe('GitHub environments of a deploy with github-deployments', () => {
  it('waves as jobs with their own environment: the deployments go to the job’s environment, none is invented', async () => {
    // The example's deploy.yml: job `staging` (environment: staging) deploys staging-us, job
    // `production` (environment: production) deploys prod-eu and prod-us.
    const { repo, sha } = await repository()
    const store = api.deployments('acme', repo)
    store.putEnvironment('staging', reviewers)
    store.putEnvironment('production', reviewers)
    await store.startJob('staging', sha)
    expect(await deployStep(repo, sha, ['staging-us'], { environment: 'staging' })).toEqual([])
    await store.startJob('production', sha)
    await deployStep(repo, sha, ['prod-eu', 'prod-us'], { environment: 'production' })

    expect(summary(repo)).toEqual(['production (protected)', 'staging (protected)'])
    const kits = store.deployments.filter((d) => d.createdBy === 'api')
    expect(kits.map((d) => [d.environment, (d.payload as { cluster: string }).cluster])).toEqual([
      ['staging', 'staging-us'],
      ['production', 'prod-eu'],
      ['production', 'prod-us']
    ])
    // Both production clusters stay listed as deployed: one's success does not retire the other.
    expect(kits.map((d) => d.statuses.map((s) => s.state).join(' → '))).toEqual([
      'in_progress → success',
      'in_progress → success',
      'in_progress → success'
    ])
  })

  it('the same jobs without the environment input: three unprotected environments appear (why the input exists)', async () => {
    const { repo, sha } = await repository()
    const store = api.deployments('acme', repo)
    store.putEnvironment('staging', reviewers)
    store.putEnvironment('production', reviewers)
    await store.startJob('staging', sha)
    await deployStep(repo, sha, ['staging-us'])
    await store.startJob('production', sha)
    await deployStep(repo, sha, ['prod-eu', 'prod-us'])
    expect(summary(repo)).toEqual([
      'prod-eu',
      'prod-us',
      'production (protected)',
      'staging (protected)',
      'staging-us'
    ])
  })

  it('one job per cluster with environment: <cluster>: one protected environment per cluster, by default', async () => {
    // The pairing of docs/deployer.md: the deploymentizer's matrix, `environment: ${{ matrix.cluster }}`.
    const { repo, sha } = await repository()
    const store = api.deployments('acme', repo)
    const clusters = ['staging-us', 'prod-eu', 'prod-us']
    for (const c of clusters) store.putEnvironment(c, reviewers)
    for (const c of clusters) {
      await store.startJob(c, sha)
      await deployStep(repo, sha, [c])
    }
    expect(summary(repo)).toEqual([
      'prod-eu (protected)',
      'prod-us (protected)',
      'staging-us (protected)'
    ])
    const kits = store.deployments.filter((d) => d.createdBy === 'api')
    expect(kits.map((d) => d.environment)).toEqual(clusters)
    expect(kits.every((d) => d.statuses.at(-1)?.state === 'success')).toBe(true)
  })

  it('names the environment from the pattern, and the older prefix the same way', () => {
    expect(environmentName('prod-eu', { environment: 'k8s/{cluster}' })).toBe('k8s/prod-eu')
    expect(environmentName('prod-eu', {})).toBe('prod-eu')
    expect(environmentName('prod-eu', { environmentPrefix: 'k8s-' })).toBe('k8s-prod-eu')
    const request = (inputs: Record<string, string>) =>
      deployRequest(
        readOptions(deployOptions, (n) => inputs[n] ?? ''),
        { credentials: {}, dryRun: false }
      ).notify
    expect(request({}).environment).toBe('{cluster}')
    expect(request({ 'environment-prefix': 'k8s-' }).environment).toBe('k8s-{cluster}')
    expect(request({ environment: 'production' }).environment).toBe('production')
  })

  it('refuses an unknown placeholder, and both spellings at once', () => {
    const read = (inputs: Record<string, string>) => () =>
      deployRequest(
        readOptions(deployOptions, (n) => inputs[n] ?? ''),
        {
          credentials: {},
          dryRun: false
        }
      )
    expect(read({ environment: 'prod-{name}' })).toThrow(
      "Input 'environment' knows only the placeholder {cluster}, got '{name}'"
    )
    expect(read({ environment: 'production', 'environment-prefix': 'k8s-' })).toThrow(
      "Inputs 'environment' and 'environment-prefix' both name the GitHub environment; set environment: 'k8s-production' alone"
    )
  })
})
