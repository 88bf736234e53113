/**
 * The webhook and the GitHub Deployments reporter against local HTTP servers: a plain
 * receiver, and a stand-in for the two GitHub REST endpoints the reporter calls (it answers
 * like the documented API; live GitHub was not used).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { sendWebhook, type FleetReport } from '../../shared/src/deploy/fleet/index.js'
import { Redactor } from '../../shared/src/secrets/redact.js'
import { createGithubDeployments, deploymentState } from '../src/github-deployments.js'

interface Received {
  method: string
  url: string
  headers: IncomingMessage['headers']
  body: unknown
}

let server: Server
let base: string
const received: Received[] = []
let nextId = 100

beforeAll(async () => {
  server = createServer((req, res) => {
    let text = ''
    req.on('data', (d: Buffer) => (text += d.toString()))
    req.on('end', () => {
      const body = text ? (JSON.parse(text) as unknown) : undefined
      received.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body })
      res.setHeader('content-type', 'application/json')
      if (req.url === '/hook/fail') {
        res.statusCode = 503
        res.end('{}')
      } else if (/^\/api\/repos\/o\/r\/deployments$/.test(req.url ?? '')) {
        res.statusCode = 201
        res.end(JSON.stringify({ id: ++nextId, ...(body as object) }))
      } else if (/^\/api\/repos\/o\/r\/deployments\/\d+\/statuses$/.test(req.url ?? '')) {
        res.statusCode = 201
        res.end(JSON.stringify({ id: 1, ...(body as object) }))
      } else if (req.url?.startsWith('/api/repos/o/broken/')) {
        res.statusCode = 422
        res.end(JSON.stringify({ message: 'Validation Failed' }))
      } else {
        res.statusCode = 200
        res.end('{}')
      }
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})

afterAll(async () => {
  await new Promise((r) => server.close(r))
})

const report: FleetReport = {
  result: 'failure',
  dryRun: false,
  durationMs: 1234.5,
  rows: [
    {
      cluster: 'a',
      outcome: 'changed',
      objectsChanged: 3,
      durationMs: 1000,
      failures: [],
      changes: []
    },
    {
      cluster: 'b',
      outcome: 'rolled-back',
      objectsChanged: 0,
      durationMs: 2000,
      reason: 'pull failed with token hunter2-secret',
      failures: [
        {
          object: 'Deployment x/web',
          reason: 'ImagePullBackOff',
          message: 'auth hunter2-secret',
          events: []
        }
      ],
      changes: []
    }
  ]
}

describe('webhook', () => {
  it('POSTs the result once as JSON with secrets redacted', async () => {
    const redactor = new Redactor()
    redactor.add('hunter2-secret')
    received.length = 0
    const status = await sendWebhook(
      `${base}/hook/ok`,
      report,
      { commit: 'abc', runUrl: 'https://ci/1' },
      { redactor }
    )
    expect(status).toBe(200)
    expect(received).toHaveLength(1)
    expect(received[0].headers['content-type']).toBe('application/json')
    expect(received[0].body).toMatchObject({
      event: 'kit.deploy',
      result: 'failure',
      commit: 'abc',
      runUrl: 'https://ci/1',
      changed: ['a'],
      failed: ['b'],
      clusters: [
        { cluster: 'a', result: 'changed' },
        { cluster: 'b', result: 'rolled-back', reason: 'pull failed with token ***' }
      ]
    })
    expect(JSON.stringify(received[0].body)).not.toContain('hunter2')
  })
  it('reports an HTTP error or an unreachable receiver as an error (the caller warns)', async () => {
    await expect(
      sendWebhook(`${base}/hook/fail`, report, {}, { redactor: new Redactor() })
    ).rejects.toThrow('webhook POST answered HTTP 503')
    const closed = createServer()
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r))
    const port = (closed.address() as AddressInfo).port
    await new Promise((r) => closed.close(r))
    await expect(
      sendWebhook(`http://127.0.0.1:${port}/x`, report, {}, { redactor: new Redactor() })
    ).rejects.toThrow('webhook POST failed: ECONNREFUSED')
  })
})

describe('GitHub Deployments', () => {
  it('creates a deployment per cluster environment with in_progress, then the final state', async () => {
    received.length = 0
    const warnings: string[] = []
    const gh = createGithubDeployments({
      token: 'ghs_faketoken123',
      repository: 'o/r',
      ref: 'abc123',
      environmentPrefix: 'k8s-',
      runUrl: 'https://github.com/o/r/actions/runs/1',
      apiUrl: `${base}/api`,
      log: { info: () => {}, debug: () => {}, warning: (m) => void warnings.push(m) },
      redactor: new Redactor()
    })
    await gh.start('a')
    await gh.start('b')
    await gh.finish(report.rows[0])
    await gh.finish(report.rows[1])
    expect(warnings).toEqual([])
    const calls = received.map((r) => `${r.method} ${r.url.replace(/\d+/g, 'N')}`)
    expect(calls).toEqual([
      'POST /api/repos/o/r/deployments',
      'POST /api/repos/o/r/deployments/N/statuses',
      'POST /api/repos/o/r/deployments',
      'POST /api/repos/o/r/deployments/N/statuses',
      'POST /api/repos/o/r/deployments/N/statuses',
      'POST /api/repos/o/r/deployments/N/statuses'
    ])
    expect(received[0].headers.authorization).toBe('token ghs_faketoken123')
    expect(received[0].body).toMatchObject({
      ref: 'abc123',
      environment: 'k8s-a',
      auto_merge: false,
      required_contexts: []
    })
    expect(received[1].body).toMatchObject({
      state: 'in_progress',
      log_url: 'https://github.com/o/r/actions/runs/1',
      environment: 'k8s-a'
    })
    expect(received[4].body).toMatchObject({ state: 'success', environment: 'k8s-a' })
    expect(received[5].body).toMatchObject({
      state: 'failure',
      environment: 'k8s-b',
      description: 'pull failed with token hunter2-secret'
    })
  })
  it('warns instead of failing when the API refuses', async () => {
    const warnings: string[] = []
    const gh = createGithubDeployments({
      token: 't0ken-value',
      repository: 'o/broken',
      ref: 'abc',
      environmentPrefix: '',
      apiUrl: `${base}/api`,
      log: { info: () => {}, debug: () => {}, warning: (m) => void warnings.push(m) },
      redactor: new Redactor()
    })
    await gh.start('a')
    await gh.finish(report.rows[0])
    expect(warnings).toHaveLength(1)
    expect(warnings[0]).toMatch(/^GitHub deployment for a could not be created: Validation Failed/)
  })
  it('maps outcomes to deployment states', () => {
    expect(
      ['changed', 'unchanged', 'failed', 'rolled-back', 'skipped'].map((o) =>
        deploymentState(o as never)
      )
    ).toEqual(['success', 'success', 'failure', 'failure', 'error'])
  })
})
