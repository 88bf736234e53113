// Bundles each action (and the kit CLI) into one ESM file, the form GitHub's runner executes.
//
//   node scripts/bundle.mjs           write <action>/dist/index.js and cli/dist/kit.js
//   node scripts/bundle.mjs --check   bundle into a temp dir and fail if a committed dist differs
//
// esbuild rather than rollup: one dependency, no plugin chain, and a full build of the three
// actions with @kubernetes/client-node takes about a second on two cores. It does not type-check;
// `npm run typecheck` does that.
import { build } from 'esbuild'
import {
  mkdtempSync,
  readFileSync,
  existsSync,
  readdirSync,
  rmSync,
  writeFileSync,
  mkdirSync
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join, dirname, relative } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')

export const bundles = [
  { entry: 'image-deployer/src/index.ts', out: 'image-deployer/dist/index.js' },
  { entry: 'deploymentizer/src/index.ts', out: 'deploymentizer/dist/index.js' },
  { entry: 'deployer/src/index.ts', out: 'deployer/dist/index.js' },
  { entry: 'cli/src/kit.ts', out: 'cli/dist/kit.js', shebang: true }
]

// Some dependencies are CommonJS and call require(); ESM output needs a real require.
const banner = [
  "import { createRequire as __kitCreateRequire } from 'node:module';",
  'const require = __kitCreateRequire(import.meta.url);'
].join('\n')

// The CLI runs on whatever `node` a user has: say plainly when it is older than the runtime the
// bundled Kubernetes client needs, instead of crashing inside it while loading.
const nodeCheck = [
  "if (Number(process.versions.node.split('.')[0]) < 24) {",
  "  process.stderr.write('kit needs Node.js 24 or newer (this is ' + process.version + '); in a clone of kit, `npm run kit -- <command>` uses the Node 24 it installs\\n');",
  '  process.exit(2);',
  '}',
  ''
].join('\n')

async function bundleInto(outRoot) {
  for (const b of bundles) {
    const outfile = join(outRoot, b.out)
    await build({
      entryPoints: [join(root, b.entry)],
      outfile,
      bundle: true,
      platform: 'node',
      target: 'node24',
      format: 'esm',
      banner: { js: (b.shebang ? '#!/usr/bin/env node\n' + nodeCheck : '') + banner },
      legalComments: 'none',
      sourcemap: false,
      logLevel: 'warning',
      // Paths in the bundle are relative to the repo, so the output does not depend on where
      // the clone lives: the dist check compares bytes.
      absWorkingDir: root
    })
    writeFileSync(join(dirname(outfile), 'package.json'), '{\n  "type": "module"\n}\n')
  }
}

function listFiles(dir) {
  if (!existsSync(dir)) return []
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => relative(dir, join(d.parentPath, d.name)))
    .sort()
}

async function check() {
  const tmp = mkdtempSync(join(tmpdir(), 'kit-dist-'))
  try {
    await bundleInto(tmp)
    const stale = []
    for (const b of bundles) {
      const distDir = dirname(b.out)
      const fresh = listFiles(join(tmp, distDir))
      const committed = listFiles(join(root, distDir))
      for (const f of new Set([...fresh, ...committed])) {
        const a = join(tmp, distDir, f)
        const c = join(root, distDir, f)
        if (!existsSync(a)) stale.push(`${distDir}/${f} is not produced by the bundle (remove it)`)
        else if (!existsSync(c)) stale.push(`${distDir}/${f} is missing (run npm run bundle)`)
        else if (!readFileSync(a).equals(readFileSync(c)))
          stale.push(`${distDir}/${f} differs from a fresh bundle`)
      }
    }
    if (stale.length > 0) {
      console.error(
        'dist is not current:\n  ' +
          stale.join('\n  ') +
          '\nRun `npm run bundle` and commit the result.'
      )
      process.exitCode = 1
    } else {
      console.log(`dist is current (${bundles.length} bundles)`)
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true })
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if (process.argv.includes('--check')) await check()
  else {
    for (const b of bundles) mkdirSync(join(root, dirname(b.out)), { recursive: true })
    await bundleInto(root)
    console.log(`bundled ${bundles.map((b) => b.out).join(', ')}`)
  }
}
