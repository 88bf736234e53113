/**
 * What the action shows of a deploy (../src/reporter.ts), read from the workflow commands
 * @actions/core writes to stdout: groups per cluster, one error annotation per failed cluster,
 * warnings of successful clusters annotated once at the end, lines after a result debug-only.
 */
import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals'
import type { FleetReport, FleetRow } from '../../shared/src/deploy/fleet/index.js'
import { ActionReporter } from '../src/reporter.js'

const row = (cluster: string, outcome: FleetRow['outcome'], reason?: string): FleetRow => ({
  cluster,
  outcome,
  objectsChanged: 0,
  durationMs: 1_000,
  failures: [],
  changes: [],
  ...(reason ? { reason } : {})
})

const report = (rows: FleetRow[], result: FleetReport['result']): FleetReport => ({
  result,
  dryRun: false,
  rows,
  durationMs: 2_000
})

let written: string[] = []
let exitCode: typeof process.exitCode

beforeEach(() => {
  written = []
  exitCode = process.exitCode
  jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    written.push(...String(chunk).split('\n').filter(Boolean))
    return true
  })
})

afterEach(() => {
  jest.restoreAllMocks()
  process.exitCode = exitCode
})

const clean = (s: string) => s.replaceAll('hunter2', '***')

describe('ActionReporter', () => {
  it('prints live lines with the cluster, then repeats them in the cluster group', () => {
    const reporter = new ActionReporter(clean, false)
    const log = reporter.logFor('prod')
    log.info('prod: applying 2 objects (token hunter2)')
    log.warning('slow rollout')
    reporter.done(row('prod', 'changed'))
    log.info('late line')

    expect(written).toContain('[prod] applying 2 objects (token ***)')
    expect(written).toContain('[prod] warning: slow rollout')
    const group = written.findIndex((l) => l.startsWith('::group::'))
    expect(group).toBeGreaterThan(1)
    expect(written[group]).toContain('prod')
    expect(written.slice(group + 1, group + 3)).toEqual([
      'applying 2 objects (token ***)',
      'warning: slow rollout'
    ])
    expect(written).toContain('::endgroup::')
    expect(written.at(-1)).toBe('::debug::[prod] (after its result) late line')
    expect(written.join('\n')).not.toContain('hunter2')
  })

  it('annotates each failed cluster once, and only successful clusters’ warnings at the end', () => {
    const reporter = new ActionReporter(clean, false)
    reporter.logFor('prod').warning('prod: Deployment/web: progressDeadlineSeconds too long')
    reporter.logFor('staging').warning('Deployment/web: progressDeadlineSeconds too long')
    reporter.logFor('broken').warning('a warning of a failed cluster')
    reporter.done(row('prod', 'changed'))
    reporter.done(row('staging', 'unchanged'))
    reporter.done(row('broken', 'failed', 'Deployment/web: ImagePullBackOff'))
    const rows = [
      row('prod', 'changed'),
      row('staging', 'unchanged'),
      row('broken', 'failed', 'Deployment/web: ImagePullBackOff'),
      // Decided before any cluster started: no group yet.
      row('no-creds', 'skipped', 'no credentials')
    ]
    reporter.fleetDone(report(rows, 'failure'))

    const errors = written.filter((l) => l.startsWith('::error'))
    expect(errors).toHaveLength(1)
    expect(errors[0]).toContain('broken: Deployment/web: ImagePullBackOff')
    const warnings = written.filter((l) => l.startsWith('::warning'))
    expect(warnings).toEqual([
      expect.stringContaining('Deployment/web: progressDeadlineSeconds too long (prod, staging)')
    ])
    expect(written.some((l) => !l.startsWith('::') && l.includes('no-creds'))).toBe(true)
  })

  it('fails the step without a second error annotation when clusters have theirs', () => {
    const reporter = new ActionReporter(clean, false)
    const failed = row('broken', 'failed', 'timed out')
    reporter.done(failed)
    written = []
    reporter.verdict(report([failed], 'failure'))

    expect(written.filter((l) => l.startsWith('::error'))).toEqual([])
    expect(written.at(-1)).toMatch(/^kit deploy: /)
    expect(process.exitCode).toBe(1)
  })

  it('fails the step with setFailed when no cluster has an annotation', () => {
    const reporter = new ActionReporter(clean, false)
    reporter.verdict(report([row('broken', 'failed', 'timed out')], 'failure'))

    expect(written.filter((l) => l.startsWith('::error'))).toHaveLength(1)
    expect(process.exitCode).toBe(1)
  })
})
