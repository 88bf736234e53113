/**
 * The StatefulSet step on a real local cluster, whose kube-controller-manager runs the real
 * StatefulSet controller (pods from the fake kubelet, docs/local-clusters.md). A 3-replica set
 * shop db is deployed at 1.0, then changed; a watch stream on the set and its pods, opened
 * before the deploy (through client-node, independent of kit), records every partition the set
 * had and every revision each pod ran:
 *
 * - a healthy image: ordinal 2 moves first while the live partition is 2, then 1 and 0; all
 *   three end on the new revision with the partition back at 0, and a second identical deploy
 *   (the action from its bundle) is unchanged and writes nothing;
 * - a `-crashloop` image: the run fails at the partition step, ordinals 0 and 1 never ran the
 *   new revision, and the rollback deletes the stuck ordinal 2 so all three are Ready on the
 *   old revision again;
 * - with a 20 s watch window, a `-degrade-8s` image: ordinal 2 becomes Ready, degrades inside
 *   the window, and the set is rolled back with 0 and 1 untouched;
 * - without the step (stateful-step: false), the same `-crashloop` image reaches ordinal 2 the
 *   way the controller rolls any set, and the rollback must delete it the same way: the
 *   controller would wait forever for a pod stuck not Ready on the failed revision.
 *
 * The summaries are printed for the record.
 */
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { KubernetesObjectApi, Watch, type KubeConfig } from '@kubernetes/client-node'
import {
  fleetDefaults,
  renderSummary,
  runDeploy,
  runIdentity,
  type DeployRequest,
  type FleetReport
} from '../../shared/src/deploy/fleet/index.js'
import { Redactor } from '../../shared/src/secrets/redact.js'
import {
  testClusters,
  testKubeconfigPath,
  uniqueName,
  type TestCluster
} from '../../testinfra/jest/clusters.js'
import { eventually, listObjects, readObject, runBundle, writeRender } from './e2e-helpers.js'

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const image = (tag: string) => `registry.example/shop/db:${tag}`

let cluster: TestCluster
let kubeconfig: string
const namespaces: string[] = []
const ns = (prefix: string): string => {
  const name = uniqueName(prefix)
  namespaces.push(name)
  return name
}

beforeAll(() => {
  execFileSync(process.execPath, [join(repo, 'scripts', 'bundle.mjs')], {
    cwd: repo,
    stdio: 'ignore'
  })
  const all = testClusters()
  // The last cluster: the other suites start from the first.
  cluster = all[all.length - 1]
  kubeconfig = readFileSync(testKubeconfigPath(), 'utf8')
})

afterAll(async () => {
  const api = KubernetesObjectApi.makeApiClient(cluster.kubeConfig)
  await Promise.all(
    namespaces.map((name) =>
      api.delete({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } }).catch(() => undefined)
    )
  )
})

// Three ordered rollouts and a rollback per case on a real cluster.
jest.setTimeout(300_000)

/** The set db in `namespace`, 3 replicas, with its headless Service. */
const render = (namespace: string, tag: string) =>
  writeRender([cluster.name], {
    namespace,
    services: [],
    extra: () => `apiVersion: v1
kind: Service
metadata: {name: db, namespace: ${namespace}}
spec:
  clusterIP: None
  selector: {app: db}
  ports: [{name: sql, port: 5432}]
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db, namespace: ${namespace}, labels: {app: db}}
spec:
  replicas: 3
  serviceName: db
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec:
      containers:
      - name: db
        image: ${image(tag)}
        ports: [{containerPort: 5432}]
`
  })

