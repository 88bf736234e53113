/**
 * The drift check on two real local clusters, through the action's bundle (run as the runner
 * runs it) and the CLI's: deploy, then change the deployed objects by hand on one cluster (a
 * ConfigMap edited, a Deployment scaled, a ConfigMap deleted, as kubectl would), then ask both
 * clusters what differs from the manifests with `dry-run: true` and `fail-on-drift: true`.
 *
 * - An undrifted fleet: exit 0, `drifted` 'false', `drifted-clusters` [].
 * - The drifted one: exit 1, `drifted` 'true', `drifted-clusters` names that cluster alone, the
 *   summary lists its three objects under Drift; `kit diff --fail-on-drift` exits 1 too.
 * - The drift check NEVER writes. A recorder follows, through watch streams on both clusters for
 *   the whole run, every write to kit-system's Leases (the deploy lock) and ConfigMaps (this
 *   suite's inventory and deployed-commit record), to this suite's Namespace and to every object
 *   kind it deployed: a write anywhere there by this run, even one undone before the run ends,
 *   is seen. The same recorder sees the deploys' lock, inventory and object writes (the control:
 *   it can fail). resourceVersions are compared before and after as well, and the hand edits are
 *   still in place after the check.
 * - A deploy corrects the drift; the check then passes.
 *
 * The clusters are shared with other suites: this suite works in a namespace and an inventory of
 * its own, and tells its Lease writes from theirs by its run identity (GITHUB_REPOSITORY).
 */
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals'
import { execFileSync, spawn } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import {
  KubernetesObjectApi,
  PatchStrategy,
  Watch,
  type KubeConfig,
  type KubernetesObject
} from '@kubernetes/client-node'
import {
  testClusters,
  testKubeconfigPath,
  uniqueName,
  type TestCluster
} from '../../testinfra/jest/clusters.js'
import {
  deploymentState,
  eventually,
  readObject,
  resourceVersions,
  runBundle,
  writeRender,
  type BundleRun
} from './e2e-helpers.js'

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const namespace = uniqueName('drift')
const inventory = uniqueName('inv')
/** This suite's run identity: its Lease writes carry it as the holder. */
const repository = `kit-tests/${namespace}`
const commit = 'd'.repeat(40)
const commitTime = '2026-11-26T10:00:00.000Z'

/** The runs' summaries and recorded writes, written to $TMPDIR/kit-drift-evidence.txt. */
const evidence: string[] = []

let clusters: TestCluster[]
let drifting: TestCluster
let steady: TestCluster
let kubeconfig: string
let render: string

jest.setTimeout(240_000)

beforeAll(() => {
  // The action and the CLI run from their bundles, as users run them: build both from this source.
  execFileSync(process.execPath, [join(repo, 'scripts', 'bundle.mjs')], {
    cwd: repo,
    stdio: 'ignore'
  })
  clusters = testClusters().slice(0, 2)
  if (clusters.length < 2) throw new Error('the drift suite needs two test clusters')
  ;[drifting, steady] = clusters
  kubeconfig = readFileSync(testKubeconfigPath(), 'utf8')
  render = writeRender(
    clusters.map((c) => c.name),
    { namespace }
  )
}, 300_000)

afterAll(async () => {
  writeFileSync(join(tmpdir(), 'kit-drift-evidence.txt'), evidence.join('\n\n') + '\n')
  for (const c of clusters ?? []) {
    const api = KubernetesObjectApi.makeApiClient(c.kubeConfig)
    const gone: KubernetesObject[] = [
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } },
      ...[`kit-applyset-${inventory}`, `kit-deploy-state-${inventory}`].map((name) => ({
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name, namespace: 'kit-system' }
      }))
    ]
    await Promise.all(gone.map((o) => api.delete(o).catch(() => undefined)))
  }
})

// ---------------------------------------------------------------------------------------------
// Running kit

/** The deployer's bundle on this suite's render, inventory and identity. */
function deployer(inputs: Record<string, string> = {}): Promise<BundleRun> {
  return runBundle(
    {
      manifests: render,
      kubeconfig,
      inventory,
      commit,
      'commit-time': commitTime,
      timeout: '120s',
      ...inputs
    },
    { GITHUB_REPOSITORY: repository, GITHUB_RUN_ID: '1', GITHUB_RUN_ATTEMPT: '1' }
  )
}

const driftCheck = (inputs: Record<string, string> = {}): Promise<BundleRun> =>
  deployer({ 'dry-run': 'true', 'fail-on-drift': 'true', ...inputs })

