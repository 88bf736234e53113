/**
 * A real Prometheus server for tests: the binary testinfra/prometheus/build.sh builds from the
 * pinned Go module, started on a free 127.0.0.1 port with a generated config (scrape and rule
 * evaluation every second, so a test sees a change within seconds) and a temporary storage
 * folder, removed on stop. Tests query it through its HTTP API, as kit's metric gate does.
 *
 * findPrometheus() only looks for the binary; it never builds (a cold build takes minutes).
 * KIT_PROMETHEUS_BIN=<file> uses that binary instead of the cached one.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { accessSync, constants, openSync, closeSync, readFileSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const buildScript = join(dirname(fileURLToPath(import.meta.url)), 'build.sh')

export type PrometheusLookup = { readonly binary: string } | { readonly missing: string }

/** The Prometheus binary to run, or why there is none (the reason names the command to run). */
export function findPrometheus(env: NodeJS.ProcessEnv = process.env): PrometheusLookup {
  const given = env.KIT_PROMETHEUS_BIN
  if (given) {
    try {
      accessSync(given, constants.X_OK)
      return { binary: given }
    } catch {
      return { missing: `KIT_PROMETHEUS_BIN=${given} is not an executable file` }
    }
  }
  const r = spawnSync('bash', [buildScript, '--find'], { encoding: 'utf8' })
  const out = r.stdout.trim().split('\n').pop() ?? ''
  if (r.status === 0 && out) return { binary: out }
  const why = r.stderr.trim() || r.error?.message || `exit ${r.status}`
  return { missing: why.replace(/^build\.sh: /, '') }
}

export interface PrometheusOptions {
  readonly binary: string
  /** host:port of each target, scraped under job "exporter". */
  readonly targets: readonly string[]
  /** Scrape and rule evaluation interval (a Prometheus duration); default 1s. */
  readonly interval?: string
  readonly readyTimeoutMs?: number
}

export interface PrometheusServer {
  /** http://127.0.0.1:<port>, the base of the HTTP API (/api/v1/query, …). */
  readonly url: string
  readonly dataDir: string
  /** What the server logged so far. */
  logs(): string
  /** Until every target is scraped successfully (health "up"). */
  waitForTargets(timeoutMs?: number): Promise<void>
  /** GET /api/v1/query?query=<expr>: the decoded body, whatever the status. */
  query(expr: string): Promise<QueryResponse>
  /** The one number an instant query answers (scalar or one-sample vector); undefined when empty. */
  queryValue(expr: string): Promise<number | undefined>
  /** SIGTERM (SIGKILL after 10 s), then removes the storage folder. */
  stop(): Promise<void>
}

export interface QueryResponse {
  readonly httpStatus: number
  readonly status: 'success' | 'error'
  readonly errorType?: string
  readonly error?: string
  readonly data?: {
    readonly resultType: 'vector' | 'scalar' | 'matrix' | 'string'
    readonly result: unknown
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** A port nothing listens on now (the kernel's choice); the caller retries if it is taken meanwhile. */
async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', resolve)
  })
  const address = server.address()
  await new Promise((resolve) => server.close(resolve))
  if (!address || typeof address === 'string') throw new Error('no TCP port for Prometheus')
  return address.port
}

function configFor(options: PrometheusOptions): string {
  const interval = options.interval ?? '1s'
  // JSON is YAML: no quoting rules to get wrong.
  return JSON.stringify(
    {
      global: {
        scrape_interval: interval,
        scrape_timeout: interval,
        evaluation_interval: interval
      },
      scrape_configs: [{ job_name: 'exporter', static_configs: [{ targets: options.targets }] }]
    },
    null,
    2
  )
}

/** SIGTERM (Prometheus flushes and closes its storage), SIGKILL after 10 s; resolves on exit. */
async function terminate(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  child.kill('SIGTERM')
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
  await exited
  clearTimeout(timer)
}

