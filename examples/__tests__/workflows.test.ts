/**
 * What the example workflows promise a user who copies them, beyond input names (which
 * testinfra/__tests__/workflows.test.ts checks against action.yml): pinned third-party actions,
 * least permissions, staging before production, one deploy per cluster set at a time, dry runs
 * where the README says so, cleanup of rendered Secrets, and cluster names that exist.
 */
import { describe, expect, it } from '@jest/globals'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { load } from 'js-yaml'

const examples = join(process.cwd(), 'examples')
const clustersDir = join(examples, 'manifests-repo', 'clusters')
const clusterNames = readdirSync(clustersDir).map((f) => f.replace(/\.yaml$/, ''))

interface Step {
  id?: string
  name?: string
  uses?: string
  run?: string
  if?: string
  with?: Record<string, unknown>
  env?: Record<string, string>
}
interface Job {
  needs?: string | string[]
  environment?: string
  permissions?: Record<string, string>
  concurrency?: { group: string; 'cancel-in-progress'?: boolean }
  strategy?: { matrix?: unknown; 'fail-fast'?: boolean }
  outputs?: Record<string, string>
  steps: Step[]
}
interface Workflow {
  on: Record<string, unknown>
  permissions?: Record<string, string>
  concurrency?: { group: string; 'cancel-in-progress'?: boolean }
  jobs: Record<string, Job>
}

const files = {
  deploy: join(examples, 'manifests-repo', '.github', 'workflows', 'deploy.yml'),
  preview: join(examples, 'manifests-repo', '.github', 'workflows', 'preview.yml'),
  manual: join(examples, 'manifests-repo', '.github', 'workflows', 'manual.yml'),
  matrix: join(examples, 'manifests-repo', '.github', 'workflows', 'deploy-matrix.yml'),
  drift: join(examples, 'manifests-repo', '.github', 'workflows', 'drift.yml'),
  build: join(examples, 'service-repo', '.github', 'workflows', 'build.yml')
}
const text = Object.fromEntries(
  Object.entries(files).map(([k, f]) => [k, readFileSync(f, 'utf8')])
) as Record<keyof typeof files, string>
const wf = Object.fromEntries(
  Object.entries(text).map(([k, t]) => [k, load(t) as Workflow])
) as Record<keyof typeof files, Workflow>

const kitStep = (job: Job, action: string) =>
  job.steps.filter((s) => s.uses?.endsWith(`/kit/${action}@v1`))
const allSteps = (w: Workflow) => Object.values(w.jobs).flatMap((j) => j.steps)

