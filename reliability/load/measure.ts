/**
 * Runs a measured Node process (the CLI bundle or an action bundle) and reports its wall time,
 * CPU time and peak resident memory. CPU time and the peak come from
 * reliability/load/rss-probe.mjs, preloaded through NODE_OPTIONS: the process writes its own
 * VmHWM and cpuUsage when it exits, which is exact where sampling /proc/<pid>/status from
 * outside can miss a short run's last allocations. CPU time is recorded beside wall time because
 * the machines these tests share are often oversubscribed: wall time then measures the
 * neighbours as much as kit, CPU time much less so.
 */
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { fileURLToPath, pathToFileURL } from 'node:url'

const probe = join(dirname(fileURLToPath(import.meta.url)), 'rss-probe.mjs')

export interface Measured {
  /** Wall time. */
  readonly seconds: number
  /** CPU time (user + system) of the measured Node process(es); NaN if none reported. */
  readonly cpuSeconds: number
  /** Peak RSS (VmHWM) of the Node process in MiB; NaN if it died before it could say. */
  readonly peakRssMiB: number
}

export interface ChildRun extends Measured {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

/** A probe session: the environment to give the process, and what it reported. */
export interface RssProbe {
  readonly env: Record<string, string>
  /**
   * The highest peak any Node process of the session (or the one with `pid`) reported, in MiB,
   * and their CPU seconds summed; NaN when none reported.
   */
  report(pid?: number): { peakRssMiB: number; cpuSeconds: number }
  dispose(): void
}

/** Prepares a probe file and the NODE_OPTIONS that preload the probe. */
export function rssProbe(): RssProbe {
  const dir = mkdtempSync(join(tmpdir(), 'kit-load-rss-'))
  const file = join(dir, 'rss.jsonl')
  writeFileSync(file, '')
  const nodeOptions = `${process.env.NODE_OPTIONS ?? ''} --import=${pathToFileURL(probe).href}`
  return {
    env: { NODE_OPTIONS: nodeOptions.trim(), KIT_LOAD_RSS_FILE: file },
    report(pid) {
      const lines = readFileSync(file, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { pid: number; hwmKiB: number; cpuMicros: number })
        .filter((l) => pid === undefined || l.pid === pid)
      if (lines.length === 0) return { peakRssMiB: Number.NaN, cpuSeconds: Number.NaN }
      return {
        peakRssMiB: Math.max(...lines.map((l) => l.hwmKiB)) / 1024,
        cpuSeconds: lines.reduce((sum, l) => sum + l.cpuMicros, 0) / 1e6
      }
    },
    dispose() {
      rmSync(dir, { recursive: true, force: true })
    }
  }
}

/** Runs `node <args>` (argv array, no shell), measuring wall time and the process's peak RSS. */
export async function runNode(
  args: readonly string[],
  options: { cwd?: string; env?: Record<string, string | undefined> } = {}
): Promise<ChildRun> {
  const rss = rssProbe()
  try {
    const started = performance.now()
    const child = spawn(process.execPath, [...args], {
      cwd: options.cwd,
      env: { ...process.env, ...options.env, ...rss.env },
      stdio: ['ignore', 'pipe', 'pipe']
    })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d))
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
    const code = await new Promise<number>((resolve, reject) => {
      child.on('error', reject)
      child.on('close', (c) => resolve(c ?? -1))
    })
    const seconds = (performance.now() - started) / 1000
    return { code, stdout, stderr, seconds, ...rss.report(child.pid) }
  } finally {
    rss.dispose()
  }
}

/** Times an async step that starts Node processes with `probe.env`, e.g. an action run. */
export async function measured<T>(
  step: (env: Record<string, string>) => Promise<T>
): Promise<{ result: T } & Measured> {
  const rss = rssProbe()
  try {
    const started = performance.now()
    const result = await step(rss.env)
    const seconds = (performance.now() - started) / 1000
    return { result, seconds, ...rss.report() }
  } finally {
    rss.dispose()
  }
}

/** Rounds a figure for the record (two decimals for seconds, whole MiB). */
export const round = {
  seconds: (s: number): number => Math.round(s * 100) / 100,
  mib: (m: number): number => Math.round(m),
  ratio: (r: number): number => Math.round(r * 100) / 100
}
