/**
 * Label selectors on manifests: deploy only the manifests whose labels match. The grammar (the
 * API server's, `kubectl -l`) lives in k8s/selector.ts, kit's one implementation; it is
 * re-exported here for the fleet's callers.
 */
import type { Manifest } from '../cluster/types.js'
import { matchesSelector, type Requirement } from '../../k8s/selector.js'

export { matchesSelector, parseSelector, type Requirement } from '../../k8s/selector.js'

/** The manifests whose metadata.labels match. */
export function filterBySelector(
  manifests: readonly Manifest[],
  requirements: readonly Requirement[]
): Manifest[] {
  return manifests.filter((m) => matchesSelector(m.object.metadata.labels ?? {}, requirements))
}
