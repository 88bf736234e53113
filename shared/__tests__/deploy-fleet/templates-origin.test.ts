/**
 * The deployer's summary links a changed object back to where its service's templates came
 * from: the render index (written to a real folder beside real manifest files, read by the
 * deployer's one index reader and the real manifest loader) says which service each output file
 * belongs to and, for a service that owns its templates, the service repository, commit and
 * folder. A repository without service-owned templates reports byte for byte as before.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { painter } from '../../../cli/src/term.js'
import { reportLines } from '../../../cli/src/commands/deploy-output.js'
import type { ChangeEntry } from '../../src/deploy/cluster/types.js'
import { groupChanges, renderSummary } from '../../src/deploy/fleet/report.js'
import { readIndex } from '../../src/deploy/fleet/run-deploy.js'
import {
  objectTemplates,
  parseIndexFacts,
  withTemplates
} from '../../src/deploy/fleet/templates-origin.js'
import type { FleetReport, FleetRow } from '../../src/deploy/fleet/types.js'
import { loadManifestsDir } from '../../src/k8s/manifests.js'
import type { KubeObject } from '../../src/k8s/types.js'
import { emitYaml } from '../../src/yaml/emit.js'
import { templateSourceText, templateSourceUrl } from '../../src/service-templates/link.js'
import { configured, created, deployment, dryRunReport, row, service } from './report-fixtures.js'

const developCommit = '3f2a1c9d8e7b6a5f4e3d2c1b0a9f8e7d6c5b4a39'
const mainCommit = '9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a291807'

/** A ConfigMap whose manifest names no namespace: the engine defaults it. */
const settings: KubeObject = {
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name: 'api-settings' },
  data: { LOG_LEVEL: 'info' }
}

const serviceOwned = (branch: string, commit: string) => ({
  origin: 'service',
  dir: `service-templates/api/${branch}`,
  record: `service-templates/api/${branch}.yaml`,
  branch,
  chosenBy: { file: 'groups/development.yaml', key: 'services.api.templates' },
  source: {
    repository: 'acme/api',
    commit,
    ref: `refs/heads/${branch}`,
    runUrl: 'https://github.com/acme/api/actions/runs/7',
    path: 'deploy/kit'
  }
})

/** The index as the deploymentizer writes it: api owns its templates, web is the repository's. */
function index(withServiceOwned = true): unknown {
  const cluster = (name: string, branch: string, commit: string) => ({
    hash: 'sha256:0',
    groups: [],
    labels: { stage: name },
    services: {
      api: {
        branch,
        hash: 'sha256:1',
        files: [`${name}/api/configmap-api-settings.yaml`, `${name}/api/deployment-shop-api.yaml`],
        images: {},
        templates: withServiceOwned
          ? serviceOwned(branch, commit)
          : { origin: 'repository', dir: 'services/api' }
      },
      web: {
        branch: 'main',
        hash: 'sha256:2',
        files: [`${name}/web/deployment-shop-web.yaml`, `${name}/web/service-shop-web.yaml`],
        images: {},
        templates: { origin: 'repository', dir: 'services/web' }
      }
    },
    skipped: []
  })
  return {
    kind: 'KitRenderIndex',
    version: 1,
    hash: 'sha256:3',
    disabled: [],
    images: {},
    clusters: {
      staging: cluster('staging', 'develop', developCommit),
      'staging-eu': cluster('staging-eu', 'develop', developCommit),
      production: cluster('production', 'main', mainCommit)
    }
  }
}

let root: string
const folders: Record<string, string> = {}

