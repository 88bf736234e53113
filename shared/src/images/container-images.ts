/**
 * Where a Kubernetes object holds container images: the `image` of every item of a
 * `containers`, `initContainers` or `ephemeralContainers` list, at any depth (Pods, workload
 * templates, CronJob job templates, custom resources that embed a pod spec). One definition
 * for the bump, which edits these fields, and the render, which checks what lands in them.
 */

/** The keys whose value is a list of containers. */
export const containerListKeys: ReadonlySet<string> = new Set([
  'containers',
  'initContainers',
  'ephemeralContainers'
])

/** True when `key`, inside the map at `parent`, is a container's image (`…containers[0].image`). */
export function isContainerImageKey(parent: readonly (string | number)[], key: string): boolean {
  const listKey = parent[parent.length - 2]
  return (
    key === 'image' &&
    typeof parent[parent.length - 1] === 'number' &&
    typeof listKey === 'string' &&
    containerListKeys.has(listKey)
  )
}

/** True when `path` is one container (`…containers[0]`). */
function isContainerPath(path: readonly (string | number)[]): boolean {
  const listKey = path[path.length - 2]
  return (
    typeof path[path.length - 1] === 'number' &&
    typeof listKey === 'string' &&
    containerListKeys.has(listKey)
  )
}

/**
 * True when nothing at or under `path` can be a container image: object metadata, and a
 * container's fields other than its image (`…containers[0].env`).
 */
export function holdsNoContainerImage(path: readonly (string | number)[]): boolean {
  if (path[0] === 'metadata') return true
  for (let i = 2; i < path.length; i++) {
    const listKey = path[i - 2]
    if (
      typeof path[i - 1] === 'number' &&
      typeof listKey === 'string' &&
      containerListKeys.has(listKey)
    )
      return path[i] !== 'image'
  }
  return false
}

/**
 * Calls `visit` with the path and value of every container image under `value` (plain data,
 * as parsed from YAML), `at` being the path of `value` itself (which may be an image: a
 * placeholder that is a container's whole `image:`). Values that are not strings are passed
 * too: the caller decides what an image of the wrong type means.
 */
export function forEachContainerImage(
  value: unknown,
  at: readonly (string | number)[],
  visit: (path: readonly (string | number)[], image: unknown) => void
): void {
  if (at[at.length - 1] === 'image' && isContainerPath(at.slice(0, -1))) return visit(at, value)
  // A scalar holds no container (the common case: a placeholder for a number or a name).
  if (value === null || typeof value !== 'object') return
  const path = [...at]
  const walk = (node: unknown): void => {
    if (node === null || typeof node !== 'object') return
    if (isContainerPath(path)) {
      // A container: its image is the only field that can hold one (no pod spec nests in it).
      if (!Array.isArray(node) && 'image' in node)
        visit([...path, 'image'], (node as { image: unknown }).image)
      return
    }
    const entries: [string | number, unknown][] = Array.isArray(node)
      ? node.map((item, i) => [i, item])
      : Object.entries(node)
    for (const [key, child] of entries) {
      path.push(key)
      walk(child)
      path.pop()
    }
  }
  walk(value)
}
