/**
 * testinfra/controlplane/build.sh around the compiler: the cache, the lock that keeps two runs
 * at once from sharing bin.partial, and the progress it prints. A stand-in for `go` (first on
 * PATH) answers what the script asks and "builds" a program by writing a small script, so these
 * run in seconds; the real build runs before every suite that starts clusters.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
const script = join(here, '..', 'build.sh')
const programs = [
  'kube-apiserver',
  'kube-controller-manager',
  'kube-scheduler',
  'kubectl',
  'etcd',
  'kwok'
]

// Answers `go version` and `go list`, and for `go build -o <out> <pkg>` names a few packages as
// `go build -v` does, takes a moment, and writes <out>. Every build is recorded.
const stubGo = `#!/usr/bin/env bash
set -euo pipefail
case "$1" in
  version) echo "go version go1.26.0 stand-in" ;;
  list) case "$*" in *'{{.Dir}}'*) echo "$STUB_KWOK_DIR" ;; *) echo v1.36.3 ;; esac ;;
  build)
    shift; out=; pkg=
    while [ $# -gt 0 ]; do
      case "$1" in -o) out=$2; shift ;; -ldflags) shift ;; -*) ;; *) pkg=$1 ;; esac
      shift
    done
    echo "$(basename "$out")" >> "$STUB_BUILDS"
    if [ "$(basename "$out")" = "\${STUB_FAIL:-}" ]; then
      echo "example.com/dep/ok"
      echo "# $pkg"
      echo "cmd/main.go:3:1: syntax error: the stand-in fails here"
      exit 1
    fi >&2
    echo "go: downloading example.com/dep v1.0.0" >&2
    for i in 1 2 3 4; do echo "example.com/dep/p$i" >&2; sleep 0.3; done
    printf '#!/bin/sh\\necho %s\\n' "$pkg" > "$out"
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
let kwokDir: string
let stages: string[]

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'kit-controlplane-build-'))
  stubDir = join(work, 'stub-bin')
  await mkdir(stubDir)
  await writeFile(join(stubDir, 'go'), stubGo, { mode: 0o755 })
  // kwok's module folder, with the default stages programs.sh names.
  kwokDir = join(work, 'kwok-module')
  const programsSh = await readFile(join(here, '..', 'programs.sh'), 'utf8')
  stages = /kwok_stages=\(([^)]*)\)/.exec(programsSh)?.[1].trim().split(/\s+/) ?? []
  if (stages.length === 0) throw new Error('no kwok_stages=( ... ) list found in programs.sh')
  for (const s of stages) {
    const file = join(kwokDir, 'kustomize', 'stage', s)
    await mkdir(dirname(file), { recursive: true })
    await writeFile(file, `# ${s}\n`)
  }
})
afterAll(async () => {
  await rm(work, { recursive: true, force: true })
})

function build(cache: string, env: Record<string, string> = {}): Promise<Run> {
  const child = spawn('bash', [script], {
    env: {
      PATH: `${stubDir}:/usr/bin:/bin`,
      HOME: work,
      KIT_TESTBIN_CACHE: cache,
      KIT_BUILD_PROGRESS_SECONDS: '1',
      STUB_KWOK_DIR: kwokDir,
      STUB_BUILDS: join(cache, '..', `${cache.split('/').pop()}.builds`),
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
  (await readFile(join(cache, '..', `${cache.split('/').pop()}.builds`), 'utf8')).trim().split('\n')

describe('testinfra/controlplane/build.sh', () => {
  it('builds once when run twice at once: the second run waits, then finds the result', async () => {
    const cache = join(work, 'cache-race')
    const [a, b] = await Promise.all([build(cache), build(cache)])
    expect([a.code, b.code]).toEqual([0, 0])
    const bin = lastLine(a.stdout)
    expect(lastLine(b.stdout)).toBe(bin)
    expect(bin.startsWith(`${cache}/`)).toBe(true)

    // Each program was built once, by whichever run took the lock.
    expect((await builds(cache)).sort()).toEqual([...programs].sort())
    const [builder, waiter] = a.stderr.includes('waiting for it') ? [b, a] : [a, b]
    expect(builder.stderr).not.toContain('waiting for it')
    expect(waiter.stderr).toContain(`lock: ${cache}/build.lock`)
    expect(waiter.stderr).toMatch(/still waiting for the other build \(\d+s\)/)
    expect(waiter.stderr).toContain('built by the run this one waited for')

    const files = (await readdir(bin, { recursive: true })).sort()
    expect(files).toEqual(expect.arrayContaining([...programs, 'stages']))
    expect(files.filter((f) => f.startsWith('stages/'))).toHaveLength(stages.length)
    expect(existsSync(`${bin}.partial`)).toBe(false)
  }, 60_000)

  it('says which program it builds and, while one builds, how far it got and for how long', async () => {
    const cache = join(work, 'cache-progress')
    const r = await build(cache)
    expect(r.code).toBe(0)
    programs.forEach((p, i) => expect(r.stderr).toContain(`[${i + 1}/${programs.length}] ${p} (`))
    expect(r.stderr).toMatch(
      /^ {2}kube-apiserver: \d+ packages compiled, 1 modules downloaded, \d+s \(\d+s in all\)$/m
    )
    expect(r.stderr).toMatch(/^ {2}kwok built in \d+s \(4 packages compiled/m)
    expect(r.stderr).toMatch(/^built the control plane in \d+s into /m)
    // go's own output (package names, downloads) is summarised, never passed through.
    expect(r.stderr).not.toMatch(/^example\.com|^go: downloading/m)
  }, 60_000)

  it('finds a warm cache without building or locking', async () => {
    const cache = join(work, 'cache-progress')
    const before = (await builds(cache)).length
    const r = await build(cache)
    expect(r.code).toBe(0)
    expect(r.stderr.trim()).toBe(`control-plane binaries are cached in ${lastLine(r.stdout)}`)
    expect((await builds(cache)).length).toBe(before)
  })

  it('reports a failed build with its error, leaves no binaries, and a later run builds', async () => {
    const cache = join(work, 'cache-failure')
    const failed = await build(cache, { STUB_FAIL: 'kubectl' })
    expect(failed.code).toBe(1)
    expect(failed.stdout).toBe('')
    expect(failed.stderr).toContain('build.sh: building kubectl failed (go build exited 1):')
    expect(failed.stderr).toContain('cmd/main.go:3:1: syntax error: the stand-in fails here')
    expect(failed.stderr).not.toContain('example.com/dep/ok')
    const keyDirs = await readdir(cache)
    expect(keyDirs.filter((d) => !d.endsWith('.lock'))).toHaveLength(1)
    expect(
      await readdir(
        join(
          cache,
          keyDirs.find((d) => !d.endsWith('.lock'))!
        )
      )
    ).toEqual(['bin.partial'])

    const again = await build(cache)
    expect(again.code).toBe(0)
    expect(existsSync(join(lastLine(again.stdout), 'kwok'))).toBe(true)
  }, 60_000)
})