describe('every example workflow', () => {
  it.each(Object.keys(files))(
    '%s pins third-party actions to a commit SHA with the version noted',
    (name) => {
      const lines = text[name as keyof typeof files]
        .split('\n')
        .filter((l) => /^\s*(- )?uses:/.test(l))
      expect(lines.length).toBeGreaterThan(0)
      for (const line of lines) {
        const ref = line.replace(/^\s*(- )?uses:\s*/, '')
        if (/^kit-dev\/kit\/(image-deployer|deploymentizer|deployer)@v1$/.test(ref)) continue
        expect(ref).toMatch(/^[\w.-]+\/[\w.-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+$/)
      }
    }
  )

  it.each(Object.keys(files))('%s starts from read-only permissions', (name) => {
    expect(wf[name as keyof typeof files].permissions).toEqual({ contents: 'read' })
  })

  it('names only clusters the manifests repository defines, and all of them', () => {
    expect(clusterNames.sort()).toEqual(['prod-eu', 'prod-us', 'staging-us'])
    const named = new Set<string>()
    for (const s of allSteps(wf.deploy)) {
      for (const value of [s.with?.kubeconfigs, s.with?.waves]) {
        for (const token of String(value ?? '').split(/[\s,=]+/)) {
          if (/^(staging|prod)-[a-z*]+$/.test(token)) named.add(token)
        }
      }
      for (const m of (s.run ?? '').matchAll(/--alias (\S+)/g)) named.add(m[1])
    }
    for (const n of named) if (!n.includes('*')) expect(clusterNames).toContain(n)
    expect([...named].filter((n) => !n.includes('*')).sort()).toEqual([
      'prod-eu',
      'prod-us',
      'staging-us'
    ])
  })
})

describe('deploy.yml', () => {
  const { staging, production } = wf.deploy.jobs

  it('deploys on push to main, staging first and production only after it', () => {
    expect(wf.deploy.on).toHaveProperty('push')
    expect((wf.deploy.on.push as { branches: string[] }).branches).toEqual(['main'])
    expect(production.needs).toBe('staging')
    expect(kitStep(staging, 'deploymentizer')[0].with).toEqual({ groups: 'staging' })
    expect(kitStep(production, 'deploymentizer')[0].with).toEqual({ groups: 'production' })
    // Within production: one cluster first, then the rest.
    expect(String(kitStep(production, 'deployer')[0].with?.waves).trim().split('\n')).toEqual([
      'prod-eu',
      'prod-*'
    ])
  })

  it('records GitHub Deployments in each job’s own environment, never one per cluster beside it', () => {
    // docs/deployer.md#github-environments: a job with an environment of its own passes its name.
    for (const job of [staging, production]) {
      const deployer = kitStep(job, 'deployer')[0]
      expect(deployer.with?.['github-deployments']).toBe(true)
      expect(deployer.with?.environment).toBe(job.environment)
    }
  })

  it('runs one deploy per cluster set at a time and never cancels one halfway', () => {
    const groups = [staging, production].map((j) => j.concurrency)
    expect(groups.map((g) => g?.group)).toEqual(['kit-deploy-staging', 'kit-deploy-production'])
    expect(groups.map((g) => g?.['cancel-in-progress'])).toEqual([false, false])
  })

  it('shows both kinds of credentials: a secret per cluster, and OIDC with an exec-plugin kubeconfig', () => {
    const s = kitStep(staging, 'deployer')[0]
    expect(s.with?.kubeconfigs).toMatch(/^staging-us=KUBECONFIG_STAGING_US\s*$/)
    expect(s.env).toEqual({ KUBECONFIG_STAGING_US: '${{ secrets.KUBECONFIG_STAGING_US }}' })
    expect(production.permissions?.['id-token']).toBe('write')
    expect(staging.permissions?.['id-token']).toBeUndefined()
    const aws = production.steps.find((x) =>
      x.uses?.startsWith('aws-actions/configure-aws-credentials@')
    )
    expect(aws?.with?.['role-to-assume']).toBe('${{ vars.AWS_DEPLOY_ROLE_ARN }}')
    const kube = production.steps.find((x) => x.id === 'kube')
    expect(kube?.run).toMatch(/umask 077/)
    expect(kube?.run).toMatch(/aws eks update-kubeconfig/)
    expect(kitStep(production, 'deployer')[0].with?.['kubeconfig-dir']).toBe(
      '${{ steps.kube.outputs.dir }}'
    )
  })
})

describe('preview.yml', () => {
  it('runs on pull requests as a dry run and replaces an outdated preview', () => {
    expect(wf.preview.on).toHaveProperty('pull_request')
    expect(wf.preview.concurrency?.['cancel-in-progress']).toBe(true)
    const deployers = allSteps(wf.preview).filter((s) => s.uses?.endsWith('/kit/deployer@v1'))
    expect(deployers).toHaveLength(1)
    expect(deployers[0].with?.['dry-run']).toBe(true)
  })
})

describe('manual.yml', () => {
  const job = wf.manual.jobs.deploy
  const deployer = kitStep(job, 'deployer')[0]

  it('asks for a ref, clusters, dry run (on by default) and rollback (off by default)', () => {
    const inputs = (
      wf.manual.on.workflow_dispatch as { inputs: Record<string, { default?: unknown }> }
    ).inputs
    expect(Object.keys(inputs)).toEqual(['ref', 'clusters', 'dry-run', 'rollback'])
    expect(inputs['dry-run'].default).toBe(true)
    expect(inputs.rollback.default).toBe(false)
  })

  it('deploys the chosen ref as the commit it resolves to, with the rollback intent passed on', () => {
    expect(job.steps[0].with?.ref).toBe('${{ inputs.ref }}')
    expect(deployer.with).toMatchObject({
      clusters: '${{ inputs.clusters }}',
      commit: '${{ steps.ref.outputs.sha }}',
      'dry-run': '${{ inputs.dry-run }}',
      rollback: '${{ inputs.rollback }}'
    })
    expect(deployer.with?.redeploy).toBeUndefined() // an older ref without rollback is refused
  })

  it('documents the git-side rollbacks: revert the image bump, or pin the image', () => {
    expect(text.manual).toMatch(/git revert/)
    expect(text.manual).toMatch(/pin the image/)
  })
})

describe('the rendered output, which holds Secrets', () => {
  it.each(['deploy', 'preview', 'manual', 'matrix', 'drift'] as const)(
    'is removed at the end of every job of %s that renders',
    (name) => {
      for (const job of Object.values(wf[name].jobs)) {
        const writing = kitStep(job, 'deploymentizer').filter((s) => s.with?.['dry-run'] !== true)
        if (writing.length === 0) continue
        const cleanup = job.steps.find((s) => /rm -rf generated/.test(s.run ?? ''))
        expect(cleanup?.if).toBe('always()')
        expect(job.steps.indexOf(cleanup!)).toBe(job.steps.length - 1)
      }
    }
  )
})

describe('deploy-matrix.yml', () => {
  const { plan, ...waves } = wf.matrix.jobs

  it('runs only when started by hand, so it never deploys a push deploy.yml deploys too', () => {
    expect(Object.keys(wf.matrix.on)).toEqual(['workflow_dispatch'])
    expect(text.matrix).toMatch(/delete deploy\.yml and uncomment the push trigger/)
    expect(wf.matrix.concurrency).toEqual({ group: 'kit-deploy-fleet', 'cancel-in-progress': false })
  })

  it("plans each wave with a dry-run render and passes on the deploymentizer's matrix output", () => {
    const renders = kitStep(plan, 'deploymentizer')
    expect(renders.map((s) => s.with?.['dry-run'])).toEqual([true, true, true])
    expect(plan.outputs).toEqual(
      Object.fromEntries(renders.map((s) => [s.id, `\${{ steps.${s.id}.outputs.matrix }}`]))
    )
    expect(Object.keys(plan.outputs ?? {})).toEqual(Object.keys(waves))
  })

  it('has one job per wave, each after the one before, a matrix job per cluster', () => {
    const names = Object.keys(waves)
    expect(names).toEqual(['staging', 'production-eu', 'production'])
    names.forEach((name, i) => {
      const job = waves[name]
      expect(job.needs).toEqual(i === 0 ? 'plan' : ['plan', names[i - 1]])
      expect(job.strategy).toMatchObject({
        matrix: `\${{ fromJSON(needs.plan.outputs.${name}) }}`,
        'fail-fast': false
      })
      // Credentials per cluster: the environment named after the cluster holds its kubeconfig.
      expect(job.environment).toBe('${{ matrix.cluster }}')
      expect(kitStep(job, 'deploymentizer')[0].with).toEqual({ clusters: '${{ matrix.cluster }}' })
      const deployer = kitStep(job, 'deployer')[0]
      expect(deployer.with).toMatchObject({
        manifests: 'generated',
        clusters: '${{ matrix.cluster }}',
        kubeconfigs: '${{ matrix.cluster }}=CLUSTER_KUBECONFIG'
      })
      expect(deployer.env).toEqual({ CLUSTER_KUBECONFIG: '${{ secrets.CLUSTER_KUBECONFIG }}' })
    })
  })

  it('renders each wave with the database URL of its cluster set, in the plan and in the wave', () => {
    const secretOf = (s: Step) => s.env?.API_DATABASE_URL
    expect(kitStep(plan, 'deploymentizer').map(secretOf)).toEqual([
      '${{ secrets.API_DATABASE_URL_STAGING }}',
      '${{ secrets.API_DATABASE_URL_PRODUCTION }}',
      '${{ secrets.API_DATABASE_URL_PRODUCTION }}'
    ])
    expect(Object.values(waves).map((j) => secretOf(kitStep(j, 'deploymentizer')[0]))).toEqual(
      kitStep(plan, 'deploymentizer').map(secretOf)
    )
  })
})

describe('drift.yml', () => {
  const job = wf.drift.jobs.drift
  const deployers = kitStep(job, 'deployer')

  it('runs on a schedule and by hand, a newer check replacing a running one', () => {
    expect(Object.keys(wf.drift.on).sort()).toEqual(['schedule', 'workflow_dispatch'])
    const schedule = wf.drift.on.schedule as { cron: string }[]
    expect(schedule).toHaveLength(1)
    expect(schedule[0].cron.split(' ')).toHaveLength(5)
    expect(wf.drift.concurrency).toEqual({ group: 'kit-drift', 'cancel-in-progress': true })
  })

  it('asks every cluster as a dry run that fails on drift, and never writes', () => {
    expect(Object.keys(wf.drift.jobs)).toEqual(['drift'])
    expect(deployers).toHaveLength(1)
    const deployer = deployers[0]
    expect(deployer.with).toMatchObject({
      manifests: 'generated',
      kubeconfig: '${{ secrets.KUBECONFIG }}',
      'dry-run': true,
      'fail-on-drift': true
    })
    // Every cluster with manifests: no selection, no selector.
    expect(deployer.with?.clusters).toBeUndefined()
    expect(deployer.with?.selector).toBeUndefined()
    // Nothing that writes: no GitHub Deployments, no token, no write permission anywhere.
    expect(deployer.with?.['github-deployments']).toBeUndefined()
    expect(job.permissions).toBeUndefined()
    expect(kitStep(job, 'image-deployer')).toEqual([])
  })

  it('renders every cluster set with its own database URL, as a deploy does', () => {
    const renders = kitStep(job, 'deploymentizer')
    expect(renders.map((s) => [s.with, s.env?.API_DATABASE_URL])).toEqual([
      [{ groups: 'staging' }, '${{ secrets.API_DATABASE_URL_STAGING }}'],
      [{ groups: 'production' }, '${{ secrets.API_DATABASE_URL_PRODUCTION }}']
    ])
  })

  it('tells Slack only on failure, when the secret is set, and hands on the drift outputs', () => {
    expect(deployers[0].with).toMatchObject({
      'slack-webhook-url': '${{ secrets.SLACK_WEBHOOK_URL }}',
      'slack-notify': 'failure'
    })
    expect(job.outputs).toEqual({
      drifted: '${{ steps.drift.outputs.drifted }}',
      'drifted-clusters': '${{ steps.drift.outputs.drifted-clusters }}'
    })
    const fix = job.steps.find((s) => s.env?.DRIFTED !== undefined)
    expect(fix?.if).toBe("failure() && steps.drift.outputs.drifted == 'true'")
    expect(fix?.env?.DRIFTED).toBe('${{ steps.drift.outputs.drifted-clusters }}')
  })
})

describe('build.yml (service repository)', () => {
  const record = wf.build.jobs.record
  const bumps = kitStep(record, 'image-deployer')

  it('builds with docker/build-push-action, then records the image', () => {
    expect(
      wf.build.jobs.build.steps.some((s) => s.uses?.startsWith('docker/build-push-action@'))
    ).toBe(true)
    expect(record.needs).toBe('build')
  })

  it('commits develop builds and opens pull requests for main builds', () => {
    expect(bumps.map((s) => s.if)).toEqual([
      "github.ref_name == 'develop'",
      "github.ref_name == 'main'"
    ])
    expect(bumps.map((s) => s.with?.['image-name'])).toEqual(['api', 'api'])
  })

  it('uses a short-lived App token limited to the manifests repository', () => {
    const app = record.steps.find((s) => s.uses?.startsWith('actions/create-github-app-token@'))
    expect(app?.with).toMatchObject({ owner: 'acme', repositories: 'manifests' })
    for (const b of bumps) expect(b.with?.token).toBe('${{ steps.app-token.outputs.token }}')
  })

  it("records api's own templates with each image, from a checkout of the built commit", () => {
    const checkout = record.steps.findIndex((s) => s.uses?.startsWith('actions/checkout@'))
    expect(checkout).toBeGreaterThanOrEqual(0)
    // Before the image-deployer steps, and without a token left behind in the workspace.
    expect(checkout).toBeLessThan(record.steps.indexOf(bumps[0]))
    expect(record.steps[checkout].with).toEqual({ 'persist-credentials': false })
    expect(bumps.map((s) => s.with?.templates)).toEqual(['deploy/kit', 'deploy/kit'])
    // The service is image-name (api), the name the manifests repository knows it by.
    expect(bumps.map((s) => s.with?.service)).toEqual([undefined, undefined])
    const kit = join(examples, 'service-repo', 'deploy', 'kit')
    expect(readdirSync(kit).sort()).toEqual(
      readdirSync(join(examples, 'manifests-repo', 'service-templates', 'api', 'main')).sort()
    )
  })
})
