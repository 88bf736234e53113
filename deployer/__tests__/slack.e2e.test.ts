/**
 * Slack notifications from the deployer action, run from its bundle as the runner runs it, on
 * the three real local clusters, against the local Slack receiver (testinfra/slack), which
 * answers like an incoming webhook and refuses what Slack's Block Kit limits refuse:
 * `slack-notify` start-and-end, end and failure; a rollback's reason in the message; no
 * credential or Secret value in any message; a Slack that fails is a warning, not a failed
 * deploy; the generic webhook keeps working beside it.
 */
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { KubernetesObjectApi } from '@kubernetes/client-node'
import { kubeconfigSecrets } from '../../shared/src/deploy/fleet/settings.js'
import {
  testClusters,
  testKubeconfigPath,
  uniqueName,
  type TestCluster
} from '../../testinfra/jest/clusters.js'
import { validateMessage, type Validation } from '../../testinfra/slack/blocks.js'
import { startSlackReceiver, type SlackReceiver } from '../../testinfra/slack/server.js'
import { runBundle, writeRender, type BundleRun } from './e2e-helpers.js'

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..')

let clusters: TestCluster[]
let names: string[]
let kubeconfig: string
let slack: SlackReceiver
let webhook: Server
let webhookUrl: string
const webhookBodies: { event?: string; result?: string }[] = []
const namespace = uniqueName('slack')
const inventory = uniqueName('inv')
const webhookSecret = 'kitSlackE2eSecret7'
const secretValue = 'sl4ck-e2e-db-password'
const runUrl = 'https://github.com/acme/manifests/actions/runs/4242/attempts/1'

beforeAll(async () => {
  execFileSync(process.execPath, [join(repo, 'scripts', 'bundle.mjs')], {
    cwd: repo,
    stdio: 'ignore'
  })
  clusters = testClusters()
  names = clusters.map((c) => c.name)
  kubeconfig = readFileSync(testKubeconfigPath(), 'utf8')
  slack = await startSlackReceiver()
  webhook = createServer((req, res) => {
    let text = ''
    req.on('data', (d: Buffer) => (text += d.toString()))
    req.on('end', () => {
      webhookBodies.push(JSON.parse(text) as { event?: string })
      res.end('{}')
    })
  })
  await new Promise<void>((r) => webhook.listen(0, '127.0.0.1', r))
  webhookUrl = `http://127.0.0.1:${(webhook.address() as AddressInfo).port}/hook`
})

afterAll(async () => {
  await slack?.close()
  await new Promise((r) => webhook?.close(r))
  for (const c of clusters ?? [])
    await KubernetesObjectApi.makeApiClient(c.kubeConfig)
      .delete({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } })
      .catch(() => undefined)
})

jest.setTimeout(300_000)

let commitNumber = 0
/** A run of the bundle as GitHub runs it, with a new commit each time (the version guard). */
async function deploy(manifests: string, inputs: Record<string, string>): Promise<BundleRun> {
  commitNumber++
  slack.deliveries.length = 0
  return runBundle(
    {
      manifests,
      kubeconfig,
      inventory,
      timeout: '90s',
      'fail-fast-grace': '3s',
      commit: `${String(commitNumber).repeat(7)}c0ffee${'0'.repeat(26)}`.slice(0, 40),
      'commit-time': new Date(Date.now() - (100 - commitNumber) * 60_000).toISOString(),
      'slack-webhook-url': slack.webhookUrl(webhookSecret),
      ...inputs
    },
    {
      GITHUB_RUN_ID: '4242',
      GITHUB_RUN_ATTEMPT: '1',
      GITHUB_REPOSITORY: 'acme/manifests',
      GITHUB_SERVER_URL: 'https://github.com'
    }
  )
}

/** What the receiver got, as Slack's validation reads it. */
function received(): Validation[] {
  return slack.deliveries.map((d) => validateMessage(JSON.parse(d.body)))
}

const textOf = (v: Validation): string => [...v.texts.header, ...v.texts.mrkdwn].join('\n')

/** Nothing secret in what Slack got, nor the webhook's secret in anything the step wrote. */
function expectNoSecrets(run: BundleRun): void {
  const credentials = kubeconfigSecrets(kubeconfig)
  expect(credentials.length).toBeGreaterThan(0)
  for (const d of slack.deliveries) {
    for (const c of credentials) expect(d.body).not.toContain(c)
    expect(d.body).not.toContain(secretValue)
  }
  // `::add-mask::` lines are the runner's masking commands, consumed and never shown.
  const shown = run.stdout.replace(/^::add-mask::.*$/gm, '')
  for (const text of [shown, run.stderr, run.summary, JSON.stringify(run.outputs)])
    expect(text).not.toContain(webhookSecret)
  expect(run.stdout).toContain(`::add-mask::${slack.webhookUrl(webhookSecret)}`)
}

