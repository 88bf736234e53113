// Which layer chose a service's branch and image: layers in order (kit.yaml defaults, each group
// as the cluster lists them, the cluster), within a layer its general setting then its
// per-service entry; a pin beats any branch. The index records the deciding setting and the
// step summary shows it.
import { afterEach, describe, expect, it } from '@jest/globals'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { renderSummaryMarkdown, runRender, type RenderIndex } from '../../src/render/index.js'
import { baseRepo, makeRepo, removeAll } from './helpers.js'

const made: string[] = []
afterEach(() => removeAll(...made.splice(0)))

const branches = ['main', 'develop', 'g1', 'g1-api', 'g2', 'cluster', 'cluster-api']
const imageFiles = Object.fromEntries(
  branches.map((b) => [`images/acme/api/${b}.yaml`, `image: r/api:${b}\n`])
)

async function render(files: Record<string, string>) {
  const root = makeRepo({
    ...baseRepo,
    ...imageFiles,
    // No branch anywhere unless a case sets one.
    'groups/prod.yaml': 'values:\n  replicas: 3\n',
    'groups/g2.yaml': 'values: {}\n',
    ...files
  })
  made.push(root)
  const result = await runRender({ root, mode: 'write', env: {}, selection: { clusters: ['a'] } })
  const index = JSON.parse(readFileSync(join(root, 'generated/index.json'), 'utf8')) as RenderIndex
  return { api: index.clusters.a.services.api, summary: renderSummaryMarkdown(result) }
}

const perService = (branch: string) => `services:\n  api:\n    branch: ${branch}\n`

describe('the branch a service follows, and the setting that chose it', () => {
  it.each([
    ['nothing sets one: kit’s default', {}, 'main', undefined],
    [
      'kit.yaml defaults',
      { 'kit.yaml': 'defaults:\n  branch: develop\n' },
      'develop',
      { file: 'kit.yaml', key: 'defaults.branch' }
    ],
    [
      'a group over kit.yaml',
      { 'kit.yaml': 'defaults:\n  branch: develop\n', 'groups/prod.yaml': 'branch: g1\n' },
      'g1',
      { file: 'groups/prod.yaml', key: 'branch' }
    ],
    [
      "a group's per-service entry over its general branch",
      { 'groups/prod.yaml': `branch: g1\n${perService('g1-api')}` },
      'g1-api',
      { file: 'groups/prod.yaml', key: 'services.api.branch' }
    ],
    [
      "a later group's general branch over an earlier group's per-service one",
      {
        'groups/prod.yaml': perService('g1-api'),
        'groups/g2.yaml': 'branch: g2\n',
        'clusters/a.yaml': 'groups: [prod, g2]\n'
      },
      'g2',
      { file: 'groups/g2.yaml', key: 'branch' }
    ],
    [
      "the cluster's general branch over a group's per-service one",
      {
        'groups/prod.yaml': perService('g1-api'),
        'clusters/a.yaml': 'groups: [prod]\nbranch: cluster\n'
      },
      'cluster',
      { file: 'clusters/a.yaml', key: 'branch' }
    ],
    [
      "the cluster's per-service entry over everything",
      {
        'groups/prod.yaml': perService('g1-api'),
        'clusters/a.yaml': `groups: [prod]\nbranch: cluster\n${perService('cluster-api')}`
      },
      'cluster-api',
      { file: 'clusters/a.yaml', key: 'services.api.branch' }
    ]
  ])('%s', async (_rule, files, branch, branchFrom) => {
    const { api, summary } = await render(files)
    expect(api.branch).toBe(branch)
    expect(api.branchFrom).toEqual(branchFrom)
    expect(api.images.image).toEqual({
      ref: `r/api:${branch}`,
      file: `images/acme/api/${branch}.yaml`
    })
    const chosen = branchFrom ? `${branchFrom.file} (${branchFrom.key})` : "kit's default"
    expect(summary).toContain(`| api | \`r/api:${branch}\` | a | branch ${branch} from ${chosen} |`)
  })
})

describe('pins', () => {
  it.each([
    [
      "a group's pin beats the cluster's branch",
      {
        'groups/prod.yaml': 'services:\n  api:\n    image: r/api:pinned-g\n',
        'clusters/a.yaml': 'groups: [prod]\nbranch: cluster\n'
      },
      'r/api:pinned-g',
      { file: 'groups/prod.yaml', key: 'services.api.image' }
    ],
    [
      "the cluster's pin beats the group's",
      {
        'groups/prod.yaml': 'services:\n  api:\n    image: r/api:pinned-g\n',
        'clusters/a.yaml': 'groups: [prod]\nservices:\n  api:\n    image: r/api:pinned-c\n'
      },
      'r/api:pinned-c',
      { file: 'clusters/a.yaml', key: 'services.api.image' }
    ]
  ])('%s', async (_rule, files, ref, pinnedBy) => {
    const { api, summary } = await render(files)
    expect(api.images.image).toEqual({ ref, pinned: true, pinnedBy })
    expect(summary).toContain(
      `| api | \`${ref}\` (pinned) | a | pinned by ${pinnedBy.file} (${pinnedBy.key}) |`
    )
  })
})