/** The kit CLI from its bundle, without colour. */
async function kit(
  args: readonly string[]
): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [join(repo, 'cli', 'dist', 'kit.js'), ...args], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? tmpdir(), NO_COLOR: '1' }
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
  const code = await new Promise<number>((resolve) => child.on('close', (c) => resolve(c ?? -1)))
  return { code, stdout, stderr }
}

// ---------------------------------------------------------------------------------------------
// The write recorder

/** One kind the recorder follows: its list/watch path and what it lists. */
interface Followed {
  readonly path: string
  readonly apiVersion: string
  readonly kind: string
  readonly namespace?: string
}

const followed = (ns: string): Followed[] => [
  {
    path: '/apis/coordination.k8s.io/v1/namespaces/kit-system/leases',
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    namespace: 'kit-system'
  },
  {
    path: '/api/v1/namespaces/kit-system/configmaps',
    apiVersion: 'v1',
    kind: 'ConfigMap',
    namespace: 'kit-system'
  },
  { path: '/api/v1/namespaces', apiVersion: 'v1', kind: 'Namespace' },
  ...(
    [
      ['v1', 'configmaps', 'ConfigMap'],
      ['v1', 'secrets', 'Secret'],
      ['v1', 'services', 'Service'],
      ['v1', 'serviceaccounts', 'ServiceAccount'],
      ['apps/v1', 'deployments', 'Deployment']
    ] as const
  ).map(([apiVersion, plural, kind]) => ({
    path: `/${apiVersion === 'v1' ? 'api' : 'apis'}/${apiVersion}/namespaces/${ns}/${plural}`,
    apiVersion,
    kind,
    namespace: ns
  }))
]

type Live = KubernetesObject & { spec?: { holderIdentity?: string } }

/** What a Deployment write changes; its status is the controllers' and moves all the time. */
const written = (o: Live): string =>
  JSON.stringify([o.metadata?.generation, o.metadata?.labels, o.metadata?.annotations])

/**
 * Follows every write in the followed places on `cluster` from now until stop(): the writes
 * this suite's runs could have made, each as `<type> <Kind> <ns>/<name>` (a Lease with its
 * holder). Other suites' writes there (their Leases, their inventories, other namespaces) and
 * the controllers' status updates of Deployments are left out.
 */
async function recordWrites(cluster: TestCluster): Promise<{ stop(): Promise<string[]> }> {
  const api = KubernetesObjectApi.makeApiClient(cluster.kubeConfig)
  const writes: string[] = []
  const lost: string[] = []
  const stops: AbortController[] = []
  let stopping = false
  const ours = (kind: string, o: Live): boolean => {
    const name = o.metadata?.name ?? ''
    if (kind === 'Lease') return (o.spec?.holderIdentity ?? '').startsWith(`${repository}#`)
    if (kind === 'Namespace') return name === namespace || name === 'kit-system'
    if (o.metadata?.namespace === 'kit-system')
      return name === `kit-applyset-${inventory}` || name === `kit-deploy-state-${inventory}`
    return true
  }
  for (const f of followed(namespace)) {
    const list = await api.list(f.apiVersion, f.kind, f.namespace)
    const before = new Map(list.items.map((o) => [o.metadata?.name, written(o as Live)]))
    const watch = new Watch(cluster.kubeConfig)
    // client-node ends a watch that has been quiet for 30 s; a quiet namespace is the point here.
    Object.assign(watch, { requestTimeoutMs: 15 * 60_000 })
    const stop = await watch.watch(
      f.path,
      { resourceVersion: list.metadata?.resourceVersion, allowWatchBookmarks: false },
      (type: string, o: Live) => {
        if (!ours(f.kind, o)) return
        const name = o.metadata?.name ?? ''
        if (f.kind === 'Deployment' && type === 'MODIFIED' && before.get(name) === written(o))
          return
        const holder = f.kind === 'Lease' ? ` (holder ${o.spec?.holderIdentity})` : ''
        writes.push(
          `${type} ${f.kind} ${o.metadata?.namespace ? `${o.metadata.namespace}/` : ''}${name}${holder}`
        )
      },
      (err: unknown) => {
        // Any end before stop() (an error, or the server closing the stream) is a gap.
        if (!stopping) lost.push(`${f.kind}: ${err ? String(err) : 'closed by the server'}`)
      }
    )
    stops.push(stop)
  }
  return {
    async stop() {
      // Events of the last writes are on their way: give them a moment.
      await new Promise((r) => setTimeout(r, 1_500))
      stopping = true
      for (const s of stops) s.abort()
      if (lost.length > 0) throw new Error(`the recorder lost a watch stream: ${lost.join('; ')}`)
      return writes
    }
  }
}

