/**
 * What end-to-end tests use to reach the shared local clusters (started by global-setup.ts),
 * or the clusters of KIT_E2E_KUBECONFIG. Suites share the clusters, so each suite works in
 * namespaces (and cluster-scoped names) of its own, e.g. from uniqueName('deploy').
 */
import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { KubeConfig } from '@kubernetes/client-node'
import { readClusterSet } from '../clusters/local-clusters.js'

export const testClusterNames = ['kit-e2e-1', 'kit-e2e-2', 'kit-e2e-3']
/** A port range apart from `npm run clusters -- up`'s default, so the demo and the tests can both run. */
export const testBasePort = 18000

export function testClustersDir(): string {
  return process.env.KIT_TEST_CLUSTERS_DIR ?? join(tmpdir(), 'kit-test-clusters')
}

export interface TestCluster {
  readonly name: string
  /** A kubeconfig holding only this cluster (its context is named after the cluster). */
  readonly kubeconfigPath: string
  readonly kubeConfig: KubeConfig
}

/** The clusters the suites may use, in a stable order. */
export function testClusters(): TestCluster[] {
  const external = process.env.KIT_E2E_KUBECONFIG
  if (external) {
    const kc = new KubeConfig()
    kc.loadFromFile(external)
    return kc.getContexts().map((ctx) => {
      const one = new KubeConfig()
      one.loadFromFile(external)
      one.setCurrentContext(ctx.name)
      return { name: ctx.name, kubeconfigPath: external, kubeConfig: one }
    })
  }
  const set = readClusterSet(testClustersDir())
  if (!set)
    throw new Error(
      `no test clusters in ${testClustersDir()}: run the suite through jest (global-setup starts them)`
    )
  return set.clusters.map((c) => {
    const kc = new KubeConfig()
    kc.loadFromString(readFileSync(c.kubeconfigPath, 'utf8'))
    return { name: c.name, kubeconfigPath: c.kubeconfigPath, kubeConfig: kc }
  })
}

/** The kubeconfig file holding every test cluster as a context. */
export function testKubeconfigPath(): string {
  if (process.env.KIT_E2E_KUBECONFIG) return process.env.KIT_E2E_KUBECONFIG
  const set = readClusterSet(testClustersDir())
  if (!set) throw new Error(`no test clusters in ${testClustersDir()}`)
  return set.kubeconfigPath
}

/** A DNS-label name unique to this test run, for namespaces and cluster-scoped objects. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(3).toString('hex')}`
}
