/**
 * Slack notifications: the Block Kit messages for each kind of result, checked by the local
 * receiver's validation of Slack's documented limits (testinfra/slack/blocks.ts, written from
 * Slack's reference, not from the builder), redaction with the deploy's own redactor, a
 * 50-cluster fleet, and sending against the local receiver (retries, Retry-After, refusals).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { createServer } from 'node:net'
import type { AddressInfo } from 'node:net'
import { registerSecretValues } from '../../src/deploy/cluster/prepare.js'
import { registerCredential } from '../../src/deploy/fleet/settings.js'
import {
  clusterBlocks,
  createSlackNotifier,
  escapeMrkdwn,
  fitText,
  sendSlack,
  slackEndMessage,
  slackErrorMessage,
  slackStartMessage,
  slackWanted,
  type SlackContext,
  type SlackMessage,
  type SlackNotify
} from '../../src/deploy/fleet/slack.js'
import type { FleetReport, FleetRow } from '../../src/deploy/fleet/types.js'
import { kubeConfigsFromInputs } from '../../src/k8s/client/credentials.js'
import { Redactor } from '../../src/secrets/redact.js'
import { validateMessage } from '../../../testinfra/slack/blocks.js'
import { startSlackReceiver, type SlackReceiver } from '../../../testinfra/slack/server.js'
import {
  bigFleetReport,
  dryRunReport,
  imagePullFailures,
  rolledBackReport,
  row,
  secretValue,
  successReport
} from './report-fixtures.js'

const runUrl = 'https://github.com/acme/manifests/actions/runs/42/attempts/1'
const context: SlackContext = { repository: 'acme/manifests', commit: '3f2a1c9d8e7b', runUrl }
const none = (s: string): string => s

/** The message's texts, joined, as a person reads them. */
function textOf(m: SlackMessage): string {
  const v = validateMessage(m)
  return [...v.texts.header, ...v.texts.mrkdwn, ...v.texts.plain].join('\n')
}

/** Validates like Slack; returns the problems (none expected). */
function problemsOf(m: SlackMessage): string[] {
  const v = validateMessage(JSON.parse(JSON.stringify(m)))
  return [...(v.refusal ? [v.refusal] : []), ...v.problems]
}

