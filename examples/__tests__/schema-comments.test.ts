/**
 * Every file of the example manifests repository that kit validates against a JSON Schema
 * (kit.yaml, groups, clusters, each service's kit.yaml, the kit.yaml of each service-owned copy,
 * image files) starts with the `yaml-language-server` comment, so an editor checks it as the
 * render does. The URL must work from a user's own manifests repository, where a relative path
 * leads nowhere: an absolute https URL into kit's repository at the tag the example workflows
 * use, naming a schema file that exists here, and the right one for the file (the file validates
 * against it).
 */
import { describe, expect, it } from '@jest/globals'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { basename, join, relative, sep } from 'node:path'
import { Ajv } from 'ajv'
import { parse } from 'yaml'
import { ajvOptions } from '../../shared/src/render/schema.js'

const root = process.cwd()
const example = join(root, 'examples', 'manifests-repo')

/** `kit-dev/kit` and `v1`, as the example workflows name kit's actions. */
function actionsRepoAndTag(): { repo: string; tag: string } {
  const workflow = readFileSync(join(example, '.github', 'workflows', 'deploy.yml'), 'utf8')
  const m = /uses: ([\w.-]+\/[\w.-]+)\/deployer@(\S+)/.exec(workflow)
  if (!m) throw new Error('deploy.yml names no kit deployer action')
  return { repo: m[1], tag: m[2] }
}

const { repo, tag } = actionsRepoAndTag()
const base = `https://raw.githubusercontent.com/${repo}/${tag}/`
const schemaDir = 'shared/src/render/schemas'

function yamlFiles(dir: string): string[] {
  if (!existsSync(dir)) return []
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile() && /\.ya?ml$/.test(d.name))
    .map((d) => join(d.parentPath, d.name))
}

/** The files the render validates, with the schema each is validated against. */
function validatedFiles(): [string, string][] {
  const paths = (parse(readFileSync(join(example, 'kit.yaml'), 'utf8')) as {
    paths?: Record<string, string>
  }).paths
  const defaults: Record<string, string> = { serviceTemplates: 'service-templates' }
  const dir = (key: string) => join(example, paths?.[key] ?? defaults[key] ?? key)
  const services = readdirSync(dir('services'), { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => join(dir('services'), d.name, 'kit.yaml'))
    .filter(existsSync)
  // A service-owned set's kit.yaml (service-templates/<service>/<branch>/kit.yaml) is validated
  // with the same schema; its records are written by the image-deployer and have none.
  const ownSets = yamlFiles(dir('serviceTemplates')).filter(
    (f) =>
      relative(dir('serviceTemplates'), f).split(sep).length === 3 && basename(f) === 'kit.yaml'
  )
  const files: [string, string][] = [
    [join(example, 'kit.yaml'), 'kit'],
    ...yamlFiles(dir('groups')).map((f): [string, string] => [f, 'group']),
    ...yamlFiles(dir('clusters')).map((f): [string, string] => [f, 'cluster']),
    ...[...services, ...ownSets].map((f): [string, string] => [f, 'service']),
    ...yamlFiles(dir('images')).map((f): [string, string] => [f, 'image'])
  ]
  return files.map(([f, kind]) => [relative(example, f), kind])
}

const files = validatedFiles()
const comment = /^# yaml-language-server: \$schema=(\S+)$/

describe('yaml-language-server schema comments in examples/manifests-repo', () => {
  it('finds every kind of validated file', () => {
    expect(new Set(files.map(([, kind]) => kind))).toEqual(
      new Set(['kit', 'group', 'cluster', 'service', 'image'])
    )
    expect(files.length).toBeGreaterThanOrEqual(16)
  })

  it('takes the URL from the repository and tag the example workflows use', () => {
    expect(repo).toBe('kit-dev/kit')
    expect(tag).toBe('v1')
  })

  it.each(files)('%s starts with the comment for the %s schema', (file, kind) => {
    const first = readFileSync(join(example, file), 'utf8').split('\n')[0]
    const m = comment.exec(first)
    expect(m?.[1]).toBe(`${base}${schemaDir}/${kind}.schema.json`)
  })

  it.each(files)('%s: the URL names a schema file of this repository, which the file passes', (file) => {
    const text = readFileSync(join(example, file), 'utf8')
    const url = comment.exec(text.split('\n')[0])?.[1] ?? ''
    expect(url.startsWith(base)).toBe(true)
    const schemaFile = join(root, url.slice(base.length))
    expect(existsSync(schemaFile)).toBe(true)
    const validate = new Ajv(ajvOptions).compile(JSON.parse(readFileSync(schemaFile, 'utf8')))
    const valid = validate(parse(text))
    expect(validate.errors ?? []).toEqual([])
    expect(valid).toBe(true)
  })

  it('no YAML file in the examples points at a relative or other schema location', () => {
    for (const f of yamlFiles(join(root, 'examples'))) {
      for (const line of readFileSync(f, 'utf8').split('\n')) {
        const m = /yaml-language-server: \$schema=(\S+)/.exec(line)
        if (m) expect([relative(root, f), m[1].startsWith(base)]).toEqual([relative(root, f), true])
      }
    }
  })
})
