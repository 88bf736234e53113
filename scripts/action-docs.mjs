// Writes each action's inputs and outputs, as tables taken from its action.yml, into README.md
// between <!-- action-docs:NAME --> and <!-- /action-docs:NAME --> markers.
//
//   node scripts/action-docs.mjs           rewrite the tables
//   node scripts/action-docs.mjs --check   fail when a table is stale (the test suite runs this)
import { load } from 'js-yaml'
import { readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { escapeMarkdownText } from '../shared/src/text/markdown.ts'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const actions = ['image-deployer', 'deploymentizer', 'deployer']
const readme = join(root, 'README.md')

/** A table cell: one line, `|` escaped, and `<placeholders>` kept visible (outside code spans). */
const cell = (s) =>
  escapeMarkdownText(
    String(s ?? '')
      .replace(/\s+/g, ' ')
      .trim()
      .replace(/\|/g, '\\|')
  )

export function tablesFor(action) {
  const meta = load(readFileSync(join(root, action, 'action.yml'), 'utf8'))
  const lines = [
    `**Inputs** of \`${action}\``,
    '',
    '| input | required | default | description |',
    '| --- | --- | --- | --- |'
  ]
  for (const [name, spec] of Object.entries(meta.inputs ?? {})) {
    const def = spec.default === undefined || spec.default === '' ? '' : `\`${cell(spec.default)}\``
    lines.push(
      `| \`${name}\` | ${spec.required ? 'yes' : 'no'} | ${def} | ${cell(spec.description)} |`
    )
  }
  lines.push('', `**Outputs** of \`${action}\``, '', '| output | description |', '| --- | --- |')
  for (const [name, spec] of Object.entries(meta.outputs ?? {}))
    lines.push(`| \`${name}\` | ${cell(spec.description)} |`)
  return lines.join('\n')
}

export function render(text) {
  let out = text
  for (const a of actions) {
    const re = new RegExp(`(<!-- action-docs:${a} -->\\n)[\\s\\S]*?(<!-- /action-docs:${a} -->)`)
    if (!re.test(out))
      throw new Error(
        `README.md has no <!-- action-docs:${a} --> ... <!-- /action-docs:${a} --> markers`
      )
    out = out.replace(re, (_m, open, close) => `${open}${tablesFor(a)}\n${close}`)
  }
  return out
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const current = readFileSync(readme, 'utf8')
  const fresh = render(current)
  if (process.argv.includes('--check')) {
    if (fresh !== current) {
      console.error('README.md action tables are stale: run `node scripts/action-docs.mjs`')
      process.exitCode = 1
    } else console.log('README.md action tables match action.yml')
  } else {
    writeFileSync(readme, fresh)
    console.log('README.md action tables written')
  }
}