describe('the end message', () => {
  const failedRow = row('prod-ap-1', 'failed', {
    reason: 'lock held by acme/manifests#41 since 3m',
    durationMs: 300_000
  })
  const skippedRow = row('prod-us-2', 'skipped', { reason: 'wave 1 failed', wave: '2' })
  const cases: [string, FleetReport, string, string[]][] = [
    [
      'changed and unchanged',
      successReport(),
      '✅ Deploy 3f2a1c9 of acme/manifests finished',
      [
        '3 clusters deployed (2 changed, 1 unchanged) in 41.0s',
        '*prod-eu-1*\nchanged: 4 created (38.2s)',
        '*staging*\nunchanged (2.1s)'
      ]
    ],
    [
      'rolled back, with its reason',
      rolledBackReport(),
      '❌ Deploy 3f2a1c9 of acme/manifests failed',
      [
        '1 of 3 clusters rolled back in 1m35s',
        '↩️ *prod-us-1*: rolled back (1m11s)\n>Deployment/shop/web pod web-7d9c6b5f4-x2k8q container web: ImagePullBackOff: Back-off pulling image "registry.invalid/shop/web:2.0.0" (and 1 more); rolled back',
        '*prod-eu-1*\nchanged: 1 configured (24.6s)'
      ]
    ],
    [
      'failed and skipped, with reasons and waves',
      {
        result: 'failure',
        dryRun: false,
        durationMs: 310_000,
        rows: [row('prod-eu-1', 'changed', { wave: '1' }), failedRow, skippedRow]
      },
      '❌ Deploy 3f2a1c9 of acme/manifests failed',
      [
        '❌ *prod-ap-1*: failed (5m00s)\n>lock held by acme/manifests#41 since 3m',
        '⏭️ *prod-us-2*: skipped (12.3s) · wave 2\n>wave 1 failed'
      ]
    ],
    [
      'a dry run',
      dryRunReport(),
      '📝 Dry run 3f2a1c9 of acme/manifests finished',
      ['dry run: 3 of 3 clusters would change', '*staging*\nwould change: 1 created, 3 configured']
    ]
  ]
  it.each(cases)('%s: header, a row per cluster, reasons, the link', (_, report, title, lines) => {
    const m = slackEndMessage(report, context, none)
    expect(problemsOf(m)).toEqual([])
    const v = validateMessage(m)
    expect(v.texts.header).toEqual([title])
    for (const line of lines) expect(textOf(m)).toContain(line)
    for (const r of report.rows) expect(textOf(m)).toContain(`*${r.cluster}*`)
    expect(v.mrkdwn.links).toEqual([runUrl])
    expect(v.mrkdwn.mentions).toEqual([])
    expect(v.mrkdwn.unescaped).toEqual([])
    expect(m.text).toContain(title)
    // The last block names the run, the repository and the commit.
    expect(JSON.stringify(m.blocks.at(-1))).toContain(
      `<${runUrl}|View the run> · acme/manifests · commit \`3f2a1c9d8e7b\``
    )
  })

  it('names the wave of a row only when the run had several', () => {
    const rows = [
      row('a', 'failed', { wave: 'all', reason: 'x' }),
      row('b', 'changed', { wave: 'all' })
    ]
    const m = slackEndMessage(
      { result: 'failure', dryRun: false, durationMs: 1, rows },
      context,
      none
    )
    expect(textOf(m)).toContain('❌ *a*: failed (12.3s)\n>x')
    expect(textOf(m)).not.toContain('wave')
  })

  it('a local run without a run page names who ran it instead of a link', () => {
    const m = slackEndMessage(successReport(), { description: 'kit deploy by ana@laptop' }, none)
    expect(problemsOf(m)).toEqual([])
    expect(validateMessage(m).mrkdwn.links).toEqual([])
    expect(textOf(m)).toContain('kit deploy by ana@laptop')
  })

  it('text from a cluster cannot mention a channel or forge a link', () => {
    const report: FleetReport = {
      result: 'failure',
      dryRun: false,
      durationMs: 1000,
      rows: [
        row('prod-1', 'failed', {
          reason: 'admission webhook said <!channel> see <https://evil.example|the fix> & retry'
        })
      ]
    }
    const m = slackEndMessage(report, context, none)
    const v = validateMessage(m)
    expect(v.mrkdwn.mentions).toEqual([])
    expect(v.mrkdwn.links).toEqual([runUrl])
    expect(v.mrkdwn.unescaped).toEqual([])
    expect(textOf(m)).toContain(
      'said &lt;!channel&gt; see &lt;https://evil.example|the fix&gt; &amp; retry'
    )
  })
})

describe('redaction with the deploy redactor', () => {
  const token = 'eyJhbGciOiJSUzI1NiJ9.kit-test-service-account-token'
  const execEnv = 'aws-secret-access-key-Zx81kQ'
  const kubeconfig = `apiVersion: v1
kind: Config
clusters:
- name: prod-1
  cluster: {server: 'https://127.0.0.1:6443'}
contexts:
- name: prod-1
  context: {cluster: prod-1, user: deployer}
current-context: prod-1
users:
- name: deployer
  user:
    token: ${token}
- name: exec-user
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1
      command: aws
      env:
      - {name: AWS_SECRET_ACCESS_KEY, value: ${execEnv}}
`
  // Control characters and a quote: escaping or JSON encoding first would hide it from a scrub.
  const password = 'p&ss<w>"rd-91x'

  async function deployRedactor(): Promise<Redactor> {
    const redactor = new Redactor()
    registerCredential(redactor, kubeconfig)
    await kubeConfigsFromInputs({ kubeconfig }, redactor)
    registerSecretValues(
      {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'db', namespace: 'shop' },
        stringData: { password, other: secretValue }
      },
      redactor
    )
    return redactor
  }

  it('secrets, kubeconfig credentials and exec env values in reasons never reach Slack', async () => {
    const redactor = await deployRedactor()
    const scrub = (s: string): string => redactor.scrub(s)
    const report: FleetReport = {
      result: 'failure',
      dryRun: false,
      durationMs: 1000,
      rows: [
        row('a', 'failed', { reason: `Unauthorized: bearer ${token} refused` }),
        row('b', 'rolled-back', { reason: `env AWS_SECRET_ACCESS_KEY=${execEnv} rejected` }),
        row('c', 'failed', { reason: `Secret shop/db: value ${password} and ${secretValue}` }),
        // The secret straddles the 400-character cut: cut first, a tail of it would be shown.
        row('d', 'failed', { reason: `${'x'.repeat(396)}${secretValue} and more` }),
        row('e', 'failed', {
          reason: undefined,
          failures: [{ ...imagePullFailures()[0], reason: `Pull ${token}` }]
        })
      ]
    }
    for (const m of [
      slackEndMessage(report, context, scrub),
      slackErrorMessage(`kubeconfig user token ${token} is invalid`, false, context, scrub)
    ]) {
      expect(problemsOf(m)).toEqual([])
      const json = JSON.stringify(m)
      for (const secret of [token, execEnv, password, secretValue, escapeMrkdwn(password)]) {
        expect(json).not.toContain(secret)
        expect(json).not.toContain(secret.slice(0, 8))
      }
      expect(textOf(m)).toContain('***')
    }
  })

  it('fitText scrubs before it cuts and escapes, and cuts by code point', () => {
    const redactor = new Redactor()
    redactor.add('s3cr3t-value')
    const scrub = (s: string): string => redactor.scrub(s)
    expect(fitText('a s3cr3t-value b', 8, scrub)).toBe('a *** b')
    expect(fitText('abcdef s3cr3t-value xyz', 10, scrub)).toBe('abcdef **…')
    expect(fitText('<&>'.repeat(10), 12, none)).toBe('&lt;&amp;…')
    expect(fitText('🚀🚀🚀🚀', 5, none)).toBe('🚀🚀…')
  })
})

