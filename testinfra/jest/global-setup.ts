/**
 * Starts the real local clusters the end-to-end suites share, once per Jest run, before any
 * worker starts (so workers never race to start them). A set already running in the test
 * state directory with the same names is reused, which keeps a developer's re-runs fast.
 *
 * KIT_E2E_KUBECONFIG=<file> points the suites at existing clusters instead (one context per
 * cluster); nothing is started then.
 */
import { upClusters } from '../clusters/local-clusters.js'
import { testClustersDir, testClusterNames, testBasePort } from './clusters.js'

export default async function globalSetup(): Promise<void> {
  if (process.env.KIT_E2E_KUBECONFIG) return
  const started = Date.now()
  await upClusters({
    names: testClusterNames,
    root: testClustersDir(),
    basePort: testBasePort,
    log: (line) => process.stderr.write(`[clusters] ${line}\n`)
  })
  process.stderr.write(`[clusters] ready after ${((Date.now() - started) / 1000).toFixed(1)}s\n`)
}
