// Preloaded into a measured Node process (NODE_OPTIONS=--import <this file>): when the process
// exits, appends its own peak resident set size (VmHWM from /proc/self/status, exact, unlike
// sampling from outside, which can miss a short process's last burst), the CPU time it used
// (user + system: unlike wall time, barely moved by other work on a busy machine) and its pid
// to the file named by KIT_LOAD_RSS_FILE. Children that Node starts inherit NODE_OPTIONS, so each Node
// process of a run adds a line; the load tests read the line of the process they started.
import { appendFileSync, readFileSync } from 'node:fs'

const file = process.env.KIT_LOAD_RSS_FILE
if (file) {
  process.on('exit', () => {
    let hwmKiB = 0
    try {
      const m = /VmHWM:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))
      hwmKiB = m ? Number(m[1]) : 0
    } catch {
      // Not Linux: fall back to the kernel's maximum RSS as Node reports it.
    }
    if (!hwmKiB) hwmKiB = process.resourceUsage().maxRSS
    const cpu = process.cpuUsage()
    const cpuMicros = cpu.user + cpu.system
    appendFileSync(file, `${JSON.stringify({ pid: process.pid, hwmKiB, cpuMicros })}\n`)
  })
}
