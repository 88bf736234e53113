// Jest loads globalSetup/globalTeardown with Node's own loader, which cannot import TypeScript
// that uses `.js` import specifiers. Bundle the module with esbuild into a temp file first.
import { build } from 'esbuild'
import { mkdirSync, mkdtempSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'

export async function importTs(entry) {
  // Inside node_modules, so the bundle's bare imports resolve to the project's packages.
  const cacheDir = join('node_modules', '.cache', 'kit-jest')
  mkdirSync(cacheDir, { recursive: true })
  const outfile = join(mkdtempSync(join(cacheDir, 'm-')), 'module.mjs')
  await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    packages: 'external',
    logLevel: 'error'
  })
  return import(pathToFileURL(join(process.cwd(), outfile)).href)
}
