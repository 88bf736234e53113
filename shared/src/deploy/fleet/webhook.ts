/**
 * The optional webhook: one POST of the run's result as JSON when the deploy finishes (kit
 * sent one per manifest and lost some; one per run, after everything settled, cannot race).
 * Everything in the body goes through the redactor, and a failing webhook is a warning, never
 * a failed deploy: the clusters are already deployed by then.
 */
import type { Redactor } from '../../secrets/redact.js'
import { renderOutputs } from './report.js'
import type { FleetReport } from './types.js'

export interface WebhookContext {
  readonly commit?: string
  readonly runUrl?: string
  readonly repository?: string
}

/** The JSON body (pure). */
export function webhookBody(report: FleetReport, context: WebhookContext): unknown {
  const outputs = renderOutputs(report)
  return {
    event: 'kit.deploy',
    result: report.result,
    dryRun: report.dryRun,
    durationMs: Math.round(report.durationMs),
    ...(context.repository ? { repository: context.repository } : {}),
    ...(context.commit ? { commit: context.commit } : {}),
    ...(context.runUrl ? { runUrl: context.runUrl } : {}),
    changed: outputs.changed,
    failed: outputs.failed,
    skipped: outputs.skipped,
    clusters: outputs.clusters
  }
}

/** Posts the report; resolves to the HTTP status, or throws with a redacted message. */
export async function sendWebhook(
  url: string,
  report: FleetReport,
  context: WebhookContext,
  options: { redactor: Redactor; timeoutMs?: number; fetchImpl?: typeof fetch }
): Promise<number> {
  const body = options.redactor.scrub(JSON.stringify(webhookBody(report, context)))
  const doFetch = options.fetchImpl ?? fetch
  let response: Response
  try {
    response = await doFetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': 'kit-deployer' },
      body,
      signal: AbortSignal.timeout(options.timeoutMs ?? 10_000)
    })
  } catch (err) {
    // fetch wraps the network error (ECONNREFUSED, DNS, TLS) in `cause`; that is the useful part.
    const e = err as { message?: string; cause?: { message?: string; code?: string } }
    const cause = e.cause?.code ?? e.cause?.message ?? e.message ?? String(err)
    throw new Error(options.redactor.scrub(`webhook POST failed: ${cause}`), { cause: err })
  }
  await response.arrayBuffer().catch(() => undefined)
  if (!response.ok) throw new Error(`webhook POST answered HTTP ${response.status}`)
  return response.status
}
