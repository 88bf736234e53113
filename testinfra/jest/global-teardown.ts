/**
 * Stops the test clusters after the run, unless KIT_KEEP_CLUSTERS=1 asks to keep them warm
 * for the next run (a developer iterating on an end-to-end test).
 */
import { downClusters } from '../clusters/local-clusters.js'
import { testClustersDir } from './clusters.js'

export default async function globalTeardown(): Promise<void> {
  if (process.env.KIT_E2E_KUBECONFIG || process.env.KIT_KEEP_CLUSTERS === '1') return
  await downClusters({ root: testClustersDir() })
}
