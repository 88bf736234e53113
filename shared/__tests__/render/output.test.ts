import { afterEach, describe, expect, it } from '@jest/globals'
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync
} from 'node:fs'
import { join } from 'node:path'
import { buildMatrix, runRender, WritePool, type RenderIndex } from '../../src/render/index.js'
import { baseRepo, makeRepo, readTree, removeAll } from './helpers.js'

const made: string[] = []
afterEach(() => removeAll(...made.splice(0)))

const web = {
  'services/web/kit.yaml': 'image: acme/web\n',
  'services/web/deployment.yaml':
    'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: apps\nspec:\n  template:\n    spec:\n      containers:\n        - name: web\n          image: ${{ image }}\n',
  'images/acme/web/main.yaml': 'image: r/web:1\n'
}

function repo(extra: Record<string, string | undefined> = {}): string {
  const root = makeRepo({ ...baseRepo, ...web, ...extra })
  made.push(root)
  return root
}

const render = (root: string, options: Partial<Parameters<typeof runRender>[0]> = {}) =>
  runRender({ root, mode: 'write', env: {}, ...options })

const index = (root: string) =>
  JSON.parse(readFileSync(join(root, 'generated/index.json'), 'utf8')) as RenderIndex

describe('output folder', () => {
  it('writes <cluster>/<service>/<kind>-<namespace>-<name>.yaml and an index', async () => {
    const root = repo()
    const result = await render(root)
    expect(Object.keys(readTree(join(root, 'generated'))).sort()).toEqual([
      'a/api/deployment-apps-api.yaml',
      'a/web/deployment-apps-web.yaml',
      'b/api/deployment-apps-api.yaml',
      'b/web/deployment-apps-web.yaml',
      'index.json'
    ])
    const idx = index(root)
    expect(idx.hash).toBe(result.hash)
    expect(idx.clusters.a.services.api).toMatchObject({
      branch: 'main',
      files: ['a/api/deployment-apps-api.yaml'],
      images: { image: { ref: 'r.example/acme/api:main-1', file: 'images/acme/api/main.yaml' } }
    })
    expect(idx.images['images/acme/web/main.yaml']).toEqual({ source: 'acme/web', ref: 'r/web:1' })
    expect(result.counts).toEqual({ clusters: 2, services: 4, files: 4, skipped: 0 })
  })

  it('writes nothing when any cluster fails, leaving the previous output as it was', async () => {
    const root = repo()
    await render(root)
    const before = readTree(join(root, 'generated'))
    // Break cluster b only: a renders fine, but nothing may be written.
    writeFileSync(
      join(root, 'clusters/b.yaml'),
      'groups: [prod]\nservices:\n  web:\n    branch: missing\n'
    )
    writeFileSync(join(root, 'groups/prod.yaml'), 'branch: main\nvalues:\n  replicas: 5\n')
    await expect(render(root)).rejects.toThrow(
      "cluster b, service web: no image file for acme/web on branch 'missing'"
    )
    expect(readTree(join(root, 'generated'))).toEqual(before)
    expect(readdirSync(join(root, 'generated')).filter((e) => e.startsWith('.'))).toEqual([])
  })

  it('a failed first render leaves nothing behind: no output folder, no parents, no staging', async () => {
    const root = repo({
      'services/web/secret.yaml':
        'apiVersion: v1\nkind: Secret\nmetadata:\n  name: web\n  namespace: apps\nstringData:\n  TOKEN: ${{ env.TOKEN }}\n'
    })
    const before = readdirSync(root).sort()
    for (const output of [undefined, 'deep/er/generated']) {
      await expect(render(root, { output })).rejects.toThrow(
        'environment variable TOKEN is not set'
      )
      expect(readdirSync(root).sort()).toEqual(before)
    }
    // The same render succeeds, and its output appears whole, index included.
    const result = await render(root, { output: 'deep/er/generated', env: { TOKEN: 't' } })
    expect(Object.keys(readTree(result.outputDir))).toContain('index.json')
    expect(readdirSync(join(root, 'deep/er'))).toEqual(['generated'])
  })

  it('a re-render rewrites only files whose content changed, and deletes what is gone', async () => {
    const root = repo({
      'services/worker/deployment.yaml':
        'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: worker\n  namespace: apps\n'
    })
    await render(root)
    const inode = (path: string) => statSync(join(root, 'generated', path)).ino
    const before = {
      api: inode('a/api/deployment-apps-api.yaml'),
      web: inode('a/web/deployment-apps-web.yaml'),
      index: inode('index.json')
    }
    // Unchanged input: no file is replaced (the index is rewritten, with the same bytes).
    const tree = readTree(join(root, 'generated'))
    await render(root)
    expect(readTree(join(root, 'generated'))).toEqual(tree)
    expect(inode('a/api/deployment-apps-api.yaml')).toBe(before.api)
    expect(inode('a/web/deployment-apps-web.yaml')).toBe(before.web)
    // One image changes and a service goes: only that image's files are replaced.
    writeFileSync(join(root, 'images/acme/web/main.yaml'), 'image: r/web:2\n')
    rmSync(join(root, 'services/worker'), { recursive: true })
    await render(root)
    expect(inode('a/api/deployment-apps-api.yaml')).toBe(before.api)
    expect(inode('a/web/deployment-apps-web.yaml')).not.toBe(before.web)
    expect(readFileSync(join(root, 'generated/a/web/deployment-apps-web.yaml'), 'utf8')).toContain(
      'r/web:2'
    )
    expect(existsSync(join(root, 'generated/a/worker'))).toBe(false)
    expect(readdirSync(join(root, 'generated')).sort()).toEqual(['a', 'b', 'index.json'])
    expect(inode('index.json')).not.toBe(before.index)
  })

  it('replaces a link found in the output folder, never following it', async () => {
    const root = repo()
    await render(root)
    const outside = join(root, 'outside')
    mkdirSync(outside)
    writeFileSync(join(outside, 'keep.yaml'), 'mine')
    // The same bytes kit renders: seen through the link it would look unchanged.
    const rendered = readFileSync(join(root, 'generated/a/web/deployment-apps-web.yaml'), 'utf8')
    writeFileSync(join(outside, 'deployment-apps-web.yaml'), rendered)
    rmSync(join(root, 'generated/a/web'), { recursive: true })
    symlinkSync(outside, join(root, 'generated/a/web'))
    await render(root)
    expect(readdirSync(outside).sort()).toEqual(['deployment-apps-web.yaml', 'keep.yaml'])
    expect(readFileSync(join(outside, 'keep.yaml'), 'utf8')).toBe('mine')
    expect(lstatSync(join(root, 'generated/a/web')).isDirectory()).toBe(true)
    expect(readFileSync(join(root, 'generated/a/web/deployment-apps-web.yaml'), 'utf8')).toContain(
      'r/web:1'
    )
  })

  it('cleans up staging folders left by a killed render', async () => {
    const root = repo()
    mkdirSync(join(root, '.kit-staging-generated-4000000/a'), { recursive: true })
    mkdirSync(join(root, '.kit-staging-generated-other'), { recursive: true })
    await render(root)
    expect(readdirSync(root).filter((e) => e.startsWith('.'))).toEqual([
      '.kit-staging-generated-other'
    ])
    mkdirSync(join(root, 'generated/.kit-staging-4000000/b'), { recursive: true })
    await render(root)
    expect(readdirSync(join(root, 'generated')).sort()).toEqual(['a', 'b', 'index.json'])
  })

  it('a full render removes clusters that no longer exist or are disabled', async () => {
    const root = repo()
    await render(root)
    writeFileSync(join(root, 'clusters/b.yaml'), 'enabled: false\n')
    const result = await render(root)
    expect(existsSync(join(root, 'generated/b'))).toBe(false)
    expect(result.disabled).toEqual(['b'])
    expect(index(root).disabled).toEqual(['b'])
  })

  it('a render of some clusters replaces only their folders and keeps the index whole', async () => {
    const root = repo()
    await render(root)
    const bBefore = readTree(join(root, 'generated/b'))
    writeFileSync(join(root, 'groups/prod.yaml'), 'branch: main\nvalues:\n  replicas: 7\n')
    await render(root, { selection: { clusters: ['a'] } })
    expect(readTree(join(root, 'generated/a'))['api/deployment-apps-api.yaml']).toContain(
      'replicas: 7'
    )
    expect(readTree(join(root, 'generated/b'))).toEqual(bBefore)
    expect(Object.keys(index(root).clusters)).toEqual(['a', 'b'])
  })

  it('a render of some services replaces only those services and merges the index', async () => {
    const root = repo()
    await render(root)
    writeFileSync(join(root, 'images/acme/api/main.yaml'), 'image: r.example/acme/api:main-2\n')
    writeFileSync(join(root, 'images/acme/web/main.yaml'), 'image: r/web:2\n')
    await render(root, { selection: { services: ['web'] } })
    const tree = readTree(join(root, 'generated'))
    expect(tree['a/web/deployment-apps-web.yaml']).toContain('r/web:2')
    expect(tree['a/api/deployment-apps-api.yaml']).toContain('main-1')
    const idx = index(root)
    expect(Object.keys(idx.clusters.a.services)).toEqual(['api', 'web'])
    expect(idx.clusters.a.services.web.images.image.ref).toBe('r/web:2')
    expect(idx.clusters.a.services.api.images.image.ref).toBe('r.example/acme/api:main-1')
    expect(Object.keys(idx.images).sort()).toEqual([
      'images/acme/api/main.yaml',
      'images/acme/web/main.yaml'
    ])
  })

  it('refuses to replace a folder kit did not write', async () => {
    const root = repo()
    mkdirSync(join(root, 'generated'))
    writeFileSync(join(root, 'generated/notes.txt'), 'mine')
    await expect(render(root)).rejects.toThrow(
      'has files but no kit index.json; refusing to replace what kit did not write'
    )
    expect(readFileSync(join(root, 'generated/notes.txt'), 'utf8')).toBe('mine')
  })

  it.each([
    ['.', 'contains the manifests repository'],
    ['..', 'contains the manifests repository'],
    ['services/out', "is inside the source folder 'services'"]
  ])('refuses the output folder %s', async (output, message) => {
    const root = repo()
    await expect(render(root, { output })).rejects.toThrow(message)
  })

  it('check mode reports added, changed and removed files and writes nothing', async () => {
    const root = repo()
    await render(root)
    expect((await render(root, { mode: 'check' })).differences).toEqual([])
    writeFileSync(join(root, 'groups/prod.yaml'), 'branch: main\nvalues:\n  replicas: 9\n')
    writeFileSync(join(root, 'clusters/b.yaml'), 'enabled: false\n')
    writeFileSync(join(root, 'clusters/c.yaml'), 'groups: [prod]\n')
    const result = await render(root, { mode: 'check' })
    expect(result.differences).toEqual([
      'added c/api/deployment-apps-api.yaml',
      'added c/web/deployment-apps-web.yaml',
      'changed a/api/deployment-apps-api.yaml',
      'changed index.json',
      'removed b/api/deployment-apps-api.yaml',
      'removed b/web/deployment-apps-web.yaml'
    ])
    expect(existsSync(join(root, 'generated/c'))).toBe(false)
  })

  it('dry run writes nothing at all', async () => {
    const root = repo()
    const result = await render(root, { mode: 'dry-run' })
    expect(result.counts.files).toBe(4)
    expect(existsSync(join(root, 'generated'))).toBe(false)
  })
})

