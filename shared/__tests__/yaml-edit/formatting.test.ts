import { describe, expect, it } from '@jest/globals'
import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import {
  deleteYamlKey,
  InputError,
  parseImageRef,
  retagContainerImages,
  setYamlValue
} from '../../src/index.js'

const here = dirname(fileURLToPath(import.meta.url))
const fixture = (name: string): string =>
  readFileSync(join(here, '..', 'fixtures', 'yaml-edit', name), 'utf8')
const api = (tag: string) => parseImageRef(`ghcr.io/acme/api:${tag}`)

/** The expected file: the original with exactly these substrings replaced, in order, once each. */
function substitute(text: string, ...pairs: [string, string][]): string {
  let out = text
  let from = 0
  for (const [a, b] of pairs) {
    const at = out.indexOf(a, from)
    if (at < 0) throw new Error(`fixture does not contain ${a}`)
    out = out.slice(0, at) + b + out.slice(at + a.length)
    from = at + b.length
  }
  return out
}

describe('retagging container images keeps every other byte', () => {
  it.each([
    {
      name: 'comments, blank lines and aligned comments',
      file: 'comments.yaml',
      pairs: [['ghcr.io/acme/api:1.0.0    # bumped', 'ghcr.io/acme/api:2.0.0    # bumped']] as [
        string,
        string
      ][],
      count: 1
    },
    {
      name: 'an anchor shared by aliases and a merge key (edited once, at the anchor)',
      file: 'anchors.yaml',
      pairs: [
        ['&api ghcr.io/acme/api:1.0.0', '&api ghcr.io/acme/api:2.0.0'],
        ["'ghcr.io/acme/api:0.9.0'", "'ghcr.io/acme/api:2.0.0'"]
      ] as [string, string][],
      count: 2
    },
    {
      name: 'flow style on one line',
      file: 'flow.yaml',
      pairs: [['image: ghcr.io/acme/api:1.0.0}', 'image: ghcr.io/acme/api:2.0.0}']] as [
        string,
        string
      ][],
      count: 1
    },
    {
      name: 'odd indentation and a double-quoted value',
      file: 'odd-indent.yaml',
      pairs: [['"ghcr.io/acme/api:1.0.0"', '"ghcr.io/acme/api:2.0.0"']] as [string, string][],
      count: 1
    },
    {
      name: 'several documents, a digest, a CronJob and a single-quoted value',
      file: 'multi-doc.yaml',
      pairs: [
        [
          'ghcr.io/acme/api:1.0.0@sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa',
          'ghcr.io/acme/api:2.0.0'
        ],
        ["'ghcr.io/acme/api:1.0.0'", "'ghcr.io/acme/api:2.0.0'"]
      ] as [string, string][],
      count: 2
    }
  ])('$name', ({ file, pairs, count }) => {
    const text = fixture(file)
    const result = retagContainerImages(text, file, api('2.0.0'))
    expect(result.replacements).toHaveLength(count)
    expect(result.text).toBe(substitute(text, ...pairs))
  })

  it('keeps CRLF line endings', () => {
    const text = fixture('comments.yaml').replace(/\n/g, '\r\n')
    const result = retagContainerImages(text, 'crlf.yaml', api('2.0.0'))
    expect(result.text).toBe(text.replace('api:1.0.0 ', 'api:2.0.0 '))
    expect(result.text.match(/\r\n/g)?.length).toBe(text.match(/\r\n/g)?.length)
    expect(/[^\r]\n/.test(result.text)).toBe(false)
  })

  it('matches Docker Hub names however they are spelled, keeping the spelling', () => {
    const text = fixture('odd-indent.yaml')
    const result = retagContainerImages(text, 'f', parseImageRef('docker.io/library/nginx:1.27'))
    expect(result.text).toBe(text.replace('image: nginx:1.25', 'image: nginx:1.27'))
  })

  it('changes nothing when every matching image is current, and reports the match', () => {
    const text = fixture('comments.yaml')
    const result = retagContainerImages(text, 'f', api('1.0.0'))
    expect(result.text).toBe(text)
    expect(result.matched).toBe(1)
    expect(result.replacements).toEqual([])
  })

  it('leaves other repositories and placeholders alone', () => {
    const text =
      'spec:\n  containers:\n    - image: ${{ image }}\n    - image: ghcr.io/acme/apix:1\n'
    expect(retagContainerImages(text, 'f', api('2')).text).toBe(text)
  })
})

