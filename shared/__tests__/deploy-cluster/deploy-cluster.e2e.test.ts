/**
 * deployCluster against a real local cluster (kube-apiserver, controller-manager, scheduler,
 * kwok nodes). Each test works in a namespace of its own.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { AppsV1Api, KubeConfig, KubernetesObjectApi, PatchStrategy } from '@kubernetes/client-node'
import { testClusters, uniqueName, type TestCluster } from '../../../testinfra/jest/clusters.js'
import { createClusterClient } from '../../src/k8s/client/client.js'
import { deployCluster } from '../../src/deploy/cluster/deploy.js'
import { appliedHashAnnotation } from '../../src/k8s/change.js'
import type { KubeObject } from '../../src/k8s/types.js'
import { expectOutcome, fastOptions, manifestsFrom } from './helpers.js'

let cluster: TestCluster
let client: ReturnType<typeof createClusterClient>

beforeAll(() => {
  cluster = testClusters()[0]
  client = createClusterClient(cluster.name, cluster.kubeConfig)
})
// The clusters are shared and have limited pod capacity: remove what the suite created.
const namespaces: string[] = []
function ownNamespace(prefix: string): string {
  const name = uniqueName(prefix)
  namespaces.push(name)
  return name
}
afterAll(async () => {
  for (const name of namespaces) await client.delete({ apiVersion: 'v1', kind: 'Namespace', name })
  await client.close()
})

function deploymentYaml(ns: string, name: string, image: string, extra = ''): string {
  return `
apiVersion: v1
kind: Namespace
metadata:
  name: ${ns}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
  namespace: ${ns}
spec:
  replicas: 2
  progressDeadlineSeconds: 30
  selector:
    matchLabels: { app: ${name} }
  template:
    metadata:
      labels: { app: ${name} }
    spec:
      containers:
        - name: app
          image: ${image}
${extra}`
}

async function resourceVersions(ns: string): Promise<Record<string, string | undefined>> {
  const out: Record<string, string | undefined> = {}
  for (const [apiVersion, kind] of [
    ['apps/v1', 'Deployment'],
    ['v1', 'ConfigMap'],
    ['v1', 'Secret'],
    ['v1', 'Service']
  ])
    for (const o of await client.list(apiVersion, kind, { namespace: ns }))
      out[`${kind}/${o.metadata.name}`] = o.metadata.resourceVersion
  const nsObj = await client.get({ apiVersion: 'v1', kind: 'Namespace', name: ns })
  out[`Namespace/${ns}`] = nsObj?.metadata.resourceVersion
  return out
}

/** An object without its status, its resourceVersion and the status subresource's managedFields. */
function withoutStatus(o: KubeObject | undefined): unknown {
  if (!o) return o
  const rest = structuredClone(o)
  delete rest.status
  const managed = (o.metadata.managedFields ?? []).filter(
    (f) => (f as { subresource?: string }).subresource !== 'status'
  )
  return {
    ...rest,
    metadata: { ...o.metadata, resourceVersion: undefined, managedFields: managed }
  }
}

/** resourceVersions once two reads half a second apart agree (controllers done writing status). */
async function settledResourceVersions(ns: string): Promise<Record<string, string | undefined>> {
  let last = await resourceVersions(ns)
  for (let i = 0; i < 20; i++) {
    await new Promise((resolve) => setTimeout(resolve, 500))
    const now = await resourceVersions(ns)
    if (JSON.stringify(now) === JSON.stringify(last)) return now
    last = now
  }
  return last
}

