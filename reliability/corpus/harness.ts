/**
 * What the hostile-input corpus (reliability/__tests__/bad-input.test.ts) needs around the
 * shipped artefacts: run an action's bundle as the runner does, run `kit`, read the first
 * error each printed, check that nothing leaked and nothing changed, and run many small cases
 * a few at a time (the machine has two shared cores).
 */
import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import {
  appendFileSync,
  cpSync,
  existsSync,
  lstatSync,
  readdirSync,
  readFileSync,
  readlinkSync
} from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { runAction, type ActionRun } from '../../testinfra/runner/run-action.js'
import { escapeControl } from '../../shared/src/errors.js'

/** The repository (KIT_REPO_ROOT when this module is bundled elsewhere, e.g. by bench/run-ts.mjs). */
export const repoRoot =
  process.env.KIT_REPO_ROOT ?? join(dirname(fileURLToPath(import.meta.url)), '..', '..')
export const corpusDir = join(repoRoot, 'reliability', 'corpus')

/** What one run of a shipped artefact did, in the terms every case checks. */
export interface ArtefactRun {
  readonly exitCode: number
  /**
   * The first error it printed, `file:line: message` when it named a file; a message of several
   * lines is joined with ' / ' (so a name holding a line break shows as one).
   */
  readonly error: string
  /** Every text a user or a later step can see (log minus ::add-mask::, summary, outputs). */
  readonly visible: string
  readonly durationMs: number
  readonly timedOut: boolean
  /** How the failure broke the suite's conventions (docs/outputs.md, docs/cli.md); empty: none. */
  readonly conventions: readonly string[]
}

/**
 * A run is killed after this long: a hang is a failure, not a wait. Runs take about a second
 * on an idle machine; the margin is for a CI runner shared with other jobs.
 */
export const runTimeoutMs = 300_000

/** Runs `<action>/dist/index.js` with INPUT_* (action.yml defaults filled in) as the runner does. */
export async function runBundle(
  action: 'deploymentizer' | 'deployer' | 'image-deployer',
  inputs: Record<string, string>,
  options: { env?: Record<string, string | undefined>; cwd?: string } = {}
): Promise<ArtefactRun> {
  const started = Date.now()
  const run = await runAction(repoRoot, action, {
    inputs,
    env: options.env,
    cwd: options.cwd,
    timeoutMs: runTimeoutMs
  })
  const durationMs = Date.now() - started
  return {
    exitCode: run.exitCode,
    error: firstActionError(run),
    visible: visibleText(run),
    durationMs,
    timedOut: durationMs >= runTimeoutMs,
    conventions: actionConventions(run)
  }
}

/**
 * A failed step still sets `result: failure` (a later `if: always()` step reads why), and no
 * error is annotated twice (once at its file and once more as the step's failure, say).
 */
export function actionConventions(run: ActionRun): string[] {
  if (run.exitCode === 0) return []
  const problems: string[] = []
  if (run.outputs.result !== 'failure')
    problems.push(`output result is ${JSON.stringify(run.outputs.result)}, not "failure"`)
  const errors = run.annotations.filter((a) => a.level === 'error')
  const messages = errors.map((a) => a.message)
  if (new Set(messages).size < messages.length) problems.push('an error is annotated twice')
  return problems
}

/**
 * Every error of `kit` is `kit <command>: error: …` (or `kit: error: …`); Node's own parser text
 * never reaches the user.
 */
export function cliConventions(stderr: string): string[] {
  const problems: string[] = []
  for (const line of stderr.split('\n'))
    if (/^(error|Error)\b/.test(line) || /^kit( [a-z]+)?: (?!error: )/.test(line))
      problems.push(`an error not in the form "kit <command>: error: …": ${line.slice(0, 120)}`)
  if (/To specify a positional argument|ERR_PARSE_ARGS|argument missing/.test(stderr))
    problems.push("Node's argument parser text reached the user")
  return problems
}

/** Runs `node cli/dist/kit.js <args>`. */
export function runKit(
  args: readonly string[],
  options: { env?: Record<string, string | undefined>; cwd?: string } = {}
): Promise<ArtefactRun> {
  const started = Date.now()
  const env: Record<string, string> = {}
  for (const [k, v] of Object.entries({ ...process.env, ...options.env }))
    if (v !== undefined && !k.startsWith('INPUT_') && !k.startsWith('GITHUB_')) env[k] = v
  env.NO_COLOR = '1'
  const child = spawn(process.execPath, [join(repoRoot, 'cli', 'dist', 'kit.js'), ...args], {
    cwd: options.cwd ?? repoRoot,
    env,
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d))
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
  const timer = setTimeout(() => child.kill('SIGKILL'), runTimeoutMs)
  return new Promise((resolve) => {
    child.on('error', (err) => {
      stderr += `cannot start kit: ${err.message}\n`
    })
    child.on('close', (code) => {
      clearTimeout(timer)
      const durationMs = Date.now() - started
      resolve({
        exitCode: code ?? 1,
        error: firstCliError(stderr, stdout),
        visible: `${stdout}\n${stderr}`,
        durationMs,
        timedOut: durationMs >= runTimeoutMs,
        // eslint-disable-next-line no-control-regex
        conventions: code === 0 ? [] : cliConventions(stderr.replace(/\u001b\[[0-9;]*m/g, ''))
      })
    })
  })
}

/** Decodes a workflow command property value (`%3A` → `:` ...). */
function unescapeProperty(value: string): string {
  return value
    .replace(/%3A/g, ':')
    .replace(/%2C/g, ',')
    .replace(/%0D/g, '\r')
    .replace(/%0A/g, '\n')
    .replace(/%25/g, '%')
}

/** The first `::error` annotation as `file:line: message` (first line only). */
export function firstActionError(run: ActionRun): string {
  const error = run.annotations.find((a) => a.level === 'error')
  if (!error) {
    const lines = run.stderr.split('\n').filter((l) => l.trim() !== '')
    return lines[0] ?? ''
  }
  const props = new Map<string, string>()
  for (const part of error.properties.split(',')) {
    const eq = part.indexOf('=')
    if (eq > 0) props.set(part.slice(0, eq), unescapeProperty(part.slice(eq + 1)))
  }
  const file = props.get('file')
  const line = props.get('line')
  // Shown the way kit prints a path: a control character in a file name escaped, on one line.
  const where = file ? `${escapeControl(file)}${line ? `:${line}` : ''}: ` : ''
  return `${where}${joinLines(error.message)}`
}

function joinLines(text: string): string {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '')
    .join(' / ')
}

