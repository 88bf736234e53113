// The floor in a Node process of its own, for bench/deploy.ts: the same server-side-apply
// requests as the in-process floor (bodies, paths and stages prepared by the benchmark and
// read here from one JSON file), sent by the same code (./floor-send.mjs), and nothing else.
//
// The kit CLI is a fresh process too: its wall time includes Node's start and code that runs
// for the first time (the HTTP, TLS and stream paths of every request). Timed against a floor
// in the benchmark's own warm process, that cost is counted against kit; timed against this
// one, both sides pay it.
//
//   KIT_FLOOR_TOKENS='["<token>", …]' node bench/floor-process.mjs <plan.json> <concurrency>
//
// plan.json: the plans of ./floor-send.mjs, one per cluster; the clusters' bearer tokens come in
// the environment, in the same order, never in a file.
import { readFileSync } from 'node:fs'
import { sendPlanHttp1 } from './floor-send.mjs'

const [planFile, concurrencyText] = process.argv.slice(2)
const plans = JSON.parse(readFileSync(planFile, 'utf8'))
const tokens = JSON.parse(process.env.KIT_FLOOR_TOKENS ?? '[]')
const concurrency = Number(concurrencyText)

await Promise.all(plans.map((plan, i) => sendPlanHttp1(plan, tokens[i], concurrency)))