/** Starts Prometheus and waits until /-/ready answers 200. */
export async function startPrometheus(options: PrometheusOptions): Promise<PrometheusServer> {
  const dir = await mkdtemp(join(tmpdir(), 'kit-prometheus-'))
  const configFile = join(dir, 'prometheus.yml')
  const logFile = join(dir, 'prometheus.log')
  await writeFile(configFile, configFor(options))
  const logs = () => {
    try {
      return readFileSync(logFile, 'utf8')
    } catch {
      return '' // removed by stop()
    }
  }
  // Another process can take the chosen port before Prometheus binds it: try a few.
  for (let attempt = 1; ; attempt++) {
    const port = await freePort()
    const url = `http://127.0.0.1:${port}`
    const fd = openSync(logFile, 'w')
    const child = spawn(
      options.binary,
      [
        `--config.file=${configFile}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`
      ],
      { cwd: dir, stdio: ['ignore', fd, fd] }
    )
    closeSync(fd)
    try {
      await waitReady(url, child, options.readyTimeoutMs ?? 60_000, logs)
    } catch (err) {
      await terminate(child)
      if (attempt < 3 && /address already in use/.test(logs())) continue
      await rm(dir, { recursive: true, force: true })
      throw err
    }
    const stop = async () => {
      await terminate(child)
      await rm(dir, { recursive: true, force: true })
    }
    const server: PrometheusServer = {
      url,
      dataDir: join(dir, 'data'),
      logs,
      waitForTargets: (timeoutMs = 30_000) => waitForTargets(url, timeoutMs),
      query: (expr) => query(url, expr),
      queryValue: async (expr) => valueOf(expr, await query(url, expr)),
      stop
    }
    return server
  }
}

async function waitReady(
  url: string,
  child: ChildProcess,
  timeoutMs: number,
  logs: () => string
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  let spawnError: Error | undefined
  child.once('error', (e) => (spawnError = e))
  for (;;) {
    if (spawnError) throw new Error(`Prometheus did not start: ${spawnError.message}`)
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(
        `Prometheus exited (${child.exitCode ?? child.signalCode}) before it was ready:\n${tail(logs())}`
      )
    const status = await fetch(`${url}/-/ready`).then(
      (r) => r.status,
      () => 0
    )
    if (status === 200) return
    if (Date.now() > deadline)
      throw new Error(
        `Prometheus at ${url} was not ready after ${timeoutMs} ms (last /-/ready: ${status || 'no answer'}):\n${tail(logs())}`
      )
    await sleep(100)
  }
}

const tail = (text: string) => text.trim().split('\n').slice(-20).join('\n')

async function waitForTargets(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  let last: string
  for (;;) {
    const body = (await (await fetch(`${url}/api/v1/targets?state=active`)).json()) as {
      data: { activeTargets: { scrapeUrl: string; health: string; lastError: string }[] }
    }
    const targets = body.data.activeTargets
    if (targets.length > 0 && targets.every((t) => t.health === 'up')) return
    last = targets.map((t) => `${t.scrapeUrl}: ${t.health} ${t.lastError}`.trim()).join('; ')
    if (Date.now() > deadline)
      throw new Error(`Prometheus targets not up after ${timeoutMs} ms: ${last || 'none'}`)
    await sleep(200)
  }
}

async function query(url: string, expr: string): Promise<QueryResponse> {
  const res = await fetch(`${url}/api/v1/query?${new URLSearchParams({ query: expr })}`)
  const body = (await res.json()) as Omit<QueryResponse, 'httpStatus'>
  return { httpStatus: res.status, ...body }
}

function valueOf(expr: string, r: QueryResponse): number | undefined {
  if (r.status !== 'success' || !r.data)
    throw new Error(`query ${expr} failed (${r.httpStatus} ${r.errorType}): ${r.error}`)
  if (r.data.resultType === 'scalar') return Number((r.data.result as [number, string])[1])
  if (r.data.resultType !== 'vector')
    throw new Error(`query ${expr} answered a ${r.data.resultType}, not a number`)
  const samples = r.data.result as { value: [number, string] }[]
  if (samples.length === 0) return undefined
  if (samples.length > 1)
    throw new Error(`query ${expr} answered ${samples.length} series, not one number`)
  return Number(samples[0].value[1])
}
