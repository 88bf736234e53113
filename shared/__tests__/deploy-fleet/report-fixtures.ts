/**
 * Fleet reports for the summary tests (and the screenshots in docs/images): rows shaped as the
 * engine returns them, with diffs made by the engine's own renderDiff, so Secret redaction and
 * the diff format are the real ones.
 */
import type { ChangeEntry, Failure } from '../../src/deploy/cluster/types.js'
import type { FleetReport, FleetRow } from '../../src/deploy/fleet/types.js'
import { renderDiff } from '../../src/k8s/diff.js'
import type { KubeObject } from '../../src/k8s/types.js'

/** The Secret value the fixtures use; a summary must never show it in any form. */
export const secretValue = 'sw0rdfish-db-password'

export function deployment(name: string, image: string, replicas = 2): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name,
      namespace: 'shop',
      labels: { app: name, 'app.kubernetes.io/part-of': 'shop' }
    },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          containers: [
            {
              name,
              image,
              ports: [{ containerPort: 8080, name: 'http' }],
              env: [
                { name: 'LOG_LEVEL', value: 'info' },
                {
                  name: 'DB_PASSWORD',
                  valueFrom: { secretKeyRef: { name: 'db', key: 'password' } }
                }
              ],
              readinessProbe: { httpGet: { path: '/healthz', port: 'http' }, periodSeconds: 5 },
              resources: { requests: { cpu: '100m', memory: '128Mi' } }
            }
          ]
        }
      }
    }
  }
}

export function secret(value: string): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'db', namespace: 'shop' },
    type: 'Opaque',
    data: { password: Buffer.from(value).toString('base64') }
  }
}

export function service(name: string): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: 'shop' },
    spec: { selector: { app: name }, ports: [{ port: 80, targetPort: 'http' }] }
  }
}

function entry(action: ChangeEntry['action'], desired: KubeObject, live?: KubeObject): ChangeEntry {
  return {
    kind: desired.kind,
    namespace: desired.metadata.namespace,
    name: desired.metadata.name,
    action,
    ...(action === 'unchanged' ? {} : { diff: renderDiff(live, desired) })
  }
}

export const created = (o: KubeObject): ChangeEntry => entry('created', o)
export const configured = (live: KubeObject, desired: KubeObject): ChangeEntry =>
  entry('configured', desired, live)
export const unchanged = (o: KubeObject): ChangeEntry => entry('unchanged', o)

export function row(
  cluster: string,
  outcome: FleetRow['outcome'],
  extra: Partial<FleetRow> = {}
): FleetRow {
  const changes = extra.changes ?? []
  return {
    cluster,
    outcome,
    objectsChanged: changes.filter((c) => c.action !== 'unchanged').length,
    durationMs: 12_300,
    failures: [],
    changes,
    ...extra
  }
}

/** What a first deploy creates on a cluster. */
export function firstDeploy(): ChangeEntry[] {
  return [
    created(secret(secretValue)),
    created(service('web')),
    created(deployment('web', 'registry.example/shop/web:1.0.0')),
    created(deployment('worker', 'registry.example/shop/worker:1.0.0', 1))
  ]
}

/** A successful deploy to three clusters. */
export function successReport(): FleetReport {
  return {
    result: 'success',
    dryRun: false,
    durationMs: 41_000,
    rows: [
      row('prod-eu-1', 'changed', { changes: firstDeploy(), durationMs: 38_200 }),
      row('prod-us-1', 'changed', { changes: firstDeploy(), durationMs: 40_900 }),
      row('staging', 'unchanged', {
        changes: firstDeploy().map((c) => ({
          ...c,
          action: 'unchanged' as const,
          diff: undefined
        })),
        durationMs: 2_100
      })
    ]
  }
}

/** Three pods of one Deployment failing alike, as the engine reports them. */
export function imagePullFailures(): Failure[] {
  const pods = ['web-7d9c6b5f4-x2k8q', 'web-7d9c6b5f4-p9d2m']
  return pods.map((pod) => ({
    object: 'Deployment/shop/web',
    pod,
    container: 'web',
    reason: 'ImagePullBackOff',
    message: 'Back-off pulling image "registry.invalid/shop/web:2.0.0"',
    events: [
      `Pod/${pod}: Failed: Failed to pull image "registry.invalid/shop/web:2.0.0": dial tcp: lookup registry.invalid: no such host (x3)`,
      `Pod/${pod}: BackOff: Back-off pulling image "registry.invalid/shop/web:2.0.0" (x4)`
    ]
  }))
}

