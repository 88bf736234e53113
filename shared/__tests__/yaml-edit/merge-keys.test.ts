/**
 * The bump edits files as the loader reads them: merge keys (`<<`) applied, aliases followed.
 * A container whose image comes through a merge key is retagged where the image it runs is
 * written; a value reached through a merge key is changed for that path only (or the edit is
 * refused when it cannot be); and a tag kit does not know is refused, so no bump is wrong.
 */
import { describe, expect, it } from '@jest/globals'
import { parse } from 'yaml'
import {
  defaultCommitMessage,
  deleteYamlKey,
  InputError,
  parseImageRef,
  planBump,
  retagContainerImages,
  setYamlValue,
  type BumpRequest
} from '../../src/index.js'

const api = (tag: string) => parseImageRef(`ghcr.io/acme/api:${tag}`)

function errorOf(fn: () => unknown): string {
  try {
    fn()
  } catch (err) {
    expect(err).toBeInstanceOf(InputError)
    return (err as Error).message
  }
  throw new Error('expected an InputError')
}

/** What the containers of the loaded file run, in document order. */
function imagesRun(text: string): string[] {
  const out: string[] = []
  const walk = (v: unknown, key?: string): void => {
    if (Array.isArray(v)) v.forEach((item) => walk(item, key))
    else if (v && typeof v === 'object')
      for (const [k, child] of Object.entries(v)) {
        if (key === 'containers' && k === 'image') out.push(child as string)
        else walk(child, k === 'image' ? undefined : k)
      }
  }
  walk(parse(text, { merge: true }))
  return out
}

describe('retagging container images through merge keys', () => {
  it.each([
    {
      name: 'an image merged from an anchor',
      text: 'x-api: &api\n  name: api\n  image: ghcr.io/acme/api:1.0.0\nspec:\n  containers:\n    - <<: *api\n      ports: [{containerPort: 80}]\n',
      runs: ['ghcr.io/acme/api:2.0.0'],
      edited: ['spec.containers[0].image']
    },
    {
      name: 'a container that overrides the merged image: its own key is the one edited',
      text: 'x-api: &api {name: api, image: ghcr.io/acme/other:1}\nspec:\n  containers:\n    - <<: *api\n      image: ghcr.io/acme/api:1.0.0\n',
      runs: ['ghcr.io/acme/api:2.0.0'],
      edited: ['spec.containers[0].image']
    },
    {
      name: 'a list of sources: the first that has an image wins',
      text: 'a: &a {name: a}\nb: &b {image: ghcr.io/acme/api:1.0.0}\nc: &c {image: ghcr.io/acme/api:0.1.0}\nspec:\n  containers:\n    - <<: [*a, *b, *c]\n',
      runs: ['ghcr.io/acme/api:2.0.0'],
      edited: ['spec.containers[0].image']
    },
    {
      name: 'flow style',
      text: 'a: &a {image: ghcr.io/acme/api:1.0.0}\nspec: {containers: [{<<: *a, name: x}]}\n',
      runs: ['ghcr.io/acme/api:2.0.0'],
      edited: ['spec.containers[0].image']
    },
    {
      name: 'a pod spec merged into a workload',
      text: 'x-pod: &pod\n  containers:\n    - name: api\n      image: ghcr.io/acme/api:1.0.0\nkind: Deployment\nspec:\n  template:\n    spec:\n      <<: *pod\n',
      runs: ['ghcr.io/acme/api:2.0.0', 'ghcr.io/acme/api:2.0.0'],
      edited: ['x-pod.containers[0].image']
    },
    {
      name: 'a container list given by an alias',
      text: 'x-c: &c [{name: api, image: ghcr.io/acme/api:1.0.0}]\nkind: Pod\nspec:\n  containers: *c\n',
      runs: ['ghcr.io/acme/api:2.0.0'],
      edited: ['spec.containers[0].image']
    }
  ])('$name', ({ text, runs, edited }) => {
    const result = retagContainerImages(text, 'm.yaml', api('2.0.0'))
    expect(imagesRun(result.text)).toEqual(runs)
    expect(result.replacements.map((r) => r.path)).toEqual(edited)
    // Only the image text changed: the rest of the file is byte for byte the same.
    expect(result.text).toBe(text.replace(/ghcr\.io\/acme\/api:1\.0\.0/, 'ghcr.io/acme/api:2.0.0'))
  })

  it('leaves an overridden merged image alone (the container does not run it)', () => {
    const text =
      'x-api: &api {image: ghcr.io/acme/api:1.0.0}\nspec:\n  containers:\n    - <<: *api\n      image: ghcr.io/acme/web:1\n'
    const result = retagContainerImages(text, 'm.yaml', api('2.0.0'))
    expect(result.matched).toBe(0)
    expect(result.text).toBe(text)
  })
})