describe('deployCluster on a real cluster', () => {
  it('creates a Namespace and a Deployment that becomes healthy, and a second run writes nothing', async () => {
    const ns = ownNamespace('dc-ok')
    const manifests = manifestsFrom(
      deploymentYaml(ns, 'web', 'example.com/web:1.0') +
        `---
apiVersion: v1
kind: ConfigMap
metadata: { name: web-config, namespace: ${ns} }
data: { mode: blue }
---
apiVersion: v1
kind: Service
metadata: { name: web, namespace: ${ns} }
spec:
  selector: { app: web }
  ports: [{ port: 80 }]
`
    )
    const firstOptions = fastOptions()
    const first = await deployCluster(cluster, manifests, firstOptions)
    expectOutcome(first, firstOptions, 'changed')
    expect(first.changes.map((c) => `${c.kind}/${c.name}:${c.action}`).sort()).toEqual(
      [
        `ConfigMap/web-config:created`,
        `Deployment/web:created`,
        `Namespace/${ns}:created`,
        `Service/web:created`
      ].sort()
    )
    const dep = (await client.get({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      namespace: ns,
      name: 'web'
    })) as KubeObject
    expect((dep.status as { readyReplicas?: number }).readyReplicas).toBe(2)

    // Controllers may still write the Deployment's status for a moment: start from a quiet state.
    const before = await settledResourceVersions(ns)
    const depBefore = await client.get({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      namespace: ns,
      name: 'web'
    })
    const second = await deployCluster(cluster, manifests, fastOptions())
    expect(second.outcome).toBe('unchanged')
    expect(second.changes.every((c) => c.action === 'unchanged')).toBe(true)
    const after = await resourceVersions(ns)
    const depAfter = await client.get({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      namespace: ns,
      name: 'web'
    })
    // Objects no controller writes keep their resourceVersion exactly.
    const { 'Deployment/web': depVersionBefore, ...othersBefore } = before
    const { 'Deployment/web': depVersionAfter, ...othersAfter } = after
    expect(othersAfter).toEqual(othersBefore)
    // The Deployment too, unless the controller wrote its status meanwhile (the local clusters'
    // node controller marks pods NotReady when the machine is overloaded); then everything but
    // the status part is unchanged: no write came from kit.
    const moved = depVersionAfter !== depVersionBefore
    expect(moved ? withoutStatus(depAfter) : depVersionAfter).toEqual(
      moved ? withoutStatus(depBefore) : depVersionBefore
    )
  })
})