/** A manifests folder: the output files of both clusters and the index. */
function manifestsFolder(name: string, indexValue: unknown): string {
  const dir = join(root, name)
  const files: Record<string, KubeObject> = {
    'api/configmap-api-settings.yaml': settings,
    'api/deployment-shop-api.yaml': deployment('api', 'ghcr.io/acme/api:2'),
    'web/deployment-shop-web.yaml': deployment('web', 'ghcr.io/acme/web:2'),
    'web/service-shop-web.yaml': service('web')
  }
  for (const cluster of ['staging', 'staging-eu', 'production'])
    for (const [file, object] of Object.entries(files)) {
      const path = join(dir, cluster, file)
      mkdirSync(dirname(path), { recursive: true })
      writeFileSync(path, emitYaml(object))
    }
  writeFileSync(join(dir, 'index.json'), JSON.stringify(indexValue, null, 2) + '\n')
  return dir
}

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'kit-templates-origin-'))
  folders.serviceOwned = manifestsFolder('service-owned', index(true))
  folders.repositoryOnly = manifestsFolder('repository-only', index(false))
  folders.noTemplates = manifestsFolder(
    'older-index',
    JSON.parse(
      JSON.stringify(index(false), (k, v: unknown) => (k === 'templates' ? undefined : v))
    ) as unknown
  )
})

afterAll(() => rmSync(root, { recursive: true, force: true }))

/** What the engine reports for each cluster: api and web changed, an old object deleted. */
function report(): FleetReport {
  const changes = (image: string): ChangeEntry[] => [
    // The engine names the ConfigMap with the namespace it defaulted.
    { ...created(settings), namespace: 'shop' },
    configured(deployment('api', 'ghcr.io/acme/api:1'), deployment('api', image)),
    configured(deployment('web', 'ghcr.io/acme/web:1'), deployment('web', 'ghcr.io/acme/web:2')),
    { kind: 'ConfigMap', namespace: 'shop', name: 'api-old', action: 'deleted' }
  ]
  return {
    result: 'success',
    dryRun: false,
    durationMs: 20_000,
    rows: [
      row('staging', 'changed', { changes: changes('ghcr.io/acme/api:2') }),
      row('staging-eu', 'changed', { changes: changes('ghcr.io/acme/api:2') }),
      row('production', 'changed', { changes: changes('ghcr.io/acme/api:2') })
    ]
  }
}

/** The report as runDeploy returns it: rows carrying the templates the index names. */
async function linked(
  dir: string,
  serverUrl = 'https://github.com',
  base: FleetReport = report()
): Promise<FleetReport> {
  const facts = await readIndex(dir)
  const origins = objectTemplates(await loadManifestsDir(dir), facts, dir, serverUrl)
  return { ...base, rows: base.rows.map((r) => withTemplates(r, origins)) }
}

const developLink = `[acme/api@3f2a1c9 · deploy/kit](https://github.com/acme/api/tree/${developCommit}/deploy/kit)`
const mainLink = `[acme/api@9e8d7c6 · deploy/kit](https://github.com/acme/api/tree/${mainCommit}/deploy/kit)`

describe('the summary links a changed object back to its templates', () => {
  it("names the service repository, commit and folder on each changed object of api's", async () => {
    const md = renderSummary(await linked(folders.serviceOwned))
    expect(md).toContain(`✏️ configured \`Deployment shop/api\` · templates from ${mainLink}\n`)
    // Staging's diff is production's (shown once), its templates are not.
    expect(md).toContain(
      `✏️ configured \`Deployment shop/api\` · templates from ${developLink} — the same diff as on production above\n`
    )
    // The ConfigMap's manifest names no namespace; the engine's entry does.
    expect(md).toContain(
      `➕ created \`ConfigMap shop/api-settings\` · templates from ${mainLink}\n`
    )
  })

  it("shows nothing extra on web's objects (repository-owned) or on deleted ones", async () => {
    const md = renderSummary(await linked(folders.serviceOwned))
    expect(md).toContain('✏️ configured `Deployment shop/web`\n')
    expect(md).toContain('➖ deleted `ConfigMap shop/api-old`\n')
    // api's Deployment and ConfigMap, in the production group and the staging group.
    expect(md.split('templates from')).toHaveLength(5)
  })

  it('groups clusters by template set too: identical diffs from different sets stay apart', async () => {
    const groups = groupChanges((await linked(folders.serviceOwned)).rows)
    expect(groups.map((g) => g.clusters)).toEqual([['production'], ['staging', 'staging-eu']])
    // Without the index's templates the three are alike.
    expect(groupChanges(report().rows).map((g) => g.clusters)).toEqual([
      ['production', 'staging', 'staging-eu']
    ])
  })

  it('links to the GitHub server the run is on', async () => {
    const md = renderSummary(await linked(folders.serviceOwned, 'https://ghe.example.com/'))
    expect(md).toContain(
      `[acme/api@3f2a1c9 · deploy/kit](https://ghe.example.com/acme/api/tree/${developCommit}/deploy/kit)`
    )
    expect(md).not.toContain('https://github.com/acme')
  })

  it('says it in the dry run of the CLI (kit diff), in one short note per object', async () => {
    const dry = await linked(folders.serviceOwned, 'https://github.com', dryRunReportOf(report()))
    const lines = reportLines(dry, 'diff', painter(false)).filter((l) => l.startsWith('  '))
    expect(lines).toContain(
      '  ~ configured Deployment shop/api · templates from acme/api@3f2a1c9 · deploy/kit (same diff as on production)'
    )
    expect(lines).toContain(
      '  ~ configured Deployment shop/api · templates from acme/api@9e8d7c6 · deploy/kit'
    )
    expect(lines).toContain('  ~ configured Deployment shop/web')
  })
})

