/**
 * Stops the test clusters after the run when this run started them (a set it found running
 * belongs to whoever started it), unless KIT_KEEP_CLUSTERS=1 asks to keep them warm for the
 * next run (a developer iterating on an end-to-end test).
 */
import { importTs } from './load-ts.mjs'

export default async function globalTeardown() {
  if (process.env.KIT_CLUSTERS_STARTED_BY_THIS_RUN !== '1' || process.env.KIT_KEEP_CLUSTERS === '1')
    return
  const { downClusters } = await importTs('testinfra/clusters/local-clusters.ts')
  const { testClustersDir } = await importTs('testinfra/jest/clusters.ts')
  await downClusters({ root: testClustersDir() })
}
