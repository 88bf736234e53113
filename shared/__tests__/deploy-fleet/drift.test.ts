/**
 * Drift (shared/src/deploy/fleet/drift.ts): which clusters a dry run found differing from the
 * manifests, the verdict of fail-on-drift, how the summary and the headline say it, and the
 * option's rule (a dry run only). Through the fleet with the real engine over the in-memory
 * cluster: a hand-edited object is drift, the drift check writes nothing, and the same run
 * without fail-on-drift is the plain dry run it always was. The real clusters are in
 * deployer/__tests__/drift.e2e.test.ts.
 */
import { describe, expect, it } from '@jest/globals'
import { readOptions } from '../../src/action/index.js'
import { deployWithClient } from '../../src/deploy/cluster/index.js'
import type { Manifest } from '../../src/deploy/cluster/types.js'
import { deployFleet, type FleetSettings } from '../../src/deploy/fleet/deploy-fleet.js'
import { driftedClusters, withDriftVerdict } from '../../src/deploy/fleet/drift.js'
import { headline, renderSummary, shouldFail } from '../../src/deploy/fleet/report.js'
import type { FleetReport } from '../../src/deploy/fleet/types.js'
import type { KubeObject } from '../../src/k8s/types.js'
import { deployOptions, deployRequest } from '../../src/options/deploy.js'
import { Redactor } from '../../src/secrets/redact.js'
import { FakeClusterClient, fakeClock, quietLog } from './fake-client.js'
import { configured, created, deployment, dryRunReport, row, service } from './report-fixtures.js'

const driftReport = (): FleetReport => ({
  result: 'success',
  dryRun: true,
  durationMs: 3_000,
  rows: [
    row('prod-us', 'changed', {
      changes: [created(service('api'))]
    }),
    row('prod-eu', 'changed', {
      changes: [
        configured(
          deployment('web', 'registry.example/shop/web:1.0.0', 5),
          deployment('web', 'registry.example/shop/web:1.0.0')
        ),
        { kind: 'ConfigMap', namespace: 'shop', name: 'old', action: 'deleted' }
      ]
    }),
    row('staging', 'unchanged', {
      changes: [{ kind: 'Service', namespace: 'shop', name: 'web', action: 'unchanged' }]
    })
  ]
})

describe('drifted clusters', () => {
  it('are the clusters whose dry run finished and would change something, by name', () => {
    const report: FleetReport = {
      ...driftReport(),
      rows: [...driftReport().rows, row('broken', 'failed', { reason: 'unreachable' })]
    }
    expect(driftedClusters(report)).toEqual(['prod-eu', 'prod-us'])
    // A deploy changes what differs: it never reports drift.
    expect(driftedClusters({ ...report, dryRun: false })).toEqual([])
  })

  it('fail the run only with fail-on-drift, and only in a dry run', () => {
    expect(withDriftVerdict(driftReport(), false)).toEqual(driftReport())
    expect(withDriftVerdict({ ...driftReport(), dryRun: false }, true).result).toBe('success')
    const verdict = withDriftVerdict(driftReport(), true)
    expect([verdict.result, verdict.failOnDrift, shouldFail(verdict)]).toEqual([
      'failure',
      true,
      true
    ])
    const clean: FleetReport = { ...driftReport(), rows: [driftReport().rows[2]] }
    const passed = withDriftVerdict(clean, true)
    expect([passed.result, passed.failOnDrift, shouldFail(passed)]).toEqual([
      'success',
      true,
      false
    ])
  })
})

describe('the summary of a drift check', () => {
  it('leads with the drift and lists every drifted object per cluster, under Drift', () => {
    const report = withDriftVerdict(driftReport(), true)
    expect(headline(report)).toBe('dry run: 2 of 3 clusters drifted')
    const md = renderSummary(report)
    expect(md.split('\n')[0]).toBe('### ❌ kit deploy (dry run): 2 of 3 clusters drifted')
    const drift = md.slice(md.indexOf('#### Drift'), md.indexOf('#### What would be deleted'))
    expect(drift).toBe(
      [
        '#### Drift',
        '',
        '2 of 3 clusters differ from the manifests: a deploy would change the objects below (their diffs follow).',
        '',
        '**prod-eu**: 2 objects',
        '',
        '- ✏️ differs from the manifests: `Deployment shop/web`',
        '- ➖ on the cluster, gone from the manifests (prune would delete it): `ConfigMap shop/old`',
        '',
        '**prod-us**: 1 object',
        '',
        '- ➕ missing on the cluster: `Service shop/api`',
        '',
        ''
      ].join('\n')
    )
    // The diffs are the dry run's own sections, after the drift.
    expect(md.indexOf('#### What would change')).toBeGreaterThan(md.indexOf('#### Drift'))
  })

  it('says so when no cluster drifted, and where drift is not known', () => {
    const report = withDriftVerdict(
      {
        ...driftReport(),
        result: 'failure',
        rows: [driftReport().rows[2], row('broken', 'failed', { reason: 'cluster unreachable' })]
      },
      true
    )
    expect(headline(report)).toBe('dry run: 1 of 2 clusters failed')
    expect(renderSummary(report)).toContain(
      '#### Drift\n\nNo cluster differs from the manifests.\nNot known for `broken`: the dry run did not finish there.\n'
    )
    const clean = withDriftVerdict({ ...driftReport(), rows: [driftReport().rows[2]] }, true)
    expect(headline(clean)).toBe('dry run: no drift on 1 cluster')
  })

  it('leaves a plain dry run (no fail-on-drift) exactly as it was', () => {
    const plain = dryRunReport()
    expect(renderSummary(withDriftVerdict(plain, false))).toBe(renderSummary(plain))
    expect(renderSummary(plain)).not.toContain('#### Drift')
    expect(headline(plain)).toBe('dry run: 3 of 3 clusters would change')
  })
})