function dryRunReportOf(r: FleetReport): FleetReport {
  return { ...r, dryRun: true }
}

describe('a repository without service-owned templates reports exactly as before', () => {
  it.each([
    ['an index whose services are all repository-owned', 'repositoryOnly'],
    ['an index from before the templates field', 'noTemplates']
  ])('%s: the same rows, the same bytes', async (_, folder) => {
    const before = report()
    const after = await linked(folders[folder], 'https://github.com', before)
    after.rows.forEach((r, i) => expect(r).toBe(before.rows[i]))
    expect(renderSummary(after)).toBe(renderSummary(before))
    const dry = dryRunReport()
    expect(renderSummary(await linked(folders[folder], 'https://github.com', dry))).toBe(
      renderSummary(dry)
    )
  })
})

describe('the index reader', () => {
  it('reads labels and which service each file belongs to, with its own templates', async () => {
    const facts = await readIndex(folders.serviceOwned)
    expect(facts.labels).toEqual(
      new Map([
        ['staging', { stage: 'staging' }],
        ['staging-eu', { stage: 'staging-eu' }],
        ['production', { stage: 'production' }]
      ])
    )
    expect(facts.serviceOwned).toBe(true)
    expect(facts.files.get('staging')!.get('staging/web/service-shop-web.yaml')).toEqual({
      service: 'web'
    })
    expect(facts.files.get('staging')!.get('staging/api/deployment-shop-api.yaml')).toEqual({
      service: 'api',
      templates: {
        service: 'api',
        branch: 'develop',
        dir: 'service-templates/api/develop',
        source: serviceOwned('develop', developCommit).source
      }
    })
  })

  it('gives nothing from a folder without an index, or a file that is not kit’s index', async () => {
    const empty = await readIndex(join(root, 'nowhere'))
    expect([empty.labels.size, empty.files.size, empty.serviceOwned]).toEqual([0, 0, false])
    for (const text of ['{', '[]', 'null', '{"kind":"Other","clusters":{}}']) {
      const facts = parseIndexFacts(text)
      expect([facts.labels.size, facts.files.size, facts.serviceOwned]).toEqual([0, 0, false])
    }
  })

  it('leaves out what does not have the expected shape, instead of trusting it', () => {
    const facts = parseIndexFacts(
      JSON.stringify({
        kind: 'KitRenderIndex',
        clusters: {
          a: {
            labels: { stage: 'a', bad: 3 },
            services: {
              api: { files: ['a/api/x.yaml', 7], templates: { origin: 'service', dir: 3 } },
              web: { files: 'a/web/x.yaml' },
              job: {
                files: ['a/job/x.yaml'],
                templates: {
                  origin: 'service',
                  dir: 'service-templates/job/main',
                  branch: 'main',
                  source: { repository: 'acme/job', commit: 42, path: 'deploy/kit', other: 'x' }
                }
              }
            }
          },
          b: null
        }
      })
    )
    expect(facts.labels).toEqual(new Map([['a', { stage: 'a' }]]))
    expect([...facts.files.get('a')!.keys()]).toEqual(['a/api/x.yaml', 'a/job/x.yaml'])
    expect(facts.files.get('a')!.get('a/api/x.yaml')).toEqual({ service: 'api' })
    expect(facts.files.get('a')!.get('a/job/x.yaml')!.templates!.source).toEqual({
      repository: 'acme/job',
      path: 'deploy/kit'
    })
  })
})

