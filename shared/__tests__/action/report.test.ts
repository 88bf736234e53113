/**
 * runAction, the one try/catch of every action: `result` (and the action's other failure outputs)
 * set even when the step fails before it wrote any, never over what it wrote, and one error
 * annotation per error. Read from the files and workflow commands @actions/core writes.
 */
import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ReportedError, runAction, writeOutput } from '../../src/action/report.js'

let dir: string
let stdout: string[]
let exitCode: typeof process.exitCode

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'kit-run-action-'))
  process.env.GITHUB_OUTPUT = join(dir, 'output')
  writeFileSync(process.env.GITHUB_OUTPUT, '')
  stdout = []
  exitCode = process.exitCode
  jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stdout.push(...String(chunk).split('\n').filter(Boolean))
    return true
  })
})

afterEach(() => {
  jest.restoreAllMocks()
  process.exitCode = exitCode
  delete process.env.GITHUB_OUTPUT
  rmSync(dir, { recursive: true, force: true })
})

/** The outputs written to GITHUB_OUTPUT, as the runner reads them. */
function outputs(): Record<string, string> {
  const text = readFileSync(join(dir, 'output'), 'utf8')
  const out: Record<string, string> = {}
  for (const m of text.matchAll(/^([\w-]+)<<(\S+)\n([\s\S]*?)\n\2$/gm)) out[m[1]] = m[3]
  return out
}

describe('runAction', () => {
  it('sets result: failure and the failure outputs when the inputs are refused', async () => {
    await runAction(
      async () => {
        throw new Error("Input 'timeout' must be a duration")
      },
      { changed: false }
    )
    expect(outputs()).toEqual({ result: 'failure', changed: 'false' })
    expect(stdout).toEqual(["::error::Input 'timeout' must be a duration"])
    expect(process.exitCode).toBe(1)
  })

  it('keeps what the step wrote before it failed', async () => {
    await runAction(
      async () => {
        writeOutput('result', 'committed')
        writeOutput('changed', true)
        throw new Error('the summary could not be written')
      },
      { changed: false }
    )
    expect(outputs()).toEqual({ result: 'committed', changed: 'true' })
  })

  it('fails an already annotated error with a log line, not a second annotation', async () => {
    await runAction(async () => {
      process.stdout.write('::error file=a.yaml,line=3::a problem\n')
      throw new ReportedError('render failed with 1 problem')
    })
    expect(stdout.filter((l) => l.startsWith('::error'))).toEqual([
      '::error file=a.yaml,line=3::a problem'
    ])
    expect(stdout).toContain('render failed with 1 problem')
    expect(process.exitCode).toBe(1)
    expect(outputs()).toEqual({ result: 'failure' })
  })

  it('sets nothing extra when the step succeeds', async () => {
    await runAction(async () => writeOutput('result', 'success'), { changed: false })
    expect(outputs()).toEqual({ result: 'success' })
    expect(process.exitCode).toBe(exitCode)
  })
})
