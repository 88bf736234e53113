import { spawn } from 'node:child_process'
import type { Redactor } from '../secrets/index.js'

/** The output of one git command. */
export interface GitOutput {
  readonly code: number
  readonly stdout: Buffer
  readonly stderr: string
}

/** A git command failed in a way kit does not handle itself; the message is already scrubbed. */
export class GitCommandError extends Error {
  constructor(
    message: string,
    readonly stderr: string
  ) {
    super(message)
    this.name = 'GitCommandError'
  }
}

/**
 * The `Authorization` header git sends for a token, as GitHub (and most git hosts) accept it
 * over HTTPS: basic auth with the token as the password.
 */
export function basicAuthHeader(token: string, username = 'x-access-token'): string {
  return `Authorization: Basic ${Buffer.from(`${username}:${token}`).toString('base64')}`
}

/**
 * Environment that hands git its settings for one call only. The token travels as an HTTP
 * header in GIT_CONFIG_COUNT/KEY/VALUE variables: it is never written to .git/config or a remote
 * URL, and unlike `-c` it does not show in the process list.
 */
export function gitEnv(
  token: string | undefined,
  base: NodeJS.ProcessEnv = process.env
): NodeJS.ProcessEnv {
  const settings: [string, string][] = [
    ['protocol.version', '2'],
    ['gc.auto', '0'],
    ['maintenance.auto', 'false'],
    ['fetch.recurseSubmodules', 'false'],
    ['core.hooksPath', '/dev/null'],
    ['advice.detachedHead', 'false']
  ]
  if (token) {
    // An empty helper list stops a stored credential from replacing the token.
    settings.push(['credential.helper', ''], ['http.extraHeader', basicAuthHeader(token)])
  }
  const env: NodeJS.ProcessEnv = {
    ...base,
    GIT_TERMINAL_PROMPT: '0',
    GIT_CONFIG_COUNT: String(settings.length)
  }
  delete env.GIT_ASKPASS
  delete env.SSH_ASKPASS
  delete env.GIT_DIR
  delete env.GIT_INDEX_FILE
  delete env.GIT_WORK_TREE
  settings.forEach(([key, value], i) => {
    env[`GIT_CONFIG_KEY_${i}`] = key
    env[`GIT_CONFIG_VALUE_${i}`] = value
  })
  return env
}

export interface RunGitOptions {
  /** The repository (`git -C <dir>`); the current folder when unset. */
  readonly dir?: string
  /** The whole environment git gets (see gitEnv); the process's own when unset. */
  readonly env?: NodeJS.ProcessEnv
  /** Bytes for git's stdin (fast-import, cat-file --batch); stdin is closed empty otherwise. */
  readonly input?: string | Buffer
  /** Kill git after this long (the call then resolves with code 124 and says so in stderr). */
  readonly timeoutMs?: number
  /** Scrubs stderr (a token echoed in an error must not reach a log). */
  readonly redactor?: Redactor
}

/**
 * kit's one way of running git: an argument array (never a shell string), stdout as bytes
 * (blobs are sliced by their byte sizes), stderr as scrubbed text, the exit code returned
 * rather than thrown (callers classify failures), and stdin written and closed even when git
 * exits before reading it (a broken pipe is not a crash). `KIT_TRACE_GIT=1` prints each
 * command's duration to stderr.
 *
 * Not @actions/exec: it leaves the child's stdin without an error handler, so git exiting
 * before it read its input (a failed fast-import) raises an uncaught EPIPE that ends the whole
 * process; it has no timeout; and it looks git up on PATH on every call. See README, "Design
 * notes".
 */
