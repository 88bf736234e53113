// What the record's writer writes, the YAML loader reads back as the same strings, whatever the
// values: a branch, an image, provenance or a file's path that YAML could take for a number, a
// date, a word like `yes`, or refuse, is quoted.
import { describe, expect, it } from '@jest/globals'
import {
  readTemplateRecord,
  renderTemplateRecord,
  type TemplateRecord
} from '../../src/service-templates/record.js'
import { loadYamlMapping } from '../../src/yaml/load.js'

const hash = `sha256:${'a'.repeat(64)}`
const base: TemplateRecord = {
  service: 'api',
  branch: 'main',
  image: 'registry.example.com/acme/api:main-3f2a1c9',
  source: {
    repository: 'acme/api',
    commit: '3f2a1c9d8e7b6a5f4e3d2c1b0a9f8e7d6c5b4a39',
    ref: 'refs/heads/main',
    runUrl: 'https://github.com/acme/api/actions/runs/7',
    builtAt: '2026-12-07T23:00:00Z',
    path: 'deploy/kit'
  },
  files: { 'deployment.yaml': hash, 'config/map.yaml': hash }
}

/** The record with `value` in one place: the branch, the image, a source field or a file's path. */
function withValue(value: string, where: number): TemplateRecord {
  switch (where % 4) {
    case 0:
      return { ...base, branch: value }
    case 1:
      return { ...base, image: value }
    case 2:
      return { ...base, source: { ...base.source, commit: value } }
    default:
      return { ...base, files: { [value]: hash } }
  }
}

/** The strings the record holds, where withValue puts them, as the loader reads them back. */
function readBack(record: TemplateRecord): unknown[] {
  const { value } = loadYamlMapping(renderTemplateRecord(record), 'r.yaml')
  const source = value.source as Record<string, unknown>
  return [value.branch, value.image, source.commit, Object.keys(value.files as object)]
}

const expected = (record: TemplateRecord): unknown[] => [
  record.branch,
  record.image,
  record.source.commit,
  Object.keys(record.files)
]

describe('the template record as written', () => {
  it('reads back as the record it was written from', () => {
    const text = renderTemplateRecord(base)
    expect(readTemplateRecord(text, 'r.yaml')).toEqual({
      ...base,
      source: { ...base.source, committedAt: undefined }
    })
  })

  it.each(['0x1f', '0o17', 'x:', '1e5', '2026-12-07', 'yes', '~', "it's", 'a b', '__proto__'])(
    '%j reads back as itself wherever it is',
    (value) => {
      for (let where = 0; where < 4; where++) {
        const record = withValue(value, where)
        expect(readBack(record)).toEqual(expected(record))
      }
    }
  )

  it('a service named like a number (a valid name) is written quoted, and read back', () => {
    for (const service of ['123', '1e5']) {
      const text = renderTemplateRecord({ ...base, service })
      expect(text).toContain(`service: '${service}'\n`)
      expect(readTemplateRecord(text, 'r.yaml').service).toBe(service)
    }
  })

  it('any value reads back as itself (seeded random values)', () => {
    const alphabet = 'ab09:./@+-_\'#~ eEoxX\\"!%{}[],&*?|>=`é'
    let seed = 7
    const next = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff
      return seed % n
    }
    for (let i = 0; i < 800; i++) {
      let value = ''
      for (let n = 1 + next(6); n > 0; n--) value += alphabet[next(alphabet.length)]
      const record = withValue(value, i)
      expect(readBack(record)).toEqual(expected(record))
    }
  })
})
