/**
 * The outputs table (shared/src/outputs/table.ts): one vocabulary across the three actions, the
 * action.yml blocks and docs/outputs.md generated from it, and the values each action writes.
 */
import { describe, expect, it } from '@jest/globals'
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parse } from 'yaml'
import type { FleetReport, FleetRow } from '../../src/deploy/fleet/index.js'
import {
  actionOutputs,
  outputEntries,
  outputsJson,
  outputText,
  renderOutputsDoc,
  renderOutputsYml,
  type ActionName,
  type OutputSpec
} from '../../src/outputs/table.js'
import { deployerOutputValues, imageDeployerOutputValues } from '../../src/outputs/values.js'

const root = process.cwd()
const actions = Object.keys(actionOutputs) as ActionName[]
const all: (OutputSpec & { action: ActionName })[] = actions.flatMap((action) =>
  actionOutputs[action].map((o) => ({ ...o, action }))
)

describe('one vocabulary across the three actions', () => {
  it('gives each output name one kind in every action that sets it', () => {
    const kinds = new Map<string, Set<string>>()
    for (const o of all) kinds.set(o.name, (kinds.get(o.name) ?? new Set()).add(o.kind))
    expect([...kinds].filter(([, k]) => k.size > 1)).toEqual([])
  })

  it('has result in every action, a word ending in failure; changed is always true/false', () => {
    for (const action of actions) {
      const result = actionOutputs[action].find((o) => o.name === 'result')
      expect([action, result?.kind, result?.doc]).toEqual([
        action,
        'result',
        expect.stringMatching(/\bfailure\b/)
      ])
    }
    for (const o of all.filter((x) => x.name === 'changed')) expect(o.kind).toBe('boolean')
  })

  it('names lists in the plural, and aliases only an output of the same action and kind', () => {
    for (const o of all.filter((x) => x.kind === 'list' && !x.aliasOf))
      expect([o.action, o.name]).toEqual([o.action, expect.stringMatching(/s$/)])
    for (const o of all.filter((x) => x.aliasOf)) {
      const target = actionOutputs[o.action].find((x) => x.name === o.aliasOf)
      expect([o.name, target?.kind, target?.aliasOf]).toEqual([o.name, o.kind, undefined])
    }
  })

  it('writes booleans as true/false and lists and objects as JSON', () => {
    expect([true, false, 'x', ['a'], { a: 1 }].map(outputText)).toEqual([
      'true',
      'false',
      'x',
      '["a"]',
      '{"a":1}'
    ])
  })

  it('refuses to write an action’s outputs with one missing (a programming error)', () => {
    expect(() => outputEntries('image-deployer', { result: 'committed' })).toThrow(
      "image-deployer: no value for the output 'changed'"
    )
  })
})

describe('generated from the table', () => {
  it('every action.yml outputs block and docs/outputs.md (node scripts/outputs-docs.mjs)', () => {
    const res = spawnSync(process.execPath, ['scripts/outputs-docs.mjs', '--check'], {
      encoding: 'utf8'
    })
    expect(res.stderr).toBe('')
    expect(res.status).toBe(0)
    for (const action of actions) {
      const text = readFileSync(join(root, action, 'action.yml'), 'utf8')
      expect(renderOutputsYml(text, action)).toBe(text)
      const yml = parse(text) as { outputs: Record<string, { description: string }> }
      expect(Object.entries(yml.outputs).map(([name, o]) => [name, o.description.trim()])).toEqual(
        actionOutputs[action].map((o) => [o.name, o.doc])
      )
    }
    const page = readFileSync(join(root, 'docs', 'outputs.md'), 'utf8')
    expect(renderOutputsDoc(page)).toBe(page)
    for (const o of all) expect(page).toContain(`| \`${o.name}\` |`)
  })

  it('is linked from the README', () => {
    expect(readFileSync(join(root, 'README.md'), 'utf8')).toContain('(docs/outputs.md)')
  })
})

const row = (cluster: string, outcome: FleetRow['outcome']): FleetRow => ({
  cluster,
  outcome,
  objectsChanged: outcome === 'changed' ? 1 : 0,
  durationMs: 10,
  failures: [],
  changes: []
})
const report = (rows: FleetRow[]): FleetReport => ({
  result: rows.every((r) => r.outcome === 'changed' || r.outcome === 'unchanged')
    ? 'success'
    : 'failure',
  dryRun: false,
  rows,
  durationMs: 20
})

describe('the values', () => {
  it('deployer: changed is true/false, the lists are named for what they list', () => {
    const values = deployerOutputValues(
      report([row('b', 'changed'), row('a', 'failed'), row('c', 'skipped'), row('d', 'unchanged')])
    )
    const written = Object.fromEntries(
      outputEntries('deployer', values).map(([k, v]) => [k, outputText(v)])
    )
    expect(written).toMatchObject({
      result: 'failure',
      changed: 'true',
      clusters: '["a","b","c","d"]',
      'changed-clusters': '["b"]',
      'failed-clusters': '["a"]',
      'skipped-clusters': '["c"]',
      failed: '["a"]',
      skipped: '["c"]'
    })
    expect(JSON.parse(written['cluster-results'])).toHaveLength(4)
    expect(outputText(deployerOutputValues(report([row('a', 'unchanged')])).changed)).toBe('false')
    // The CLI's --json: the same names, JSON types, no aliases.
    expect(Object.keys(outputsJson('deployer', values))).toEqual([
      'result',
      'changed',
      'clusters',
      'changed-clusters',
      'failed-clusters',
      'skipped-clusters',
      'cluster-results',
      'drifted',
      'drifted-clusters',
      'degraded-clusters'
    ])
    expect(outputsJson('deployer', values).changed).toBe(true)
  })

  it('deployer: drifted and drifted-clusters name the clusters a dry run found differing', () => {
    const rows = [
      row('b', 'changed'),
      row('a', 'changed'),
      row('c', 'failed'),
      row('d', 'unchanged')
    ]
    const dry = deployerOutputValues({ ...report(rows), dryRun: true })
    expect([outputText(dry.drifted), outputText(dry['drifted-clusters'])]).toEqual([
      'true',
      '["a","b"]'
    ])
    const clean = deployerOutputValues({ ...report([row('a', 'unchanged')]), dryRun: true })
    expect([outputText(clean.drifted), outputText(clean['drifted-clusters'])]).toEqual([
      'false',
      '[]'
    ])
    // A deploy changes what differs: it reports no drift.
    const deploy = deployerOutputValues(report(rows))
    expect([outputText(deploy.drifted), outputText(deploy['drifted-clusters'])]).toEqual([
      'false',
      '[]'
    ])
  })

  it('image-deployer: changed is true for a commit and for a dry run that would commit', () => {
    const base = {
      files: ['images/api/main.yaml'],
      changes: [],
      message: '',
      notes: [],
      attempts: 1,
      diff: '',
      branch: 'main',
      targetBranch: 'main',
      apiCalls: 0
    }
    const changed = (outcome: 'committed' | 'unchanged' | 'older' | 'dry-run') =>
      imageDeployerOutputValues({ ...base, outcome }).changed
    expect(['committed', 'dry-run', 'unchanged', 'older'].map((o) => changed(o as never))).toEqual([
      true,
      true,
      false,
      false
    ])
  })
})
