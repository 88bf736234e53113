/**
 * A local Slack incoming webhook: an HTTP server that answers like Slack's
 * (`https://hooks.slack.com/services/T…/B…/…`): `200 ok` for a message it would post, `400`
 * with `invalid_payload`, `no_text`, `invalid_blocks` or `invalid_blocks_format` for one it
 * would refuse (./blocks.ts holds the documented limits it checks), `404 no_service` for a
 * path that is no webhook. Every request is recorded with what validation found (texts, links,
 * mentions, unescaped characters), accepted or not.
 *
 * Faults on purpose: `queue()` answers the next requests with a status of choice (429 with a
 * Retry-After, 500 `rollup_error`, …) or after a delay, as Slack does when rate limiting or
 * failing (its rate-limit documentation: 429 with Retry-After in seconds).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { validateMessage, type Validation } from './blocks.js'

/** One request the receiver got. */
export interface SlackDelivery {
  readonly path: string
  readonly at: number
  readonly contentType: string
  /** The raw body, to search for anything that must never be sent. */
  readonly body: string
  readonly payload?: unknown
  readonly status: number
  readonly answer: string
  readonly validation?: Validation
}

/** How the receiver answers one request instead of validating it. */
export interface SlackFault {
  readonly status?: number
  readonly body?: string
  /** Sent as Retry-After (seconds, or an HTTP date). */
  readonly retryAfter?: string
  /** Waits this long before answering (a slow Slack; the client's timeout should fire). */
  readonly delayMs?: number
}

export interface SlackReceiver {
  /** A webhook URL of this receiver; `secret` stands for the credential part of the path. */
  webhookUrl(secret?: string): string
  /** Every request, in arrival order. */
  readonly deliveries: SlackDelivery[]
  /** The messages it accepted (answered 200), as parsed payloads with their validation. */
  accepted(): SlackDelivery[]
  /** The next requests get these answers, in order; later ones are validated again. */
  queue(...faults: SlackFault[]): void
  close(): Promise<void>
}

const webhookPath = /^\/services\/T[A-Z0-9]+\/B[A-Z0-9]+\/[A-Za-z0-9]+$/

/** The payload of a JSON body, or of a form's `payload` field, as Slack reads both. */
function parsePayload(contentType: string, body: string): unknown {
  try {
    if (contentType.startsWith('application/json')) return JSON.parse(body) as unknown
    if (contentType.startsWith('application/x-www-form-urlencoded')) {
      const payload = new URLSearchParams(body).get('payload')
      return payload === null ? undefined : (JSON.parse(payload) as unknown)
    }
  } catch {
    // Unparseable: invalid_payload below.
  }
  return undefined
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}

function answer(res: ServerResponse, status: number, text: string, retryAfter?: string): void {
  res.statusCode = status
  res.setHeader('content-type', 'text/html')
  if (retryAfter !== undefined) res.setHeader('retry-after', retryAfter)
  res.end(text)
}

/** Starts a receiver on a free port of 127.0.0.1. */
export async function startSlackReceiver(): Promise<SlackReceiver> {
  const deliveries: SlackDelivery[] = []
  const faults: SlackFault[] = []
  // Delayed answers still pending: close() drops them (their clients have given up).
  const delays = new Set<NodeJS.Timeout>()
  const server = createServer((req, res) => {
    void (async () => {
      const body = await readBody(req)
      const path = req.url ?? ''
      const contentType = String(req.headers['content-type'] ?? '')
      const record = (status: number, text: string, more: Partial<SlackDelivery> = {}) =>
        deliveries.push({ path, at: Date.now(), contentType, body, status, answer: text, ...more })
      const fault = faults.shift()
      if (fault) {
        if (fault.delayMs)
          await new Promise<void>((resolve) => {
            const timer = setTimeout(() => {
              delays.delete(timer)
              resolve()
            }, fault.delayMs)
            delays.add(timer)
          })
        const status = fault.status ?? 200
        const text =
          fault.body ?? (status === 429 ? 'rate_limited' : status >= 500 ? 'rollup_error' : 'ok')
        record(status, text)
        return answer(res, status, text, fault.retryAfter)
      }
      if (req.method !== 'POST') {
        record(405, 'invalid_method')
        return answer(res, 405, 'invalid_method')
      }
      if (!webhookPath.test(path)) {
        record(404, 'no_service')
        return answer(res, 404, 'no_service')
      }
      const payload = parsePayload(contentType, body)
      const validation = validateMessage(payload)
      const status = validation.refusal ? 400 : 200
      const text = validation.refusal ?? 'ok'
      record(status, text, { payload, validation })
      answer(res, status, text)
    })().catch((err: unknown) => {
      res.statusCode = 500
      res.end(String(err))
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port
  return {
    webhookUrl: (secret = 'kitTestWebhookSecret0') =>
      `http://127.0.0.1:${port}/services/T0KIT0001/B0KIT0001/${secret}`,
    deliveries,
    accepted: () => deliveries.filter((d) => d.status === 200 && d.validation),
    queue: (...more) => void faults.push(...more),
    close: () =>
      new Promise<void>((resolve) => {
        for (const timer of delays) clearTimeout(timer)
        server.closeAllConnections()
        server.close(() => resolve())
      })
  }
}