describe('writer threads', () => {
  it('write every job, each folder once, and skip files already identical', async () => {
    const dir = makeRepo({ 'old/s/same.yaml': 'same\n', 'old/s/changed.yaml': 'before\n' })
    made.push(dir)
    const pool = new WritePool(2)
    try {
      await pool.submit({
        root: join(dir, 'new'),
        compareRoot: join(dir, 'old'),
        files: [
          ['s/same.yaml', 'same\n'],
          ['s/changed.yaml', 'after\n'],
          ['t/added.yaml', 'added\n']
        ]
      })
      for (let i = 0; i < 6; i++)
        await pool.submit({ root: join(dir, `c${i}`), files: [['x/y.yaml', `${i}\n`]] })
      await pool.drain()
    } finally {
      await pool.close()
    }
    expect(readTree(join(dir, 'new'))).toEqual({
      's/changed.yaml': 'after\n',
      't/added.yaml': 'added\n'
    })
    expect(readFileSync(join(dir, 'c5/x/y.yaml'), 'utf8')).toBe('5\n')
    expect({ written: pool.written, unchanged: pool.unchanged }).toEqual({
      written: 8,
      unchanged: 1
    })
  })

  it('reports a failed write (here: a file where a folder must go)', async () => {
    const dir = makeRepo({ blocker: 'a file' })
    made.push(dir)
    const pool = new WritePool(1)
    try {
      await pool.submit({ root: join(dir, 'blocker'), files: [['s/x.yaml', 'x\n']] })
      await expect(pool.drain()).rejects.toThrow(/ENOTDIR|EEXIST/)
      await expect(
        pool.submit({ root: join(dir, 'ok'), files: [['s/x.yaml', 'x\n']] })
      ).rejects.toThrow(/ENOTDIR|EEXIST/)
    } finally {
      await pool.close()
    }
  })
})

describe('buildMatrix', () => {
  it('makes one job per cluster', () => {
    expect(buildMatrix(['a', 'b'])).toEqual({ include: [{ cluster: 'a' }, { cluster: 'b' }] })
  })
  it('shards clusters', () => {
    const names = Array.from({ length: 12 }, (_, i) => `c${i}`)
    const m = buildMatrix(names, 5)
    expect(m.include).toEqual([
      { shard: '1-of-3', clusters: 'c0,c1,c2,c3,c4' },
      { shard: '2-of-3', clusters: 'c5,c6,c7,c8,c9' },
      { shard: '3-of-3', clusters: 'c10,c11' }
    ])
  })
  it("refuses more jobs than GitHub's matrix limit", () => {
    const names = Array.from({ length: 300 }, (_, i) => `c${i}`)
    expect(() => buildMatrix(names)).toThrow('set shard-size to at least 2')
    expect(buildMatrix(names, 2).include).toHaveLength(150)
  })
})
