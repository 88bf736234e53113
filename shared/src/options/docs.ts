/**
 * What is generated from the option tables: each action.yml's `inputs:` block, and docs/cli.md's
 * table of every action input with its CLI flag. scripts/options-docs.mjs writes them (and
 * checks them with --check); docs/__tests__/options.test.ts fails when a file is stale.
 */
import { deployOptions } from './deploy.js'
import { imageDeployOptions } from './image-deploy.js'
import { renderOptions } from './render.js'
import { escapeMarkdownText } from '../text/markdown.js'
import { actionOptions, defaultText, type Option, type Table } from './table.js'

/** Each action with its option table and the `kit` commands that share it. */
export const actionTables: readonly {
  readonly action: string
  readonly table: Table
  readonly commands: readonly string[]
}[] = [
  { action: 'image-deployer', table: imageDeployOptions, commands: ['bump'] },
  { action: 'deploymentizer', table: renderOptions, commands: ['render'] },
  { action: 'deployer', table: deployOptions, commands: ['deploy', 'diff'] }
]

const width = 100

/** A description as action.yml holds it: one plain line when it fits and is safe, else folded. */
function description(doc: string): string[] {
  const one = `    description: ${doc}`
  if (one.length <= width && /^[A-Za-z0-9(][^#]*$/.test(doc) && !/: |\s$/.test(doc)) return [one]
  const lines = ['    description: >']
  let line = ''
  for (const word of doc.split(/\s+/)) {
    if (line !== '' && 6 + line.length + 1 + word.length > width) {
      lines.push(`      ${line}`)
      line = word
    } else line = line === '' ? word : `${line} ${word}`
  }
  lines.push(`      ${line}`)
  return lines
}

function yamlDefault(value: string): string {
  return value.startsWith('${{') ? value : `'${value.replace(/'/g, "''")}'`
}

/** The `inputs:` block of an action.yml, from its table. */
export function inputsBlock(table: Table): string {
  const lines = ['inputs:']
  for (const o of actionOptions(table)) {
    lines.push(`  ${o.name}:`, ...description(o.doc), `    required: ${o.required ?? false}`)
    const d = defaultText(o)
    if (d !== '') lines.push(`    default: ${yamlDefault(d)}`)
  }
  return lines.join('\n')
}

/** An action.yml with its `inputs:` block replaced by the table's. */
export function renderActionYml(current: string, table: Table): string {
  const re = /^inputs:\n[\s\S]*?(?=\n\n[a-z])/m
  if (!re.test(current)) throw new Error('action.yml has no inputs: block followed by a blank line')
  return current.replace(re, () => inputsBlock(table))
}

const cell = (s: string): string => s.replace(/\s+/g, ' ').trim().replace(/\|/g, '\\|')

function flagCell(o: Option<unknown>): string {
  if (o.cli === false) return o.cliNote ? `— (${escapeMarkdownText(cell(o.cliNote))})` : '—'
  const flag = o.flag ? (o.default === true ? `--[no-]${o.name}` : `--${o.name}`) : `--${o.name}`
  const forms = [`\`${flag}\``]
  if (o.cli.positional) forms.unshift('the argument')
  if (o.cli.short) forms.push(`\`-${o.cli.short}\``)
  const renamed = o.cli.renamedFrom?.length
    ? ` (was ${o.cli.renamedFrom.map((r) => `\`--${r}\``).join(', ')})`
    : ''
  return `${forms.join(' or ')}${renamed}`
}

/** The table of every action input with its CLI flag (and the CLI-only flags), per action. */
export function flagTables(): string {
  const out: string[] = []
  for (const { action, table, commands } of actionTables) {
    out.push(
      `**${action}** and ${commands.map((c) => `\`kit ${c}\``).join(', ')}`,
      '',
      '| action input | `kit` flag | type | default |',
      '| --- | --- | --- | --- |'
    )
    for (const o of Object.values(table)) {
      const d = defaultText(o)
      out.push(
        `| ${o.action ? `\`${o.name}\`` : '—'} | ${flagCell(o)} | ${escapeMarkdownText(o.type)} | ${d === '' ? '' : `\`${cell(d)}\``} |`
      )
    }
    out.push('')
  }
  return out.join('\n').trimEnd()
}

/** docs/cli.md with the block between the options-table markers regenerated. */
export function renderCliDoc(current: string): string {
  const re = /(<!-- options-table -->\n)[\s\S]*?(<!-- \/options-table -->)/
  if (!re.test(current))
    throw new Error('docs/cli.md has no <!-- options-table --> ... <!-- /options-table --> markers')
  return current.replace(
    re,
    (_m, open: string, close: string) => `${open}${flagTables()}\n${close}`
  )
}