describe('deployCluster failures on a real cluster', () => {
  it('fails fast on CrashLoopBackOff of the new revision and rolls back to the previous pods', async () => {
    const ns = ownNamespace('dc-crash')
    const good = manifestsFrom(deploymentYaml(ns, 'api', 'example.com/api:1.0'))
    const goodOptions = fastOptions()
    expectOutcome(await deployCluster(cluster, good, goodOptions), goodOptions, 'changed')
    const before = (await client.get({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      namespace: ns,
      name: 'api'
    })) as KubeObject

    const options = fastOptions()
    const bad = manifestsFrom(deploymentYaml(ns, 'api', 'example.com/api:2.0-crashloop'))
    const result = await deployCluster(cluster, bad, options)
    expectOutcome(result, options, 'rolled-back')
    expect(result.rolledBack).toBe(true)
    expect(result.failures[0]).toMatchObject({
      object: `Deployment/${ns}/api`,
      container: 'app',
      reason: 'CrashLoopBackOff'
    })
    expect(result.failures[0].pod).toMatch(/^api-/)
    expect(result.reason).toContain('CrashLoopBackOff')
    expect(options.log.text()).toContain('rolling back')

    const after = (await client.get({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      namespace: ns,
      name: 'api'
    })) as KubeObject
    const image = (after.spec as { template: { spec: { containers: { image: string }[] } } })
      .template.spec.containers[0].image
    expect(image).toBe('example.com/api:1.0')
    const status = after.status as { readyReplicas?: number; updatedReplicas?: number }
    expect(status.readyReplicas).toBe(2)
    // The pods Ready now are those of the ReplicaSet that ran before.
    const hash = (o: KubeObject) => o.metadata.labels?.['pod-template-hash']
    const pods = (await client.list('v1', 'Pod', { namespace: ns })).filter(
      (p) => (p.status as { phase?: string }).phase === 'Running' && !p.metadata.deletionTimestamp
    )
    const oldRs = (await client.list('apps/v1', 'ReplicaSet', { namespace: ns })).find(
      (rs) =>
        rs.metadata.annotations?.['deployment.kubernetes.io/revision'] !== undefined &&
        (rs.spec as { template: { spec: { containers: { image: string }[] } } }).template.spec
          .containers[0].image === 'example.com/api:1.0'
    ) as KubeObject
    expect(pods.filter((p) => hash(p) === hash(oldRs)).length).toBe(2)
    expect(before.metadata.uid).toBe(after.metadata.uid)
  })

  it('fails with ImagePullBackOff for an image from an unreachable registry', async () => {
    const ns = ownNamespace('dc-pull')
    const result = await deployCluster(
      cluster,
      manifestsFrom(deploymentYaml(ns, 'pull', 'registry.invalid/team/pull:1.0')),
      fastOptions({ rollbackOnFailure: false })
    )
    expect(result.outcome).toBe('failed')
    expect(result.failures[0]).toMatchObject({ object: `Deployment/${ns}/pull`, container: 'app' })
    expect(['ImagePullBackOff', 'ErrImagePull']).toContain(result.failures[0].reason)
  })

  it('fails an unschedulable pod after the window with the scheduler message and its Warning events', async () => {
    const ns = ownNamespace('dc-sched')
    const result = await deployCluster(
      cluster,
      manifestsFrom(
        deploymentYaml(
          ns,
          'nowhere',
          'example.com/nowhere:1',
          '      nodeSelector: { kit.dev/no-such-node: "true" }\n'
        )
      ),
      fastOptions({
        rollbackOnFailure: false,
        failFast: { graceMs: 3_000, unschedulableMs: 2_000, threshold: 1 }
      })
    )
    expect(result.outcome).toBe('failed')
    expect(result.failures[0]).toMatchObject({
      object: `Deployment/${ns}/nowhere`,
      reason: 'Unschedulable'
    })
    expect(result.failures[0].message).toMatch(/node\(s\) didn't match/)
    expect(result.failures[0].events.join('\n')).toMatch(
      /Pod\/nowhere-[a-z0-9-]+: FailedScheduling: /
    )
  })

  it('rolls back a first deploy by deleting what it created', async () => {
    const ns = ownNamespace('dc-new')
    const result = await deployCluster(
      cluster,
      manifestsFrom(
        `apiVersion: v1
kind: ConfigMap
metadata: { name: cfg, namespace: default, labels: { suite: ${ns} } }
data: { a: b }
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: ${ns}, namespace: default }
spec:
  replicas: 1
  selector: { matchLabels: { app: ${ns} } }
  template:
    metadata: { labels: { app: ${ns} } }
    spec: { containers: [{ name: app, image: example.com/x:1-crashloop }] }
`.replace('name: cfg', `name: ${ns}-cfg`)
      ),
      fastOptions()
    )
    expect(result.outcome).toBe('rolled-back')
    expect(
      await client.get({
        apiVersion: 'v1',
        kind: 'ConfigMap',
        namespace: 'default',
        name: `${ns}-cfg`
      })
    ).toBeUndefined()
    const dep = await client.get({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      namespace: 'default',
      name: ns
    })
    expect(dep === undefined || dep.metadata.deletionTimestamp !== undefined).toBe(true)
  })
})

describe('deployCluster kinds on a real cluster', () => {
  it('applies a CRD and a custom resource of it in one run', async () => {
    const group = `${uniqueName('g')}.kit.test`
    const ns = ownNamespace('dc-crd')
    const result = await deployCluster(
      cluster,
      manifestsFrom(`
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: { name: widgets.${group} }
spec:
  group: ${group}
  scope: Namespaced
  names: { plural: widgets, singular: widget, kind: Widget }
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec: { type: object, properties: { size: { type: integer } } }
---
apiVersion: ${group}/v1
kind: Widget
metadata: { name: w1, namespace: ${ns} }
spec: { size: 3 }
---
apiVersion: v1
kind: Namespace
metadata: { name: ${ns} }
`),
      fastOptions()
    )
    expect(result.failures).toEqual([])
    expect(result.outcome).toBe('changed')
    const w = await client.get({
      apiVersion: `${group}/v1`,
      kind: 'Widget',
      namespace: ns,
      name: 'w1'
    })
    expect((w?.spec as { size: number }).size).toBe(3)
    await client.delete({
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      name: `widgets.${group}`
    })
  })

  it('waits for a Job that completes, fails one that fails, and recreates a Job whose template changed', async () => {
    const ns = ownNamespace('dc-job')
    const job = (name: string, image: string) => `
apiVersion: batch/v1
kind: Job
metadata: { name: ${name}, namespace: ${ns} }
spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      containers: [{ name: run, image: ${image} }]
`
    const nsYaml = `apiVersion: v1\nkind: Namespace\nmetadata: { name: ${ns} }\n---\n`
    const ok = await deployCluster(
      cluster,
      manifestsFrom(nsYaml + job('migrate', 'example.com/migrate:1')),
      fastOptions()
    )
    expect(ok.failures).toEqual([])
    expect(ok.outcome).toBe('changed')
    const done = await client.get({
      apiVersion: 'batch/v1',
      kind: 'Job',
      namespace: ns,
      name: 'migrate'
    })
    expect((done?.status as { succeeded?: number }).succeeded).toBe(1)

    const options = fastOptions()
    const recreated = await deployCluster(
      cluster,
      manifestsFrom(nsYaml + job('migrate', 'example.com/migrate:2')),
      options
    )
    expect(recreated.failures).toEqual([])
    expect(recreated.changes.find((c) => c.kind === 'Job')).toMatchObject({
      action: 'configured',
      message: expect.stringContaining('recreated')
    })
    expect(options.log.text()).toMatch(
      /Job\/.*migrate: the Job's pod template changed and is immutable/
    )
    const again = await client.get({
      apiVersion: 'batch/v1',
      kind: 'Job',
      namespace: ns,
      name: 'migrate'
    })
    expect(again?.metadata.uid).not.toBe(done?.metadata.uid)

    const failed = await deployCluster(
      cluster,
      manifestsFrom(nsYaml + job('broken', 'example.com/broken:1-crashloop')),
      fastOptions()
    )
    expect(failed.outcome).toBe('rolled-back')
    expect(failed.failures[0].object).toBe(`Job/${ns}/broken`)
    expect(['BackoffLimitExceeded', 'Error', 'Failed']).toContain(failed.failures[0].reason)
  })
})

describe('deployCluster dry run on a real cluster', () => {
  it('shows a diff, changes nothing, and never shows Secret values', async () => {
    const ns = ownNamespace('dc-dry')
    const base = (value: string, mode: string) =>
      manifestsFrom(`
apiVersion: v1
kind: Namespace
metadata: { name: ${ns} }
---
apiVersion: v1
kind: Secret
metadata: { name: creds, namespace: ${ns} }
stringData: { password: ${value} }
---
apiVersion: v1
kind: ConfigMap
metadata: { name: settings, namespace: ${ns} }
data: { mode: ${mode} }
`)
    expect(
      (await deployCluster(cluster, base('hunter2-first-secret', 'blue'), fastOptions())).outcome
    ).toBe('changed')
    const before = await settledResourceVersions(ns)

    const options = fastOptions({ dryRun: true })
    const result = await deployCluster(cluster, base('s3cr3t-second-value', 'green'), options)
    expect(result.outcome).toBe('changed')
    const cm = result.changes.find((c) => c.kind === 'ConfigMap')
    expect(cm?.action).toBe('configured')
    expect(cm?.diff).toContain('-   mode: blue')
    expect(cm?.diff).toContain('+   mode: green')
    const secret = result.changes.find((c) => c.kind === 'Secret')
    expect(secret?.action).toBe('configured')
    expect(secret?.diff).toContain('<redacted')
    const everything = JSON.stringify(result) + options.log.text()
    for (const v of ['hunter2-first-secret', 's3cr3t-second-value'])
      for (const form of [v, Buffer.from(v).toString('base64')])
        expect(everything).not.toContain(form)
    expect(await resourceVersions(ns)).toEqual(before)

    const fresh = ownNamespace('dc-dry-new')
    const created = await deployCluster(
      cluster,
      manifestsFrom(
        `apiVersion: v1\nkind: Namespace\nmetadata: { name: ${fresh} }\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: { name: c, namespace: ${fresh} }\ndata: { k: v }\n`
      ),
      fastOptions({ dryRun: true })
    )
    expect(created.changes.map((c) => c.action)).toEqual(['created', 'created'])
    expect(await client.get({ apiVersion: 'v1', kind: 'Namespace', name: fresh })).toBeUndefined()
  })
})

describe('deployCluster change detection on a real cluster', () => {
  it('corrects drift someone made live, applies removed fields, then writes nothing', async () => {
    const ns = ownNamespace('dc-drift')
    const yaml = (configExtra: string, annotations: string, password = 'first-pass-1') =>
      deploymentYaml(ns, 'web', 'example.com/web:1.0') +
      `---
apiVersion: v1
kind: Secret
metadata: { name: web-secret, namespace: ${ns} }
stringData: { password: ${password} }
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: web-config
  namespace: ${ns}
${annotations}
data:
  mode: blue
${configExtra}`
    const full = manifestsFrom(yaml('  extra: "yes"\n', '  annotations: { team: shop }\n'))
    const firstOptions = fastOptions()
    expectOutcome(await deployCluster(cluster, full, firstOptions), firstOptions, 'changed')

    // Someone edits the live objects with another tool (kubectl edit / patch).
    const other = KubernetesObjectApi.makeApiClient(cluster.kubeConfig)
    await other.patch(
      {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'web', namespace: ns },
        spec: {
          template: { spec: { containers: [{ name: 'app', image: 'example.com/web:hotfix' }] } }
        }
      } as never,
      undefined,
      undefined,
      'kubectl-edit',
      undefined,
      PatchStrategy.StrategicMergePatch
    )
    await other.patch(
      {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'web-config', namespace: ns },
        data: { mode: 'red' }
      } as never,
      undefined,
      undefined,
      'kubectl-edit',
      undefined,
      PatchStrategy.MergePatch
    )
    const driftOptions = fastOptions()
    const corrected = await deployCluster(cluster, full, driftOptions)
    expectOutcome(corrected, driftOptions, 'changed')
    expect(corrected.changes.map((c) => `${c.kind}:${c.action}`).sort()).toEqual([
      'ConfigMap:configured',
      'Deployment:configured',
      'Namespace:unchanged',
      'Secret:unchanged'
    ])
    expect(corrected.changes.find((c) => c.kind === 'ConfigMap')?.diff).toContain(
      '-   mode: red\n+   mode: blue'
    )
    const image = async () =>
      (
        (
          await client.get({
            apiVersion: 'apps/v1',
            kind: 'Deployment',
            namespace: ns,
            name: 'web'
          })
        )?.spec as { template: { spec: { containers: { image: string }[] } } }
      ).template.spec.containers[0].image
    expect(await image()).toBe('example.com/web:1.0')
    const config = () =>
      client.get({ apiVersion: 'v1', kind: 'ConfigMap', namespace: ns, name: 'web-config' })
    expect((await config())?.data).toEqual({ mode: 'blue', extra: 'yes' })

    // A key and an annotation leave the manifest: both leave the live object.
    const trimmed = manifestsFrom(yaml('', ''))
    const trimOptions = fastOptions()
    const removed = await deployCluster(cluster, trimmed, trimOptions)
    expectOutcome(removed, trimOptions, 'changed')
    expect(removed.changes.filter((c) => c.action !== 'unchanged').map((c) => c.kind)).toEqual([
      'ConfigMap'
    ])
    const live = await config()
    expect(live?.data).toEqual({ mode: 'blue' })
    expect(live?.metadata.annotations?.team).toBeUndefined()
    expect(live?.metadata.annotations?.[appliedHashAnnotation]).toMatch(/^[0-9a-f]{16}$/)

    // A new Secret value (the hash leaves Secret values out): found by comparing the values.
    const rotated = manifestsFrom(yaml('', '', 'second-pass-2'))
    const rotateOptions = fastOptions()
    const rotatedResult = await deployCluster(cluster, rotated, rotateOptions)
    expectOutcome(rotatedResult, rotateOptions, 'changed')
    expect(
      rotatedResult.changes.filter((c) => c.action !== 'unchanged').map((c) => c.kind)
    ).toEqual(['Secret'])
    const secret = await client.get({
      apiVersion: 'v1',
      kind: 'Secret',
      namespace: ns,
      name: 'web-secret'
    })
    expect((secret?.data as Record<string, string>).password).toBe(
      Buffer.from('second-pass-2').toString('base64')
    )
    expect(JSON.stringify(rotatedResult) + rotateOptions.log.text()).not.toContain('second-pass-2')

    const before = await settledResourceVersions(ns)
    const again = await deployCluster(cluster, rotated, fastOptions())
    expect(again.outcome).toBe('unchanged')
    const after = await resourceVersions(ns)
    expect({ ...after, 'Deployment/web': undefined }).toEqual({
      ...before,
      'Deployment/web': undefined
    })
  })
})