/** `n` clusters named prod-00 … with the given outcome and reason. */
function fleet(n: number, outcome: FleetRow['outcome'], reason?: string): FleetRow[] {
  return Array.from({ length: n }, (_, i) =>
    row(`prod-${String(i).padStart(2, '0')}`, outcome, reason ? { reason } : {})
  )
}

/** Cluster names a message mentions, whether in a row or in an "and N more" list. */
function namesShown(m: SlackMessage, names: readonly string[]): string[] {
  const text = textOf(m)
  return names.filter((n) => text.includes(n))
}

/** The N of every "and N more" in the message. */
function moreCounts(m: SlackMessage): number[] {
  return [...textOf(m).matchAll(/and (\d+) more/g)].map((x) => Number(x[1]))
}

describe('a 50-cluster fleet fits Slack', () => {
  it('47 changed and 3 failed: every cluster has its row, within the limits', () => {
    const report = bigFleetReport(false)
    const m = slackEndMessage(report, context, none)
    expect(problemsOf(m)).toEqual([])
    expect(m.blocks.length).toBeLessThanOrEqual(50)
    expect(
      namesShown(
        m,
        report.rows.map((r) => r.cluster)
      )
    ).toHaveLength(50)
    expect(moreCounts(m)).toEqual([])
    expect(textOf(m).match(/ImagePullBackOff/g)).toHaveLength(3)
  })

  it('50 rolled back with long reasons: as many rows as fit, then "and N more" naming the rest', () => {
    const rows = fleet(
      50,
      'rolled-back',
      `ImagePullBackOff: ${'a long event message '.repeat(200)}`
    )
    const report: FleetReport = { result: 'failure', dryRun: false, durationMs: 1, rows }
    const m = slackEndMessage(report, context, none)
    expect(problemsOf(m)).toEqual([])
    expect(m.blocks.length).toBeLessThanOrEqual(50)
    expect(JSON.stringify(m.blocks).length).toBeLessThan(14_000)
    const rowsShown = (textOf(m).match(/↩️ \*prod-\d\d\*: rolled back/g) ?? []).length
    expect(rowsShown).toBeGreaterThan(5)
    expect(textOf(m)).toContain(`…and ${50 - rowsShown} more clusters that did not succeed: `)
    // Every cluster is named: in its row, or in the list of the rest.
    expect(
      namesShown(
        m,
        rows.map((r) => r.cluster)
      )
    ).toHaveLength(50)
  })

  it('200 clusters: the successful ones collapse into a list ending "and N more"', () => {
    const long = (i: number) => `prod-${'region-'.repeat(8)}${String(i).padStart(3, '0')}`
    const rows = [
      ...Array.from({ length: 180 }, (_, i) => row(long(i), 'changed')),
      ...Array.from({ length: 20 }, (_, i) => row(long(180 + i), 'failed', { reason: 'boom' }))
    ]
    const m = slackEndMessage(
      { result: 'failure', dryRun: false, durationMs: 1, rows },
      context,
      none
    )
    expect(problemsOf(m)).toEqual([])
    expect(m.blocks.length).toBeLessThanOrEqual(50)
    expect(textOf(m)).toMatch(/✅ \*changed \(180\):\* prod-region-/)
    const [more] = moreCounts(m)
    expect(more).toBeGreaterThan(100)
    expect(
      namesShown(
        m,
        rows.map((r) => r.cluster)
      ).length + more
    ).toBe(200)
  })

  it('clusterBlocks keeps to the room it is given', () => {
    for (const room of [1, 2, 5, 46])
      expect(clusterBlocks(fleet(60, 'failed', 'x'), false, none, room).length).toBeLessThanOrEqual(
        room
      )
  })

  it('the start message lists each wave, collapsing 60 waves', () => {
    const waves = Array.from({ length: 60 }, (_, i) => ({
      name: String(i + 1),
      clusters: [`c-${i}`]
    }))
    const m = slackStartMessage({ waves, preReported: [] }, false, context, none)
    expect(problemsOf(m)).toEqual([])
    expect(m.blocks.length).toBe(50)
    expect(validateMessage(m).texts.header).toEqual(['🚀 Deploy 3f2a1c9 of acme/manifests started'])
    expect(textOf(m)).toContain('*Deploying to 60 clusters in 60 waves*')
    expect(textOf(m)).toContain('*Wave 1:* c-0')
    expect(textOf(m)).toContain('…and 14 more waves or clusters')
  })

  it('the start message names the clusters refused before any started', () => {
    const m = slackStartMessage(
      {
        waves: [{ name: '1', clusters: ['a', 'b'] }],
        preReported: [
          row('c', 'failed', { reason: 'has manifests but no credentials', durationMs: 0 })
        ]
      },
      true,
      context,
      none
    )
    expect(problemsOf(m)).toEqual([])
    expect(textOf(m)).toContain('*Comparing 2 clusters*')
    expect(textOf(m)).toContain('a, b')
    expect(textOf(m)).toContain('❌ *c*: failed (0.0s)\n>has manifests but no credentials')
  })
})

