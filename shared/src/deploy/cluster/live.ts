/**
 * Reading the live state of a stage's objects with as few requests as possible: one list per
 * (apiVersion, kind, namespace) the stage touches instead of a GET per object. A list is
 * authoritative at its resourceVersion, so an object missing from it is absent. Objects in a
 * namespace this run creates are absent without asking. A single object of its kind in its
 * namespace is read with a GET (one request either way, and a GET carries less), and a kind
 * that cannot be listed (403, 405, ...) falls back to a GET per object, so every error an
 * object gets is the one its own GET would give.
 */
import { keyOf } from '../../k8s/identity.js'
import { ClusterUnreachableError, type ClusterClient, type KubeObject } from '../../k8s/types.js'
import { mapLimit } from './clock.js'

/** What is known about one object's live state: the object (undefined: absent) or the read error. */
export type LiveLookup =
  | { readonly live: KubeObject | undefined; readonly error?: undefined }
  | { readonly live?: undefined; readonly error: unknown }

/** How many lists or GETs run at once. */
const readConcurrency = 8

/** The objects' live state, by keyOf. ClusterUnreachableError is thrown, not recorded. */
export async function readLiveObjects(
  client: ClusterClient,
  objects: readonly KubeObject[],
  absentNamespaces: ReadonlySet<string>
): Promise<Map<string, LiveLookup>> {
  const out = new Map<string, LiveLookup>()
  const groups = new Map<string, KubeObject[]>()
  for (const o of objects) {
    const ns = o.metadata.namespace
    if (ns !== undefined && absentNamespaces.has(ns)) {
      out.set(keyOf(o), { live: undefined })
      continue
    }
    const g = `${o.apiVersion}|${o.kind}|${ns ?? ''}`
    const list = groups.get(g)
    if (list) list.push(o)
    else groups.set(g, [o])
  }
  const getEach = (members: readonly KubeObject[]) =>
    mapLimit(members, readConcurrency, async (o) => {
      out.set(keyOf(o), await readOne(client, o))
    })
  await mapLimit([...groups.values()], readConcurrency, async (members) => {
    if (members.length === 1) return getEach(members)
    const first = members[0]
    let items: KubeObject[]
    try {
      items = await client.list(first.apiVersion, first.kind, {
        namespace: first.metadata.namespace
      })
    } catch (err) {
      if (err instanceof ClusterUnreachableError) throw err
      // Not listable (RBAC without list, an API without it, an unknown kind): the GET of each
      // object says what is wrong with it, exactly as before lists were used.
      return getEach(members)
    }
    const byName = new Map(items.map((i) => [i.metadata.name, i]))
    for (const o of members) out.set(keyOf(o), { live: byName.get(o.metadata.name) })
  })
  return out
}

async function readOne(client: ClusterClient, o: KubeObject): Promise<LiveLookup> {
  try {
    return {
      live: await client.get({
        apiVersion: o.apiVersion,
        kind: o.kind,
        name: o.metadata.name,
        ...(o.metadata.namespace ? { namespace: o.metadata.namespace } : {})
      })
    }
  } catch (err) {
    if (err instanceof ClusterUnreachableError) throw err
    return { error: err }
  }
}
