// Runs `kit render` from the CLI bundle in this process and reports the process's peak memory
// (maxRSS), the render's own wall time and the CPU time it used (all threads, and the main
// thread alone) on stderr's last line, for bench/render.mjs. CPU time shows how much work a
// render is even when other work on the machine stretches its wall time.
import { performance } from 'node:perf_hooks'
import { pathToFileURL } from 'node:url'

const [kitPath, ...args] = process.argv.slice(2)
process.argv = [process.argv[0], kitPath, ...args]
const start = performance.now()
const cpuStart = process.cpuUsage()
const mainStart = process.threadCpuUsage()
await import(pathToFileURL(kitPath).href)
const ms = performance.now() - start
const cpu = process.cpuUsage(cpuStart)
const main = process.threadCpuUsage(mainStart)
process.stderr.write(
  `\nBENCH ${JSON.stringify({
    ms,
    cpuMs: (cpu.user + cpu.system) / 1000,
    sysMs: cpu.system / 1000,
    mainCpuMs: (main.user + main.system) / 1000,
    maxRssKiB: process.resourceUsage().maxRSS,
    exitCode: process.exitCode ?? 0
  })}\n`
)
