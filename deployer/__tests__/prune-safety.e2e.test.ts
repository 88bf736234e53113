/**
 * Prune safety on the real local clusters, through the action's bundle (run as the runner runs
 * it) and the kit CLI's bundle, dry runs and real runs:
 *
 * 1. a selector limits what prune may delete (and two selections share one inventory safely);
 * 2. a refused run (a kind the cluster does not know) leaves the inventory untouched, and a
 *    kind removed since (its CRD deleted) leaves the inventory with a warning;
 * 3. a manifest without a namespace and one in `default` are one object: refused before any
 *    cluster is touched;
 * 4. a context's namespace is where namespace-less objects land and how the inventory lists them;
 * 5. a workload its HPA scales keeps the autoscaler's replica count, and a redeploy is unchanged;
 * 6. every deleted object is named (CLI, diff, step summary);
 * 7. leaving fast-rollback removes its versions without prune, switching the Service only once
 *    the plain Deployment is ready;
 * 8. kept fast-rollback versions are the ones that served last; fast-rollback without wait is
 *    bad input.
 *
 * The cluster is read straight through client-node (never through kit's client): each step
 * records a kubectl-style listing of what exists (written to
 * $TMPDIR/kit-prune-safety-evidence.txt) for the before/after evidence.
 */
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals'
import { execFileSync, spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { setTimeout as sleep } from 'node:timers/promises'
import {
  ApisApi,
  KubernetesObjectApi,
  type KubeConfig,
  type KubernetesObject
} from '@kubernetes/client-node'
import { parse, stringify } from 'yaml'
import {
  testClusters,
  testKubeconfigPath,
  uniqueName,
  type TestCluster
} from '../../testinfra/jest/clusters.js'
import {
  deploymentState,
  eventually,
  listObjects,
  readObject,
  resourceVersions,
  runBundle,
  type BundleRun
} from './e2e-helpers.js'

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const kitJs = join(repo, 'cli', 'dist', 'kit.js')
const deployIdLabel = 'kit.dev/deploy-id'

let clusters: TestCluster[]
let names: string[]
let kubeconfig: string
let kubeconfigPath: string
const kc = (name: string): KubeConfig => clusters.find((c) => c.name === name)!.kubeConfig

// What the scenarios create, removed at the end: the clusters are shared and long-lived.
const namespaces: string[] = []
const crds: string[] = []
const inventories: string[] = []
const defaultConfigMaps: string[] = []
const ns = (prefix: string): string => {
  const name = uniqueName(prefix)
  namespaces.push(name)
  return name
}
const inventory = (): string => {
  const name = uniqueName('inv')
  inventories.push(name)
  return name
}

// The before/after evidence: a kubectl-style listing per step.
const evidence: string[] = []
const evidenceFile = join(tmpdir(), 'kit-prune-safety-evidence.txt')

beforeAll(() => {
  // The action and the CLI run from their bundles, as users run them: build both from this source.
  execFileSync(process.execPath, [join(repo, 'scripts', 'bundle.mjs')], {
    cwd: repo,
    stdio: 'ignore'
  })
  clusters = testClusters()
  names = clusters.map((c) => c.name)
  kubeconfigPath = testKubeconfigPath()
  kubeconfig = readFileSync(kubeconfigPath, 'utf8')
})

afterAll(async () => {
  writeFileSync(evidenceFile, evidence.join('\n\n') + '\n')
  for (const c of clusters ?? []) {
    const api = KubernetesObjectApi.makeApiClient(c.kubeConfig)
    const gone: KubernetesObject[] = [
      ...namespaces.map((name) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } })),
      ...crds.map((name) => ({
        apiVersion: 'apiextensions.k8s.io/v1',
        kind: 'CustomResourceDefinition',
        metadata: { name }
      })),
      ...defaultConfigMaps.map((name) => ({
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name, namespace: 'default' }
      })),
      ...inventories.flatMap((inv) =>
        [`kit-applyset-${inv}`, `kit-deploy-state-${inv}`].map((name) => ({
          apiVersion: 'v1',
          kind: 'ConfigMap',
          metadata: { name, namespace: 'kit-system' }
        }))
      )
    ]
    await Promise.all(gone.map((o) => api.delete(o).catch(() => undefined)))
  }
})

// Real runs on shared clusters; each scenario finishes in seconds when the clusters are idle.
jest.setTimeout(180_000)

// ---------------------------------------------------------------------------------------------
// Running kit

interface CliRun {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

/** Runs the kit CLI from its bundle, without colour, with the given arguments. */
async function runCli(args: readonly string[]): Promise<CliRun> {
  const work = mkdtempSync(join(tmpdir(), 'kit-cli-'))
  const child = spawn(process.execPath, [kitJs, ...args], {
    cwd: work,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? work,
      TMPDIR: tmpdir(),
      NO_COLOR: '1',
      FORCE_COLOR: '0'
    }
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
  const started = Date.now()
  const code = await new Promise<number>((resolve) => child.on('close', (c) => resolve(c ?? -1)))
  ran.push(
    `$ kit ${args.filter((a) => !a.startsWith('/')).join(' ')}  → exit ${code} (${((Date.now() - started) / 1000).toFixed(1)}s)`
  )
  return { code, stdout, stderr }
}

/** The runs since the last snapshot, for the evidence. */
const ran: string[] = []

/** `kit deploy|diff <dir> --kubeconfig <test kubeconfig> --inventory <inv> --timeout 90s ...`. */
const cli = (
  command: 'deploy' | 'diff',
  dir: string,
  inv: string,
  extra: readonly string[] = [],
  config = kubeconfigPath
): Promise<CliRun> =>
  runCli([
    command,
    dir,
    '--kubeconfig',
    config,
    '--inventory',
    inv,
    '--timeout',
    '90s',
    ...(command === 'deploy' ? ['--fail-fast-grace', '3s'] : []),
    ...extra
  ])

/** The action's inputs with the suite's fast timings. */
const action = (
  dir: string,
  inv: string,
  extra: Record<string, string> = {}
): Promise<BundleRun> => {
  const started = Date.now()
  return runBundle({
    manifests: dir,
    kubeconfig,
    inventory: inv,
    timeout: '90s',
    'fail-fast-grace': '3s',
    ...extra
  }).then((r) => {
    const shown = Object.entries(extra)
      .filter(([k]) => k !== 'kubeconfig')
      .map(([k, v]) => `${k}: ${v}`)
    ran.push(
      `$ action {${shown.join(', ')}}  → exit ${r.code} (${((Date.now() - started) / 1000).toFixed(1)}s)`
    )
    return r
  })
}

/** Everything a run printed, for assertion messages and the evidence. */
const allOf = (r: CliRun | BundleRun): string =>
  [r.stdout, r.stderr, 'summary' in r ? r.summary : ''].join('\n')

interface ClusterOutput {
  cluster: string
  result: string
  reason?: string
  counts: Record<string, number>
}
const clustersOf = (r: BundleRun): ClusterOutput[] =>
  JSON.parse(r.outputs['cluster-results'] ?? '[]') as ClusterOutput[]

/** Expects a run's exit code, showing its output when it differs. */
function expectCode(r: CliRun | BundleRun, code: number): void {
  if (r.code !== code)
    throw new Error(`expected exit code ${code}, got ${r.code}; the run printed:\n${allOf(r)}`)
}

// ---------------------------------------------------------------------------------------------
// Manifests

/** A manifests folder: <dir>/<cluster>/<file> for each entry (documents joined by ---). */
function manifests(files: Record<string, readonly string[]>): string {
  const dir = mkdtempSync(join(tmpdir(), 'kit-prune-safety-'))
  for (const [path, docs] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true })
    writeFileSync(join(dir, path), docs.join('---\n'))
  }
  return dir
}

