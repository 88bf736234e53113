// The floor in a Node process of its own, for bench/deploy.ts: the same server-side-apply
// requests as the in-process floor (bodies, paths and stages prepared by the benchmark and
// read here from one JSON file), sent with the same per-cluster concurrency, and nothing else.
//
// The kit CLI is a fresh process too: its wall time includes Node's start and code that runs
// for the first time (the HTTP, TLS and stream paths of every request). Timed against a floor
// in the benchmark's own warm process, that cost is counted against kit; timed against this
// one, both sides pay it.
//
//   KIT_FLOOR_TOKENS='["<token>", …]' node bench/floor-process.mjs <plan.json> <concurrency>
//
// plan.json: [{ server, ca (base64 PEM), stages: [[{ path, body }]] }], one per cluster; the
// clusters' bearer tokens come in the environment, in the same order, never in a file.
import { Buffer } from 'node:buffer'
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'

// node:https by require(), as the CLI bundle loads it: an ESM import of it builds a facade
// that reads every export, some of them lazy getters that load Node's fetch stack.
const { Agent, request } = createRequire(import.meta.url)('node:https')

const [planFile, concurrencyText] = process.argv.slice(2)
const plans = JSON.parse(readFileSync(planFile, 'utf8'))
const concurrency = Number(concurrencyText)
const tokens = JSON.parse(process.env.KIT_FLOOR_TOKENS ?? '[]')

async function sendAll(plan, index) {
  const url = new URL(plan.server)
  const agent = new Agent({
    keepAlive: true,
    maxSockets: concurrency,
    ca: Buffer.from(plan.ca, 'base64')
  })
  const headers = {
    authorization: `Bearer ${tokens[index]}`,
    'content-type': 'application/apply-patch+yaml',
    accept: 'application/json'
  }
  const send = ({ path, body }) =>
    new Promise((resolve, reject) => {
      const req = request(
        { host: url.hostname, port: url.port, path, method: 'PATCH', agent, headers },
        (res) => {
          res.resume()
          res.on('end', () =>
            res.statusCode < 300
              ? resolve()
              : reject(new Error(`floor process: ${path}: HTTP ${res.statusCode}`))
          )
        }
      )
      req.on('error', reject)
      req.end(body)
    })
  for (const stage of plan.stages) {
    let next = 0
    await Promise.all(
      Array.from({ length: Math.min(concurrency, stage.length) }, async () => {
        while (next < stage.length) await send(stage[next++])
      })
    )
  }
  agent.destroy()
}

await Promise.all(plans.map(sendAll))
