// Writes what the option tables (shared/src/options) generate: each action.yml's `inputs:`
// block, and docs/cli.md's table of every action input with its CLI flag (between
// <!-- options-table --> and <!-- /options-table -->). Run `node scripts/action-docs.mjs`
// afterwards: README's action tables come from the action.yml files.
//
//   node scripts/options-docs.mjs           rewrite them
//   node scripts/options-docs.mjs --check   exit 1 and name the stale files (a test checks the same)
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { importTs, writeGenerated } from './ts-module.mjs'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const docs = await importTs(join(root, 'shared/src/options/docs.ts'))

writeGenerated(
  root,
  [
    ...docs.actionTables.map(({ action, table }) => ({
      path: join(action, 'action.yml'),
      render: (text) => docs.renderActionYml(text, table)
    })),
    { path: join('docs', 'cli.md'), render: (text) => docs.renderCliDoc(text) }
  ],
  'node scripts/options-docs.mjs'
)