describe('deployCluster rollback of a first deploy on a real cluster', () => {
  it('leaves the Namespace it created, so a corrected re-run succeeds', async () => {
    const ns = ownNamespace('dc-first')
    const render = (image: string) =>
      manifestsFrom(
        deploymentYaml(ns, 'api', image) +
          `---
apiVersion: v1
kind: ConfigMap
metadata: { name: api-config, namespace: ${ns} }
data: { mode: blue }
`
      )
    const options = fastOptions()
    const failed = await deployCluster(cluster, render('example.com/api:1.0-crashloop'), options)
    expectOutcome(failed, options, 'rolled-back')
    const namespace = await client.get({ apiVersion: 'v1', kind: 'Namespace', name: ns })
    expect(namespace?.metadata.deletionTimestamp).toBeUndefined()
    expect(
      await client.get({ apiVersion: 'v1', kind: 'ConfigMap', namespace: ns, name: 'api-config' })
    ).toBeUndefined()
    expect(options.log.text()).toContain(
      `rollback: left Namespace/${ns} in place (created by this run): a rollback never deletes a Namespace`
    )

    const fixedOptions = fastOptions()
    const fixed = await deployCluster(cluster, render('example.com/api:1.0'), fixedOptions)
    expectOutcome(fixed, fixedOptions, 'changed')
    expect(fixed.changes.map((c) => `${c.kind}:${c.action}`).sort()).toEqual([
      'ConfigMap:created',
      'Deployment:created',
      'Namespace:unchanged'
    ])
  })
})

