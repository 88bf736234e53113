// Writes what the outputs table (shared/src/outputs/table.ts) generates: each action.yml's
// `outputs:` block, and the table of every output in docs/outputs.md (between
// <!-- outputs-table --> and <!-- /outputs-table -->). Run `node scripts/action-docs.mjs`
// afterwards: README's action tables come from the action.yml files.
//
//   node scripts/outputs-docs.mjs           rewrite them
//   node scripts/outputs-docs.mjs --check   exit 1 and name the stale files (a test checks the same)
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { importTs, writeGenerated } from './ts-module.mjs'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const outputs = await importTs(join(root, 'shared/src/outputs/table.ts'))

writeGenerated(
  root,
  [
    ...Object.keys(outputs.actionOutputs).map((action) => ({
      path: join(action, 'action.yml'),
      render: (text) => outputs.renderOutputsYml(text, action)
    })),
    { path: join('docs', 'outputs.md'), render: (text) => outputs.renderOutputsDoc(text) }
  ],
  'node scripts/outputs-docs.mjs'
)
