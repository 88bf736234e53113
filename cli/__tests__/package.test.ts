/**
 * The CLI's npm package (cli/package.json, published as kit-deploy) as a user gets it: packed
 * from this clone, installed globally into an empty prefix from the tarball alone (offline,
 * with an empty npm cache, so a dependency the package declared would fail the install), then
 * run from there, outside the repository, on the Node 24 that runs this suite.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { execFile } from 'node:child_process'
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { delimiter, dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const cliDir = join(root, 'cli')
const run = promisify(execFile)

interface Manifest {
  name: string
  version: string
  private?: boolean
  type?: string
  bin?: Record<string, string>
  engines?: Record<string, string>
  dependencies?: unknown
  peerDependencies?: unknown
  optionalDependencies?: unknown
  bundleDependencies?: unknown
  scripts?: Record<string, string>
}

let work: string
let tarball: string
let packed: string[]
let manifest: Manifest

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'kit-cli-package-'))
  manifest = JSON.parse(await readFile(join(cliDir, 'package.json'), 'utf8')) as Manifest
  const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', work], {
    cwd: cliDir
  })
  const [result] = JSON.parse(stdout) as { filename: string; files: { path: string }[] }[]
  tarball = join(work, result.filename)
  packed = result.files.map((f) => f.path).sort()
}, 60_000)
afterAll(async () => {
  await rm(work, { recursive: true, force: true })
})

describe('the kit-deploy package', () => {
  it('ships only what runs: the launcher, the bundle, README, LICENSE and package.json', () => {
    expect(packed).toEqual([
      'LICENSE',
      'README.md',
      'dist/kit-bundle.js',
      'dist/kit.js',
      'package.json'
    ])
  })

  it('is publishable, names the kit command, declares Node 24 and no dependencies', () => {
    expect(manifest.private).toBeUndefined()
    expect(manifest.name).toBe('kit-deploy')
    expect(manifest.bin).toEqual({ kit: 'dist/kit.js' })
    expect(manifest.engines).toEqual({ node: '>=24' })
    // cli/src and cli/dist are ES modules through this file (the bundle script writes no
    // package.json into cli/dist).
    expect(manifest.type).toBe('module')
    for (const field of [
      'dependencies',
      'peerDependencies',
      'optionalDependencies',
      'bundleDependencies'
    ] as const)
      expect(manifest[field]).toBeUndefined()
    // Nothing runs at install time on the user's machine.
    expect(manifest.scripts).toBeUndefined()
  })

  it("carries the repository's LICENSE", async () => {
    expect(await readFile(join(cliDir, 'LICENSE'), 'utf8')).toBe(
      await readFile(join(root, 'LICENSE'), 'utf8')
    )
  })

  it('installs from the tarball alone and runs kit --version and kit render', async () => {
    const prefix = join(work, 'prefix')
    await run(
      'npm',
      [
        'install',
        '--global',
        '--prefix',
        prefix,
        '--offline',
        '--cache',
        join(work, 'npm-cache'),
        '--no-audit',
        '--no-fund',
        tarball
      ],
      { cwd: work }
    )
    // One package, nothing beside or inside it.
    expect(await readdir(join(prefix, 'lib', 'node_modules'))).toEqual(['kit-deploy'])
    expect((await readdir(join(prefix, 'lib', 'node_modules', 'kit-deploy'))).sort()).toEqual([
      'LICENSE',
      'README.md',
      'dist',
      'package.json'
    ])

    // The installed command, found on PATH as a user's shell finds it, on this suite's Node.
    const env = {
      PATH: [join(prefix, 'bin'), dirname(process.execPath), '/usr/bin', '/bin'].join(delimiter),
      HOME: work,
      NO_COLOR: '1'
    }
    const version = await run('kit', ['--version'], { cwd: work, env })
    expect(version.stdout.trim()).toContain(manifest.version)

    const repo = join(work, 'manifests')
    await writeFiles(repo, {
      'kit.yaml': 'defaults:\n  branch: main\n',
      'services/web/kit.yaml': 'image: acme/web\n',
      'services/web/deployment.yaml': deployment,
      'images/acme/web/main.yaml': 'image: ghcr.io/acme/web:1.4.0\n',
      'clusters/staging-us.yaml': 'labels:\n  env: staging\n'
    })
    const render = await run('kit', ['render'], { cwd: repo, env })
    expect(render.stdout).toContain('rendered 1 service on 1 cluster')
    const out = await readFile(
      join(repo, 'generated', 'staging-us', 'web', 'deployment-shop-web.yaml'),
      'utf8'
    )
    expect(out).toContain('image: ghcr.io/acme/web:1.4.0')
  }, 120_000)
})

const deployment = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
spec:
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
        - name: web
          image: \${{ image }}
`

async function writeFiles(dir: string, files: Record<string, string>): Promise<void> {
  for (const [path, text] of Object.entries(files)) {
    await mkdir(dirname(join(dir, path)), { recursive: true })
    await writeFile(join(dir, path), text)
  }
}
