/**
 * The option tables (shared/src/options) are the one source of every action input and CLI
 * flag: each action.yml's inputs must be exactly what its table generates (names, order,
 * descriptions, required, defaults), and docs/cli.md's input/flag table must be current.
 * `node scripts/options-docs.mjs` rewrites both.
 */
import { describe, expect, it } from '@jest/globals'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parse } from 'yaml'
import { actionTables, renderActionYml, renderCliDoc } from '../../shared/src/options/docs.js'
import { actionOptions, defaultText } from '../../shared/src/options/table.js'

const root = process.cwd()
const fix = '(run node scripts/options-docs.mjs, then node scripts/action-docs.mjs)'

describe.each(actionTables.map((t) => [t.action, t] as const))('%s/action.yml', (action, t) => {
  const text = readFileSync(join(root, action, 'action.yml'), 'utf8')
  const yml = parse(text) as {
    inputs: Record<string, { description: string; required?: boolean; default?: string }>
  }

  it('declares the inputs of its option table, in order, with their docs, required and defaults', () => {
    const fromYml = Object.entries(yml.inputs).map(([name, i]) => ({
      name,
      description: i.description.replace(/\s+/g, ' ').trim(),
      required: i.required ?? false,
      default: i.default ?? ''
    }))
    const fromTable = actionOptions(t.table).map((o) => ({
      name: o.name,
      description: o.doc,
      required: o.required ?? false,
      default: defaultText(o)
    }))
    expect(fromYml).toEqual(fromTable)
  })

  it(`is exactly what the table generates ${fix}`, () => {
    expect(text).toBe(renderActionYml(text, t.table))
  })
})

describe('docs/cli.md', () => {
  it(`holds the current table of every action input with its CLI flag ${fix}`, () => {
    const page = readFileSync(join(root, 'docs', 'cli.md'), 'utf8')
    expect(page).toBe(renderCliDoc(page))
    for (const { table } of actionTables)
      for (const o of actionOptions(table)) expect(page).toContain(`| \`${o.name}\` |`)
  })
})