const doc = (o: Record<string, unknown>): string => stringify(o)

const configMap = (
  name: string,
  opts: { namespace?: string; labels?: Record<string, string> } = {}
): string =>
  doc({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name,
      ...(opts.namespace ? { namespace: opts.namespace } : {}),
      ...(opts.labels ? { labels: opts.labels } : {})
    },
    data: { object: name }
  })

/** Deployment web (1 replica, pods app=web) and Service web selecting app=web. */
const webApp = (namespace: string, image: string): string[] => [
  doc({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace, labels: { app: 'web' } },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: 'web' } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: { containers: [{ name: 'web', image }] }
      }
    }
  }),
  doc({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'web', namespace, labels: { app: 'web' } },
    spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] }
  })
]

async function createNamespace(k: KubeConfig, name: string): Promise<void> {
  await KubernetesObjectApi.makeApiClient(k).create({
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name }
  })
}

// ---------------------------------------------------------------------------------------------
// Reading the cluster (client-node, not kit)

interface Entry {
  apiVersion: string
  kind: string
  namespace?: string
  name: string
}

interface Parent {
  readonly object: KubernetesObject & Record<string, unknown>
  readonly inventory: Entry[]
  readonly groupKinds: string[]
  readonly namespaces: string[]
}

/** The ApplySet parent kit-system/kit-applyset-<inv>, parsed. */
async function parentOf(k: KubeConfig, inv: string): Promise<Parent | undefined> {
  const object = await readObject(k, 'v1', 'ConfigMap', `kit-applyset-${inv}`, 'kit-system')
  if (!object) return undefined
  const data = (object.data ?? {}) as Record<string, string>
  const annotations = object.metadata?.annotations ?? {}
  const split = (v?: string) => (v ? v.split(',').filter(Boolean) : [])
  return {
    object,
    inventory: JSON.parse(data.inventory ?? '[]') as Entry[],
    groupKinds: split(annotations['applyset.kubernetes.io/contains-group-kinds']),
    namespaces: split(annotations['applyset.kubernetes.io/additional-namespaces'])
  }
}

const entryName = (e: Entry) => `${e.kind} ${e.namespace ? `${e.namespace}/` : ''}${e.name}`

/** The parent's inventory as `Kind ns/name` strings. */
const listed = async (k: KubeConfig, inv: string): Promise<string[]> =>
  ((await parentOf(k, inv))?.inventory ?? []).map(entryName).sort()

const namesOf = (objects: readonly KubernetesObject[]) =>
  objects.map((o) => o.metadata?.name ?? '').sort()

const configMaps = async (k: KubeConfig, namespace: string) =>
  namesOf(await listObjects(k, 'v1', 'ConfigMap', namespace)).filter(
    (n) => n !== 'kube-root-ca.crt'
  )

const deployments = async (k: KubeConfig, namespace: string) =>
  namesOf(await listObjects(k, 'apps/v1', 'Deployment', namespace))

const serviceSelector = async (k: KubeConfig, namespace: string, name = 'web') =>
  (
    (await readObject(k, 'v1', 'Service', name, namespace))?.spec as
      { selector?: Record<string, string> } | undefined
  )?.selector

/** Labels a person wrote (kit's ApplySet and bookkeeping labels left out). */
const ownLabels = (o: KubernetesObject): string =>
  Object.entries(o.metadata?.labels ?? {})
    .filter(([k]) => !k.startsWith('applyset.kubernetes.io/') && k !== 'kit.dev/fast-rollback-of')
    .map(([k, v]) => `${k}=${v}`)
    .join(',') || '<none>'