describe('the text and link of a templates source', () => {
  const source = { repository: 'acme/api', commit: developCommit, path: 'deploy/kit' }

  it('abbreviates the commit and links owner/name repositories on the server', () => {
    expect(templateSourceText(source)).toBe('acme/api@3f2a1c9 · deploy/kit')
    expect(templateSourceUrl(source, 'https://github.com')).toBe(
      `https://github.com/acme/api/tree/${developCommit}/deploy/kit`
    )
    expect(
      templateSourceUrl(
        { ...source, repository: 'https://github.com/acme/api.git' },
        'https://github.com'
      )
    ).toBe(`https://github.com/acme/api/tree/${developCommit}/deploy/kit`)
    expect(templateSourceUrl({ ...source, path: undefined }, 'https://github.com')).toBe(
      `https://github.com/acme/api/tree/${developCommit}`
    )
  })

  it('gives no link for another git host, a missing commit, or a folder climbing out', () => {
    expect(
      templateSourceUrl(
        { ...source, repository: 'https://git.example.com/acme/api.git' },
        'https://github.com'
      )
    ).toBeUndefined()
    expect(
      templateSourceUrl({ ...source, commit: undefined }, 'https://github.com')
    ).toBeUndefined()
    expect(
      templateSourceUrl({ ...source, path: 'deploy/../..' }, 'https://github.com')
    ).toBeUndefined()
    expect(
      templateSourceUrl({ ...source, repository: 'not a repo' }, 'https://github.com')
    ).toBeUndefined()
    expect(templateSourceText({ commit: developCommit })).toBeUndefined()
  })

  it('encodes a folder so the markdown link cannot be broken out of', () => {
    expect(templateSourceUrl({ ...source, path: 'deploy/a b)(c]/d' }, 'https://github.com')).toBe(
      `https://github.com/acme/api/tree/${developCommit}/deploy/a%20b%29%28c%5D/d`
    )
  })

  it('shows the copy in the manifests repository when the record names no repository', () => {
    const r = row('staging', 'changed', {
      changes: [configured(deployment('api', 'a:1'), deployment('api', 'a:2'))],
      templates: {
        ['Deployment\u0000shop\u0000api']: {
          service: 'api',
          branch: 'develop',
          dir: 'service-templates/api/develop',
          source: {}
        }
      }
    } satisfies Partial<FleetRow>)
    const md = renderSummary({ result: 'success', dryRun: false, durationMs: 1, rows: [r] })
    expect(md).toContain(
      '✏️ configured `Deployment shop/api` · templates from `service-templates/api/develop`\n'
    )
  })

  it('escapes markdown in the text it shows', () => {
    const r = row('staging', 'changed', {
      changes: [configured(deployment('api', 'a:1'), deployment('api', 'a:2'))],
      templates: {
        ['Deployment\u0000shop\u0000api']: {
          service: 'api',
          branch: 'develop',
          dir: 'service-templates/api/develop',
          source: { repository: 'evil](https://x.invalid)<b>', commit: 'abc' }
        }
      }
    } satisfies Partial<FleetRow>)
    const md = renderSummary({ result: 'success', dryRun: false, durationMs: 1, rows: [r] })
    expect(md).toContain('· templates from evil\\](https://x.invalid)&lt;b&gt;@abc\n')
  })
})