describe('setting a value at a path', () => {
  const values = fixture('values.yaml')

  it.each([
    { path: ['image', 'tag'], value: '1.1.0', expected: values.replace('"1.0.0"', '"1.1.0"') },
    { path: ['replicas'], value: '5', expected: values.replace('replicas: 2', 'replicas: 5') },
    {
      path: ['replicas'],
      value: 'many',
      expected: values.replace('replicas: 2', 'replicas: many')
    },
    {
      path: ['image', 'repository'],
      value: 'ghcr.io/acme/api2',
      expected: values.replace('repository: ghcr.io/acme/api\n', 'repository: ghcr.io/acme/api2\n')
    },
    // 500m is a string, so 1 is written as one (quoted) to keep the type.
    {
      path: ['resources', 'limits', 'cpu'],
      value: '1',
      expected: values.replace('{cpu: 500m}', '{cpu: "1"}')
    },
    // A plain string that would read back as a number or a bool is quoted.
    {
      path: ['image', 'repository'],
      value: 'true',
      expected: values.replace('repository: ghcr.io/acme/api\n', 'repository: "true"\n')
    }
  ])('$path → $value', ({ path, value, expected }) => {
    const r = setYamlValue(values, path, value, { file: 'values.yaml' })
    expect(r.text).toBe(expected)
    expect(r.changed).toBe(true)
  })

  it('reports no change when the value is already there', () => {
    const r = setYamlValue(values, ['image', 'tag'], '1.0.0', { file: 'values.yaml' })
    expect(r).toEqual({ text: values, changed: false, previous: '1.0.0' })
  })

  it('refuses a missing path unless asked to create it, naming the file and the missing key', () => {
    expect(() =>
      setYamlValue(values, ['image', 'digest'], 'sha256:x', { file: 'values.yaml' })
    ).toThrow(/values\.yaml.*path 'image.digest' does not exist: 'image.digest' is missing/)
  })

  it('creates missing keys as new lines indented like their siblings', () => {
    const r = setYamlValue(values, ['image', 'pullPolicy'], 'Always', { file: 'v', create: true })
    expect(r.text).toBe(values.replace('# set by CI\n', '# set by CI\n  pullPolicy: Always\n'))
    const nested = setYamlValue(values, ['resources', 'requests', 'cpu'], '100m', {
      file: 'v',
      create: true
    })
    expect(nested.text).toBe(values + '    requests:\n        cpu: 100m\n')
    const flow = setYamlValue(values, ['resources', 'limits', 'memory'], '1Gi', {
      file: 'v',
      create: true
    })
    expect(flow.text).toBe(values.replace('{cpu: 500m}', '{cpu: 500m, memory: 1Gi}'))
    const empty = setYamlValue('', ['a', 'b'], 'c', { file: 'v', create: true })
    expect(empty.text).toBe('a:\n  b: c\n')
  })

  it('creates keys with CRLF endings in a CRLF file', () => {
    const crlf = values.replace(/\n/g, '\r\n')
    const r = setYamlValue(crlf, ['image', 'pullPolicy'], 'Always', { file: 'v', create: true })
    expect(r.text).toBe(crlf.replace('# set by CI\r\n', '# set by CI\r\n  pullPolicy: Always\r\n'))
  })

  it('edits an anchored value once and refuses block scalars and lists used as maps', () => {
    const text = 'a: &x one\nb: *x\nc: |\n  text\nd: [1, 2]\n'
    expect(setYamlValue(text, ['b'], 'two', { file: 'f' }).text).toBe(
      'a: &x two\nb: *x\nc: |\n  text\nd: [1, 2]\n'
    )
    expect(() => setYamlValue(text, ['c'], 'x', { file: 'f' })).toThrow(/block scalar/)
    expect(() => setYamlValue(text, ['d', 'e'], 'x', { file: 'f' })).toThrow(/'d' is a list/)
    expect(() => setYamlValue(text, ['d', 5], 'x', { file: 'f' })).toThrow(/has 2 items/)
    expect(() => setYamlValue(text, ['d', 0], 'x', { file: 'f' })).not.toThrow()
  })

  it('quotes values that would change meaning when written plain', () => {
    const text = 'a: plain\n'
    expect(setYamlValue(text, ['a'], 'x: y', { file: 'f' }).text).toBe('a: "x: y"\n')
    expect(setYamlValue(text, ['a'], 'x #y', { file: 'f' }).text).toBe('a: "x #y"\n')
    expect(setYamlValue(text, ['a'], '', { file: 'f' }).text).toBe('a: ""\n')
    expect(setYamlValue("a: 'q'\n", ['a'], "it's", { file: 'f' }).text).toBe("a: 'it''s'\n")
  })

  it('rejects malformed YAML with the file and line', () => {
    expect(() => setYamlValue('a: [\n', ['a'], 'x', { file: 'bad.yaml' })).toThrow(InputError)
    expect(() => setYamlValue('a: [\n', ['a'], 'x', { file: 'bad.yaml' })).toThrow(/bad\.yaml:\d+/)
  })
})

describe('removing a key', () => {
  it('removes the whole line and nothing else', () => {
    const text = 'image: x\ndigest: sha256:1 # old\nsource:\n  commit: abc\n  runUrl: u\n'
    expect(deleteYamlKey(text, ['digest'], { file: 'f' }).text).toBe(
      'image: x\nsource:\n  commit: abc\n  runUrl: u\n'
    )
    expect(deleteYamlKey(text, ['source', 'runUrl'], { file: 'f' }).text).toBe(
      'image: x\ndigest: sha256:1 # old\nsource:\n  commit: abc\n'
    )
    expect(deleteYamlKey(text, ['missing'], { file: 'f' }).changed).toBe(false)
  })
})