describe('deployCluster against an endpoint it cannot trust', () => {
  it('reports a TLS verification failure naming the address and what to check, not "unreachable"', async () => {
    // The real API server, but a kubeconfig without its CA: the certificate cannot be verified.
    const server = cluster.kubeConfig.getCurrentCluster()?.server as string
    const user = cluster.kubeConfig.getCurrentUser()
    const kc = new KubeConfig()
    kc.loadFromOptions({
      clusters: [{ name: 'untrusted', server }],
      users: [{ name: 'u', token: user?.token ?? 'x' }],
      contexts: [{ name: 'untrusted', cluster: 'untrusted', user: 'u' }],
      currentContext: 'untrusted'
    })
    const options = fastOptions()
    const result = await deployCluster(
      { name: 'untrusted', kubeConfig: kc },
      manifestsFrom(
        '{ apiVersion: v1, kind: ConfigMap, metadata: { name: x, namespace: default } }'
      ),
      options
    )
    expect(result.outcome).toBe('failed')
    const origin = new URL(server).origin
    expect(result.reason).toMatch(
      new RegExp(
        `^TLS verification failed: the certificate of ${origin.replace(/\./g, '\\.')} is not signed by a CA this machine trusts, and cluster entry "untrusted" has no certificate-authority-data \\((SELF_SIGNED_CERT_IN_CHAIN|DEPTH_ZERO_SELF_SIGNED_CERT|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT_LOCALLY)(: [^)]+)?\\); add the cluster's CA there$`
      )
    )
    expect(result.failures[0]).toMatchObject({ reason: 'TLSVerificationFailed' })
  })
})