/** Runs `work` while recording writes on every cluster; returns its result and the writes. */
async function recorded<T>(
  work: () => Promise<T>
): Promise<{ result: T; writes: Record<string, string[]> }> {
  const recorders = await Promise.all(clusters.map((c) => recordWrites(c)))
  const result = await work()
  const writes: Record<string, string[]> = {}
  for (const [i, r] of recorders.entries()) writes[clusters[i].name] = await r.stop()
  return { result, writes }
}

/** resourceVersions of everything this suite owns on a cluster, kit-system records included. */
async function fingerprint(c: TestCluster): Promise<Record<string, string>> {
  const out = await resourceVersions(c.kubeConfig, namespace)
  for (const name of [`kit-applyset-${inventory}`, `kit-deploy-state-${inventory}`]) {
    const cm = await readObject(c.kubeConfig, 'v1', 'ConfigMap', name, 'kit-system')
    out[`kit-system/ConfigMap/${name}`] = cm?.metadata?.resourceVersion ?? 'absent'
  }
  return out
}

// ---------------------------------------------------------------------------------------------
// Editing by hand

/** `kubectl patch` (merge patch), as a person would. */
async function patchByHand(
  kc: KubeConfig,
  patch: KubernetesObject & Record<string, unknown>
): Promise<void> {
  const api = KubernetesObjectApi.makeApiClient(kc)
  await api.patch(patch, undefined, undefined, 'kubectl-patch', undefined, PatchStrategy.MergePatch)
}

// ---------------------------------------------------------------------------------------------

