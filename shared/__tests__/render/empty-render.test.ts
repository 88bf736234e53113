// A render that would render nothing (no services, a folder kit.yaml names that is missing, a
// selection that selects nothing, a cluster left with no files) fails, naming the path or the
// setting, and leaves the previous output byte for byte as it was.
import { afterEach, describe, expect, it } from '@jest/globals'
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import {
  formatProblem,
  RenderFailedError,
  runRender,
  type RenderProblem,
  type Selection
} from '../../src/render/index.js'
import { InputError } from '../../src/errors.js'
import { baseRepo, makeRepo, readTree, removeAll } from './helpers.js'

const made: string[] = []
afterEach(() => removeAll(...made.splice(0)))

const web = {
  'services/web/kit.yaml': 'image: acme/web\n',
  'services/web/cm.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\n',
  'images/acme/web/main.yaml': 'image: r/web:1\n'
}

/** A repository rendered once (the previous output), then changed by `change`. */
async function renderedThen(
  change: (root: string) => void,
  extra: Record<string, string | undefined> = {}
): Promise<{ root: string; before: Record<string, string> }> {
  const root = makeRepo({ ...baseRepo, ...web, ...extra })
  made.push(root)
  await runRender({ root, mode: 'write', env: {} })
  const before = readTree(join(root, 'generated'))
  change(root)
  return { root, before }
}

/** The one-line errors of a render that must fail (RenderFailedError or InputError). */
async function failure(root: string, selection: Selection = {}): Promise<string[]> {
  try {
    await runRender({ root, mode: 'write', env: {}, selection })
  } catch (err) {
    if (err instanceof RenderFailedError)
      return err.problems.map((p: RenderProblem) => formatProblem(p))
    if (err instanceof InputError) return [err.message]
    throw err
  }
  throw new Error('expected the render to fail')
}

const write = (root: string, path: string, text: string) => {
  mkdirSync(join(root, path, '..'), { recursive: true })
  writeFileSync(join(root, path), text)
}

describe('a render of no services fails and keeps the previous output', () => {
  it.each([
    [
      'an empty services folder',
      (root: string) => {
        rmSync(join(root, 'services'), { recursive: true })
        mkdirSync(join(root, 'services'))
      },
      /^no services in 'services\/': a service is a folder services\/<service>\//
    ],
    [
      'no services folder',
      (root: string) => rmSync(join(root, 'services'), { recursive: true }),
      /^no services folder: 'services\/' does not exist/
    ],
    [
      'a misspelt paths.services',
      (root: string) => write(root, 'kit.yaml', 'paths:\n  services: servces\n'),
      /^kit\.yaml:2: paths\.services: folder 'servces\/' does not exist$/
    ],
    [
      'paths.services naming a file',
      (root: string) => write(root, 'kit.yaml', 'paths:\n  services: services/web/cm.yaml\n'),
      /^kit\.yaml:2: paths\.services 'services\/web\/cm\.yaml' is not a folder$/
    ]
  ])('%s', async (_what, change, message) => {
    const { root, before } = await renderedThen(change)
    const errors = await failure(root)
    expect(errors[0]).toMatch(message)
    expect(readTree(join(root, 'generated'))).toEqual(before)
  })

  it.each([
    [
      'groups',
      'paths:\n  groups: grups\n',
      "kit.yaml:2: paths.groups: folder 'grups/' does not exist"
    ],
    [
      'images',
      'paths:\n  images: imgs\n',
      "kit.yaml:2: paths.images: folder 'imgs/' does not exist"
    ],
    [
      'clusters',
      'paths:\n  clusters: clustrs\n',
      "kit.yaml:2: paths.clusters: folder 'clustrs/' does not exist"
    ]
  ])(
    'fails on a misspelt paths.%s, naming the setting and its line',
    async (_key, kit, message) => {
      const { root, before } = await renderedThen((r) => write(r, 'kit.yaml', kit))
      expect(await failure(root)).toContain(message)
      expect(readTree(join(root, 'generated'))).toEqual(before)
    }
  )

  it('fails with no clusters folder, naming it', async () => {
    const { root, before } = await renderedThen((r) =>
      rmSync(join(r, 'clusters'), { recursive: true })
    )
    expect((await failure(root))[0]).toMatch(/^no clusters folder: 'clusters\/' does not exist/)
    expect(readTree(join(root, 'generated'))).toEqual(before)
  })

  it('accepts a repository without groups or images folders when kit.yaml names neither', async () => {
    const root = makeRepo({
      'clusters/a.yaml': 'labels: {}\n',
      'services/cfg/cm.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\n'
    })
    made.push(root)
    const result = await runRender({ root, mode: 'write', env: {} })
    expect(result.counts).toMatchObject({ clusters: 1, services: 1, files: 1 })
  })
})