/**
 * The first error `kit` printed on stderr (`kit <command>: error: ...`, with the lines that
 * continue it up to a blank line or the next error); else, for `kit deploy`, whose per-cluster
 * failures are rows of its result table on stdout, the first failed row; else the first
 * non-empty line of stderr.
 */
export function firstCliError(stderr: string, stdout = ''): string {
  // eslint-disable-next-line no-control-regex
  const lines = stderr.replace(/\u001b\[[0-9;]*m/g, '').split('\n')
  const errorStart = /^(kit( [a-z]+)?: )?error:/
  let at = lines.findIndex((l) => errorStart.test(l) || /^kit [a-z]+:/.test(l))
  if (at < 0) {
    const failedRow = stdout.split('\n').find((l) => /^\S+\s+[✘↩] (failed|rolled back)/.test(l))
    if (failedRow) return failedRow.replace(/\s{2,}/g, ' ').trim()
  }
  if (at < 0) at = lines.findIndex((l) => l.trim() !== '')
  if (at < 0) return ''
  const end = lines.findIndex(
    (l, i) => i > at && (l.trim() === '' || errorStart.test(l) || /^Run 'kit/.test(l))
  )
  return joinLines(lines.slice(at, end < 0 ? undefined : end).join('\n'))
    .replace(errorStart, '')
    .trim()
}

function visibleText(run: ActionRun): string {
  const log = run.stdout.replace(/^::add-mask::.*$/gm, '')
  return [log, run.stderr, run.summary, JSON.stringify(run.outputs)].join('\n')
}

/**
 * The checks every failing case shares. Returns the problems found (empty: as expected):
 * a non-zero exit, an error naming what and where, one readable line (no stack trace, no
 * echo of a huge value), within the time limit, and no secret anywhere visible.
 */
export function expectCleanFailure(
  run: ArtefactRun,
  where: RegExp,
  secrets: readonly string[]
): string[] {
  const problems: string[] = []
  if (run.timedOut) problems.push(`did not finish within ${runTimeoutMs} ms`)
  if (run.exitCode === 0) problems.push('exited 0')
  if (run.error === '') problems.push('printed no error')
  else if (!where.test(run.error))
    problems.push(`error does not name ${where}: ${run.error.slice(0, 300)}`)
  if (run.error.length > maxErrorLength)
    problems.push(`error line is ${run.error.length} characters (echoes the input?)`)
  if (/^\s+at .+:\d+:\d+\)?$/m.test(run.visible)) problems.push('printed a stack trace')
  problems.push(...leaks(run.visible, secrets))
  problems.push(...run.conventions)
  return problems
}

/** An error line longer than this is not "clear": it pastes the input back. */
export const maxErrorLength = 1000

/** Which secrets appear in a text (by position in the list, never by value). */
export function leaks(text: string, secrets: readonly string[]): string[] {
  return secrets
    .map((s, i) => (s.length >= 4 && text.includes(s) ? `secret #${i + 1} is visible` : ''))
    .filter(Boolean)
}

/** A digest of a folder tree (paths, file bytes, link targets); 'absent' when it does not exist. */
export function treeDigest(dir: string): string {
  if (!existsSync(dir)) return 'absent'
  const h = createHash('sha256')
  const walk = (d: string): void => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name)
      const st = lstatSync(p)
      const rel = relative(dir, p)
      if (st.isSymbolicLink()) h.update(`L ${rel} ${readlinkSync(p)}\n`)
      else if (st.isDirectory()) {
        h.update(`D ${rel}\n`)
        walk(p)
      } else h.update(`F ${rel} ${createHash('sha256').update(readFileSync(p)).digest('hex')}\n`)
    }
  }
  walk(dir)
  return h.digest('hex')
}

/** Copies a folder tree (symbolic links copied as links). */
export function copyTree(from: string, to: string): void {
  cpSync(from, to, { recursive: true, verbatimSymlinks: true })
}

/**
 * Runs `fn` over `items`, at most `limit` at a time, keeping the order of results. With
 * KIT_CORPUS_TRACE=<file>, each case's duration is appended there (to find a slow case).
 */
export async function inBatches<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>
): Promise<R[]> {
  const results: R[] = new Array<R>(items.length)
  let next = 0
  const trace = process.env.KIT_CORPUS_TRACE
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++
      const started = Date.now()
      results[i] = await fn(items[i], i)
      if (trace)
        appendFileSync(
          trace,
          `${Date.now() - started} ms  ${JSON.stringify(results[i]).slice(0, 400)}\n`
        )
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
  return results
}

/** One line for a report: the observed error, or what happened instead. */
export function observedLine(run: ArtefactRun, extra = ''): string {
  const what = run.error !== '' ? run.error : `exit ${run.exitCode}, no error printed`
  return `${what.split('\n')[0].slice(0, 240)}${extra ? ` — ${extra}` : ''}`
}