describe('Slack notifications from the deployer', () => {
  const good = () =>
    writeRender(names, {
      namespace,
      secretValue,
      image: () => 'registry.example/shop/web:1.0.0',
      services: ['web']
    })

  it('start-and-end: a start message listing the clusters, then the result per cluster with a link to the run', async () => {
    const run = await deploy(good(), { 'slack-notify': 'start-and-end', 'webhook-url': webhookUrl })
    expect(run.code).toBe(0)
    expect(run.stdout).not.toMatch(/::warning::Slack/)
    expect(slack.deliveries.map((d) => [d.status, d.answer])).toEqual([
      [200, 'ok'],
      [200, 'ok']
    ])
    const [start, end] = received()
    expect(start.texts.header).toEqual(['🚀 Deploy 1111111 of acme/manifests started'])
    expect(textOf(start)).toContain(`*Deploying to 3 clusters*\n${names.join(', ')}`)
    expect(end.texts.header).toEqual(['✅ Deploy 1111111 of acme/manifests finished'])
    expect(textOf(end)).toContain('3 clusters deployed (3 changed, 0 unchanged)')
    for (const name of names)
      expect(textOf(end)).toMatch(new RegExp(`✅ \\*${name}\\*\\nchanged: \\d+ created`))
    for (const v of [start, end]) {
      expect(v.problems).toEqual([])
      expect(v.mrkdwn).toEqual({ links: [runUrl], mentions: [], unescaped: [] })
    }
    expect(slack.deliveries[0].at).toBeLessThanOrEqual(slack.deliveries[1].at)
    // The generic webhook still gets its one POST.
    expect(webhookBodies).toEqual([
      expect.objectContaining({ event: 'kit.deploy', result: 'success' })
    ])
    expectNoSecrets(run)
  })

  it('end: one message when a rollout fails, with the rolled-back cluster and its reason', async () => {
    const bad = names[1]
    const dir = writeRender(names, {
      namespace,
      secretValue,
      services: ['web'],
      image: (c) =>
        c === bad ? 'registry.invalid/shop/web:2.0.0' : 'registry.example/shop/web:2.0.0'
    })
    const run = await deploy(dir, { 'slack-notify': 'end' })
    expect(run.code).toBe(1)
    const got = received()
    expect(got).toHaveLength(1)
    expect(got[0].problems).toEqual([])
    expect(got[0].texts.header).toEqual(['❌ Deploy 2222222 of acme/manifests failed'])
    const text = textOf(got[0])
    expect(text).toContain('1 of 3 clusters rolled back')
    expect(text).toMatch(
      new RegExp(
        `↩️ \\*${bad}\\*: rolled back \\([^)]+\\)\\n>Deployment/${namespace}/web pod web-[a-z0-9-]+ container web: ImagePullBackOff`
      )
    )
    for (const name of names.filter((n) => n !== bad))
      expect(text).toMatch(new RegExp(`✅ \\*${name}\\*\\nchanged: 1 configured`))
    expectNoSecrets(run)
  })

  it('failure: nothing when the deploy succeeds; a Slack that fails is a warning, not a failed deploy', async () => {
    const quiet = await deploy(good(), { 'slack-notify': 'failure' })
    expect(quiet.code).toBe(0)
    expect(slack.deliveries).toEqual([])
    // end, with Slack failing twice: the deploy still succeeds, with one warning.
    slack.queue({ status: 500 }, { status: 503 })
    const run = await deploy(good(), { 'slack-notify': 'end' })
    expect(run.code).toBe(0)
    expect(run.outputs.result).toBe('success')
    expect(slack.deliveries.map((d) => d.status)).toEqual([500, 503])
    expect(run.stdout).toContain(
      '::warning::Slack end notification not sent: Slack answered HTTP 503 (rollup_error) again'
    )
    expectNoSecrets(run)
  })

  it('failure: a deploy refused before any cluster is touched tells Slack why', async () => {
    const dir = good()
    mkdirSync(join(dir, names[0], 'broken'), { recursive: true })
    writeFileSync(
      join(dir, names[0], 'broken', 'bad.yaml'),
      'kind: ConfigMap\nmetadata: {name: x}\n'
    )
    const run = await deploy(dir, { 'slack-notify': 'failure' })
    expect(run.code).not.toBe(0)
    const got = received()
    expect(got).toHaveLength(1)
    expect(got[0].problems).toEqual([])
    expect(got[0].texts.header).toEqual(['❌ Deploy 5555555 of acme/manifests could not start'])
    expect(textOf(got[0])).toContain('The deploy stopped before any cluster was touched:\n>')
    expect(textOf(got[0])).toContain('bad.yaml')
    expectNoSecrets(run)
  })
})
