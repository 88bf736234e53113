/** Manifest loading (both layouts) and pre-flight validation. */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { InputError } from '../../src/errors.js'
import { loadManifestsDir, parseManifests } from '../../src/k8s/manifests.js'

let root: string
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'kit-manifests-'))
})
afterAll(() => rmSync(root, { recursive: true, force: true }))

function tree(name: string, files: Record<string, string>): string {
  const dir = join(root, name)
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true })
    writeFileSync(join(dir, path), text)
  }
  return dir
}

const cm = (name: string, ns = 'app') =>
  `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\n  namespace: ${ns}\n`

describe('loadManifestsDir', () => {
  it('reads <dir>/<cluster>/**/*.yaml (the deploymentizer layout), multi-document and List files', async () => {
    const dir = tree('generated', {
      'index.json': '{}',
      'east/web/a.yaml': cm('a') + '---\n' + cm('b'),
      'east/web/nested/c.yml': `apiVersion: v1\nkind: List\nitems:\n  - ${JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' } })}\n`,
      'east/notes.txt': 'ignored',
      'west/x.yaml': cm('x')
    })
    const result = await loadManifestsDir(dir)
    expect([...result.keys()]).toEqual(['east', 'west'])
    expect(result.get('east')?.map((m) => m.object.metadata.name)).toEqual(['a', 'b', 'c'])
    expect(result.get('east')?.[1].source).toEqual({ file: join(dir, 'east/web/a.yaml'), line: 7 })
    expect((await loadManifestsDir(dir, { clusters: ['west'] })).size).toBe(1)
  })

  it("reads kit's layout: namespaces/<cluster>/ and manifests/<cluster>/", async () => {
    const dir = tree('kit', {
      'namespaces/prod-1/ns.yaml': 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: app\n',
      'manifests/prod-1/web.yaml': cm('web'),
      'manifests/prod-2/web.yaml': cm('web')
    })
    const result = await loadManifestsDir(dir)
    expect(result.get('prod-1')?.map((m) => m.object.kind)).toEqual(['Namespace', 'ConfigMap'])
    expect(result.get('prod-2')?.length).toBe(1)
  })

  it('refuses a duplicate object naming both places', async () => {
    const dir = tree('dupes', { 'c1/a.yaml': cm('same'), 'c1/b.yaml': cm('same') })
    await expect(loadManifestsDir(dir)).rejects.toThrow(
      new RegExp(
        `b\\.yaml:1: duplicate object ConfigMap/app/same in cluster "c1" \\(first defined at .*a\\.yaml:1\\)`
      )
    )
  })

  it('refuses a cluster directory whose name is not a cluster name', async () => {
    const dir = tree('badname', { 'Bad Name/a.yaml': cm('a') })
    await expect(loadManifestsDir(dir)).rejects.toThrow(/cluster directory name 'Bad Name'/)
  })

  it('shows a control character in a cluster directory name escaped, on one line', async () => {
    const dir = tree('newline', { 'kit\ne2e/a.yaml': cm('a') })
    await expect(loadManifestsDir(dir)).rejects.toThrow(
      /kit\\ne2e: cluster directory name 'kit\\ne2e'/
    )
  })

  it('refuses a manifest that is a symbolic link instead of skipping it', async () => {
    const dir = tree('linked', { 'c1/a.yaml': cm('a'), 'outside.yaml': cm('b') })
    symlinkSync(join(dir, 'outside.yaml'), join(dir, 'c1', 'linked.yaml'))
    await expect(loadManifestsDir(dir)).rejects.toThrow(/c1\/linked\.yaml: is a symbolic link/)
  })

  it('refuses a manifest that is not UTF-8, naming line and column', async () => {
    const dir = tree('latin1', {})
    mkdirSync(join(dir, 'c1'), { recursive: true })
    writeFileSync(
      join(dir, 'c1', 'a.yaml'),
      Buffer.from(
        'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {city: M\xfcnchen}\n',
        'latin1'
      )
    )
    await expect(loadManifestsDir(dir)).rejects.toThrow(/c1\/a\.yaml:4:15: not valid UTF-8/)
  })

  it('gives clusters sharing a file byte for byte objects of their own, each from its own file', async () => {
    const shared = cm('a') + '---\n' + cm('b')
    const dir = tree('same-files', { 'east/a.yaml': shared, 'west/a.yaml': shared })
    const result = await loadManifestsDir(dir)
    const [east, west] = [result.get('east') ?? [], result.get('west') ?? []]
    expect(west.map((m) => m.object)).toEqual(east.map((m) => m.object))
    expect(west[0].object).not.toBe(east[0].object)
    expect(west[1].source).toEqual({ file: join(dir, 'west/a.yaml'), line: 7 })
    east[0].object.metadata.name = 'changed in east'
    expect(west[0].object.metadata.name).toBe('a')
  })

  it("names a cluster's own copy of a shared file in its errors", async () => {
    const dir = tree('same-file-duplicate', {
      'east/a.yaml': cm('a'),
      'west/a.yaml': cm('a'),
      'west/b.yaml': cm('a')
    })
    const error = await loadManifestsDir(dir).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(InputError)
    expect(String(error)).toContain(join(dir, 'west/a.yaml'))
    expect(String(error)).toContain(join(dir, 'west/b.yaml'))
    expect(String(error)).not.toContain(join(dir, 'east'))
  })

  it('refuses a missing directory clearly', async () => {
    await expect(loadManifestsDir(join(root, 'nope'))).rejects.toThrow(
      /manifests directory does not exist/
    )
  })

  it('checks dependency annotations during pre-flight', async () => {
    const dir = tree('deps', {
      'c1/a.yaml': cm('a').replace(
        'metadata:\n',
        'metadata:\n  annotations:\n    kit.dev/depends-on: Secret/missing\n'
      )
    })
    await expect(loadManifestsDir(dir)).rejects.toThrow(/depends-on names Secret\/missing/)
  })
})

