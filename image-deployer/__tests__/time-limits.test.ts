/**
 * The image-deployer's time limits: the retry loop's budget in time (not a count), the backoff
 * that widens with slow attempts, progress lines for every retry, and servers that accept the
 * connection and never answer (over git and over the API), which must cost the run no more
 * than its time limit.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { GitBranchTarget } from '../../shared/src/git/index.js'
import { GitHubBranchTarget, GitHubClient } from '../../shared/src/github/index.js'
import { deployImage } from '../../shared/src/image-deploy/index.js'
import {
  BumpConflictError,
  Redactor,
  RemoteUnavailableError,
  runBump,
  type RepoSnapshot,
  type RepoTarget
} from '../../shared/src/index.js'
import { imageDeployOptions } from '../../shared/src/options/image-deploy.js'
import { backoffDelay, deadlineIn, defaultBackoff } from '../../shared/src/retry/index.js'
import { author, bumpRequest } from './helpers.js'

const token = 'time-limit-token-0123456789'
/** Accepts every connection and request, and never answers. */
let silent: Server
let silentUrl: string

beforeAll(async () => {
  silent = createServer(() => undefined)
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
  silentUrl = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`
})
afterAll(async () => {
  silent.closeAllConnections()
  await new Promise<void>((resolve) => silent.close(() => resolve()))
})

/** A branch that another pipeline moves before every write: each attempt loses the race. */
function alwaysMoving(): RepoTarget & { writes: () => number } {
  let head = 0
  let writes = 0
  return {
    description: 'busy branch',
    writes: () => writes,
    async open(): Promise<RepoSnapshot> {
      return {
        head: `c${head}`,
        read: async (paths) => new Map(paths.map((p) => [p, undefined])),
        list: async () => [],
        write: async () => {
          writes++
          head++
          return { kind: 'conflict', reason: 'non-fast-forward' }
        }
      }
    }
  }
}

/** A clock the loop's sleeps move forward: minutes of backoff in no time. */
function fakeClock() {
  const clock = { t: 1_000_000, slept: 0 }
  return {
    clock,
    now: () => clock.t,
    sleep: async (ms: number) => {
      clock.t += ms
      clock.slept += ms
    }
  }
}

describe('the backoff widens with slow attempts', () => {
  it('caps at 10 s for quick attempts and at 8 attempt durations for slow ones', () => {
    const top = () => 0.999999
    expect(backoffDelay(12, defaultBackoff, top, 100)).toBe(9_999)
    expect(backoffDelay(12, defaultBackoff, top, 3_000)).toBe(23_999)
    // The window still starts at one attempt's length and doubles per retry.
    expect(backoffDelay(1, defaultBackoff, top, 3_000)).toBe(2_999)
    expect(backoffDelay(2, defaultBackoff, top, 3_000)).toBe(5_999)
  })
})

describe('the retry loop within a time budget', () => {
  it('retries until the budget would run out, announcing every retry, then fails clearly', async () => {
    const { clock, now, sleep } = fakeClock()
    const target = alwaysMoving()
    const lines: string[] = []
    const err = await runBump(target, bumpRequest('ghcr.io/acme/api:1'), {
      dryRun: false,
      deadline: deadlineIn(60_000, now),
      sleep,
      random: () => 0.5,
      log: (l) => lines.push(l)
    }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(BumpConflictError)
    expect((err as Error).message).toMatch(
      /busy branch: gave up after \d+ attempts in \S+ \(the time limit is 1m\); the branch moved every time \(non-fast-forward\)\. Raise timeout or retry the job\./
    )
    // More than the old count of 10, and never a wait past the budget.
    expect(target.writes()).toBeGreaterThan(10)
    expect(clock.slept).toBeLessThanOrEqual(60_000)
    // A line per retry, and one for the last attempt.
    expect(lines).toHaveLength(target.writes())
    expect(lines.at(-1)).toMatch(
      /^attempt \d+ lost a race \(non-fast-forward\); no time for another: one last read of the branch \([\d.]+s left\)$/
    )
    expect(lines[0]).toMatch(
      /^attempt 1 lost a race \(non-fast-forward\); re-reading the branch in 0\.1s \(1m left\)$/
    )
  })

  it('still honours max-attempts when it is set, and names it', async () => {
    const { now, sleep } = fakeClock()
    const err = await runBump(alwaysMoving(), bumpRequest('ghcr.io/acme/api:1'), {
      dryRun: false,
      maxAttempts: 3,
      deadline: deadlineIn(60_000, now),
      sleep
    }).catch((e: unknown) => e)
    expect((err as Error).message).toMatch(
      /gave up after 3 attempts; the branch moved every time \(non-fast-forward\)\. Raise max-attempts/
    )
  })

  it('says so when a push whose reply was lost could not be checked before giving up', async () => {
    let opened = 0
    const target: RepoTarget = {
      description: 'flaky server',
      async open(): Promise<RepoSnapshot> {
        // The read after the lost reply fails: nothing can tell whether the push landed.
        if (opened++ > 0) throw new RemoteUnavailableError('GET ref: no answer', 'no answer')
        return {
          head: 'c0',
          read: async (paths) => new Map(paths.map((p) => [p, undefined])),
          list: async () => [],
          write: async () => ({ kind: 'failed', reason: 'connection reset', commit: 'c1abcdef' })
        }
      }
    }
    await expect(
      runBump(target, bumpRequest('ghcr.io/acme/api:1'), { dryRun: false, maxAttempts: 1 })
    ).rejects.toThrow(
      /flaky server: gave up after 1 attempt; 0 lost a race and 1 failed on the server \(last: connection reset\)\. The push of c1abcde may have landed \(its reply was lost and there was no time left to check\): look at the branch before retrying\./
    )
  })

  it('makes one attempt when given neither a count nor a budget', async () => {
    const target = alwaysMoving()
    await expect(
      runBump(target, bumpRequest('ghcr.io/acme/api:1'), { dryRun: false })
    ).rejects.toThrow(/gave up after 1 attempt;/)
    expect(target.writes()).toBe(1)
  })
})

describe('the timeout and max-attempts options', () => {
  const o = imageDeployOptions
  it('defaults to a 5 minute budget and no attempt count', () => {
    expect(o.timeout.default).toBe(300_000)
    expect(o.maxAttempts.default).toBeUndefined()
    expect(o.timeout.parse('90s', "Input 'timeout'")).toBe(90_000)
    expect(o.maxAttempts.parse('25', "Input 'max-attempts'")).toBe(25)
  })

  it.each([
    ['0s', /Input 'timeout' must be at least 1s, got '0s'/],
    ['soon', /Input 'timeout' must be a duration like 90s, 10m or 1h30m, got 'soon'/],
    ['999999999h', /Input 'timeout' must be at most 168h/]
  ])('refuses timeout %s, naming the input', (raw, message) => {
    expect(() => o.timeout.parse(raw, "Input 'timeout'")).toThrow(message)
  })
})

describe('a server that accepts the connection and never answers', () => {
  const request = () => bumpRequest('ghcr.io/acme/api:1')

  it('git: every command is cut at its limit, each retry is announced, the budget bounds the run', async () => {
    const lines: string[] = []
    const target = new GitBranchTarget({
      url: `${silentUrl}/acme/m.git`,
      token,
      branch: 'main',
      author,
      callTimeoutMs: 1_000,
      deadline: deadlineIn(5_000)
    })
    const began = Date.now()
    try {
      const err = await runBump(target, request(), {
        dryRun: false,
        deadline: deadlineIn(5_000),
        log: (l) => lines.push(l)
      }).catch((e: unknown) => e)
      expect(err).toBeInstanceOf(BumpConflictError)
      expect((err as Error).message).toMatch(
        /gave up after \d+ attempts? in .*\(the time limit is 5s\); 0 lost a race and \d+ failed on the server \(last: timed out/
      )
    } finally {
      await target.close()
    }
    // Bounded by the budget (plus the machine's slack), not by attempts × a long timeout.
    expect(Date.now() - began).toBeLessThan(5_000 + 4_000)
    expect(lines[0]).toMatch(
      /^attempt 1 failed on the server \(timed out after 1s\); re-reading the branch in [\d.]+s \([\d.]+s left\)$/
    )
  }, 30_000)

  it('api: every request is cut at its limit, each replay is announced, the budget bounds the run', async () => {
    const lines: string[] = []
    const deadline = deadlineIn(5_000)
    const client = new GitHubClient({
      apiUrl: silentUrl,
      token,
      requestTimeoutMs: 1_000,
      deadline,
      log: (l) => lines.push(l)
    })
    const target = new GitHubBranchTarget({ client, owner: 'acme', repo: 'm', branch: 'main' })
    const began = Date.now()
    const err = await runBump(target, request(), {
      dryRun: false,
      deadline,
      log: (l) => lines.push(l)
    }).catch((e: unknown) => e)
    expect(Date.now() - began).toBeLessThan(5_000 + 4_000)
    expect(err).toBeInstanceOf(BumpConflictError)
    expect((err as Error).message).toMatch(
      /gave up after \d+ attempts? in .*\(the time limit is 5s\); 0 lost a race and \d+ failed on the server/
    )
    expect(lines[0]).toMatch(
      /^GitHub GET \/repos\/acme\/m\/git\/ref\/heads\/main: no answer within 1s; sending it again in [\d.]+s \(attempt 2 of 3\)$/
    )
  }, 30_000)

  it.each(['git', 'api'] as const)(
    'deployImage over %s ends within its timeout and says why',
    async (transport) => {
      const began = Date.now()
      const run = deployImage(
        {
          repository: {
            gitUrl: `${silentUrl}/acme/m.git`,
            github: { owner: 'acme', repo: 'm' }
          },
          token,
          transport,
          mode: 'commit',
          targetBranch: 'main',
          request: request(),
          dryRun: false,
          timeoutMs: 3_000,
          apiUrl: silentUrl,
          author
        },
        { log: () => undefined, redactor: new Redactor() }
      )
      await expect(run).rejects.toThrow(/\(the time limit is 3s\)/)
      expect(Date.now() - began).toBeLessThan(3_000 + 4_000)
    },
    30_000
  )
})
