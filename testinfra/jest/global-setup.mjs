/**
 * Starts the real local clusters the end-to-end suites share, once per Jest run, before any
 * worker starts (so workers never race to start them). A set already running in the test
 * state directory with the same names is reused, which keeps a developer's re-runs fast.
 *
 * KIT_E2E_KUBECONFIG=<file> points the suites at existing clusters instead (one context per
 * cluster), and KIT_NO_CLUSTERS=1 (npm run jest:unit) runs pure suites: nothing starts then.
 */
import { importTs } from './load-ts.mjs'

export default async function globalSetup() {
  if (process.env.KIT_E2E_KUBECONFIG || process.env.KIT_NO_CLUSTERS === '1') return
  const { upClusters } = await importTs('testinfra/clusters/local-clusters.ts')
  const { testClustersDir, testClusterNames, testBasePort } = await importTs(
    'testinfra/jest/clusters.ts'
  )
  const started = Date.now()
  const set = await upClusters({
    names: testClusterNames,
    root: testClustersDir(),
    basePort: testBasePort,
    log: (line) => process.stderr.write(`[clusters] ${line}\n`)
  })
  // Only the run that started the set stops it: a reused set belongs to whoever started it.
  if (!set.reused) process.env.KIT_CLUSTERS_STARTED_BY_THIS_RUN = '1'
  process.stderr.write(`[clusters] ready after ${((Date.now() - started) / 1000).toFixed(1)}s\n`)
}