describe('a cluster left with no files fails; disabling it is the way to render nothing', () => {
  it.each([
    [
      'every service disabled on the cluster',
      'groups: [prod]\nservices:\n  api: {enabled: false}\n  web: {enabled: false}\n',
      'clusters/b.yaml: cluster b: renders no files (api: disabled by clusters/b.yaml; web: disabled by clusters/b.yaml); its output would be deleted. To render nothing for a cluster on purpose, set enabled: false in its file'
    ],
    [
      'every service skipped for a missing image',
      'groups: [prod]\nbranch: nothing-built\nmissingImage: skip\n',
      "clusters/b.yaml: cluster b: renders no files (api: no image file for acme/api on branch 'nothing-built' (images/acme/api/nothing-built.yaml); web: no image file for acme/web on branch 'nothing-built' (images/acme/web/nothing-built.yaml)); its output would be deleted. To render nothing for a cluster on purpose, set enabled: false in its file"
    ]
  ])('%s', async (_what, cluster, message) => {
    const { root, before } = await renderedThen((r) => write(r, 'clusters/b.yaml', cluster))
    expect(await failure(root)).toEqual([message])
    expect(readTree(join(root, 'generated'))).toEqual(before)
    // The same in a render of that cluster only.
    expect(await failure(root, { clusters: ['b'] })).toEqual([message])
    expect(readTree(join(root, 'generated'))).toEqual(before)
  })

  it('removes a disabled cluster’s output: that is said on purpose', async () => {
    const { root } = await renderedThen((r) =>
      write(r, 'clusters/b.yaml', 'enabled: false\ngroups: [prod]\n')
    )
    const result = await runRender({ root, mode: 'write', env: {} })
    expect(result.disabled).toEqual(['b'])
    expect(Object.keys(readTree(join(root, 'generated'))).some((p) => p.startsWith('b/'))).toBe(
      false
    )
  })

  it('lets a render of some services empty them on a cluster that keeps other files', async () => {
    const { root } = await renderedThen((r) =>
      write(r, 'clusters/b.yaml', 'groups: [prod]\nservices:\n  web: {enabled: false}\n')
    )
    const result = await runRender({
      root,
      mode: 'write',
      env: {},
      selection: { services: ['web'] }
    })
    expect(result.clusters.map((c) => [c.name, c.files])).toEqual([
      ['a', 1],
      ['b', 0]
    ])
    const tree = readTree(join(root, 'generated'))
    expect(Object.keys(tree).filter((p) => p.startsWith('b/'))).toEqual([
      'b/api/deployment-apps-api.yaml'
    ])
  })

  it('fails a render of some services that would leave a cluster with no files', async () => {
    const { root, before } = await renderedThen((r) =>
      write(
        r,
        'clusters/b.yaml',
        'groups: [prod]\nservices:\n  api: {enabled: false}\n  web: {enabled: false}\n'
      )
    )
    expect(await failure(root, { services: ['api', 'web'] })).toEqual([
      'clusters/b.yaml: cluster b: renders no files (api: disabled by clusters/b.yaml; web: disabled by clusters/b.yaml); its output would be deleted. To render nothing for a cluster on purpose, set enabled: false in its file'
    ])
    expect(readTree(join(root, 'generated'))).toEqual(before)
  })
})

describe('a selection that selects nothing fails', () => {
  it('fails when the selected services render nothing on any selected cluster', async () => {
    const { root, before } = await renderedThen((r) =>
      write(r, 'groups/prod.yaml', 'branch: main\nservices:\n  web: {enabled: false}\n')
    )
    expect(await failure(root, { services: ['web'] })).toEqual([
      'the selected service web renders no files on any selected cluster: web: disabled by groups/prod.yaml (a, b)'
    ])
    expect(readTree(join(root, 'generated'))).toEqual(before)
  })

  it.each([
    [{ groups: ['lonely'] }, "group 'lonely' has no clusters"],
    [{ groups: ['prod', 'lonely'] }, "group 'lonely' has no clusters"],
    [{ clusters: ['z*'] }, "unknown cluster 'z*'"],
    [{ labels: ['region=mars'] }, 'no cluster matches the selection']
  ])('refuses %j', async (selection, message) => {
    const { root, before } = await renderedThen((r) =>
      write(r, 'groups/lonely.yaml', 'branch: main\n')
    )
    expect((await failure(root, selection))[0]).toContain(message)
    expect(readTree(join(root, 'generated'))).toEqual(before)
  })
})