describe('parseManifests validation', () => {
  it.each([
    ['a scalar document', 'just text\n', /f\.yaml:1: expected a Kubernetes object/],
    ['no apiVersion', 'kind: ConfigMap\nmetadata:\n  name: a\n', /f\.yaml:1: missing "apiVersion"/],
    [
      'a bad apiVersion',
      'apiVersion: apps/v1/x\nkind: ConfigMap\nmetadata:\n  name: a\n',
      /f\.yaml:1: "apiVersion" "apps\/v1\/x"/
    ],
    ['no kind', 'apiVersion: v1\nmetadata:\n  name: a\n', /missing "kind"/],
    ['no metadata', 'apiVersion: v1\nkind: ConfigMap\n', /ConfigMap: missing "metadata"/],
    [
      'no name',
      'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  labels: {}\n',
      /f\.yaml:4: ConfigMap: missing "metadata.name"/
    ],
    [
      'generateName',
      'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  generateName: a-\n',
      /generateName" is not supported/
    ],
    [
      'a name with a slash',
      'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ../etc\n',
      /f\.yaml:4: ConfigMap name "..\/etc" may not contain/
    ],
    [
      'an upper-case Namespace',
      'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: Prod\n',
      /Namespace name "Prod" must be a DNS label/
    ],
    [
      'a bad namespace',
      'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  namespace: My_NS\n',
      /f\.yaml:5: .*namespace "My_NS" must be a DNS label/
    ],
    [
      'a non-string label',
      'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  labels:\n    replicas: 3\n',
      /f\.yaml:6: ConfigMap\/a: label "replicas" must be a string/
    ],
    ['a YAML syntax error', 'apiVersion: v1\nkind: [\n', /f\.yaml:\d+:\d+: invalid YAML/]
  ])('refuses %s', (_name, yaml, message) => {
    let error: unknown
    try {
      parseManifests(yaml, 'f.yaml')
    } catch (err) {
      error = err
    }
    expect(error).toBeInstanceOf(InputError)
    expect((error as Error).message).toMatch(message)
  })

  it('accepts RBAC-style names with colons', () => {
    expect(
      parseManifests(
        'apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: system:kit:reader\n',
        'f.yaml'
      )
    ).toHaveLength(1)
  })
})
