// Runs a TypeScript script (the benchmarks, `npm run clusters`) from the repository's sources,
// bundled by scripts/ts-module.mjs, with the arguments after its path.
//   node bench/run-ts.mjs bench/bump.ts [args]
import { importTs } from '../scripts/ts-module.mjs'

const [entry, ...args] = process.argv.slice(2)
process.argv = [process.argv[0], entry, ...args]
await importTs(entry)
