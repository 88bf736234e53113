/**
 * Runs an action's committed bundle the way the GitHub runner does: `node <action>/dist/index.js`
 * with each input as INPUT_<NAME> (uppercased, spaces to underscores, hyphens kept), the
 * defaults from action.yml filled in as the runner fills them, and GITHUB_OUTPUT /
 * GITHUB_STEP_SUMMARY pointing at files it then reads back.
 */
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { load } from 'js-yaml'

export interface ActionRun {
  readonly exitCode: number
  readonly outputs: Record<string, string>
  readonly summary: string
  readonly stdout: string
  readonly stderr: string
  /** `::error ...::message` and `::warning ...::message` lines the action printed. */
  readonly annotations: {
    level: 'error' | 'warning' | 'notice'
    message: string
    properties: string
  }[]
}

export interface RunActionOptions {
  readonly inputs?: Record<string, string | number | boolean | undefined>
  /** Extra environment (GITHUB_* context, secrets an action reads from env, ...). */
  readonly env?: Record<string, string | undefined>
  readonly cwd?: string
  /** Streams each stdout/stderr line as it arrives (the demo shows progress this way). */
  readonly onLine?: (line: string) => void
  readonly timeoutMs?: number
}

/** The INPUT_ variable name the runner uses for an input name. */
export function inputEnvName(name: string): string {
  return `INPUT_${name.replace(/ /g, '_').toUpperCase()}`
}

/** Parses the GITHUB_OUTPUT file format: `name=value` lines and `name<<DELIM ... DELIM` blocks. */
export function parseOutputFile(text: string): Record<string, string> {
  const out: Record<string, string> = {}
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]
    const heredoc = /^([^=<]+)<<(.+)$/.exec(line)
    if (heredoc) {
      const [, name, delim] = heredoc
      const value: string[] = []
      for (i++; i < lines.length && lines[i] !== delim; i++) value.push(lines[i])
      out[name] = value.join('\n')
    } else if (line.includes('=')) {
      out[line.slice(0, line.indexOf('='))] = line.slice(line.indexOf('=') + 1)
    }
  }
  return out
}

export async function runAction(
  repoRoot: string,
  action: string,
  options: RunActionOptions = {}
): Promise<ActionRun> {
  const dir = mkdtempSync(join(tmpdir(), `kit-run-${action}-`))
  const outputFile = join(dir, 'output')
  const summaryFile = join(dir, 'summary.md')
  writeFileSync(outputFile, '')
  writeFileSync(summaryFile, '')
  const meta = load(readFileSync(join(repoRoot, action, 'action.yml'), 'utf8')) as {
    inputs?: Record<string, { default?: unknown }>
  }
  const env: Record<string, string> = {}
  for (const [k, v] of Object.entries(process.env)) {
    // A step sees no INPUT_ of another step; the test process's own must not leak in.
    if (v !== undefined && !k.startsWith('INPUT_')) env[k] = v
  }
  for (const [name, spec] of Object.entries(meta.inputs ?? {})) {
    if (spec.default !== undefined) env[inputEnvName(name)] = String(spec.default)
  }
  for (const [name, value] of Object.entries(options.inputs ?? {})) {
    if (value !== undefined) env[inputEnvName(name)] = String(value)
  }
  Object.assign(env, {
    GITHUB_OUTPUT: outputFile,
    GITHUB_STEP_SUMMARY: summaryFile,
    GITHUB_ACTIONS: 'true',
    RUNNER_TEMP: dir,
    RUNNER_OS: 'Linux'
  })
  for (const [k, v] of Object.entries(options.env ?? {})) {
    if (v === undefined) delete env[k]
    else env[k] = v
  }

  const child = spawn(process.execPath, [join(repoRoot, action, 'dist', 'index.js')], {
    cwd: options.cwd ?? repoRoot,
    env,
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let stdout = ''
  let stderr = ''
  let pending = ''
  const feed = (chunk: string) => {
    if (!options.onLine) return
    pending += chunk
    const parts = pending.split('\n')
    pending = parts.pop() ?? ''
    for (const p of parts) options.onLine(p)
  }
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    stdout += d
    feed(d)
  })
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    stderr += d
    feed(d)
  })
  const timer = options.timeoutMs
    ? setTimeout(() => child.kill('SIGKILL'), options.timeoutMs)
    : undefined
  const exitCode = await new Promise<number>((resolve) =>
    child.on('close', (code) => resolve(code ?? 1))
  )
  if (timer) clearTimeout(timer)
  if (pending && options.onLine) options.onLine(pending)

  const annotations = [...stdout.matchAll(/^::(error|warning|notice)( [^:]*)?::(.*)$/gm)].map(
    (m) => ({
      level: m[1] as 'error' | 'warning' | 'notice',
      properties: (m[2] ?? '').trim(),
      message: m[3].replace(/%0A/g, '\n').replace(/%0D/g, '\r').replace(/%25/g, '%')
    })
  )
  const result: ActionRun = {
    exitCode,
    outputs: parseOutputFile(readFileSync(outputFile, 'utf8')),
    summary: readFileSync(summaryFile, 'utf8'),
    stdout,
    stderr,
    annotations
  }
  rmSync(dir, { recursive: true, force: true })
  return result
}
