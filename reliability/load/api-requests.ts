/**
 * How many requests a deploy sends an API server, from the server's own counter
 * (apiserver_request_total on /metrics) read before and after: the cost per cluster that the
 * deployer's design decides (reads to compare and to poll health, server-side applies), beside
 * time and memory. On these clusters nothing else reads objects one by one or applies (the
 * controllers and kwok use watches, creates, updates and patches), so the deltas are the
 * deployer's, give or take a handful.
 */
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'

const run = promisify(execFile)

export interface RequestCounts {
  /** GET and LIST of resources (discovery and health endpoints not counted). */
  readonly reads: number
  /** Server-side applies that were written. */
  readonly applies: number
  /** Server-side applies with dryRun=All (the deployer's "would this change anything?"). */
  readonly dryRunApplies: number
}

/** The server's request counters by kind of request, since it started. */
export async function requestCounts(kubectl: string, kubeconfig: string): Promise<RequestCounts> {
  const { stdout } = await run(kubectl, ['--kubeconfig', kubeconfig, 'get', '--raw', '/metrics'], {
    maxBuffer: 256 * 1024 * 1024
  })
  let reads = 0
  let applies = 0
  let dryRunApplies = 0
  for (const line of stdout.split('\n')) {
    if (!line.startsWith('apiserver_request_total{')) continue
    const labels = Object.fromEntries(
      [...line.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]] as const)
    )
    if (!labels.resource) continue
    const value = Number(line.slice(line.lastIndexOf(' ') + 1))
    if (labels.verb === 'GET' || labels.verb === 'LIST') reads += value
    else if (labels.verb === 'APPLY' && labels.dry_run) dryRunApplies += value
    else if (labels.verb === 'APPLY') applies += value
  }
  return { reads, applies, dryRunApplies }
}

/** after − before, summed over clusters. */
export function requestDelta(
  before: readonly RequestCounts[],
  after: readonly RequestCounts[]
): RequestCounts {
  const sum = (f: (c: RequestCounts) => number): number =>
    after.reduce((s, a, i) => s + f(a) - f(before[i]), 0)
  return {
    reads: sum((c) => c.reads),
    applies: sum((c) => c.applies),
    dryRunApplies: sum((c) => c.dryRunApplies)
  }
}