describe('the drift check on real clusters', () => {
  it('deploys both clusters (the recorder sees the lock, the inventory and the objects written)', async () => {
    const { result, writes } = await recorded(() => deployer())
    evidence.push(`writes seen during the first deploy:\n${JSON.stringify(writes, null, 2)}`)
    expect([result.code, result.outputs.result]).toEqual([0, 'success'])
    expect([result.outputs.drifted, result.outputs['drifted-clusters']]).toEqual(['false', '[]'])
    for (const c of clusters) {
      const seen = writes[c.name]
      // The control: a deploy takes the lock and writes its records, and the recorder sees it.
      expect(
        seen.some((w) =>
          /^(ADDED|MODIFIED) Lease kit-system\/kit-deploy-lock \(holder kit-tests\//.test(w)
        )
      ).toBe(true)
      expect(seen).toEqual(
        expect.arrayContaining([
          `ADDED ConfigMap kit-system/kit-applyset-${inventory}`,
          `ADDED ConfigMap kit-system/kit-deploy-state-${inventory}`,
          `ADDED ConfigMap ${namespace}/web-config`,
          `ADDED Deployment ${namespace}/web`
        ])
      )
    }
  })

  it('an undrifted fleet: exit 0, drifted false, and nothing written', async () => {
    const before = await Promise.all(clusters.map(fingerprint))
    const { result, writes } = await recorded(() => driftCheck())
    evidence.push(
      `undrifted check: exit ${result.code}, outputs ${JSON.stringify(result.outputs)}\nwrites: ${JSON.stringify(writes)}\n${result.summary}`
    )
    expect(result.code).toBe(0)
    expect(result.outputs).toMatchObject({
      result: 'success',
      changed: 'false',
      drifted: 'false',
      'drifted-clusters': '[]'
    })
    expect(result.summary).toContain('(dry run): no drift on 2 clusters')
    expect(result.summary).toContain('#### Drift\n\nNo cluster differs from the manifests.\n')
    expect(writes).toEqual(Object.fromEntries(clusters.map((c) => [c.name, []])))
    expect(await Promise.all(clusters.map(fingerprint))).toEqual(before)
  })

  it('a cluster edited by hand: exit 1, drifted names it alone, the summary lists its objects, nothing written', async () => {
    const kc = drifting.kubeConfig
    await patchByHand(kc, {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'web-config', namespace },
      data: { LOG_LEVEL: 'debug' }
    })
    await patchByHand(kc, {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', namespace },
      spec: { replicas: 3 }
    })
    await KubernetesObjectApi.makeApiClient(kc).delete({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'worker-config', namespace }
    })
    // Let the scale-up settle a little: the controllers' status writes are not kit's.
    await eventually(
      () => deploymentState(kc, namespace, 'web'),
      (s) => s?.replicas === 3
    )
    const before = await Promise.all(clusters.map(fingerprint))

    const { result, writes } = await recorded(() => driftCheck())
    evidence.push(
      `drifted check: exit ${result.code}, drifted ${result.outputs.drifted}, drifted-clusters ${result.outputs['drifted-clusters']}\nwrites: ${JSON.stringify(writes)}\nfingerprint before: ${JSON.stringify(before)}\n${result.summary}`
    )
    expect(result.code).toBe(1)
    expect(result.outputs).toMatchObject({
      result: 'failure',
      drifted: 'true',
      'drifted-clusters': JSON.stringify([drifting.name]),
      'failed-clusters': '[]'
    })
    const rows = JSON.parse(result.outputs['cluster-results']) as {
      cluster: string
      result: string
    }[]
    expect(rows.map((r) => [r.cluster, r.result]).sort()).toEqual(
      [
        [drifting.name, 'changed'],
        [steady.name, 'unchanged']
      ].sort()
    )
    expect(result.stdout).toContain('kit deploy: dry run: 1 of 2 clusters drifted')
    const summary = result.summary
    expect(summary.split('\n')[0]).toBe('### ❌ kit deploy (dry run): 1 of 2 clusters drifted')
    const drift = summary.slice(
      summary.indexOf('#### Drift'),
      summary.indexOf('#### What would change')
    )
    expect(drift).toContain('1 of 2 clusters differs from the manifests')
    expect(drift).toContain(`**${drifting.name}**: 3 objects`)
    for (const line of [
      `- ➕ missing on the cluster: \`ConfigMap ${namespace}/worker-config\``,
      `- ✏️ differs from the manifests: \`ConfigMap ${namespace}/web-config\``,
      `- ✏️ differs from the manifests: \`Deployment ${namespace}/web\``
    ])
      expect(drift).toContain(line)
    expect(drift).not.toContain(steady.name)

    // The drift check never writes: no lock, no inventory, no record, no object, no annotation.
    expect(writes).toEqual(Object.fromEntries(clusters.map((c) => [c.name, []])))
    expect(await Promise.all(clusters.map(fingerprint))).toEqual(before)
    const config = await readObject(kc, 'v1', 'ConfigMap', 'web-config', namespace)
    expect((config as { data?: Record<string, string> }).data?.LOG_LEVEL).toBe('debug')
    expect((await deploymentState(kc, namespace, 'web'))?.replicas).toBe(3)
    expect(await readObject(kc, 'v1', 'ConfigMap', 'worker-config', namespace)).toBeUndefined()
  })

  it('without fail-on-drift the dry run passes and still names the drifted cluster', async () => {
    const r = await deployer({ 'dry-run': 'true' })
    expect(r.code).toBe(0)
    expect(r.outputs).toMatchObject({
      result: 'success',
      drifted: 'true',
      'drifted-clusters': JSON.stringify([drifting.name])
    })
    // The plain dry run's summary, as before: no Drift section.
    expect(r.summary).not.toContain('#### Drift')
  })

  it('kit diff --fail-on-drift exits 1 on the same drift; kit deploy refuses the flag', async () => {
    const args = ['--kubeconfig', testKubeconfigPath(), '--inventory', inventory]
    const diff = await kit(['diff', render, ...args, '--fail-on-drift'])
    expect([diff.code, diff.stdout.trim().split('\n').at(-1)]).toEqual([
      1,
      '✘ dry run: 1 of 2 clusters drifted'
    ])
    const plain = await kit(['diff', render, ...args])
    expect(plain.code).toBe(0)
    const deploy = await kit(['deploy', render, ...args, '--fail-on-drift'])
    expect(deploy.code).toBe(2)
    expect(deploy.stderr).toContain("'fail-on-drift' needs a dry run")
  })

  it('a deploy corrects the drift, and the check passes again', async () => {
    const { result: deployed, writes } = await recorded(() => deployer())
    expect([deployed.code, deployed.outputs['changed-clusters']]).toEqual([
      0,
      JSON.stringify([drifting.name])
    ])
    evidence.push(`writes seen during the correcting deploy:\n${JSON.stringify(writes, null, 2)}`)
    // The recorder sees a deploy's changes to existing objects too (the control for MODIFIED).
    expect(writes[drifting.name]).toEqual(
      expect.arrayContaining([
        `MODIFIED ConfigMap ${namespace}/web-config`,
        `ADDED ConfigMap ${namespace}/worker-config`,
        `MODIFIED Deployment ${namespace}/web`
      ])
    )
    expect(writes[drifting.name].filter((w) => w.includes('Lease')).length).toBeGreaterThanOrEqual(
      2
    ) // taken, released
    const r = await driftCheck()
    expect([r.code, r.outputs.drifted, r.outputs['drifted-clusters']]).toEqual([0, 'false', '[]'])
  })
})