describe('deployCluster with a HorizontalPodAutoscaler on a real cluster', () => {
  it('leaves the replica count to the HPA: a redeploy neither resets it nor writes', async () => {
    const ns = ownNamespace('dc-hpa')
    const manifests = (image: string) =>
      manifestsFrom(
        deploymentYaml(ns, 'web', image).replace('replicas: 2', 'replicas: 1') +
          `---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: { name: web, namespace: ${ns} }
spec:
  scaleTargetRef: { apiVersion: apps/v1, kind: Deployment, name: web }
  minReplicas: 3
  maxReplicas: 5
  metrics:
    - type: Resource
      resource: { name: cpu, target: { type: Utilization, averageUtilization: 80 } }
`
      )
    const firstOptions = fastOptions()
    expectOutcome(
      await deployCluster(cluster, manifests('example.com/web:1.0'), firstOptions),
      firstOptions,
      'changed'
    )
    // Read without kit's client: what the cluster stores, not what kit thinks it stores.
    const apps = cluster.kubeConfig.makeApiClient(AppsV1Api)
    const read = () => apps.readNamespacedDeployment({ name: 'web', namespace: ns })
    // The autoscaler enforces minReplicas before it looks at metrics (there is no metrics API).
    let scaled = await read()
    for (let i = 0; i < 90 && scaled.spec?.replicas !== 3; i++) {
      await new Promise((resolve) => setTimeout(resolve, 1000))
      scaled = await read()
    }
    expect(scaled.spec?.replicas).toBe(3)

    const againOptions = fastOptions()
    const again = await deployCluster(cluster, manifests('example.com/web:1.0'), againOptions)
    expectOutcome(again, againOptions, 'unchanged')
    expect(againOptions.log.text()).toContain(
      `for 1 workload: Deployment/${ns}/web; remove spec.replicas from the manifest to silence this`
    )
    const after = await read()
    expect(after.spec?.replicas).toBe(3)
    expect(after.metadata?.generation).toBe(scaled.metadata?.generation)

    // A changed manifest is applied with the autoscaler's count, not the manifest's.
    const changedOptions = fastOptions()
    const changed = await deployCluster(cluster, manifests('example.com/web:2.0'), changedOptions)
    expectOutcome(changed, changedOptions, 'changed')
    expect(changed.changes.map((c) => `${c.kind}:${c.action}`).sort()).toEqual([
      'Deployment:configured',
      'HorizontalPodAutoscaler:unchanged',
      'Namespace:unchanged'
    ])
    expect(changed.changes.find((c) => c.kind === 'Deployment')?.diff).not.toContain('replicas')
    const rolled = await read()
    expect(rolled.spec?.replicas).toBe(3)
    expect(rolled.spec?.template.spec?.containers[0].image).toBe('example.com/web:2.0')
  }, 240_000)
})
