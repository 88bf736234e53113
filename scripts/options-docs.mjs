// Writes what the option tables (shared/src/options) generate: each action.yml's `inputs:`
// block, and docs/cli.md's table of every action input with its CLI flag (between
// <!-- options-table --> and <!-- /options-table -->). Run `node scripts/action-docs.mjs`
// afterwards: README's action tables come from the action.yml files.
//
//   node scripts/options-docs.mjs           rewrite them
//   node scripts/options-docs.mjs --check   exit 1 and name the stale files (a test checks the same)
import { build } from 'esbuild'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const dir = mkdtempSync(join(tmpdir(), 'kit-options-'))
const outfile = join(dir, 'docs.mjs')
let docs
try {
  await build({
    entryPoints: [join(root, 'shared/src/options/docs.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node24',
    format: 'esm',
    logLevel: 'warning',
    // Some dependencies are CommonJS and call require(); ESM output needs a real one.
    banner: {
      js: "import { createRequire as __kitCreateRequire } from 'node:module'; const require = __kitCreateRequire(import.meta.url);"
    }
  })
  docs = await import(pathToFileURL(outfile).href)
} finally {
  rmSync(dir, { recursive: true, force: true })
}

const files = [
  ...docs.actionTables.map(({ action, table }) => ({
    path: join(action, 'action.yml'),
    render: (text) => docs.renderActionYml(text, table)
  })),
  { path: join('docs', 'cli.md'), render: (text) => docs.renderCliDoc(text) }
]
const stale = []
for (const f of files) {
  const full = join(root, f.path)
  const current = readFileSync(full, 'utf8')
  const fresh = f.render(current)
  if (fresh === current) continue
  stale.push(f.path)
  if (!process.argv.includes('--check')) writeFileSync(full, fresh)
}
if (process.argv.includes('--check')) {
  if (stale.length > 0) {
    process.stderr.write(`stale: ${stale.join(', ')} (run node scripts/options-docs.mjs)\n`)
    process.exitCode = 1
  }
} else console.log(stale.length ? `written: ${stale.join(', ')}` : 'up to date')
