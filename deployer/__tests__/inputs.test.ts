import { afterEach, describe, expect, it } from '@jest/globals'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { delimiter, join } from 'node:path'
import { readInputs } from '../src/inputs.js'

const saved = { ...process.env }
afterEach(() => {
  for (const k of Object.keys(process.env)) if (k.startsWith('INPUT_')) delete process.env[k]
  Object.assign(process.env, saved)
})

function withInputs(inputs: Record<string, string>): void {
  for (const [k, v] of Object.entries(inputs)) process.env[`INPUT_${k.toUpperCase()}`] = v
}

describe('readInputs', () => {
  it('reads every setting with the documented defaults and masks each credential', async () => {
    withInputs({
      kubeconfig: 'apiVersion: v1\nusers:\n- name: u\n  user: {token: abcdef123456}\n',
      kubeconfigs: 'prod=KC_PROD'
    })
    const masked: string[] = []
    const r = await readInputs(
      { KC_PROD: 'kubeconfig-of-prod', GITHUB_SHA: 'f'.repeat(40) },
      (v) => void masked.push(v)
    )
    expect(r).toMatchObject({
      manifests: 'generated',
      fleet: { clusters: [], concurrency: 5 },
      cluster: {
        dryRun: false,
        wait: true,
        timeoutMs: 600_000,
        prune: { enabled: false, max: 50, allowKinds: [] },
        rollbackOnFailure: true,
        strategy: 'rolling-update',
        fastRollbackKeep: 2,
        lock: { waitMs: 300_000 },
        version: { commit: 'f'.repeat(40), rollback: false, redeploy: false },
        failFast: { graceMs: 30_000, unschedulableMs: 120_000, threshold: 0 },
        inventory: ''
      },
      credentials: { perCluster: { prod: 'kubeconfig-of-prod' } }
    })
    expect(masked).toEqual(expect.arrayContaining(['kubeconfig-of-prod', 'prod=KC_PROD']))
    expect(masked.some((m) => m.includes('abcdef123456'))).toBe(true)
  })

  it('parses waves, durations, lists and the fast-rollback strategy', async () => {
    withInputs({
      'kubeconfig-dir': '/tmp/kc',
      waves: 'staging\nprod-eu-1, prod-us-1\nprod-*',
      timeout: '2m30s',
      clusters: 'a, b',
      'prune-allow-kinds': 'Namespace',
      strategy: 'fast-rollback',
      'commit-time': '2026-11-26T07:00:00+01:00',
      commit: 'abc'
    })
    const r = await readInputs({}, () => {})
    expect(r.fleet.waves).toEqual(['staging', 'prod-eu-1, prod-us-1', 'prod-*'])
    expect(r.cluster.timeoutMs).toBe(150_000)
    expect(r.fleet.clusters).toEqual(['a', 'b'])
    expect(r.cluster.prune.allowKinds).toEqual(['Namespace'])
    expect(r.cluster.strategy).toBe('fast-rollback')
    expect(r.cluster.version.commitTime).toBe('2026-11-26T06:00:00.000Z')
  })

  it.each([
    [
      {},
      'no cluster credentials: set one of the inputs kubeconfig, kubeconfigs or kubeconfig-dir, or the KUBECONFIG environment variable'
    ],
    [
      { 'kubeconfig-dir': 'd', strategy: 'blue-green' },
      "Input 'strategy' must be rolling-update or fast-rollback, got 'blue-green'"
    ],
    [
      { 'kubeconfig-dir': 'd', concurrency: '0' },
      "Input 'concurrency' must be between 1 and 100, got 0"
    ],
    [
      { 'kubeconfig-dir': 'd', timeout: 'soon' },
      "Input 'timeout' must be a duration like 90s, 10m or 1h30m, got 'soon'"
    ],
    [
      { 'kubeconfig-dir': 'd', 'commit-time': 'yesterday' },
      "Input 'commit-time' must be an ISO 8601 time"
    ],
    [
      { 'kubeconfig-dir': 'd', inventory: '../x' },
      "Input 'inventory' must be up to 40 lower-case letters"
    ],
    [
      { 'kubeconfig-dir': 'd', 'github-deployments': 'true' },
      "Input 'github-deployments' needs 'token'"
    ],
    [
      { 'kubeconfig-dir': 'd', 'webhook-url': 'ftp://x' },
      "Input 'webhook-url' must be an http(s) URL"
    ]
  ])('refuses %j naming the input', async (inputs, message) => {
    withInputs(inputs)
    await expect(readInputs({}, () => {})).rejects.toThrow(message)
  })

  it('uses the KUBECONFIG list when no credential input is set, masking every file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kit-inputs-'))
    try {
      const a = join(dir, 'a')
      writeFileSync(a, 'apiVersion: v1\nusers:\n- name: u\n  user: {token: token-in-file-a-123}\n')
      const missing = join(dir, 'missing')
      const masked: string[] = []
      const r = await readInputs(
        { KUBECONFIG: `${a}${delimiter}${missing}`, HOME: dir },
        (v) => void masked.push(v)
      )
      expect(r.credentials).toEqual({ files: { paths: [a, missing], from: '$KUBECONFIG' } })
      expect(masked.some((m) => m.includes('token-in-file-a-123'))).toBe(true)
      // A credential input wins over the environment.
      withInputs({ 'kubeconfig-dir': dir })
      const d = await readInputs({ KUBECONFIG: a }, () => {})
      expect(d.credentials).toEqual({ directory: dir })
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  const usePath =
    "set the KUBECONFIG environment variable to its path (setup actions such as azure/k8s-set-context do), or give its folder as 'kubeconfig-dir'"
  it.each([
    ['/home/runner/.kube/config', `holds a file path, not a kubeconfig`, usePath],
    ['$RUNNER_TEMP/kubeconfig', 'holds a file path', usePath],
    [
      Buffer.from('apiVersion: v1\nkind: Config\nclusters: []\n').toString('base64'),
      'looks base64-encoded',
      'store the decoded kubeconfig in the secret'
    ]
  ])(
    'refuses %j in the kubeconfig input with what to use instead',
    async (value, message, instead) => {
      withInputs({ kubeconfig: value })
      const masked: string[] = []
      const err = await readInputs({}, (v) => void masked.push(v)).then(
        () => undefined,
        (e: unknown) => e as Error
      )
      expect(err?.message).toContain(`Input 'kubeconfig' ${message}`)
      expect(err?.message).toContain(instead)
      // Masked first, and never repeated.
      expect(masked).toContain(value)
      expect(err?.message).not.toContain(value)
    }
  )
})