/** Runs the core in-process on the one cluster, keeping every log line. */
async function deploy(
  manifests: string,
  inventory: string,
  watchMs = 0,
  statefulStep = true
): Promise<{ report: FleetReport; lines: string[] }> {
  const lines: string[] = []
  const request: DeployRequest = {
    manifests,
    credentials: { kubeconfig },
    fleet: { clusters: [cluster.name], concurrency: 1, waves: [], clusterLabels: new Map() },
    cluster: {
      dryRun: false,
      wait: true,
      timeoutMs: 150_000,
      failFast: { graceMs: 3_000, unschedulableMs: 30_000, threshold: 0 },
      rollbackOnFailure: true,
      waitForLoadBalancers: false,
      watch: { windowMs: watchMs, maxRestarts: 0, maxWarnings: 5 },
      statefulStep,
      prune: { enabled: false, max: fleetDefaults.pruneMax, allowKinds: [] },
      strategy: 'rolling-update',
      fastRollbackKeep: 2,
      lock: { waitMs: 60_000 },
      version: { rollback: false, redeploy: false },
      inventory,
      labels: {},
      annotations: {}
    },
    notify: { githubDeployments: false, environmentPrefix: '' }
  }
  const push = (text: string) => void lines.push(text)
  const report = await runDeploy(request, runIdentity({}), {
    log: { info: push, warning: (m) => push(`warning: ${m}`), debug: () => {} },
    logFor: () => ({
      info: push,
      warning: (m: string) => push(`warning: ${m}`),
      debug: () => {}
    }),
    redactor: new Redactor(),
    heartbeatMs: 10_000
  })
  return { report, lines }
}

/** What the watch streams saw, in order. */
interface Seen {
  /** Every partition the set's spec had, and the revisions of its status at the time. */
  readonly partitions: { partition: number; generation: number }[]
  /** Per pod name: every revision it ran, in order (repeats dropped). */
  readonly revisions: Map<string, string[]>
  /** The order in which pods were first seen on each revision: `db-2@<revision>`. */
  readonly firsts: string[]
  stop(): void
}

/** Follows the set and its pods through watch streams until stopped. */
async function follow(kc: KubeConfig, namespace: string): Promise<Seen> {
  const seen: Seen = {
    partitions: [],
    revisions: new Map(),
    firsts: [],
    stop: () => undefined
  }
  const watch = new Watch(kc)
  const ignore = () => undefined
  const sets = await watch.watch(
    `/apis/apps/v1/namespaces/${namespace}/statefulsets`,
    {},
    (_phase, o: { metadata: { generation: number }; spec: Record<string, unknown> }) => {
      const strategy = o.spec.updateStrategy as { rollingUpdate?: { partition?: number } }
      const partition = strategy?.rollingUpdate?.partition ?? 0
      const last = seen.partitions.at(-1)
      if (last?.partition !== partition)
        seen.partitions.push({ partition, generation: o.metadata.generation })
    },
    ignore
  )
  const pods = await watch.watch(
    `/api/v1/namespaces/${namespace}/pods`,
    {},
    (phase, o: { metadata: { name: string; labels?: Record<string, string> } }) => {
      const rev = o.metadata.labels?.['controller-revision-hash']
      if (phase === 'DELETED' || !rev) return
      const list = seen.revisions.get(o.metadata.name) ?? []
      if (list.at(-1) !== rev) {
        list.push(rev)
        seen.revisions.set(o.metadata.name, list)
      }
      const first = `${o.metadata.name}@${rev}`
      if (!seen.firsts.includes(first)) seen.firsts.push(first)
    },
    ignore
  )
  seen.stop = () => {
    sets.abort()
    pods.abort()
  }
  return seen
}

/** The set's revisions, partition and image, and its pods' revisions and readiness. */
async function setState(namespace: string) {
  const sts = await readObject(cluster.kubeConfig, 'apps/v1', 'StatefulSet', 'db', namespace)
  const spec = sts!.spec as {
    updateStrategy?: { rollingUpdate?: { partition?: number } }
    template: { spec: { containers: { image: string }[] } }
  }
  const status = sts!.status as {
    currentRevision?: string
    updateRevision?: string
    readyReplicas?: number
  }
  const pods = await listObjects(cluster.kubeConfig, 'v1', 'Pod', namespace, 'app=db')
  return {
    image: spec.template.spec.containers[0].image,
    partition: spec.updateStrategy?.rollingUpdate?.partition,
    currentRevision: status.currentRevision,
    updateRevision: status.updateRevision,
    ready: status.readyReplicas ?? 0,
    generation: sts!.metadata?.generation,
    pods: Object.fromEntries(
      pods
        .map((p) => {
          const conditions = ((p.status as { conditions?: { type: string; status: string }[] })
            .conditions ?? []) as { type: string; status: string }[]
          const ready = conditions.some((c) => c.type === 'Ready' && c.status === 'True')
          return [
            p.metadata!.name!,
            `${p.metadata!.labels?.['controller-revision-hash']}${ready ? '' : ' (not Ready)'}`
          ] as const
        })
        .sort(([a], [b]) => a.localeCompare(b))
    )
  }
}

