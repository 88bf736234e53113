/**
 * testinfra/prometheus/build.sh around the compiler: the flags it builds with, the cache, the
 * lock that makes two runs at once build once, --find, and a failed build. A stand-in for `go`
 * (first on PATH) answers what the script asks and "builds" by writing a small script, so these
 * run in seconds; the real build is `bash testinfra/prometheus/build.sh` (.ci/run runs it).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const script = join(dirname(fileURLToPath(import.meta.url)), '..', 'build.sh')

// Answers `go version` and `go list -m`; for `go build` it records its arguments, names a few
// packages as `go build -v` does, takes a moment, and writes the -o file (or fails on STUB_FAIL).
const stubGo = `#!/usr/bin/env bash
set -euo pipefail
case "$1" in
  version) echo "go version go1.26.8 stand-in" ;;
  list) echo v0.316.0 ;;
  build)
    echo "$*" >> "$STUB_BUILDS"
    out=
    while [ $# -gt 0 ]; do [ "$1" = -o ] && out=$2; shift; done
    if [ -n "\${STUB_FAIL:-}" ]; then
      echo "example.com/dep/ok" >&2
      echo "cmd/prometheus/main.go:3:1: syntax error: the stand-in fails here" >&2
      exit 1
    fi
    echo "go: downloading example.com/dep v1.0.0" >&2
    for i in 1 2 3 4; do echo "example.com/dep/p$i" >&2; sleep 0.4; done
    printf '#!/bin/sh\\necho prometheus\\n' > "$out"
    chmod +x "$out" ;;
  *) echo "go stand-in: unexpected arguments: $*" >&2; exit 97 ;;
esac
`

interface Run {
  code: number
  stdout: string
  stderr: string
}

let work: string
let stubDir: string

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'kit-prometheus-build-'))
  stubDir = join(work, 'stub-bin')
  await mkdir(stubDir)
  await writeFile(join(stubDir, 'go'), stubGo, { mode: 0o755 })
})
afterAll(() => rm(work, { recursive: true, force: true }))

function build(cache: string, args: string[] = [], env: Record<string, string> = {}): Promise<Run> {
  const child = spawn('bash', [script, ...args], {
    env: {
      PATH: `${stubDir}:/usr/bin:/bin`,
      HOME: work,
      KIT_TESTBIN_CACHE: cache,
      KIT_BUILD_PROGRESS_SECONDS: '1',
      STUB_BUILDS: `${cache}.builds`,
      ...env
    }
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
  return new Promise((resolve) =>
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }))
  )
}

const lastLine = (text: string) => text.trim().split('\n').pop() ?? ''
const builds = async (cache: string) =>
  existsSync(`${cache}.builds`)
    ? (await readFile(`${cache}.builds`, 'utf8')).trim().split('\n')
    : []

describe('testinfra/prometheus/build.sh', () => {
  it('builds the server once with the pinned flags, reporting progress, and prints its path', async () => {
    const cache = join(work, 'cache-once')
    const r = await build(cache)
    expect(r.code).toBe(0)
    const bin = r.stdout.trim()
    expect(bin).toMatch(new RegExp(`^${cache}/prometheus-v0\\.316\\.0-[0-9a-f]{12}/prometheus$`))
    expect(await builds(cache)).toEqual([
      expect.stringMatching(
        /^build -v -trimpath -tags remove_all_sd -ldflags -s -w -X github\.com\/prometheus\/common\/version\.Version=v0\.316\.0 -o \S+ github\.com\/prometheus\/prometheus\/cmd\/prometheus$/
      )
    ])
    expect(r.stderr).toMatch(/^ {2}prometheus: \d+ packages compiled, 1 modules downloaded, \d+s$/m)
    expect(r.stderr).toMatch(
      /^built Prometheus v0\.316\.0 in \d+s \(4 packages compiled, 1 modules downloaded\), \S+$/m
    )
    expect(r.stderr).not.toMatch(/^example\.com|^go: downloading/m)
    // Only the binary lands in the cache folder.
    expect(await readdir(dirname(bin))).toEqual(['prometheus'])

    const warm = await build(cache)
    expect(warm).toEqual({ code: 0, stdout: `${bin}\n`, stderr: '' })
    const found = await build(cache, ['--find'])
    expect(found).toEqual({ code: 0, stdout: `${bin}\n`, stderr: '' })
    expect(await builds(cache)).toHaveLength(1)
  }, 60_000)

  it('builds once when run twice at once: the second run waits, then finds the result', async () => {
    const cache = join(work, 'cache-race')
    const [a, b] = await Promise.all([build(cache), build(cache)])
    expect([a.code, b.code]).toEqual([0, 0])
    expect(lastLine(b.stdout)).toBe(lastLine(a.stdout))
    expect(await builds(cache)).toHaveLength(1)
    const waiter = a.stderr.includes('waiting for it') ? a : b
    expect(waiter.stderr).toContain(`lock: ${cache}/prometheus.lock`)
    expect(waiter.stderr).toContain('built by the run this one waited for')
  }, 60_000)

  it('--find builds nothing when the cache is empty, and says what to run', async () => {
    const cache = join(work, 'cache-find')
    const r = await build(cache, ['--find'])
    expect(r.code).toBe(3)
    expect(r.stdout).toBe('')
    expect(r.stderr).toMatch(
      /^build\.sh: Prometheus v0\.316\.0 is not built \(no .*\/prometheus\); run: bash testinfra\/prometheus\/build\.sh$/m
    )
    expect(await builds(cache)).toEqual([])
    expect((await build(cache, ['--bogus'])).code).toBe(2)
  })

  it('reports a failed build with its error and leaves nothing in the cache', async () => {
    const cache = join(work, 'cache-failure')
    const failed = await build(cache, [], { STUB_FAIL: '1' })
    expect(failed.code).toBe(1)
    expect(failed.stdout).toBe('')
    expect(failed.stderr).toContain('build.sh: building Prometheus failed (go build exited 1):')
    expect(failed.stderr).toContain('syntax error: the stand-in fails here')
    expect(failed.stderr).not.toContain('example.com/dep/ok')
    expect((await readdir(cache)).filter((f) => f.startsWith('prometheus-'))).toEqual([])
    expect((await build(cache)).code).toBe(0)
  }, 60_000)
})
