/**
 * The local clusters are real: a Deployment applied with @kubernetes/client-node gets pods
 * scheduled by the real scheduler and made Ready by kwok; a broken image shows the failure in
 * real pod status; a Job completes through the real Job controller.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { AppsV1Api, BatchV1Api, CoreV1Api, type V1Pod } from '@kubernetes/client-node'
import { createServer, type Server } from 'node:net'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { testClusters, uniqueName, type TestCluster } from '../jest/clusters.js'
import { upClusters } from '../clusters/local-clusters.js'

const clusters = testClusters()
const namespace = uniqueName('infra')

async function until<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 60_000
): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const v = await probe()
    if (v !== undefined) return v
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 250))
  }
}

function deployment(name: string, image: string, replicas = 2) {
  return {
    metadata: { name, namespace },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: 'app', image }] }
      }
    }
  }
}

async function podsOf(c: TestCluster, app: string): Promise<V1Pod[]> {
  const core = c.kubeConfig.makeApiClient(CoreV1Api)
  return (await core.listNamespacedPod({ namespace, labelSelector: `app=${app}` })).items
}

describe('local clusters', () => {
  beforeAll(async () => {
    for (const c of clusters) {
      await c.kubeConfig
        .makeApiClient(CoreV1Api)
        .createNamespace({ body: { metadata: { name: namespace } } })
      // The controller manager creates each namespace's default ServiceAccount; pods wait for it.
      await until(`default ServiceAccount in ${namespace} on ${c.name}`, async () =>
        c.kubeConfig
          .makeApiClient(CoreV1Api)
          .readNamespacedServiceAccount({ name: 'default', namespace })
          .then(() => true)
          .catch(() => undefined)
      )
    }
  })

  afterAll(async () => {
    for (const c of clusters)
      await c.kubeConfig
        .makeApiClient(CoreV1Api)
        .deleteNamespace({ name: namespace })
        .catch(() => {})
  })

  it('runs three independent clusters', async () => {
    expect(clusters).toHaveLength(3)
    const servers = clusters.map((c) => c.kubeConfig.getCurrentCluster()?.server)
    expect(new Set(servers).size).toBe(3)
    for (const s of servers) expect(s).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/)
    // Independent: an object created on one cluster is absent on the others.
    const marker = uniqueName('marker')
    await clusters[0].kubeConfig.makeApiClient(CoreV1Api).createNamespacedConfigMap({
      namespace,
      body: { metadata: { name: marker }, data: { a: 'b' } }
    })
    for (const c of clusters.slice(1)) {
      await expect(
        c.kubeConfig.makeApiClient(CoreV1Api).readNamespacedConfigMap({ name: marker, namespace })
      ).rejects.toThrow()
    }
  })

  it('gives fake nodes only loopback addresses', async () => {
    for (const c of clusters) {
      const nodes = (await c.kubeConfig.makeApiClient(CoreV1Api).listNode()).items
      expect(nodes.length).toBeGreaterThan(0)
      const internal = nodes.flatMap((n) =>
        (n.status?.addresses ?? []).filter((a) => a.type === 'InternalIP').map((a) => a.address)
      )
      expect(internal).toEqual(nodes.map(() => '127.0.0.1'))
    }
  })

  it('makes the pods of a Deployment Ready on every cluster', async () => {
    await Promise.all(
      clusters.map(async (c) => {
        const apps = c.kubeConfig.makeApiClient(AppsV1Api)
        await apps.createNamespacedDeployment({
          namespace,
          body: deployment('web', 'ghcr.io/acme/web:1.0')
        })
        const ready = await until(`Deployment web available on ${c.name}`, async () => {
          const d = await apps.readNamespacedDeployment({ name: 'web', namespace })
          return d.status?.availableReplicas === 2 ? d : undefined
        })
        expect(ready.status?.readyReplicas).toBe(2)
        const pods = await podsOf(c, 'web')
        expect(pods).toHaveLength(2)
        for (const p of pods) {
          expect(p.spec?.nodeName).toMatch(/^kwok-node-/)
          expect(p.status?.conditions?.find((x) => x.type === 'Ready')?.status).toBe('True')
        }
      })
    )
  })

  it('shows ImagePullBackOff for an image whose registry is .invalid', async () => {
    const c = clusters[0]
    await c.kubeConfig.makeApiClient(AppsV1Api).createNamespacedDeployment({
      namespace,
      body: deployment('pull', 'registry.invalid/acme/web:2.0', 1)
    })
    const reason = await until('a waiting reason on the pull pod', async () => {
      const [pod] = await podsOf(c, 'pull')
      return pod?.status?.containerStatuses?.[0]?.state?.waiting?.reason
    })
    expect(reason).toBe('ImagePullBackOff')
    const [pod] = await podsOf(c, 'pull')
    expect(pod.status?.phase).toBe('Pending')
    expect(pod.status?.conditions?.find((x) => x.type === 'Ready')?.status).not.toBe('True')
  })

  it('shows CrashLoopBackOff for an image tagged -crashloop, and never Ready', async () => {
    const c = clusters[1]
    const apps = c.kubeConfig.makeApiClient(AppsV1Api)
    await apps.createNamespacedDeployment({
      namespace,
      body: deployment('crash', 'ghcr.io/acme/web:2.0-crashloop', 1)
    })
    const waiting = await until('a waiting reason on the crash pod', async () => {
      const [pod] = await podsOf(c, 'crash')
      return pod?.status?.containerStatuses?.[0]?.state?.waiting
    })
    expect(waiting.reason).toBe('CrashLoopBackOff')
    // Still not Ready a moment later: the failure settles instead of flipping to Ready.
    await new Promise((r) => setTimeout(r, 2000))
    const [pod] = await podsOf(c, 'crash')
    expect(pod.status?.phase).toBe('Running')
    expect(pod.status?.containerStatuses?.[0]?.ready).toBe(false)
    expect(pod.status?.containerStatuses?.[0]?.restartCount).toBeGreaterThan(0)
    const d = await apps.readNamespacedDeployment({ name: 'crash', namespace })
    expect(d.status?.availableReplicas ?? 0).toBe(0)
  })

  it('makes an image tagged -degrade-<N>s or -oom-<N>s Ready, then crash-loop from N s after creation', async () => {
    const c = clusters[0]
    const apps = c.kubeConfig.makeApiClient(AppsV1Api)
    const batch = c.kubeConfig.makeApiClient(BatchV1Api)
    const seconds = 15
    // Each failure is scheduled from the pod's creationTimestamp, so its time is exact.
    const at = (p: V1Pod, s: number) => (p.metadata?.creationTimestamp?.getTime() ?? NaN) + s * 1000
    const available = async (name: string) =>
      (await apps.readNamespacedDeployment({ name, namespace })).status?.availableReplicas ?? 0
    await apps.createNamespacedDeployment({
      namespace,
      body: deployment('degrade', `ghcr.io/acme/web:2.0-degrade-${seconds}s`, 2)
    })
    await apps.createNamespacedDeployment({
      namespace,
      body: deployment('oom', `ghcr.io/acme/web:2.0-oom-${seconds}s`, 1)
    })
    await batch.createNamespacedJob({
      namespace,
      body: {
        metadata: { name: 'degrade-job', namespace },
        spec: {
          backoffLimit: 0,
          template: {
            spec: {
              restartPolicy: 'Never',
              containers: [{ name: 'task', image: `ghcr.io/acme/migrate:1.2-degrade-${seconds}s` }]
            }
          }
        }
      }
    })

    // Ready first, like a healthy release, well before the failure is due.
    await until('Deployments degrade and oom available', async () =>
      (await available('degrade')) === 2 && (await available('oom')) === 1 ? true : undefined
    )
    const healthy = [...(await podsOf(c, 'degrade')), ...(await podsOf(c, 'oom'))]
    expect(healthy).toHaveLength(3)
    for (const p of healthy) {
      expect(Date.now()).toBeLessThan(at(p, seconds))
      expect(p.status?.conditions?.find((x) => x.type === 'Ready')?.status).toBe('True')
      expect(p.status?.containerStatuses?.[0]).toMatchObject({ ready: true, restartCount: 0 })
    }

    // Then availability drops, as the Deployment controller sees it on a real cluster.
    await until(
      'Deployment degrade unavailable',
      async () => ((await available('degrade')) === 0 ? true : undefined),
      seconds * 1000 + 30_000
    )
    const failed = await podsOf(c, 'degrade')
    expect(failed).toHaveLength(2)
    for (const p of failed) {
      expect(Date.now()).toBeGreaterThanOrEqual(at(p, seconds))
      const ready = p.status?.conditions?.find((x) => x.type === 'Ready')
      expect(ready).toMatchObject({ status: 'False', reason: 'ContainersNotReady' })
      expect(ready?.lastTransitionTime?.getTime()).toBe(at(p, seconds))
      const s = p.status?.containerStatuses?.[0]
      expect(p.status?.phase).toBe('Running')
      expect(s?.ready).toBe(false)
      expect(s?.restartCount).toBeGreaterThanOrEqual(1)
      expect(s?.state?.waiting?.reason).toBe('CrashLoopBackOff')
      expect(s?.lastState?.terminated).toMatchObject({ reason: 'Error', exitCode: 1 })
      // The r-th failure comes 10, 20, 40... s after the one before it.
      const offset = [0, 10, 30, 70][(s?.restartCount ?? 1) - 1]
      expect(s?.lastState?.terminated?.finishedAt?.getTime()).toBe(at(p, seconds + offset))
    }

    // restartCount keeps rising on the kubelet's back-off (the second failure 10 s after the first).
    const [first] = failed
    const before = first.status?.containerStatuses?.[0]?.restartCount ?? 0
    const rose = await until(
      'restartCount rising',
      async () => {
        const p = (await podsOf(c, 'degrade')).find(
          (x) => x.metadata?.name === first.metadata?.name
        )
        return (p?.status?.containerStatuses?.[0]?.restartCount ?? 0) > before ? p : undefined
      },
      30_000
    )
    const rs = rose.status?.containerStatuses?.[0]
    expect(rs?.state?.waiting?.reason).toBe('CrashLoopBackOff')
    expect(rs?.lastState?.terminated?.reason).toBe('Error')
    expect(rs?.lastState?.terminated?.finishedAt?.getTime()).toBeGreaterThan(
      first.status?.containerStatuses?.[0]?.lastState?.terminated?.finishedAt?.getTime() ?? 0
    )
    // Between failures the status settles: kwok writes nothing until the next one is due.
    await new Promise((r) => setTimeout(r, 2000))
    const settled = (await podsOf(c, 'degrade')).find(
      (x) => x.metadata?.name === first.metadata?.name
    )
    expect(settled?.metadata?.resourceVersion).toBe(rose.metadata?.resourceVersion)

    const [oom] = await podsOf(c, 'oom')
    expect(oom.status?.conditions?.find((x) => x.type === 'Ready')?.status).toBe('False')
    expect(oom.status?.containerStatuses?.[0]?.state?.waiting?.reason).toBe('CrashLoopBackOff')
    expect(oom.status?.containerStatuses?.[0]?.lastState?.terminated).toMatchObject({
      reason: 'OOMKilled',
      exitCode: 137
    })
    expect(await available('oom')).toBe(0)

    // A Job's pod (restartPolicy Never) runs N s, then fails for good, and so does the Job.
    const jobFailed = await until('Job degrade-job Failed', async () => {
      const j = await batch.readNamespacedJob({ name: 'degrade-job', namespace })
      return j.status?.conditions?.find((x) => x.type === 'Failed' && x.status === 'True')
    })
    expect(jobFailed.reason).toBe('BackoffLimitExceeded')
    const core = c.kubeConfig.makeApiClient(CoreV1Api)
    const [jobPod] = (
      await core.listNamespacedPod({ namespace, labelSelector: 'job-name=degrade-job' })
    ).items
    expect(jobPod.status?.phase).toBe('Failed')
    const terminated = jobPod.status?.containerStatuses?.[0]?.state?.terminated
    expect(terminated).toMatchObject({ reason: 'Error', exitCode: 1 })
    expect(terminated?.startedAt?.getTime()).toBe(at(jobPod, 0))
    expect(terminated?.finishedAt?.getTime()).toBe(at(jobPod, seconds))
  })

  it('completes a Job, and fails one whose image crashes', async () => {
    const c = clusters[2]
    const batch = c.kubeConfig.makeApiClient(BatchV1Api)
    const job = (name: string, image: string) => ({
      metadata: { name, namespace },
      spec: {
        backoffLimit: 0,
        template: { spec: { restartPolicy: 'Never', containers: [{ name: 'task', image }] } }
      }
    })
    await batch.createNamespacedJob({ namespace, body: job('migrate', 'ghcr.io/acme/migrate:1.0') })
    await batch.createNamespacedJob({
      namespace,
      body: job('broken', 'ghcr.io/acme/migrate:1.1-crashloop')
    })
    const condition = (name: string, type: string) =>
      until(`Job ${name} ${type}`, async () => {
        const j = await batch.readNamespacedJob({ name, namespace })
        return j.status?.conditions?.find((x) => x.type === type && x.status === 'True')
      })
    expect((await condition('migrate', 'Complete')).type).toBe('Complete')
    expect((await condition('broken', 'Failed')).reason).toBe('BackoffLimitExceeded')
  })
})

describe('local clusters: clear errors', () => {
  let blocker: Server
  let root: string
  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'kit-clusters-err-'))
    blocker = createServer()
    await new Promise<void>((r) => blocker.listen(19710, '127.0.0.1', () => r()))
  })
  afterAll(async () => {
    await new Promise<void>((r) => blocker.close(() => r()))
    rmSync(root, { recursive: true, force: true })
  })

  it('names the port that is taken and what wanted it, and starts nothing', async () => {
    // Cluster 1 of base 19700 wants 19710 for its API server.
    await expect(upClusters({ names: ['x'], root, basePort: 19700 })).rejects.toThrow(
      /port already in use: 127\.0\.0\.1:19710 \(wanted for kube-apiserver of x\)/
    )
  })

  it('says which binary is missing', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'kit-nobin-'))
    await expect(
      upClusters({ names: ['y'], root, basePort: 19800, binDir: empty })
    ).rejects.toThrow(/control-plane binary 'etcd' is missing from/)
    rmSync(empty, { recursive: true, force: true })
  })

  it('refuses a cluster name that is not a DNS label', async () => {
    await expect(upClusters({ names: ['../evil'], root, basePort: 19800 })).rejects.toThrow(
      /is not a DNS label/
    )
  })
})