/** One cluster rolled back (bad image), two deployed. */
export function rolledBackReport(): FleetReport {
  const live = deployment('web', 'registry.example/shop/web:1.0.0')
  const bump = configured(live, deployment('web', 'registry.example/shop/web:2.0.0'))
  return {
    result: 'failure',
    dryRun: false,
    durationMs: 95_000,
    rows: [
      row('prod-eu-1', 'changed', { changes: [bump], durationMs: 24_600 }),
      row('prod-us-1', 'rolled-back', {
        changes: [configured(live, deployment('web', 'registry.invalid/shop/web:2.0.0'))],
        failures: imagePullFailures(),
        reason:
          'Deployment/shop/web pod web-7d9c6b5f4-x2k8q container web: ImagePullBackOff: Back-off pulling image "registry.invalid/shop/web:2.0.0" (and 1 more); rolled back',
        durationMs: 71_400
      }),
      row('staging', 'changed', { changes: [bump], durationMs: 21_900 })
    ]
  }
}

/** A dry run: a new object, an image bump, a Secret whose value changes. */
export function dryRunReport(): FleetReport {
  const live = deployment('web', 'registry.example/shop/web:1.0.0')
  const changes = (cluster: string): ChangeEntry[] => [
    configured(
      secret(secretValue),
      secret(`${secretValue}-${cluster === 'staging' ? 'new' : 'new'}`)
    ),
    configured(live, deployment('web', 'registry.example/shop/web:3.0.0')),
    created(deployment('api', 'registry.example/shop/api:3.0.0')),
    unchanged(service('web'))
  ]
  return {
    result: 'success',
    dryRun: true,
    durationMs: 3_000,
    rows: [
      row('prod-eu-1', 'changed', { changes: changes('prod-eu-1'), durationMs: 1_800 }),
      row('prod-us-1', 'changed', { changes: changes('prod-us-1'), durationMs: 2_100 }),
      row('staging', 'changed', {
        changes: [
          ...changes('staging'),
          configured(service('web'), {
            ...service('web'),
            spec: { selector: { app: 'web' }, ports: [{ port: 8080, targetPort: 'http' }] }
          })
        ],
        durationMs: 1_200
      })
    ]
  }
}

/**
 * A 50-cluster fleet where every cluster's changes differ (a per-cluster value in each object)
 * and objects are large: far more diff than a summary may hold. Three clusters failed.
 * The diffs are made once with a placeholder for the cluster and then filled in, so the
 * fixture is cheap to build.
 */
export function bigFleetReport(dryRun = true): FleetReport {
  const token = '@CLUSTER@'
  const templates: ChangeEntry[] = []
  for (let j = 0; j < 40; j++) {
    const big = deployment(`svc-${j}`, `registry.example/shop/svc-${j}:${token}`)
    const env = Array.from({ length: 60 }, (_, k) => ({
      name: `VAR_${k}`,
      value: `${token}-${j}-${k}`
    }))
    ;(
      big.spec as { template: { spec: { containers: { env: unknown[] }[] } } }
    ).template.spec.containers[0].env = env
    templates.push(j % 2 === 0 ? created(big) : configured(deployment(`svc-${j}`, 'old:1'), big))
  }
  templates.push(configured(secret(secretValue), secret(`${secretValue}-changed`)))
  const rows: FleetRow[] = []
  for (let i = 0; i < 50; i++) {
    const cluster = `prod-${String(i).padStart(2, '0')}`
    const changes = templates.map((c) => ({ ...c, diff: c.diff?.replaceAll(token, cluster) }))
    const failed = i % 17 === 5
    rows.push(
      row(cluster, failed ? 'failed' : 'changed', {
        changes,
        ...(failed
          ? { failures: imagePullFailures(), reason: 'Deployment/shop/web: ImagePullBackOff' }
          : {})
      })
    )
  }
  return { result: 'failure', dryRun, durationMs: 60_000, rows }
}