describe('the fail-on-drift option', () => {
  const read = (inputs: Record<string, string>, dryRun: boolean) => () =>
    deployRequest(
      readOptions(deployOptions, (n) => inputs[n] ?? ''),
      { credentials: {}, dryRun }
    )

  it('is refused outside a dry run, saying why', () => {
    expect(read({ 'fail-on-drift': 'true' }, false)).toThrow(
      "'fail-on-drift' needs a dry run (the deployer's dry-run: true, or kit diff): a deploy changes what differs instead of reporting it"
    )
    expect(read({ 'fail-on-drift': 'true' }, true)().fleet.failOnDrift).toBe(true)
    expect(read({}, true)().fleet.failOnDrift).toBe(false)
  })
})

describe('a drift check through the fleet and the engine (in-memory cluster)', () => {
  const cluster = 'prod-eu'
  const objects: KubeObject[] = [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } },
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'web-config', namespace: 'shop' },
      data: { LOG_LEVEL: 'info' }
    },
    deployment('web', 'registry.example/shop/web:1.0.0')
  ]
  const manifests: Manifest[] = objects.map((object, i) => ({
    object,
    source: { file: `${cluster}/web/${i}.yaml`, line: 1 }
  }))

  function settings(dryRun: boolean, failOnDrift: boolean): FleetSettings {
    return {
      fleet: { clusters: [], concurrency: 1, waves: [], clusterLabels: new Map(), failOnDrift },
      cluster: {
        dryRun,
        // The in-memory cluster runs no controllers: nothing would ever become healthy.
        wait: false,
        timeoutMs: 60_000,
        failFast: { graceMs: 1_000, unschedulableMs: 1_000, threshold: 1 },
        rollbackOnFailure: true,
        prune: { enabled: false, max: 100, allowKinds: [] },
        strategy: 'rolling-update',
        fastRollbackKeep: 2,
        lock: { identity: 'drift-unit', description: 'drift unit test', waitMs: 1_000 },
        version: { commit: 'a'.repeat(40), rollback: false, redeploy: false }
      }
    }
  }

  const run = (client: FakeClusterClient, dryRun: boolean, failOnDrift: boolean) =>
    deployFleet(settings(dryRun, failOnDrift), {
      manifests: new Map([[cluster, manifests]]),
      credentialSources: new Map([[cluster, 'the unit test']]),
      connect: () => client,
      engine: deployWithClient,
      log: quietLog,
      logFor: () => quietLog,
      redactor: new Redactor(),
      clock: fakeClock()
    })

  it('finds a hand-edited object, fails on it, and writes nothing', async () => {
    const client = new FakeClusterClient(cluster)
    expect((await run(client, false, false)).result).toBe('success')
    expect(client.writes.some((w) => w.includes('Lease kit-system/kit-deploy-lock'))).toBe(true)

    const undrifted = await run(client, true, true)
    expect([undrifted.result, driftedClusters(undrifted)]).toEqual(['success', []])

    // Someone edits the ConfigMap by hand (kubectl edit).
    const key = [...client.objects.keys()].find((k) => k.endsWith('/ConfigMap/shop/web-config'))!
    const live = client.objects.get(key)!
    client.objects.set(key, { ...live, data: { LOG_LEVEL: 'debug' } })
    const before = structuredClone([...client.objects.entries()])
    const writes = client.writes.length

    const drifted = await run(client, true, true)
    expect([drifted.result, driftedClusters(drifted), shouldFail(drifted)]).toEqual([
      'failure',
      [cluster],
      true
    ])
    expect(renderSummary(drifted)).toContain(
      '**prod-eu**: 1 object\n\n- ✏️ differs from the manifests: `ConfigMap shop/web-config`\n'
    )
    // No lock, no inventory, no deployed-commit record, no object: nothing was written.
    expect(client.writes.slice(writes)).toEqual([])
    expect([...client.objects.entries()]).toEqual(before)

    // Without fail-on-drift, the same dry run succeeds and still names the drifted cluster.
    const plain = await run(client, true, false)
    expect([plain.result, plain.failOnDrift, driftedClusters(plain)]).toEqual([
      'success',
      undefined,
      [cluster]
    ])
  })
})
