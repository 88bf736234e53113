// The floor's requests, one source for the floor in the benchmark's process (bench/deploy.ts)
// and the floor in a process of its own (bench/floor-process.mjs), so the two send exactly the
// same thing: each plan's stages in order, `concurrency` requests at a time within a stage.
//
// A plan: { server, ca (base64 PEM), stages: [[{ path, body }]] }, one per cluster.
import { Buffer } from 'node:buffer'
import { createRequire } from 'node:module'

// node:https by require(), as the CLI bundle loads it: an ESM import of it builds a facade
// that reads every export, some of them lazy getters that load Node's fetch stack.
const { Agent, request } = createRequire(import.meta.url)('node:https')

/** The headers of every floor request: kit's own content type, a bearer token. */
export const floorHeaders = (token) => ({
  authorization: `Bearer ${token}`,
  'content-type': 'application/apply-patch+yaml',
  accept: 'application/json'
})

/** Sends every stage's requests with `send`, a stage after the one before it. */
export async function sendStages(stages, send, concurrency) {
  for (const stage of stages) {
    let next = 0
    await Promise.all(
      Array.from({ length: Math.min(concurrency, stage.length) }, async () => {
        while (next < stage.length) await send(stage[next++])
      })
    )
  }
}

/** One cluster's plan over keep-alive HTTP/1.1 with `concurrency` sockets, kit's transport. */
export async function sendPlanHttp1(plan, token, concurrency) {
  const url = new URL(plan.server)
  const agent = new Agent({
    keepAlive: true,
    maxSockets: concurrency,
    ca: Buffer.from(plan.ca, 'base64')
  })
  const headers = floorHeaders(token)
  const send = ({ path, body }) =>
    new Promise((resolve, reject) => {
      const req = request(
        { host: url.hostname, port: url.port, path, method: 'PATCH', agent, headers },
        (res) => {
          res.resume()
          res.on('end', () =>
            res.statusCode < 300
              ? resolve()
              : reject(new Error(`floor (http1) ${path}: HTTP ${res.statusCode}`))
          )
        }
      )
      req.on('error', reject)
      req.end(body)
    })
  try {
    await sendStages(plan.stages, send, concurrency)
  } finally {
    agent.destroy()
  }
}