describe('setting a value reached through a merge key', () => {
  const values =
    'base: &base\n  repository: ghcr.io/acme/api\n  tag: 1.0.0\nimage:\n  <<: *base\nother:\n  <<: *base\n'

  it("writes the map's own key, so other maps merging the same source keep their value", () => {
    const result = setYamlValue(values, ['image', 'tag'], '2.0.0', { file: 'v.yaml' })
    expect(result.text).toBe(`${values.replace('other:', '  tag: 2.0.0\nother:')}`)
    expect(result.previous).toBe('1.0.0')
    expect(parse(result.text, { merge: true })).toEqual({
      base: { repository: 'ghcr.io/acme/api', tag: '1.0.0' },
      image: { repository: 'ghcr.io/acme/api', tag: '2.0.0' },
      other: { repository: 'ghcr.io/acme/api', tag: '1.0.0' }
    })
  })

  it('changes nothing when the merged value is already the new one', () => {
    const result = setYamlValue(values, ['image', 'tag'], '1.0.0', { file: 'v.yaml' })
    expect(result).toEqual({ text: values, changed: false, previous: '1.0.0' })
  })

  it('keeps a number a number, in a flow map', () => {
    const text = 'image: {<<: {repository: r, tag: 1}, pullPolicy: x}\n'
    const result = setYamlValue(text, ['image', 'tag'], '2', { file: 'v.yaml' })
    expect(result.text).toBe('image: {<<: {repository: r, tag: 1}, pullPolicy: x, tag: 2}\n')
  })

  it('refuses a path whose map on the way comes from a merge key, naming its line', () => {
    const text = 'common: &c\n  image:\n    tag: 1.0.0\nprod:\n  <<: *c\n'
    expect(
      errorOf(() => setYamlValue(text, ['prod', 'image', 'tag'], '2', { file: 'v.yaml' }))
    ).toMatch(/^v\.yaml:5: cannot reach 'prod\.image\.tag': 'prod\.image' comes from the merge key/)
  })

  it('refuses to remove a key a merge key gives a value (it would stay, or come back)', () => {
    const merged = "x: &src {commit: abc}\nimage: r/a:1\nsource:\n  <<: *src\n  builtAt: '2026'\n"
    expect(errorOf(() => deleteYamlKey(merged, ['source', 'commit'], { file: 'i.yaml' }))).toMatch(
      /^i\.yaml:4: cannot remove 'source\.commit': the merge key \(<<\) at line 4 gives/
    )
    const both = 'x: &d {digest: sha256:old}\n<<: *d\nimage: r/a:1\ndigest: sha256:new\n'
    expect(errorOf(() => deleteYamlKey(both, ['digest'], { file: 'i.yaml' }))).toMatch(
      /^i\.yaml:2: cannot remove 'digest'/
    )
    const path = 'x: &s {source: {commit: abc}}\n<<: *s\nimage: r/a:1\nother: 1\n'
    expect(errorOf(() => deleteYamlKey(path, ['source', 'commit'], { file: 'i.yaml' }))).toMatch(
      /^i\.yaml:2: cannot remove 'source\.commit'/
    )
  })

  it('removes a key a merge key does not give', () => {
    const text = 'x: &s {a: 1}\nm:\n  <<: *s\n  digest: sha256:x\n  b: 2\n'
    expect(deleteYamlKey(text, ['m', 'digest'], { file: 'i.yaml' }).text).toBe(
      'x: &s {a: 1}\nm:\n  <<: *s\n  b: 2\n'
    )
  })

  it("creates a key named '<<' quoted, so it is never read as a merge key", () => {
    const result = setYamlValue('a: 1\n', ['<<'], 'x', { file: 'v.yaml', create: true })
    expect(result.text).toBe('a: 1\n"<<": x\n')
  })
})

describe('a bump over files with merge keys and unknown tags', () => {
  const request = (over: Partial<BumpRequest>): BumpRequest => ({
    image: api('2.0.0'),
    imageName: 'api',
    branch: 'main',
    imagesDir: 'images',
    writeImageFile: false,
    values: [],
    manifests: [],
    provenance: {},
    force: false,
    messageTemplate: defaultCommitMessage,
    ...over
  })
  const manifest =
    'x-api: &api\n  name: api\n  image: ghcr.io/acme/api:1.0.0\nkind: Pod\nspec:\n  containers:\n    - <<: *api\n'

  it('retags the merged image of a manifest', () => {
    const plan = planBump(
      new Map([['deploy/api.yaml', manifest]]),
      request({ manifests: ['deploy/api.yaml'] })
    )
    expect(plan.outcome).toBe('changed')
    expect(imagesRun(plan.changes[0].after ?? '')).toEqual(['ghcr.io/acme/api:2.0.0'])
  })

  it.each([
    [
      'a manifest',
      'deploy/api.yaml',
      `${manifest}    - {name: x, image: !Image api}\n`,
      8,
      { manifests: ['deploy/api.yaml'] }
    ],
    [
      'a values file',
      'helm/values.yaml',
      'image:\n  repository: !!js/undefined ""\n  tag: 1.0.0\n',
      2,
      {
        values: [
          { file: 'helm/values.yaml', path: ['image', 'tag'], field: 'tag' as const, create: false }
        ]
      }
    ],
    [
      'an image file',
      'images/api/main.yaml',
      'image: ghcr.io/acme/api:1.0.0\nsource: !!omap [a: 1]\n',
      2,
      { writeImageFile: true }
    ]
  ])('refuses an unknown tag in %s, naming file and line', (_kind, file, text, line, over) => {
    expect(errorOf(() => planBump(new Map([[file, text]]), request(over)))).toMatch(
      new RegExp(`^${file.replace(/\./g, '\\.')}:${line}:\\d+: YAML tag \\S+ is not accepted`)
    )
  })
})
