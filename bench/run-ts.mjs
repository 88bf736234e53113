// Runs a TypeScript script (the benchmarks, `npm run clusters`): bundles it with esbuild (the
// project's bundler) into a temp file and imports it, so they use the same sources as the
// actions without a separate TypeScript runner or a build step.
//   node bench/run-ts.mjs bench/bump.ts [args]
import { build } from 'esbuild'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'

const [entry, ...args] = process.argv.slice(2)
const dir = mkdtempSync(join(tmpdir(), 'kit-bench-'))
const outfile = join(dir, 'bench.mjs')
await build({
  entryPoints: [resolve(entry)],
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
process.argv = [process.argv[0], entry, ...args]
try {
  await import(pathToFileURL(outfile).href)
} finally {
  rmSync(dir, { recursive: true, force: true })
}
