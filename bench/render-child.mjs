// Runs `kit render` from the CLI bundle in this process and reports the process's peak memory
// (maxRSS) and the render's own wall time on stderr's last line, for bench/render.mjs.
import { performance } from 'node:perf_hooks'
import { pathToFileURL } from 'node:url'

const [kitPath, ...args] = process.argv.slice(2)
process.argv = [process.argv[0], kitPath, ...args]
const start = performance.now()
await import(pathToFileURL(kitPath).href)
const ms = performance.now() - start
process.stderr.write(
  `\nBENCH ${JSON.stringify({ ms, maxRssKiB: process.resourceUsage().maxRSS, exitCode: process.exitCode ?? 0 })}\n`
)