describe('when Slack is told', () => {
  const table: [SlackNotify, boolean, boolean, boolean][] = [
    // notify, failed, start sent, end sent
    ['start-and-end', false, true, true],
    ['start-and-end', true, true, true],
    ['end', false, false, true],
    ['end', true, false, true],
    ['failure', false, false, false],
    ['failure', true, false, true]
  ]
  it.each(table)('%s, failed %s: start %s, end %s', (notify, failed, start, end) => {
    expect(slackWanted(notify, 'start', failed)).toBe(start)
    expect(slackWanted(notify, 'end', failed)).toBe(end)
  })
})

describe('sending to the local receiver', () => {
  let slack: SlackReceiver
  beforeAll(async () => {
    slack = await startSlackReceiver()
  })
  afterAll(async () => {
    await slack.close()
  })
  const message = (): SlackMessage => slackEndMessage(rolledBackReport(), context, none)
  const redactor = new Redactor()
  const waits: number[] = []
  const options = {
    redactor,
    sleep: async (ms: number) => {
      waits.push(ms)
      await new Promise((r) => setTimeout(r, Math.min(ms, 50)))
    }
  }

  it('posts once; Slack answers 200 ok and the message passes its validation', async () => {
    slack.deliveries.length = 0
    expect(await sendSlack(slack.webhookUrl(), message(), options)).toBe(1)
    expect(slack.deliveries.map((d) => [d.status, d.answer])).toEqual([[200, 'ok']])
    expect(slack.deliveries[0].contentType).toBe('application/json; charset=utf-8')
    expect(slack.deliveries[0].validation?.problems).toEqual([])
  })

  it('retries once after a 5xx, and after a 429 no sooner than its Retry-After', async () => {
    slack.deliveries.length = 0
    waits.length = 0
    slack.queue({ status: 500 })
    expect(await sendSlack(slack.webhookUrl(), message(), options)).toBe(2)
    slack.queue({ status: 429, retryAfter: '3' })
    expect(await sendSlack(slack.webhookUrl(), message(), options)).toBe(2)
    expect(slack.deliveries.map((d) => d.status)).toEqual([500, 200, 429, 200])
    expect(waits[1]).toBeGreaterThanOrEqual(3000)
  })

  it('gives up at once when Retry-After is past the limit, and after a second failure', async () => {
    slack.deliveries.length = 0
    slack.queue({ status: 429, retryAfter: '120' })
    await expect(sendSlack(slack.webhookUrl(), message(), options)).rejects.toThrow(
      "Slack answered HTTP 429 (rate_limited) and asked to retry after 120 s, past the notification's limit of 30 s"
    )
    expect(slack.deliveries).toHaveLength(1)
    slack.queue({ status: 503 }, { status: 502 })
    await expect(sendSlack(slack.webhookUrl(), message(), options)).rejects.toThrow(
      'Slack answered HTTP 502 (rollup_error) again'
    )
    expect(slack.deliveries).toHaveLength(3)
  })

  it('does not retry a refusal, and says what Slack refused', async () => {
    slack.deliveries.length = 0
    const tooMany: SlackMessage = {
      text: 'x',
      blocks: Array.from({ length: 51 }, () => ({
        type: 'section' as const,
        text: { type: 'mrkdwn' as const, text: 'x' }
      }))
    }
    await expect(sendSlack(slack.webhookUrl(), tooMany, options)).rejects.toThrow(
      'Slack answered HTTP 400 (invalid_blocks)'
    )
    expect(slack.deliveries).toHaveLength(1)
  })

  it('a slow or unreachable Slack is an error within the time limit, never naming the URL', async () => {
    const secretPath = 'kitSlowWebhookSecret9'
    redactor.add(slack.webhookUrl(secretPath))
    slack.queue({ delayMs: 2000 })
    const started = Date.now()
    const slow = sendSlack(slack.webhookUrl(secretPath), message(), {
      ...options,
      attemptTimeoutMs: 300
    })
    await expect(slow).rejects.toThrow('Slack did not answer in time')
    expect(Date.now() - started).toBeLessThan(1500)
    const closed = createServer()
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r))
    const port = (closed.address() as AddressInfo).port
    await new Promise((r) => closed.close(r))
    const url = `http://127.0.0.1:${port}/services/T1/B1/${secretPath}`
    const err = await sendSlack(url, message(), options).catch((e: unknown) => e as Error)
    expect((err as Error).message).toBe('could not reach Slack: ECONNREFUSED')
    expect((err as Error).message).not.toContain(secretPath)
  })

  it('the notifier: start before end, the end only on failure when asked, warnings not errors', async () => {
    const run = async (notify: SlackNotify, report: FleetReport, url = slack.webhookUrl()) => {
      slack.deliveries.length = 0
      const warnings: string[] = []
      const notifier = createSlackNotifier(
        { url, notify, dryRun: false, context },
        { ...options, log: { info: () => {}, debug: () => {}, warning: (m) => warnings.push(m) } }
      )
      // A slow Slack for the start: the end must still arrive after it.
      if (notify === 'start-and-end') slack.queue({ delayMs: 300 })
      notifier.started({ waves: [{ name: '1', clusters: ['prod-eu-1'] }], preReported: [] })
      await notifier.finished(report)
      return { warnings, got: slack.deliveries.map((d) => validateMessage(JSON.parse(d.body))) }
    }
    const both = await run('start-and-end', successReport())
    expect(both.got.map((v) => v.texts.header[0])).toEqual([
      '🚀 Deploy 3f2a1c9 of acme/manifests started',
      '✅ Deploy 3f2a1c9 of acme/manifests finished'
    ])
    expect((await run('failure', successReport())).got).toEqual([])
    expect((await run('failure', rolledBackReport())).got.map((v) => v.texts.header[0])).toEqual([
      '❌ Deploy 3f2a1c9 of acme/manifests failed'
    ])
    const refused = await run('end', successReport(), `${slack.webhookUrl()}-gone/x`)
    expect(refused.warnings).toEqual([
      'Slack end notification not sent: Slack answered HTTP 404 (no_service)'
    ])
  })

  it('a run that stopped on an error tells Slack what stopped it', async () => {
    slack.deliveries.length = 0
    const notifier = createSlackNotifier(
      { url: slack.webhookUrl(), notify: 'failure', dryRun: false, context },
      { ...options, log: { info: () => {}, debug: () => {}, warning: () => {} } }
    )
    await notifier.stopped(new Error('generated/prod-1/web.yaml:3: not a Kubernetes object\nmore'))
    const [v] = slack.deliveries.map((d) => validateMessage(JSON.parse(d.body)))
    expect(v.problems).toEqual([])
    expect(v.texts.header).toEqual(['❌ Deploy 3f2a1c9 of acme/manifests could not start'])
    expect(v.texts.mrkdwn).toContain(
      'The deploy stopped before any cluster was touched:\n>generated/prod-1/web.yaml:3: not a Kubernetes object'
    )
  })
})