/** The namespace with db at 1.0, its revision, and a stream following it from now on. */
async function startAt10(prefix: string) {
  const namespace = ns(prefix)
  const inventory = uniqueName('inv')
  const v1 = await deploy(render(namespace, '1.0'), inventory)
  expect(v1.report.rows.map((r) => [r.outcome, r.reason])).toEqual([['changed', undefined]])
  const before = await setState(namespace)
  expect(before.ready).toBe(3)
  const seen = await follow(cluster.kubeConfig, namespace)
  return { namespace, inventory, oldRevision: before.updateRevision!, seen }
}

const line = (lines: string[], text: string) => lines.findIndex((l) => l.includes(text))

describe('the StatefulSet step on a real cluster', () => {
  it('rolls ordinal 2 first under partition 2, then the rest; the same deploy again is unchanged', async () => {
    const { namespace, inventory, oldRevision, seen } = await startAt10('sts-good')
    const { report, lines } = await deploy(render(namespace, '2.0'), inventory)
    seen.stop()
    console.log(`healthy image — summary:\n${renderSummary(report)}`)
    expect(report.rows.map((r) => [r.outcome, r.reason])).toEqual([['changed', undefined]])
    const id = `StatefulSet/${namespace}/db`
    const first = line(lines, `${cluster.name}: ${id}: updating ordinal 2 first (partition 2)`)
    const rest = line(lines, `${cluster.name}: ${id}: ordinal 2 healthy; updating the rest`)
    expect(first).toBeGreaterThanOrEqual(0)
    expect(rest).toBeGreaterThan(first)
    expect(report.rows[0].changes.find((c) => c.kind === 'StatefulSet')).toMatchObject({
      action: 'configured',
      message: 'ordinal 2 first (partition 2), then the rest'
    })

    // Live: partition 2 during the step, back to 0 after; db-2 reached the new revision
    // before any other pod did.
    expect(seen.partitions.map((p) => p.partition)).toEqual([0, 2, 0])
    const after = await eventually(
      () => setState(namespace),
      (s) => s.ready === 3 && s.currentRevision === s.updateRevision
    )
    const newRevision = after.updateRevision!
    expect(newRevision).not.toBe(oldRevision)
    expect(after).toMatchObject({
      image: image('2.0'),
      partition: 0,
      currentRevision: newRevision,
      pods: { 'db-0': newRevision, 'db-1': newRevision, 'db-2': newRevision }
    })
    const movedFirst = seen.firsts.filter((f) => f.endsWith(`@${newRevision}`))
    expect(movedFirst).toEqual([
      `db-2@${newRevision}`,
      `db-1@${newRevision}`,
      `db-0@${newRevision}`
    ])

    // The action, from its bundle, with the same manifests: nothing to do, nothing written.
    const again = await runBundle({
      manifests: render(namespace, '2.0'),
      kubeconfig,
      inventory,
      clusters: cluster.name,
      timeout: '2m'
    })
    expect(again.code).toBe(0)
    expect(again.outputs.changed).toBe('false')
    expect(again.stdout).not.toContain('partition')
    expect((await setState(namespace)).generation).toBe(after.generation)
  })

  it('stops at ordinal 2 when it crash-loops; 0 and 1 never run it; the rollback brings all three back', async () => {
    const { namespace, inventory, oldRevision, seen } = await startAt10('sts-crash')
    const { report, lines } = await deploy(render(namespace, '2.0-crashloop'), inventory)
    console.log(`crash-looping image — summary:\n${renderSummary(report)}`)
    const row = report.rows[0]
    expect([row.outcome, row.reason]).toEqual([
      'rolled-back',
      `StatefulSet/${namespace}/db: ordinal 2 failed at the partition step (CrashLoopBackOff); ordinals 0–1 not updated; rolled back`
    ])
    expect(row.failures[0]).toMatchObject({
      object: `StatefulSet/${namespace}/db`,
      pod: 'db-2',
      container: 'db',
      reason: 'CrashLoopBackOff'
    })
    expect(
      line(
        lines,
        `rollback: deleted pod ${namespace}/db-2 of StatefulSet/${namespace}/db: not Ready on revision`
      )
    ).toBeGreaterThanOrEqual(0)

    const after = await eventually(
      () => setState(namespace),
      (s) =>
        s.ready === 3 && s.currentRevision === s.updateRevision && s.updateRevision === oldRevision
    )
    seen.stop()
    expect(after).toMatchObject({
      image: image('1.0'),
      partition: 0,
      updateRevision: oldRevision,
      pods: { 'db-0': oldRevision, 'db-1': oldRevision, 'db-2': oldRevision }
    })
    // Throughout: 0 and 1 ran the old revision only; 2 ran the new one and came back.
    expect(seen.revisions.get('db-0')).toEqual([oldRevision])
    expect(seen.revisions.get('db-1')).toEqual([oldRevision])
    const two = seen.revisions.get('db-2')!
    expect(two).toHaveLength(3)
    expect(two[0]).toBe(oldRevision)
    expect(two[1]).not.toBe(oldRevision)
    expect(two[2]).toBe(oldRevision)
    expect(seen.partitions.map((p) => p.partition)).toEqual([0, 2, 0])
  })

  it('rolls back when ordinal 2 degrades inside the watch window, with 0 and 1 untouched', async () => {
    const { namespace, inventory, oldRevision, seen } = await startAt10('sts-degrade')
    const { report, lines } = await deploy(render(namespace, '2.0-degrade-8s'), inventory, 20_000)
    console.log(`degrading image, watch: 20s — summary:\n${renderSummary(report)}`)
    const row = report.rows[0]
    expect(row.outcome).toBe('rolled-back')
    expect(row.reason).toMatch(
      new RegExp(
        `^StatefulSet/${namespace}/db: ordinal 2 degraded \\d+ s after healthy at the partition step \\(CrashLoopBackOff\\); ordinals 0–1 not updated; rolled back$`
      )
    )
    expect(row.degraded?.evidence[0]).toMatchObject({
      object: `Pod/${namespace}/db-2`,
      workload: `StatefulSet/${namespace}/db`,
      container: 'db',
      reason: 'CrashLoopBackOff'
    })
    expect(line(lines, `healthy; watching StatefulSet/${namespace}/db for 20s`)).toBeGreaterThan(
      line(lines, 'updating ordinal 2 first (partition 2)')
    )
    expect(line(lines, 'ordinal 2 healthy; updating the rest')).toBe(-1)

    const after = await eventually(
      () => setState(namespace),
      (s) =>
        s.ready === 3 && s.currentRevision === s.updateRevision && s.updateRevision === oldRevision
    )
    seen.stop()
    expect(after).toMatchObject({
      image: image('1.0'),
      partition: 0,
      pods: { 'db-0': oldRevision, 'db-1': oldRevision, 'db-2': oldRevision }
    })
    expect(seen.revisions.get('db-0')).toEqual([oldRevision])
    expect(seen.revisions.get('db-1')).toEqual([oldRevision])
  })

  it('without the step, a whole-set rollout that crash-loops is rolled back the same way', async () => {
    const { namespace, inventory, oldRevision, seen } = await startAt10('sts-nostep')
    const { report, lines } = await deploy(render(namespace, '2.0-crashloop'), inventory, 0, false)
    const row = report.rows[0]
    expect(row.outcome).toBe('rolled-back')
    expect(row.reason).not.toContain('partition')
    expect(line(lines, 'first (partition')).toBe(-1)
    expect(
      line(lines, `rollback: deleted pod ${namespace}/db-2 of StatefulSet/${namespace}/db`)
    ).toBeGreaterThanOrEqual(0)
    const after = await eventually(
      () => setState(namespace),
      (s) =>
        s.ready === 3 && s.currentRevision === s.updateRevision && s.updateRevision === oldRevision
    )
    seen.stop()
    expect(after).toMatchObject({
      image: image('1.0'),
      pods: { 'db-0': oldRevision, 'db-1': oldRevision, 'db-2': oldRevision }
    })
    // The controller itself stopped at the first pod it replaced: there, the partition is moot.
    expect(seen.partitions.map((p) => p.partition)).toEqual([0])
    expect(seen.revisions.get('db-0')).toEqual([oldRevision])
  })
})