/** A kubectl-style listing of a namespace (ConfigMaps, Deployments, Services) and the parent. */
async function listing(
  k: KubeConfig,
  namespace: string,
  inv: string,
  extra: string[] = []
): Promise<string> {
  const lines = [`$ kubectl -n ${namespace} get configmaps,deployments,services --show-labels`]
  const rows: [string, string][] = []
  for (const o of await listObjects(k, 'v1', 'ConfigMap', namespace))
    if (o.metadata?.name !== 'kube-root-ca.crt')
      rows.push([`configmap/${o.metadata?.name}`, ownLabels(o)])
  for (const o of await listObjects(k, 'apps/v1', 'Deployment', namespace)) {
    const spec = o.spec as { template: { spec: { containers: { image: string }[] } } }
    const ready = (o.status as { readyReplicas?: number } | undefined)?.readyReplicas ?? 0
    const served = o.metadata?.annotations?.['kit.dev/last-served']
    rows.push([
      `deployment.apps/${o.metadata?.name}`,
      `ready=${ready}/${(o.spec as { replicas?: number }).replicas ?? 1} image=${spec.template.spec.containers[0]?.image}${served ? ` last-served=${served}` : ''} ${ownLabels(o)}`
    ])
  }
  for (const o of await listObjects(k, 'v1', 'Service', namespace)) {
    const selector = (o.spec as { selector?: Record<string, string> }).selector ?? {}
    rows.push([
      `service/${o.metadata?.name}`,
      `selector=${Object.entries(selector)
        .map(([a, b]) => `${a}=${b}`)
        .join(',')}`
    ])
  }
  const width = Math.max(10, ...rows.map(([n]) => n.length))
  if (rows.length === 0) lines.push(`No resources found in ${namespace} namespace.`)
  for (const [n, rest] of rows) lines.push(`${n.padEnd(width)}  ${rest}`)
  lines.push(...extra)
  const p = await parentOf(k, inv)
  lines.push(`$ kubectl -n kit-system get configmap kit-applyset-${inv}`)
  if (!p) lines.push(`Error from server (NotFound): configmaps "kit-applyset-${inv}" not found`)
  else {
    lines.push(`  data.inventory: ${p.inventory.map(entryName).join(', ') || '(empty)'}`)
    lines.push(`  contains-group-kinds: ${p.groupKinds.join(',')}`)
    lines.push(`  additional-namespaces: ${p.namespaces.join(',')}`)
    lines.push(`  resourceVersion: ${p.object.metadata?.resourceVersion}`)
  }
  return lines.join('\n')
}

/** Records what exists after a step (written to the evidence file when the suite ends). */
async function snapshot(
  step: string,
  cluster: string,
  namespace: string,
  inv: string,
  extra: string[] = []
): Promise<string> {
  const runs = ran.splice(0).map((r) => `  ${r}`)
  const text = `### ${step} [${cluster}]\n${runs.join('\n')}\n${await listing(kc(cluster), namespace, inv, extra)}`
  evidence.push(text)
  return text
}

/** Lines of a run's output containing `needle` (for the evidence). */
const linesWith = (r: CliRun | BundleRun, needle: RegExp): string[] => [
  ...new Set(
    allOf(r)
      .split('\n')
      .filter((l) => needle.test(l))
      .map((l) => `  | ${l.trim()}`)
  )
]

// ---------------------------------------------------------------------------------------------

