/**
 * `npm run clusters -- up / status / down` (testinfra/clusters/cli.ts, run from TypeScript as
 * the npm script runs it): a set starts, reports itself, and stops without leaving a process
 * behind.
 */
import { afterAll, describe, expect, it } from '@jest/globals'
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const root = join(mkdtempSync(join(tmpdir(), 'kit-cli-clusters-')), 'state')
const env = { ...process.env, KIT_CLUSTERS_DIR: root, KIT_CLUSTERS_BASE_PORT: '19500', CI: 'true' }

function clusters(...args: string[]) {
  return spawnSync(process.execPath, ['bench/run-ts.mjs', 'testinfra/clusters/cli.ts', ...args], {
    encoding: 'utf8',
    env,
    timeout: 180_000
  })
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return !readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.startsWith('Z')
  } catch {
    return false
  }
}

describe('npm run clusters', () => {
  afterAll(() => {
    clusters('down')
    rmSync(join(root, '..'), { recursive: true, force: true })
  })

  it('starts a cluster, reports it ready with its memory, and stops every process', () => {
    const up = clusters('up', '--names', 'solo', '--nodes', '1')
    expect(up.stderr).toMatch(/1 cluster\(s\) ready/)
    expect(up.status).toBe(0)
    expect(up.stdout).toMatch(/solo\s+https:\/\/127\.0\.0\.1:19510/)

    const state = JSON.parse(readFileSync(join(root, 'state.json'), 'utf8')) as {
      processes: { component: string; pid: number }[]
    }
    expect(state.processes.map((p) => p.component).sort()).toEqual([
      'etcd',
      'kube-apiserver',
      'kube-controller-manager',
      'kube-scheduler',
      'kwok'
    ])
    for (const p of state.processes) expect(alive(p.pid)).toBe(true)

    const status = clusters('status')
    expect(status.status).toBe(0)
    expect(status.stdout).toMatch(/ready\s+solo\s+https:\/\/127\.0\.0\.1:19510\s+\d+ MiB/)

    const down = clusters('down')
    expect(down.status).toBe(0)
    for (const p of state.processes) expect(alive(p.pid)).toBe(false)
    expect(existsSync(root)).toBe(false)
    expect(clusters('status').stdout).toMatch(/no clusters are running/)
  })

  it('rejects a bad count with a usage error (exit 2)', () => {
    const res = clusters('up', 'zero')
    expect(res.status).toBe(2)
    expect(res.stderr).toMatch(/cluster count must be a whole number from 1 to 20, got 'zero'/)
  })

  it('prints its help', () => {
    const res = clusters('--help')
    expect(res.status).toBe(0)
    expect(res.stdout).toMatch(/npm run clusters -- up \[N\]/)
  })
})