export function runGit(args: readonly string[], options: RunGitOptions = {}): Promise<GitOutput> {
  const started = Date.now()
  const argv = options.dir === undefined ? [...args] : ['-C', options.dir, ...args]
  const limited = options.timeoutMs !== undefined
  return new Promise((resolve, reject) => {
    // With a time limit, git runs in a process group of its own: a fetch or push hands the
    // network to a helper (git-remote-https) that outlives a killed git and holds its output
    // open, so the whole group is stopped.
    const child = spawn('git', argv, {
      env: options.env ?? process.env,
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: limited
    })
    let timedOut = false
    const timer = limited
      ? setTimeout(() => {
          timedOut = true
          // Never -0: that would be this process's own group.
          if (child.pid === undefined) return
          try {
            process.kill(-child.pid, 'SIGKILL')
          } catch {
            child.kill('SIGKILL')
          }
        }, options.timeoutMs)
      : undefined
    const out: Buffer[] = []
    const err: Buffer[] = []
    child.stdout.on('data', (d: Buffer) => out.push(d))
    child.stderr.on('data', (d: Buffer) => err.push(d))
    child.on('error', (e) => {
      clearTimeout(timer)
      reject(new GitCommandError(`cannot run git: ${e.message}`, ''))
    })
    child.on('close', (code) => {
      clearTimeout(timer)
      if (process.env.KIT_TRACE_GIT)
        process.stderr.write(`git ${args.join(' ').slice(0, 80)}: ${Date.now() - started} ms\n`)
      let stderr = Buffer.concat(err).toString('utf8')
      if (timedOut)
        stderr += `\nkit: git ${args[0] ?? ''} timed out after ${options.timeoutMs} ms and was stopped`
      resolve({
        code: timedOut ? 124 : (code ?? 1),
        stdout: Buffer.concat(out),
        stderr: options.redactor ? options.redactor.scrub(stderr) : stderr
      })
    })
    child.stdin.on('error', () => undefined)
    child.stdin.end(options.input ?? '')
  })
}

/**
 * runGit bound to one repository and one environment, counting its commands. `timeLimit`, when
 * given, is asked before every command for how long it may run (a run's budget shrinks as it
 * goes); a command with no time left is not started and fails as timed out.
 */
export class Git {
  /** Commands run so far, for benchmarks. */
  commands = 0

  constructor(
    readonly dir: string,
    private readonly env: NodeJS.ProcessEnv,
    readonly redactor: Redactor,
    private readonly timeLimit?: () => number
  ) {}

  /** Runs git; resolves with the exit code (non-zero is not thrown: callers classify failures). */
  async run(
    args: readonly string[],
    options: { input?: string | Buffer; env?: NodeJS.ProcessEnv } = {}
  ): Promise<GitOutput> {
    const timeoutMs = this.timeLimit ? Math.floor(this.timeLimit()) : undefined
    if (timeoutMs !== undefined && timeoutMs <= 0)
      return {
        code: 124,
        stdout: Buffer.alloc(0),
        stderr: `kit: git ${args[0] ?? ''} timed out before it started (the time limit is used up)`
      }
    this.commands++
    return runGit(args, {
      dir: this.dir,
      env: options.env ? { ...this.env, ...options.env } : this.env,
      input: options.input,
      timeoutMs,
      redactor: this.redactor
    })
  }

  /** Runs git and returns stdout as text; a failure throws with git's (scrubbed) message. */
  async text(
    args: readonly string[],
    options: { input?: string | Buffer; env?: NodeJS.ProcessEnv } = {}
  ): Promise<string> {
    const r = await this.run(args, options)
    if (r.code !== 0)
      throw new GitCommandError(`git ${args[0]} failed: ${firstLines(r.stderr)}`, r.stderr)
    return r.stdout.toString('utf8')
  }
}

/** The first lines of git's stderr, without progress noise, for error messages. */
export function firstLines(stderr: string, count = 4): string {
  return stderr
    .split('\n')
    .map((l) => l.trim())
    .filter(
      (l) => l !== '' && !/^(remote: )?(Counting|Compressing|Enumerating|Total|Writing) /.test(l)
    )
    .slice(0, count)
    .join(' | ')
}
