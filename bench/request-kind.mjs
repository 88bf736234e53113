// What kind of API request a method and path make, for the benchmark's request counts: one
// rule for the requests counted in the benchmark's process (bench/deploy.ts, through the
// client's onRequest) and those recorded in a CLI child (bench/request-timeline.mjs).

/**
 * WATCH (a watch stream: the client's `WATCH` method, or a GET with `watch=1`/`watch=true` in
 * its query), PATCH, PUT, POST, DELETE, or for any other GET: DISCOVERY (a group/version
 * document), LIST (a collection) or GET (one object).
 */
export function requestKind(method, path) {
  const [bare, query = ''] = path.split('?')
  if (method === 'WATCH' || /(^|&)watch=(1|true)(&|$)/.test(query)) return 'WATCH'
  if (method !== 'GET') return method
  if (/^\/(api|apis|version)\/?$/.test(bare)) return 'DISCOVERY'
  const rest = bare
    .replace(/^\/api\/v1|^\/apis\/[^/]+\/[^/]+/, '')
    .split('/')
    .filter(Boolean)
  if (rest.length === 0) return 'DISCOVERY'
  const inNamespace = rest[0] === 'namespaces' && rest.length >= 3
  return rest.length === (inNamespace ? 3 : 1) ? 'LIST' : 'GET'
}
