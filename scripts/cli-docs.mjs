// Writes each `kit <command> --help` into docs/cli.md between <!-- kit-help:NAME --> and
// <!-- /kit-help:NAME --> markers, from the bundled CLI (cli/dist/kit.js), so the reference
// is the help text users see.
//
//   node scripts/cli-docs.mjs           rewrite the blocks (run `npm run bundle` first)
//   node scripts/cli-docs.mjs --check   exit 1 and name the stale blocks (a test runs this)
import { execFileSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const doc = join(root, 'docs', 'cli.md')
const kit = join(root, 'cli', 'dist', 'kit.js')

/** The help text of `kit [command] --help`, without colour. */
export function helpOf(command) {
  const args = command === 'kit' ? ['--help'] : [command, '--help']
  return execFileSync(process.execPath, [kit, ...args], {
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' }
  }).trimEnd()
}

/** The command names `kit --help` lists. */
export function commandNames() {
  const top = helpOf('kit')
  const list = top.slice(top.indexOf('Commands:'))
  return [...list.matchAll(/^ {2}([a-z][a-z-]*) /gm)].map((m) => m[1])
}

const block = (name, text) =>
  `<!-- kit-help:${name} -->\n\`\`\`text\n${text}\n\`\`\`\n<!-- /kit-help:${name} -->`

const check = process.argv.includes('--check')
let text = readFileSync(doc, 'utf8')
const stale = []
const names = ['kit', ...commandNames()]
// A block for a command the CLI no longer has is stale too; its section is removed by hand.
for (const [, name] of text.matchAll(/<!-- kit-help:([a-z][a-z-]*) -->/g))
  if (!names.includes(name)) stale.push(`${name} (not a kit command: remove its section)`)
for (const name of names) {
  const wanted = block(name, helpOf(name))
  const re = new RegExp(`<!-- kit-help:${name} -->[\\s\\S]*?<!-- /kit-help:${name} -->`)
  if (!re.test(text)) {
    stale.push(`${name} (no block in docs/cli.md)`)
    continue
  }
  const current = re.exec(text)[0]
  if (current !== wanted) {
    stale.push(name)
    text = text.replace(re, () => wanted)
  }
}
if (check) {
  if (stale.length > 0) {
    process.stderr.write(
      `docs/cli.md is stale for: ${stale.join(', ')} (run node scripts/cli-docs.mjs)\n`
    )
    process.exit(1)
  }
} else {
  writeFileSync(doc, text)
  const byHand = stale.filter((s) => s.includes('no block') || s.includes('not a kit command'))
  if (byHand.length > 0) process.stderr.write(`fix by hand in docs/cli.md: ${byHand.join(', ')}\n`)
}