describe('prune safety on real clusters (action bundle and kit CLI)', () => {
  it('1: a selector limits prune: unselected objects are never deleted and stay in the inventory', async () => {
    const target = names[0]
    const k = kc(target)
    const space = ns('sel')
    const inv = inventory()
    await createNamespace(k, space)
    const a = configMap('a', { namespace: space, labels: { tier: 'a' } })
    const b = configMap('b', { namespace: space, labels: { tier: 'b' } })
    const both = manifests({ [`${target}/objects.yaml`]: [a, b] })
    const onlyA = manifests({ [`${target}/objects.yaml`]: [a] })

    // All, prune on (action).
    const first = await action(both, inv, { prune: 'true' })
    expectCode(first, 0)
    expect(await configMaps(k, space)).toEqual(['a', 'b'])
    expect(await listed(k, inv)).toEqual([`ConfigMap ${space}/a`, `ConfigMap ${space}/b`])
    await snapshot('1.1 after deploying a and b (action, prune)', target, space, inv)
    const bVersion = (await readObject(k, 'v1', 'ConfigMap', 'b', space))?.metadata?.resourceVersion

    // tier=a + prune with both in the manifests: a dry run (CLI) lists no deletion ...
    const dry = await cli('diff', both, inv, ['--selector', 'tier=a', '--prune'])
    expectCode(dry, 0)
    expect(dry.stdout).not.toMatch(/deleted|would be pruned/)
    expect(dry.stdout).not.toContain(`${space}/b`)
    // ... and the real run (action) deletes nothing.
    const real = await action(both, inv, { selector: 'tier=a', prune: 'true' })
    expectCode(real, 0)
    expect(clustersOf(real)[0].counts.deleted).toBeUndefined()
    expect(real.summary).not.toContain('What was deleted')
    expect((await readObject(k, 'v1', 'ConfigMap', 'b', space))?.metadata?.resourceVersion).toBe(
      bVersion
    )
    await snapshot('1.2 after selector tier=a + prune, both in the manifests', target, space, inv)

    // b removed from the manifests: a tier=a prune does not delete it (outside the selection):
    // a dry run (action) lists no deletion, the real run (CLI) deletes nothing ...
    const dryA = await action(onlyA, inv, { selector: 'tier=a', prune: 'true', 'dry-run': 'true' })
    expectCode(dryA, 0)
    expect(dryA.summary).not.toContain('would be deleted')
    expect(dryA.summary).not.toContain(`${space}/b`)
    const realA = await cli('deploy', onlyA, inv, ['--selector', 'tier=a', '--prune'])
    expectCode(realA, 0)
    expect(realA.stdout).not.toMatch(/deleted/)
    expect(await configMaps(k, space)).toEqual(['a', 'b'])
    expect((await readObject(k, 'v1', 'ConfigMap', 'b', space))?.metadata?.resourceVersion).toBe(
      bVersion
    )
    // ... and b stays in the inventory, so a later run may still prune it.
    expect(await listed(k, inv)).toEqual([`ConfigMap ${space}/a`, `ConfigMap ${space}/b`])
    await snapshot('1.3 after b left the manifests, selector tier=a + prune', target, space, inv)

    // A tier=b prune deletes b: dry run (CLI) names it, the real run (action) deletes it.
    const dryB = await cli('diff', onlyA, inv, ['--selector', 'tier=b', '--prune'])
    expectCode(dryB, 0)
    expect(dryB.stdout).toMatch(new RegExp(`ConfigMap ${space}/b`))
    expect(await configMaps(k, space)).toEqual(['a', 'b'])
    const aVersion = (await readObject(k, 'v1', 'ConfigMap', 'a', space))?.metadata?.resourceVersion
    const realB = await action(onlyA, inv, { selector: 'tier=b', prune: 'true' })
    expectCode(realB, 0)
    expect(clustersOf(realB)[0]).toMatchObject({ result: 'changed', counts: { deleted: 1 } })
    expect(realB.summary).toContain(
      `➖ deleted \`ConfigMap ${space}/b\` — _pruned: no longer in the manifests_`
    )
    expect(await configMaps(k, space)).toEqual(['a'])
    expect((await readObject(k, 'v1', 'ConfigMap', 'a', space))?.metadata?.resourceVersion).toBe(
      aVersion
    )
    expect(await listed(k, inv)).toEqual([`ConfigMap ${space}/a`])
    await snapshot(
      '1.4 after selector tier=b + prune (b no longer in the manifests)',
      target,
      space,
      inv,
      [...linesWith(realB, /deleted `ConfigMap/)]
    )
  })

  it('1b: two selections deploying into one inventory never delete each other’s objects', async () => {
    const target = names[1]
    const k = kc(target)
    const space = ns('two')
    const inv = inventory()
    await createNamespace(k, space)
    // Two pipelines, each with its own manifests (only its selection), one inventory.
    const teamA = manifests({
      [`${target}/a.yaml`]: [configMap('x', { namespace: space, labels: { team: 'a' } })]
    })
    const teamB = manifests({
      [`${target}/b.yaml`]: [configMap('y', { namespace: space, labels: { team: 'b' } })]
    })
    // Started at once: the deploy lock serialises them; neither prunes the other.
    const [runA, runB] = await Promise.all([
      action(teamA, inv, { selector: 'team=a', prune: 'true' }),
      cli('deploy', teamB, inv, ['--selector', 'team=b', '--prune'])
    ])
    expectCode(runA, 0)
    expectCode(runB, 0)
    expect(await configMaps(k, space)).toEqual(['x', 'y'])
    expect(await listed(k, inv)).toEqual([`ConfigMap ${space}/x`, `ConfigMap ${space}/y`])
    await snapshot('1b.1 after team=a (action) and team=b (CLI) at once, prune', target, space, inv)
    const before = await resourceVersions(k, space)

    // Dry runs of each selection list no deletion.
    const dryA = await cli('diff', teamA, inv, ['--selector', 'team=a', '--prune'])
    expectCode(dryA, 0)
    expect(dryA.stdout).not.toMatch(/deleted|would be pruned/)
    const dryB = await action(teamB, inv, { selector: 'team=b', prune: 'true', 'dry-run': 'true' })
    expectCode(dryB, 0)
    expect(dryB.summary).not.toContain('would be deleted')
    // Again, one after the other, each through the other tool.
    expectCode(await cli('deploy', teamA, inv, ['--selector', 'team=a', '--prune']), 0)
    expectCode(await action(teamB, inv, { selector: 'team=b', prune: 'true' }), 0)
    expect(await resourceVersions(k, space)).toEqual(before)
    expect(await listed(k, inv)).toEqual([`ConfigMap ${space}/x`, `ConfigMap ${space}/y`])
    await snapshot('1b.2 after team=a (CLI) then team=b (action) again, prune', target, space, inv)
  })

  it('2: a run refused for an unknown kind leaves the parent byte-identical; the next prune run succeeds', async () => {
    const target = names[2]
    const k = kc(target)
    const space = ns('refuse')
    const inv = inventory()
    await createNamespace(k, space)
    const p = configMap('p', { namespace: space })
    const q = configMap('q', { namespace: space })
    const widget = doc({
      apiVersion: 'example.com/v1',
      kind: 'Widget',
      metadata: { name: 'w', namespace: space },
      spec: { size: 1 }
    })
    const working = manifests({ [`${target}/objects.yaml`]: [p, q] })
    expectCode(await cli('deploy', working, inv, ['--prune']), 0)
    const before = await parentOf(k, inv)
    expect(before?.inventory.map(entryName)).toEqual([
      `ConfigMap ${space}/p`,
      `ConfigMap ${space}/q`
    ])
    await snapshot('2.1 before the refused run', target, space, inv)

    const withWidget = manifests({ [`${target}/objects.yaml`]: [p, q, widget] })
    // Dry run (CLI) and real runs (action, CLI): the cluster fails, naming the kind.
    const dry = await cli('diff', withWidget, inv, ['--prune'])
    expectCode(dry, 1)
    expect(dry.stdout).toContain('does not know kind Widget')
    const dryAction = await action(withWidget, inv, { prune: 'true', 'dry-run': 'true' })
    expectCode(dryAction, 1)
    expect(clustersOf(dryAction)[0].reason).toContain('does not know kind Widget')
    const real = await action(withWidget, inv, { prune: 'true' })
    expectCode(real, 1)
    expect(clustersOf(real)).toEqual([
      expect.objectContaining({
        cluster: target,
        result: 'failed',
        reason: expect.stringContaining('does not know kind Widget')
      })
    ])
    const realCli = await cli('deploy', withWidget, inv, ['--prune'])
    expectCode(realCli, 1)
    expect(realCli.stdout).toContain('does not know kind Widget')
    // The parent was not written at all: same resourceVersion, inventory and annotations.
    const after = await parentOf(k, inv)
    expect(after?.object).toEqual(before?.object)
    expect(after?.groupKinds).toEqual(['ConfigMap'])
    expect(JSON.stringify(after?.object)).not.toContain('Widget')
    await snapshot('2.2 after the refused runs (Widget, no CRD)', target, space, inv, [
      ...linesWith(real, /does not know kind Widget/).slice(0, 1)
    ])

    // The next prune run without the Widget (and without q) succeeds and prunes q.
    const next = await action(manifests({ [`${target}/objects.yaml`]: [p] }), inv, {
      prune: 'true'
    })
    expectCode(next, 0)
    expect(clustersOf(next)[0].counts.deleted).toBe(1)
    expect(await configMaps(k, space)).toEqual(['p'])
    expect(await listed(k, inv)).toEqual([`ConfigMap ${space}/p`])
    await snapshot('2.3 after the next prune run without the Widget and q', target, space, inv)
  })

  it('2b: a kind whose CRD was deleted since leaves the inventory with a warning; the run succeeds', async () => {
    const target = names[0]
    const k = kc(target)
    const space = ns('gone')
    const inv = inventory()
    await createNamespace(k, space)
    const group = `${space}.kit.test`
    const crdName = `gadgets.${group}`
    crds.push(crdName)
    const crd = doc({
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: crdName },
      spec: {
        group,
        scope: 'Namespaced',
        names: { plural: 'gadgets', singular: 'gadget', kind: 'Gadget', listKind: 'GadgetList' },
        versions: [
          {
            name: 'v1',
            served: true,
            storage: true,
            schema: {
              openAPIV3Schema: {
                type: 'object',
                properties: {
                  spec: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true }
                }
              }
            }
          }
        ]
      }
    })
    const gadget = doc({
      apiVersion: `${group}/v1`,
      kind: 'Gadget',
      metadata: { name: 'g', namespace: space },
      spec: { size: 2 }
    })
    const keep = configMap('keep', { namespace: space })
    const first = await cli(
      'deploy',
      manifests({ [`${target}/objects.yaml`]: [crd, gadget, keep] }),
      inv,
      ['--prune']
    )
    expectCode(first, 0)
    expect(await readObject(k, `${group}/v1`, 'Gadget', 'g', space)).toBeDefined()
    const deployed = await parentOf(k, inv)
    expect(deployed?.inventory.map(entryName).sort()).toEqual(
      [`ConfigMap ${space}/keep`, `CustomResourceDefinition ${crdName}`, `Gadget ${space}/g`].sort()
    )
    expect(deployed?.groupKinds).toContain(`Gadget.${group}`)
    await snapshot('2b.1 after deploying the CRD, a Gadget and a ConfigMap', target, space, inv)

    // The CRD is deleted behind kit's back (its Gadgets go with it), until discovery forgets it.
    await KubernetesObjectApi.makeApiClient(k).delete({
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: crdName }
    })
    const served = async (): Promise<boolean> => {
      if (await readObject(k, 'apiextensions.k8s.io/v1', 'CustomResourceDefinition', crdName))
        return true
      const groups = await k.makeApiClient(ApisApi).getAPIVersions()
      if (groups.groups.some((g) => g.name === group)) return true
      try {
        await KubernetesObjectApi.makeApiClient(k).list(`${group}/v1`, 'Gadget', space)
        return true
      } catch {
        return false
      }
    }
    expect(await eventually(served, (s) => !s, 60_000)).toBe(false)
    const stillListed = await parentOf(k, inv)

    const remaining = manifests({ [`${target}/objects.yaml`]: [keep] })
    // Dry run (CLI): succeeds with the warning, writes nothing.
    const dry = await cli('diff', remaining, inv, ['--prune'])
    expectCode(dry, 0)
    expect(dry.stderr).toMatch(/the cluster no longer serves Gadget/)
    expect((await parentOf(k, inv))?.object).toEqual(stillListed?.object)
    // Real run (action): succeeds, warns naming the kind, and the kind leaves the inventory.
    const real = await action(remaining, inv, { prune: 'true' })
    expectCode(real, 0)
    expect(real.outputs.result).toBe('success')
    expect(real.stdout).toMatch(/the inventory lists Gadget .*the cluster no longer serves Gadget/)
    const after = await parentOf(k, inv)
    expect(after?.inventory.map(entryName)).toEqual([`ConfigMap ${space}/keep`])
    expect(after?.groupKinds).toEqual(['ConfigMap'])
    expect(JSON.stringify(after?.object.metadata?.annotations)).not.toContain('Gadget')
    await snapshot('2b.2 after the CRD was deleted and a prune run', target, space, inv, [
      `$ kubectl get crd ${crdName}; kubectl api-versions | grep ${group}`,
      `Error from server (NotFound): customresourcedefinitions.apiextensions.k8s.io "${crdName}" not found (and no API group ${group})`,
      ...linesWith(real, /::warning.*no longer serves/)
    ])
  })

  it('3: the same ConfigMap without a namespace and in `default` is refused before any cluster is touched', async () => {
    const space = ns('ident')
    const inv = inventory()
    const dup = uniqueName('dup')
    defaultConfigMaps.push(dup)
    const bad = names[2]
    const files: Record<string, string[]> = {}
    for (const c of names) {
      files[`${c}/namespace.yaml`] = [
        doc({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: space } })
      ]
      files[`${c}/other.yaml`] = [configMap('other', { namespace: space })]
    }
    files[`${bad}/implicit.yaml`] = [configMap(dup)]
    files[`${bad}/explicit.yaml`] = [configMap(dup, { namespace: 'default' })]
    const dir = manifests(files)
    const message = new RegExp(
      `duplicate object ConfigMap/default/${dup} in cluster "${bad}".*context's namespace "default"`
    )

    const real = await action(dir, inv, { prune: 'true' })
    expectCode(real, 1)
    expect(real.stdout).toMatch(message)
    const dry = await action(dir, inv, { 'dry-run': 'true' })
    expectCode(dry, 1)
    expect(dry.stdout).toMatch(message)
    const deploy = await cli('deploy', dir, inv, ['--prune'])
    expectCode(deploy, 2)
    expect(deploy.stderr).toMatch(message)
    const diff = await cli('diff', dir, inv)
    expectCode(diff, 2)
    expect(diff.stderr).toMatch(message)

    const after: string[] = []
    for (const c of names) {
      const k = kc(c)
      expect(await readObject(k, 'v1', 'Namespace', space)).toBeUndefined()
      expect(await readObject(k, 'v1', 'ConfigMap', dup, 'default')).toBeUndefined()
      expect(await parentOf(k, inv)).toBeUndefined()
      after.push(
        `[${c}] $ kubectl get namespace ${space}; kubectl -n default get configmap ${dup}; kubectl -n kit-system get configmap kit-applyset-${inv}`,
        `[${c}] Error from server (NotFound) x3: nothing was applied`
      )
    }
    const text = [
      '### 3 after the action (real, dry) and the CLI (deploy, diff) on the duplicate',
      ...ran.splice(0).map((r) => `  ${r}`),
      ...linesWith(deploy, /duplicate object/),
      ...after
    ].join('\n')
    evidence.push(text)
  })

  it('4: a context namespace is where namespace-less objects land and how the inventory lists them', async () => {
    const target = names[1]
    const k = kc(target)
    const space = ns('ctx')
    const inv = inventory()
    await createNamespace(k, space)
    const config = parse(kubeconfig) as { contexts: { context: Record<string, string> }[] }
    for (const c of config.contexts) c.context.namespace = space
    const withNs = stringify(config)
    const withNsPath = join(mkdtempSync(join(tmpdir(), 'kit-kubeconfig-')), 'config')
    writeFileSync(withNsPath, withNs)
    const c1 = configMap('c1', { labels: { app: 'ctx' } })
    const c2 = configMap('c2', { labels: { app: 'ctx' } })
    const all = manifests({ [`${target}/objects.yaml`]: [c1, c2] })

    // Dry run (action) first: nothing is created anywhere.
    const dry = await action(all, inv, { kubeconfig: withNs, prune: 'true', 'dry-run': 'true' })
    expectCode(dry, 0)
    expect(dry.summary).toContain(`ConfigMap ${space}/c1`)
    expect(await configMaps(k, space)).toEqual([])
    const real = await action(all, inv, { kubeconfig: withNs, prune: 'true' })
    expectCode(real, 0)
    expect(await configMaps(k, space)).toEqual(['c1', 'c2'])
    for (const n of ['c1', 'c2'])
      expect(await readObject(k, 'v1', 'ConfigMap', n, 'default')).toBeUndefined()
    const p = await parentOf(k, inv)
    expect(p?.inventory).toEqual([
      { apiVersion: 'v1', kind: 'ConfigMap', namespace: space, name: 'c1' },
      { apiVersion: 'v1', kind: 'ConfigMap', namespace: space, name: 'c2' }
    ])
    expect(p?.object.data).toMatchObject({
      inventory: expect.stringContaining(`"namespace":"${space}"`)
    })
    expect(p?.namespaces).toContain(space)
    await snapshot(
      '4.1 after deploying c1, c2 (no metadata.namespace) with the context namespace',
      target,
      space,
      inv
    )

    // c2 leaves the manifests: the CLI's dry run names it, its real run deletes it.
    const onlyC1 = manifests({ [`${target}/objects.yaml`]: [c1] })
    const diff = await cli('diff', onlyC1, inv, ['--prune'], withNsPath)
    expectCode(diff, 0)
    expect(diff.stdout).toMatch(new RegExp(`ConfigMap ${space}/c2 — would be pruned \\(dry run\\)`))
    expect(await configMaps(k, space)).toEqual(['c1', 'c2'])
    const pruned = await cli('deploy', onlyC1, inv, ['--prune'], withNsPath)
    expectCode(pruned, 0)
    expect(pruned.stdout).toMatch(
      new RegExp(`- deleted +ConfigMap ${space}/c2 — pruned: no longer in the manifests`)
    )
    expect(await configMaps(k, space)).toEqual(['c1'])
    expect(await listed(k, inv)).toEqual([`ConfigMap ${space}/c1`])
    await snapshot('4.2 after c2 left the manifests, prune (CLI)', target, space, inv, [
      ...linesWith(diff, /c2/),
      ...linesWith(pruned, /deleted/)
    ])
    // Last, so every other check above has run: `kit diff --prune` says "would be deleted".
    expect(diff.stdout).toMatch(new RegExp(`would be deleted +ConfigMap ${space}/c2\\b`))
  })

  it("5: a workload its HPA scales keeps the autoscaler's count; a redeploy is unchanged", async () => {
    const target = names[2]
    const k = kc(target)
    const space = ns('hpa')
    const inv = inventory()
    const objects = [
      doc({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: space } }),
      doc({
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'api', namespace: space },
        spec: {
          replicas: 1,
          selector: { matchLabels: { app: 'api' } },
          template: {
            metadata: { labels: { app: 'api' } },
            spec: { containers: [{ name: 'api', image: 'registry.example/api:1' }] }
          }
        }
      }),
      doc({
        apiVersion: 'autoscaling/v2',
        kind: 'HorizontalPodAutoscaler',
        metadata: { name: 'api', namespace: space },
        spec: {
          scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'api' },
          minReplicas: 3,
          maxReplicas: 5,
          metrics: [
            {
              type: 'Resource',
              resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } }
            }
          ]
        }
      })
    ]
    const dir = manifests({ [`${target}/api.yaml`]: objects })
    expectCode(await action(dir, inv), 0)
    // The autoscaler enforces minReplicas even without a metrics server.
    const scaled = await eventually(
      () => readObject(k, 'apps/v1', 'Deployment', 'api', space),
      (d) => (d?.spec as { replicas?: number } | undefined)?.replicas === 3
    )
    expect((scaled?.spec as { replicas: number }).replicas).toBe(3)
    const generation = scaled?.metadata?.generation
    await snapshot('5.1 after the first deploy, once the HPA scaled api to 3', target, space, inv)

    const diff = await cli('diff', dir, inv)
    expectCode(diff, 0)
    expect(diff.stdout).toMatch(/no changes|unchanged/)
    const again = await cli('deploy', dir, inv)
    expectCode(again, 0)
    expect(again.stdout).toMatch(/unchanged/)
    expect(again.stdout).not.toMatch(/configured/)
    const viaAction = await action(dir, inv)
    expectCode(viaAction, 0)
    expect(clustersOf(viaAction)[0]?.result).toBe('unchanged')
    const after = await readObject(k, 'apps/v1', 'Deployment', 'api', space)
    expect((after?.spec as { replicas: number }).replicas).toBe(3)
    expect(after?.metadata?.generation).toBe(generation)
    await snapshot('5.2 after kit diff, kit deploy and the action again', target, space, inv)
  })

  it('6: deleted objects are named by the CLI (deploy and diff) and in the action’s step summary', async () => {
    const target = names[2]
    const k = kc(target)
    const space = ns('named')
    const inv = inventory()
    await createNamespace(k, space)
    const [a, b, c] = ['a', 'b', 'c'].map((n) => configMap(n, { namespace: space }))
    expectCode(
      await cli('deploy', manifests({ [`${target}/objects.yaml`]: [a, b, c] }), inv, ['--prune']),
      0
    )
    await snapshot('6.1 after deploying a, b, c', target, space, inv)

    // c leaves: the action's dry run and the CLI's diff name it as would-be-deleted.
    const withoutC = manifests({ [`${target}/objects.yaml`]: [a, b] })
    const dryAction = await action(withoutC, inv, { prune: 'true', 'dry-run': 'true' })
    expectCode(dryAction, 0)
    expect(dryAction.summary).toContain('#### What would be deleted')
    expect(dryAction.summary).toContain(`➖ would be deleted \`ConfigMap ${space}/c\``)
    const diff = await cli('diff', withoutC, inv, ['--prune'])
    expectCode(diff, 0)
    expect(diff.stdout).toMatch(new RegExp(`ConfigMap ${space}/c — would be pruned \\(dry run\\)`))
    expect(await configMaps(k, space)).toEqual(['a', 'b', 'c'])
    // The action's real run: the step summary names it.
    const real = await action(withoutC, inv, { prune: 'true' })
    expectCode(real, 0)
    expect(real.summary).toContain('#### What was deleted')
    expect(real.summary).toContain(
      `➖ deleted \`ConfigMap ${space}/c\` — _pruned: no longer in the manifests_`
    )
    expect(await configMaps(k, space)).toEqual(['a', 'b'])
    await snapshot('6.2 after c left the manifests (action, prune)', target, space, inv, [
      ...linesWith(real, /deleted `ConfigMap/)
    ])
    // b leaves: the CLI's real run names it.
    const deploy = await cli('deploy', manifests({ [`${target}/objects.yaml`]: [a] }), inv, [
      '--prune'
    ])
    expectCode(deploy, 0)
    expect(deploy.stdout).toContain(`${target}: 1 deleted`)
    expect(deploy.stdout).toMatch(
      new RegExp(`- deleted +ConfigMap ${space}/b — pruned: no longer in the manifests`)
    )
    expect(await configMaps(k, space)).toEqual(['a'])
    await snapshot('6.3 after b left the manifests (CLI, prune)', target, space, inv, [
      ...linesWith(diff, /ConfigMap .*\/c\b/),
      ...linesWith(deploy, /deleted/)
    ])
    // Last, so every other check above has run: `kit diff --prune` says "would be deleted".
    expect(diff.stdout).toMatch(new RegExp(`would be deleted +ConfigMap ${space}/c\\b`))
  })

  it('7: leaving fast-rollback removes its versions without prune; the Service switches only to a ready Deployment', async () => {
    const target = names[0]
    const k = kc(target)
    const space = ns('leave')
    const inv = inventory()
    await createNamespace(k, space)
    const at = (image: string) => manifests({ [`${target}/web.yaml`]: webApp(space, image) })
    const fast = ['--strategy', 'fast-rollback']
    expectCode(await cli('deploy', at('registry.example/web:1'), inv, fast), 0)
    const id1 = (await serviceSelector(k, space))?.[deployIdLabel]
    expect(id1).toMatch(/^[0-9a-f]{8}$/)
    expectCode(await action(at('registry.example/web:2'), inv, { strategy: 'fast-rollback' }), 0)
    const id2 = (await serviceSelector(k, space))?.[deployIdLabel]
    expect(id2).toMatch(/^[0-9a-f]{8}$/)
    expect(id2).not.toBe(id1)
    // Back to :1, a rollback: its Deployment still runs; :2 becomes the standby.
    expectCode(await cli('deploy', at('registry.example/web:1'), inv, fast), 0)
    expect(await serviceSelector(k, space)).toEqual({ app: 'web', [deployIdLabel]: id1 })
    expect(await deployments(k, space)).toEqual([`web-${id1}`, `web-${id2}`].sort())
    await snapshot('7.1 after fast-rollback :1, :2, :1 (a rollback)', target, space, inv)

    // A dry run of the transition (CLI) lists both versions as would-be-removed, changes nothing.
    const before = await resourceVersions(k, space)
    const parentBefore = (await parentOf(k, inv))?.object
    const v3 = at('registry.example/web:3')
    const dry = await cli('diff', v3, inv, ['--strategy', 'rolling-update'])
    expectCode(dry, 0)
    expect(dry.stdout).toContain(
      `Deployment ${space}/web-${id2} — would be removed: web left fast-rollback (a standby version)`
    )
    expect(dry.stdout).toContain(
      `Deployment ${space}/web-${id1} — would be removed: web left fast-rollback (served until its Services switched to the new Deployment)`
    )
    expect(await resourceVersions(k, space)).toEqual(before)
    expect((await parentOf(k, inv))?.object).toEqual(parentBefore)
    expect(await serviceSelector(k, space)).toEqual({ app: 'web', [deployIdLabel]: id1 })
    expect(await deployments(k, space)).toEqual([`web-${id1}`, `web-${id2}`].sort())

    // The real transition (action, no prune), watched every 100 ms: (time, the Service's
    // selector, the plain Deployment's ready replicas).
    interface Sample {
      ms: number
      deployId?: string
      plain: number | 'absent'
    }
    const samples: Sample[] = []
    let finished = false
    const started = Date.now()
    const running = action(v3, inv, { strategy: 'rolling-update' }).finally(() => {
      finished = true
    })
    const sample = async () => {
      // The Service first: a plain selector read before a not-ready Deployment is a real violation.
      const selector = await serviceSelector(k, space)
      const plain = await deploymentState(k, space, 'web')
      samples.push({
        ms: Date.now() - started,
        deployId: selector?.[deployIdLabel],
        plain: plain ? plain.ready : 'absent'
      })
    }
    while (!finished) {
      await sample()
      await sleep(100)
    }
    const real = await running
    await sample()
    expectCode(real, 0)
    // The samples as a timeline of states (for the evidence and the assertion message).
    const segments: { from: number; to: number; state: string }[] = []
    for (const s of samples) {
      const state = `service selector ${s.deployId ? `${deployIdLabel}=${s.deployId}` : 'app=web'}, plain web ${s.plain === 'absent' ? 'absent' : `ready ${s.plain}`}`
      const last = segments.at(-1)
      if (last?.state === state) last.to = s.ms
      else segments.push({ from: s.ms, to: s.ms, state })
    }
    const timeline = segments.map(
      (g) => `  ${(g.from / 1000).toFixed(1)}s–${(g.to / 1000).toFixed(1)}s: ${g.state}`
    )
    const violations = samples.filter((s) => !s.deployId && (s.plain === 'absent' || s.plain === 0))
    expect({ violations, timeline }).toEqual({ violations: [], timeline })
    expect(samples.length).toBeGreaterThan(3)
    expect(samples[0].deployId).toBe(id1)
    expect(samples.at(-1)).toMatchObject({ deployId: undefined, plain: 1 })

    // Afterwards: one plain Deployment, the plain selector, both versions reported removed.
    expect(await deployments(k, space)).toEqual(['web'])
    expect(await serviceSelector(k, space)).toEqual({ app: 'web' })
    expect((await deploymentState(k, space, 'web'))?.image).toBe('registry.example/web:3')
    expect(real.summary).toContain(
      `➖ deleted \`Deployment ${space}/web-${id2}\` — _removed: web left fast-rollback (a standby version)_`
    )
    expect(real.summary).toContain(
      `➖ deleted \`Deployment ${space}/web-${id1}\` — _removed: web left fast-rollback (served until its Services switched to the new Deployment)_`
    )
    expect(clustersOf(real)[0].counts.deleted).toBe(2)
    expect((await listed(k, inv)).filter((e) => e.startsWith('Deployment'))).toEqual([
      `Deployment ${space}/web`
    ])
    await snapshot('7.2 after the rolling-update deploy of :3 (no prune)', target, space, inv, [
      '$ (Service selector and plain Deployment, polled every 100 ms during the run)',
      ...timeline,
      ...linesWith(real, /deleted `Deployment/)
    ])
  })

  it('8: with fast-rollback-keep 1 the kept standby is the version that served last', async () => {
    const target = names[1]
    const k = kc(target)
    const space = ns('keep')
    const inv = inventory()
    await createNamespace(k, space)
    const at = (image: string) => manifests({ [`${target}/web.yaml`]: webApp(space, image) })
    const commit = (n: number) => ({
      commit: String(n).repeat(40),
      commitTime: `2026-03-0${n}T10:00:00.000Z`
    })
    const cliRun = (image: string, n: number) =>
      cli('deploy', at(image), inv, [
        '--strategy',
        'fast-rollback',
        '--fast-rollback-keep',
        '1',
        '--commit',
        commit(n).commit,
        '--commit-time',
        commit(n).commitTime
      ])
    const actionRun = (image: string, n: number) =>
      action(at(image), inv, {
        strategy: 'fast-rollback',
        'fast-rollback-keep': '1',
        commit: commit(n).commit,
        'commit-time': commit(n).commitTime
      })
    const id = async () => (await serviceSelector(k, space))?.[deployIdLabel]

    expectCode(await cliRun('registry.example/web:1', 1), 0)
    const id1 = await id()
    expectCode(await actionRun('registry.example/web:2', 2), 0)
    const id2 = await id()
    expectCode(await cliRun('registry.example/web:1', 3), 0)
    expect(await id()).toBe(id1)
    expect(await deployments(k, space)).toEqual([`web-${id1}`, `web-${id2}`].sort())
    await snapshot('8.1 after fast-rollback :1, :2, :1 with keep 1', target, space, inv)

    // :3, dry run first (CLI): only :2's version would be removed.
    const dry = await cli('diff', at('registry.example/web:3'), inv, [
      '--strategy',
      'fast-rollback',
      '--fast-rollback-keep',
      '1'
    ])
    expectCode(dry, 0)
    expect(dry.stdout).toMatch(new RegExp(`Deployment ${space}/web-${id2} — would be removed`))
    expect(dry.stdout).not.toContain(`web-${id1} — would be removed`)
    expect(await deployments(k, space)).toEqual([`web-${id1}`, `web-${id2}`].sort())
    const real = await actionRun('registry.example/web:3', 4)
    expectCode(real, 0)
    const id3 = await id()
    expect(id3).not.toBe(id1)
    expect(id3).not.toBe(id2)
    // v1 served just before v3: it is the standby kept; v2's is gone.
    expect(await deployments(k, space)).toEqual([`web-${id1}`, `web-${id3}`].sort())
    expect(real.summary).toContain(
      `➖ deleted \`Deployment ${space}/web-${id2}\` — _removed: not among the 1 most recently serving fast-rollback versions of web_`
    )
    await snapshot('8.2 after fast-rollback :3 with keep 1', target, space, inv, [
      ...linesWith(real, /deleted `Deployment/)
    ])
  })

  it('8b: fast-rollback without wait is bad input, refused before anything is touched', async () => {
    const target = names[2]
    const k = kc(target)
    const space = ns('nowait')
    const inv = inventory()
    const dir = manifests({
      [`${target}/namespace.yaml`]: [
        doc({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: space } })
      ],
      [`${target}/web.yaml`]: webApp(space, 'registry.example/web:1')
    })
    const message = /fast-rollback strategy needs wait/
    const viaCli = await cli('deploy', dir, inv, ['--strategy', 'fast-rollback', '--no-wait'])
    expectCode(viaCli, 2)
    expect(viaCli.stderr).toMatch(message)
    const viaAction = await action(dir, inv, { strategy: 'fast-rollback', wait: 'false' })
    expectCode(viaAction, 1)
    expect(viaAction.stdout).toMatch(/::error::.*fast-rollback strategy needs wait/)
    // Refused before it started: `result` says so all the same, with one annotation.
    expect(viaAction.outputs).toEqual({ result: 'failure', changed: 'false' })
    expect(viaAction.stdout.match(/::error/g)).toHaveLength(1)
    expect(await readObject(k, 'v1', 'Namespace', space)).toBeUndefined()
    expect(await parentOf(k, inv)).toBeUndefined()
    const text = [
      '### 8b after fast-rollback with --no-wait (CLI) and wait: false (action)',
      ...ran.splice(0).map((r) => `  ${r}`),
      ...linesWith(viaCli, message),
      ...linesWith(viaAction, /::error::/),
      `[${target}] $ kubectl get namespace ${space}`,
      `[${target}] Error from server (NotFound): namespaces "${space}" not found`
    ].join('\n')
    evidence.push(text)
  })
})
