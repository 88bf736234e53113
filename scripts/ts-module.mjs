// What the project's scripts share: loading a TypeScript module of the repository, and writing
// (or checking) the files a generator makes.
//
// A TypeScript module is bundled with esbuild (the project's bundler) into a temp file and
// imported, so scripts use the same sources as the actions without a separate TypeScript runner
// or a build step. Node's own type stripping cannot load them: kit's imports name `.js` files.
import { build } from 'esbuild'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'

/** Imports the TypeScript module at `entry` (a path), bundled with its imports. */
export async function importTs(entry) {
  const dir = mkdtempSync(join(tmpdir(), 'kit-ts-'))
  const outfile = join(dir, 'module.mjs')
  try {
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
    return await import(pathToFileURL(outfile).href)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/**
 * Brings generated files up to date: each of `files` is `{ path, render }`, where `render` takes
 * the file's text and returns what it should be. With `--check` on the command line nothing is
 * written and the stale files are named (exit code 1); otherwise they are rewritten.
 */
export function writeGenerated(root, files, command) {
  const check = process.argv.includes('--check')
  const stale = []
  for (const f of files) {
    const full = join(root, f.path)
    const current = readFileSync(full, 'utf8')
    const fresh = f.render(current)
    if (fresh === current) continue
    stale.push(f.path)
    if (!check) writeFileSync(full, fresh)
  }
  if (check) {
    if (stale.length > 0) {
      process.stderr.write(`stale: ${stale.join(', ')} (run ${command})\n`)
      process.exitCode = 1
    }
  } else console.log(stale.length ? `written: ${stale.join(', ')}` : 'up to date')
}
