// Where a deploy's wall time goes, request by request: load this into the kit CLI (or the
// benchmark's floor process) and, when the process exits, it prints one timeline per API server
// on stderr:
//
//   node --import ./bench/request-timeline.mjs cli/dist/kit.js deploy <dir> --kubeconfig <file>
//
// Each line is a phase, with when it started and ended in milliseconds since the process
// started, and how many requests it took:
//   lock, release   the run's Lease created (or renewed), and deleted at the end
//   records         kit's records in kit-system (deploy state, ApplySet parent), read or written
//   reads           every other GET (discovery, live state), first start to last end
//   writes          object writes (every other PATCH, POST or DELETE), first start to last end
//   watch           watch streams (`watch=1` in the query: the watch window's), first opening to
//                   last close; a stream ends when the server or kit closes it
// KIT_TIMELINE_JSON=<file> also writes every request (method, kind as bench/request-kind.mjs
// tells it, phase, start, when its answer's head came, end; no path, header or body, so nothing
// secret) for other tools, and under `unanswered` the requests that never got an answer (a
// watch stream still waiting for a free connection when kit closed it, a request that failed).
//
// It wraps node:https's request() as the bundle loads it (by require), so it sees every request
// kit and the floor send (both call request(options, callback)) and changes none of them.
import { writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { performance } from 'node:perf_hooks'
import { requestKind } from './request-kind.mjs'

const https = createRequire(import.meta.url)('node:https')
const original = https.request
const requests = []
/** Every request sent, answered or not: those never answered are told apart at exit. */
const sent = []

/** The phase a request belongs to, from its method, kind and path. */
function phaseOf(method, kind, path) {
  if (kind === 'WATCH') return 'watch'
  if (/\/leases(\/|\?|$)/.test(path)) return method === 'DELETE' ? 'release' : 'lock'
  if (/\/namespaces\/kit-system\/configmaps(\/|\?|$)/.test(path)) return 'records'
  return method === 'GET' ? 'reads' : 'writes'
}

https.request = function timedRequest(options, callback) {
  const method = options.method ?? 'GET'
  const path = options.path ?? '/'
  const kind = requestKind(method, path)
  const entry = {
    server: `${options.hostname ?? options.host}:${options.port}`,
    method,
    kind,
    phase: phaseOf(method, kind, path),
    started: performance.now()
  }
  sent.push(entry)
  return original.call(this, options, (res) => {
    entry.answered = performance.now()
    // A watch stream that kit closes is destroyed, which emits no 'end': its close is its end.
    res.once(entry.phase === 'watch' ? 'close' : 'end', () => {
      entry.ended = performance.now()
      requests.push(entry)
    })
    callback?.(res)
  })
}

const ms = (n) => n.toFixed(0).padStart(5)
const spanOf = (list) => [
  Math.min(...list.map((r) => r.started)),
  Math.max(...list.map((r) => r.ended))
]

process.once('exit', () => {
  const exited = performance.now()
  const servers = [...new Set(requests.map((r) => r.server))].sort()
  const lines = []
  for (const server of servers) {
    lines.push(`${server}`)
    const mine = requests.filter((r) => r.server === server)
    // The lock and the records are single requests that stand between kit's phases: each gets a
    // line. Live reads and object writes are many: one line each, their first start to last end.
    // Watch streams are many too.
    const many = ['reads', 'writes', 'watch']
    const rows = mine
      .filter((r) => !many.includes(r.phase))
      .map((r) => ({ label: `${r.phase} ${r.method}`, span: [r.started, r.ended], count: 1 }))
    for (const phase of many) {
      const of = mine.filter((r) => r.phase === phase)
      if (of.length > 0) rows.push({ label: phase, span: spanOf(of), count: of.length })
    }
    rows.sort((a, b) => a.span[0] - b.span[0])
    for (const { label, span, count } of rows)
      lines.push(
        `  ${label.padEnd(15)} ${ms(span[0])} → ${ms(span[1])} ms${count > 1 ? `  (${count} requests)` : ''}`
      )
  }
  const unanswered = sent.filter((r) => r.answered === undefined)
  if (unanswered.length > 0) lines.push(`never answered: ${unanswered.length} requests`)
  lines.push(`exit at ${exited.toFixed(0)} ms`)
  process.stderr.write(`request timeline:\n${lines.join('\n')}\n`)
  if (process.env.KIT_TIMELINE_JSON)
    writeFileSync(
      process.env.KIT_TIMELINE_JSON,
      JSON.stringify({ exited, requests, unanswered }, null, 1)
    )
})
