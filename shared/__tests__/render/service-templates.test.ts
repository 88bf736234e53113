// Service-owned templates in the render: a service's own templates, copied per branch into
// service-templates/<service>/<branch>/ with a record beside them, rendered on the clusters
// that follow that branch; the manifests repository chooses between them and services/<svc>/,
// overrides their values and pins their images. Real files in temp folders, the real record
// writer (service-templates/record.ts), the whole render (runRender).
import { afterEach, describe, expect, it } from '@jest/globals'
import { existsSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import {
  loadRepository,
  renderSummaryMarkdown,
  runRender,
  serviceTemplateUsers,
  type RenderIndex,
  type RenderRunOptions
} from '../../src/render/index.js'
import {
  recordFor,
  renderTemplateRecord,
  templateRecordPath,
  templateSetFolder,
  type TemplateSource
} from '../../src/service-templates/record.js'
import { makeRepo, readTree, removeAll } from './helpers.js'

const made: string[] = []
afterEach(() => removeAll(...made.splice(0)))

const developCommit = '3f2a1c9d8e7b6a5f4e3d2c1b0a9f8e7d6c5b4a39'
const mainCommit = '9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a291807'

/** The service's own Deployment; develop's reads a new variable the develop image needs. */
const deployment = (extraEnv: string) =>
  [
    'apiVersion: apps/v1',
    'kind: Deployment',
    'metadata:',
    '  name: api',
    '  namespace: apps',
    'spec:',
    '  replicas: ${{ values.replicas }}',
    '  template:',
    '    spec:',
    '      containers:',
    '        - name: api',
    '          image: ${{ image }}',
    '          env:',
    '            - name: LOG_LEVEL',
    '              value: ${{ values.logLevel }}',
    extraEnv,
    ''
  ]
    .filter((l) => l !== '')
    .join('\n') + '\n'

const ownFiles = (branch: string): Record<string, string> => ({
  'kit.yaml': 'image: acme/api\n',
  'values.yaml': 'replicas: 1\nlogLevel: info\n',
  'deployment.yaml': deployment(
    branch === 'develop' ? '            - name: NEW_FEATURE\n              value: "on"' : ''
  ),
  'config/configmap.yaml':
    'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: api-config\n  namespace: apps\ndata:\n  branch: ${{ service.branch }}\n'
})

const sourceOf = (branch: string): TemplateSource => ({
  repository: 'acme/api',
  commit: branch === 'develop' ? developCommit : mainCommit,
  ref: `refs/heads/${branch}`,
  runUrl: 'https://github.com/acme/api/actions/runs/7',
  path: 'deploy/kit'
})

/** A set as the image-deployer writes it: the copy and its record (the real writer). */
function serviceSet(
  branch: string,
  files: Record<string, string> = ownFiles(branch),
  dir = 'service-templates',
  service = 'api'
): Record<string, string> {
  const list = Object.entries(files).map(([path, content]) => ({ path, content }))
  const record = recordFor({ service, branch, source: sourceOf(branch) }, list)
  const out: Record<string, string> = {
    [templateRecordPath(dir, service, branch)]: renderTemplateRecord(record)
  }
  for (const f of list) out[`${templateSetFolder(dir, service, branch)}/${f.path}`] = f.content
  return out
}

/** A repository-owned api, as before the migration (no NEW_FEATURE anywhere). */
const repositoryApi: Record<string, string> = Object.fromEntries(
  Object.entries(ownFiles('main')).map(([p, c]) => [`services/api/${p}`, c])
)

/**
 * Staging follows develop, production clusters main; api's templates are its own (both
 * branches), web's are the repository's.
 */
const fleet: Record<string, string> = {
  'groups/development.yaml': 'branch: develop\n',
  'groups/production.yaml': 'branch: main\nvalues:\n  replicas: 3\n',
  'clusters/staging.yaml': 'groups: [development]\n',
  'clusters/prod-eu.yaml': 'groups: [production]\n',
  'clusters/prod-us.yaml': 'groups: [production]\n',
  'services/web/kit.yaml': 'image: acme/web\n',
  'services/web/deployment.yaml':
    'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: apps\nspec:\n  template:\n    spec:\n      containers:\n        - name: web\n          image: ${{ image }}\n',
  'images/acme/web/main.yaml': 'image: r/web:1\n',
  'images/acme/web/develop.yaml': 'image: r/web:2\n',
  'images/acme/api/main.yaml': 'image: r/api:main-9e8d7c6\n',
  'images/acme/api/develop.yaml': 'image: r/api:develop-3f2a1c9\n',
  ...serviceSet('develop'),
  ...serviceSet('main')
}

function repo(extra: Record<string, string | undefined> = {}, base = fleet): string {
  const root = makeRepo({ ...base, ...extra })
  made.push(root)
  return root
}

const render = (root: string, options: Partial<RenderRunOptions> = {}) =>
  runRender({ root, mode: 'write', env: {}, ...options })

const index = (root: string) =>
  JSON.parse(readFileSync(join(root, 'generated/index.json'), 'utf8')) as RenderIndex

const output = (root: string, cluster: string, file = 'api/deployment-apps-api.yaml') =>
  readFileSync(join(root, 'generated', cluster, file), 'utf8')

/** The render's error message, and that nothing was written. */
async function failure(root: string, options: Partial<RenderRunOptions> = {}): Promise<string> {
  const err = await render(root, options).then(
    () => undefined,
    (e: unknown) => e
  )
  expect(err).toBeInstanceOf(Error)
  expect(existsSync(join(root, 'generated'))).toBe(false)
  return (err as Error).message
}

describe('per branch: each cluster renders the set of the branch it follows', () => {
  it('staging renders the develop set (new variable) while production clusters keep main', async () => {
    const root = repo()
    await render(root)
    expect(output(root, 'staging')).toContain('NEW_FEATURE')
    expect(output(root, 'staging')).toContain('image: r/api:develop-3f2a1c9')
    for (const prod of ['prod-eu', 'prod-us']) {
      expect(output(root, prod)).not.toContain('NEW_FEATURE')
      expect(output(root, prod)).toContain('image: r/api:main-9e8d7c6')
      expect(output(root, prod, 'api/configmap-apps-api-config.yaml')).toContain('branch: main')
    }
    expect(output(root, 'staging', 'api/configmap-apps-api-config.yaml')).toContain(
      'branch: develop'
    )
    const idx = index(root)
    expect(idx.clusters.staging.services.api.templates).toEqual({
      origin: 'service',
      dir: 'service-templates/api/develop',
      record: 'service-templates/api/develop.yaml',
      branch: 'develop',
      source: sourceOf('develop')
    })
    expect(idx.clusters['prod-eu'].services.api.templates).toMatchObject({
      origin: 'service',
      dir: 'service-templates/api/main',
      branch: 'main',
      source: { commit: mainCommit }
    })
    expect(idx.clusters['prod-eu'].services.web.templates).toEqual({
      origin: 'repository',
      dir: 'services/web'
    })
  })

  it('a main build changes nothing on staging, and a develop build nothing on production', async () => {
    const before = repo()
    await render(before)
    const changedMain = repo(
      serviceSet('main', { ...ownFiles('main'), 'values.yaml': 'replicas: 1\nlogLevel: warn\n' })
    )
    await render(changedMain)
    expect(output(changedMain, 'staging')).toBe(output(before, 'staging'))
    expect(output(changedMain, 'prod-eu')).not.toBe(output(before, 'prod-eu'))
    expect(output(changedMain, 'prod-eu')).toContain('value: warn')
  })

  it.each([
    [
      'a cluster pins the develop set while its image follows main',
      {
        'clusters/prod-eu.yaml':
          'groups: [production]\nservices:\n  api:\n    templatesBranch: develop\n'
      },
      'prod-eu',
      true,
      'r/api:main-9e8d7c6',
      { file: 'clusters/prod-eu.yaml', key: 'services.api.templatesBranch' }
    ],
    [
      'a group pins main; the image still follows develop',
      {
        'groups/development.yaml': 'branch: develop\nservices:\n  api:\n    templatesBranch: main\n'
      },
      'staging',
      false,
      'r/api:develop-3f2a1c9',
      { file: 'groups/development.yaml', key: 'services.api.templatesBranch' }
    ],
    [
      "the cluster's pin beats its group's",
      {
        'groups/development.yaml':
          'branch: develop\nservices:\n  api:\n    templatesBranch: main\n',
        'clusters/staging.yaml':
          'groups: [development]\nservices:\n  api:\n    templatesBranch: develop\n'
      },
      'staging',
      true,
      'r/api:develop-3f2a1c9',
      { file: 'clusters/staging.yaml', key: 'services.api.templatesBranch' }
    ]
  ])('templatesBranch: %s', async (_, files, cluster, developSet, image, chosenBy) => {
    const root = repo(files)
    await render(root)
    expect(output(root, cluster).includes('NEW_FEATURE')).toBe(developSet)
    expect(output(root, cluster)).toContain(`image: ${image}`)
    const templates = index(root).clusters[cluster].services.api.templates
    expect(templates).toMatchObject({ branch: developSet ? 'develop' : 'main', chosenBy })
  })
})

describe('which templates: services/<svc>/ or service-templates/<svc>/', () => {
  const both = { ...repositoryApi }

  it('both and no setting: an error naming both folders and the fix, nothing written', async () => {
    const message = await failure(repo(both))
    expect(message).toContain(
      'clusters prod-eu, prod-us, staging, service api: templates in both services/api/ and service-templates/api/: set services.api.templates to repository or service in a group or cluster file, see docs/service-owned-templates.md'
    )
  })

  it.each([
    [
      "the service's own kit.yaml says repository (migration step 1): every cluster keeps services/api",
      { 'services/api/kit.yaml': 'image: acme/api\ntemplates: repository\n' },
      { staging: 'repository', 'prod-eu': 'repository' },
      {
        staging: { file: 'services/api/kit.yaml', key: 'templates' },
        'prod-eu': { file: 'services/api/kit.yaml', key: 'templates' }
      }
    ],
    [
      'a group switches its clusters to the service set over the kit.yaml (step 3)',
      {
        'services/api/kit.yaml': 'image: acme/api\ntemplates: repository\n',
        'groups/development.yaml': 'branch: develop\nservices:\n  api:\n    templates: service\n'
      },
      { staging: 'service', 'prod-eu': 'repository' },
      {
        staging: { file: 'groups/development.yaml', key: 'services.api.templates' },
        'prod-eu': { file: 'services/api/kit.yaml', key: 'templates' }
      }
    ],
    [
      "a cluster's setting beats its group's",
      {
        'groups/production.yaml':
          'branch: main\nvalues:\n  replicas: 3\nservices:\n  api:\n    templates: service\n',
        'clusters/prod-eu.yaml':
          'groups: [production]\nservices:\n  api:\n    templates: repository\n',
        'groups/development.yaml': 'branch: develop\nservices:\n  api:\n    templates: service\n'
      },
      { staging: 'service', 'prod-eu': 'repository', 'prod-us': 'service' },
      {
        staging: { file: 'groups/development.yaml', key: 'services.api.templates' },
        'prod-eu': { file: 'clusters/prod-eu.yaml', key: 'services.api.templates' },
        'prod-us': { file: 'groups/production.yaml', key: 'services.api.templates' }
      }
    ]
  ])('%s', async (_, files, expected, chosenBy) => {
    const root = repo({ ...both, ...files })
    await render(root)
    const idx = index(root)
    for (const [cluster, origin] of Object.entries(expected))
      expect(idx.clusters[cluster].services.api.templates?.origin).toBe(origin)
    for (const [cluster, setting] of Object.entries(chosenBy))
      expect(idx.clusters[cluster].services.api.templates?.chosenBy).toEqual(setting)
    // The repository's api has no NEW_FEATURE: staging shows which one it rendered.
    expect(output(root, 'staging').includes('NEW_FEATURE')).toBe(expected.staging === 'service')
  })

  it('identical templates from either source render identical output (a switch without a gap)', async () => {
    const copy = repo({
      ...repositoryApi,
      'services/api/kit.yaml': 'image: acme/api\ntemplates: repository\n'
    })
    const switched = repo({
      ...repositoryApi,
      'services/api/kit.yaml': 'image: acme/api\ntemplates: repository\n',
      'groups/production.yaml':
        'branch: main\nvalues:\n  replicas: 3\nservices:\n  api:\n    templates: service\n'
    })
    await render(copy)
    await render(switched)
    expect(index(switched).clusters['prod-eu'].services.api.templates?.origin).toBe('service')
    expect(output(switched, 'prod-eu')).toBe(output(copy, 'prod-eu'))
    expect(index(switched).clusters['prod-eu'].services.api.hash).toBe(
      index(copy).clusters['prod-eu'].services.api.hash
    )
  })

  it.each([
    [
      'templates: repository with no services/api/',
      fleet,
      {
        'groups/development.yaml': 'branch: develop\nservices:\n  api:\n    templates: repository\n'
      },
      "groups/development.yaml:4: cluster staging, service api: services.api.templates is 'repository', but there is no services/api/ (the service's templates are in service-templates/api/)"
    ],
    [
      'templates: service with no service-templates/api/',
      Object.fromEntries(
        Object.entries(fleet).filter(([p]) => !p.startsWith('service-templates/'))
      ),
      {
        ...repositoryApi,
        'clusters/prod-us.yaml': 'groups: [production]\nservices:\n  api:\n    templates: service\n'
      },
      "clusters/prod-us.yaml:4: cluster prod-us, service api: services.api.templates is 'service', but service-templates/api/ holds no templates record (the image-deployer writes them with the image when its templates input is set)"
    ],
    [
      "templates: service in the repository's own kit.yaml with no set",
      Object.fromEntries(
        Object.entries(fleet).filter(([p]) => !p.startsWith('service-templates/'))
      ),
      { ...repositoryApi, 'services/api/kit.yaml': 'image: acme/api\n\ntemplates: service\n' },
      "services/api/kit.yaml:3: clusters prod-eu, prod-us, staging, service api: templates is 'service', but service-templates/api/ holds no templates record"
    ]
  ])('%s: an error naming the setting’s file and line', async (_, base, files, message) => {
    expect(await failure(repo(files, base))).toContain(message)
  })

  it("refuses templates: in a service's own copy (a manifests repository setting)", async () => {
    const root = repo(
      serviceSet('develop', {
        ...ownFiles('develop'),
        'kit.yaml': 'image: acme/api\ntemplates: service\n'
      })
    )
    expect(await failure(root)).toContain(
      "service-templates/api/develop/kit.yaml:2: cluster staging, service api: 'templates:' is a setting of the manifests repository"
    )
  })
})

describe('a missing set follows missingImage', () => {
  const withoutDevelop = Object.fromEntries(
    Object.entries(fleet).filter(([p]) => !p.startsWith('service-templates/api/develop'))
  )

  it('error (the default): names the expected record and the setting that chose the branch', async () => {
    const message = await failure(repo({}, withoutDevelop))
    expect(message).toContain(
      "cluster staging, service api: no templates for api on branch 'develop' (service-templates/api/develop.yaml); the branch is set by groups/development.yaml (branch); build develop with the service's templates, pin services.api.templatesBranch, follow another branch, or set missingImage: skip"
    )
  })

  it('a pin to a branch with no set names the pin', async () => {
    const root = repo({
      'clusters/prod-eu.yaml':
        'groups: [production]\nservices:\n  api:\n    templatesBranch: feature/x\n'
    })
    expect(await failure(root)).toContain(
      "no templates for api on branch 'feature/x' (service-templates/api/feature%2Fx.yaml); the templates branch is pinned by clusters/prod-eu.yaml (services.api.templatesBranch)"
    )
  })

  it('skip: the service is skipped on that cluster with a warning, the others render', async () => {
    const root = repo(
      { 'groups/development.yaml': 'branch: develop\nmissingImage: skip\n' },
      withoutDevelop
    )
    const result = await render(root)
    expect(result.clusters.find((c) => c.name === 'staging')!.skipped).toEqual([
      {
        name: 'api',
        reason: "no templates for api on branch 'develop' (service-templates/api/develop.yaml)",
        warning: true
      }
    ])
    expect(existsSync(join(root, 'generated/staging/api'))).toBe(false)
    expect(output(root, 'prod-eu')).toContain('r/api:main-9e8d7c6')
    expect(renderSummaryMarkdown(result)).toContain(
      "| api | ⚠️ no templates for api on branch 'develop' (service-templates/api/develop.yaml) | staging |"
    )
  })

  it('a disabled service needs no set', async () => {
    const root = repo(
      { 'groups/development.yaml': 'branch: develop\nservices:\n  api:\n    enabled: false\n' },
      withoutDevelop
    )
    await render(root)
    expect(index(root).clusters.staging.skipped).toEqual([
      { service: 'api', reason: 'disabled by groups/development.yaml' }
    ])
  })
})

describe('the copy must be exactly what its record lists', () => {
  const set = 'service-templates/api/develop'
  it.each([
    [
      'a file changed by hand',
      { [`${set}/values.yaml`]: 'replicas: 5\nlogLevel: info\n' },
      `${set}/values.yaml: cluster staging, service api: differs from its record service-templates/api/develop.yaml (changed by hand?); change the templates in the service repository (acme/api), or restore the copy`
    ],
    [
      'a file added by hand',
      { [`${set}/config/extra.yaml`]: 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n' },
      `${set}/config/extra.yaml: cluster staging, service api: is not in its record service-templates/api/develop.yaml (added by hand?)`
    ],
    [
      'a file removed by hand',
      { [`${set}/config/configmap.yaml`]: undefined },
      `${set}/config/configmap.yaml: cluster staging, service api: is listed in its record service-templates/api/develop.yaml but missing (removed by hand?)`
    ],
    [
      'the copy removed',
      Object.fromEntries(
        Object.keys(serviceSet('develop'))
          .filter((p) => p.startsWith(`${set}/`))
          .map((p) => [p, undefined])
      ),
      `service-templates/api/develop.yaml: cluster staging, service api: the copy ${set}/ is missing (its record lists 4 files)`
    ],
    [
      'a record moved to another branch',
      {
        'service-templates/api/develop.yaml': serviceSet('main')['service-templates/api/main.yaml']
      },
      "service-templates/api/develop.yaml: cluster staging, service api: the record is for service 'api', branch 'main', but its place is that of service 'api', branch 'develop'"
    ],
    [
      'a record that is not one',
      { 'service-templates/api/develop.yaml': 'service: api\nbranch: develop\n' },
      "service-templates/api/develop.yaml: cluster staging, service api: a templates record needs 'files:'"
    ]
  ])('%s: an error naming the file', async (_, files, message) => {
    const root = repo(files)
    expect(await failure(root)).toContain(message)
  })

  it('refuses a symbolic link in the copy, naming it', async () => {
    const root = repo()
    rmSync(join(root, 'service-templates/api/main/values.yaml'))
    symlinkSync(
      join(root, 'service-templates/api/develop/values.yaml'),
      join(root, 'service-templates/api/main/values.yaml')
    )
    const message = await failure(root)
    // One problem for both clusters that use the set: the set is read once.
    expect(message).toContain(
      'service-templates/api/main/values.yaml: clusters prod-eu, prod-us, service api: symbolic links are not followed'
    )
  })

  it('a broken set no cluster uses does not fail the render (sets are read when used)', async () => {
    const root = repo({
      ...serviceSet('feature/x'),
      'service-templates/api/feature%2Fx/values.yaml': 'changed: by hand\n'
    })
    await expect(render(root)).resolves.toMatchObject({ counts: { clusters: 3 } })
  })
})

describe('the manifests repository stays in charge', () => {
  it('groups, clusters and per-service values override the set’s values.yaml; pins still apply', async () => {
    const root = repo({
      'clusters/prod-us.yaml':
        'groups: [production]\nvalues:\n  logLevel: warn\nservices:\n  api:\n    image: r/api:pinned-1\n    values:\n      replicas: 7\n'
    })
    await render(root)
    expect(output(root, 'staging')).toMatch(/replicas: 1\n[\s\S]*value: info/)
    expect(output(root, 'prod-eu')).toMatch(/replicas: 3\n[\s\S]*value: info/)
    expect(output(root, 'prod-us')).toMatch(/replicas: 7\n[\s\S]*value: warn/)
    expect(output(root, 'prod-us')).toContain('image: r/api:pinned-1')
    expect(index(root).clusters['prod-us'].services.api.images.image).toEqual({
      ref: 'r/api:pinned-1',
      pinned: true,
      pinnedBy: { file: 'clusters/prod-us.yaml', key: 'services.api.image' }
    })
  })

  it('a problem in a set names the copy’s file and line', async () => {
    const root = repo(
      serviceSet('develop', {
        ...ownFiles('develop'),
        'config/configmap.yaml':
          'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: api-config\n  namespace: apps\ndata:\n  x: ${{ values.nothing }}\n'
      })
    )
    expect(await failure(root)).toContain(
      "service-templates/api/develop/config/configmap.yaml:7: cluster staging, service api: 'values.nothing': no value 'nothing' in values"
    )
  })

  it.each([
    [
      'found when loading',
      'image: "Not An Image"',
      "spec.template.spec.containers[0].image 'Not An Image' is not a valid image reference"
    ],
    ['found when rendering', 'image: ${{ values.nothing }}', "'values.nothing': no value 'nothing'"]
  ])('the same text in two sets: a problem %s names each copy', async (_, image, message) => {
    // Sets of different branches share what a same text compiles to; never its file name.
    const job = `apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: migrate\n  namespace: apps\nspec:\n  template:\n    spec:\n      containers:\n        - name: m\n          ${image}\n`
    const root = repo({
      ...serviceSet('develop', { ...ownFiles('develop'), 'job.yaml': job }),
      ...serviceSet('main', { ...ownFiles('main'), 'job.yaml': job })
    })
    const text = await failure(root)
    expect(text).toContain(
      `service-templates/api/develop/job.yaml:11: cluster staging, service api: ${message}`
    )
    expect(text).toContain(
      `service-templates/api/main/job.yaml:11: clusters prod-eu, prod-us, service api: ${message}`
    )
  })

  it('the same kit.yaml text in two sets: a problem names each copy', async () => {
    // Sets of different branches share what a same kit.yaml reads as; never its file name.
    const kit = 'image: acme/api\nenabled: maybe\n'
    const root = repo({
      ...serviceSet('develop', { ...ownFiles('develop'), 'kit.yaml': kit }),
      ...serviceSet('main', { ...ownFiles('main'), 'kit.yaml': kit })
    })
    const message = await failure(root)
    expect(message).toContain('service-templates/api/develop/kit.yaml:2: cluster staging')
    expect(message).toContain('service-templates/api/main/kit.yaml:2: clusters prod-eu, prod-us')
  })

  it('the set’s own kit.yaml may disable the service; a group may enable it again', async () => {
    const off = serviceSet('main', {
      ...ownFiles('main'),
      'kit.yaml': 'image: acme/api\nenabled: false\n'
    })
    const root = repo({
      ...off,
      'clusters/prod-us.yaml': 'groups: [production]\nservices:\n  api:\n    enabled: true\n'
    })
    await render(root)
    const idx = index(root)
    expect(idx.clusters['prod-eu'].skipped).toEqual([
      { service: 'api', reason: 'disabled by service-templates/api/main/kit.yaml' }
    ])
    expect(Object.keys(idx.clusters['prod-us'].services)).toEqual(['api', 'web'])
  })

  it.each([
    [{ services: ['api'] }, ['api']],
    [{ services: ['web'] }, ['web']],
    [{}, ['api', 'web']]
  ])('selection %j sees service-owned names', async (selection, services) => {
    const root = repo()
    await render(root, { selection })
    expect(Object.keys(index(root).clusters.staging.services)).toEqual(services)
  })

  it('an unknown --services name lists the service-owned ones too; groups may configure them', async () => {
    const root = repo({
      'groups/development.yaml':
        'branch: develop\nservices:\n  api:\n    values:\n      replicas: 2\n'
    })
    const message = await failure(root, { selection: { services: ['nope'] } })
    expect(message).toBe("unknown service 'nope' (known: api, web)")
    await render(root)
    expect(output(root, 'staging')).toContain('replicas: 2')
  })

  it('a repository whose every service is service-owned needs no services/ folder', async () => {
    const only = Object.fromEntries(
      Object.entries(fleet).filter(([p]) => !p.startsWith('services/'))
    )
    const root = repo({}, only)
    await expect(render(root)).resolves.toMatchObject({ counts: { services: 3 } })
  })

  it('paths.serviceTemplates moves the folder; named and missing is an error', async () => {
    const moved = Object.fromEntries(
      Object.entries(fleet).filter(([p]) => !p.startsWith('service-templates/'))
    )
    const root = repo(
      {
        'kit.yaml': 'paths:\n  serviceTemplates: deploy/owned\n',
        ...serviceSet('develop', undefined, 'deploy/owned'),
        ...serviceSet('main', undefined, 'deploy/owned')
      },
      moved
    )
    await render(root)
    expect(index(root).clusters.staging.services.api.templates).toMatchObject({
      dir: 'deploy/owned/api/develop',
      record: 'deploy/owned/api/develop.yaml'
    })
    const missing = repo(
      { ...repositoryApi, 'kit.yaml': 'paths:\n  serviceTemplates: nowhere\n' },
      moved
    )
    expect(await failure(missing)).toBe(
      "kit.yaml:2: paths.serviceTemplates: folder 'nowhere/' does not exist"
    )
  })
})

describe('index and summary', () => {
  it('the summary has a Templates table linking each set to its folder at its commit', async () => {
    const root = repo()
    const md = renderSummaryMarkdown(
      await render(root, { env: { GITHUB_SERVER_URL: 'https://git.example.com/' } })
    )
    expect(md).toContain('#### Templates\n\n| Service | Templates | Clusters | Chosen by |')
    expect(md).toContain(
      `| api | [acme/api@3f2a1c9 · deploy/kit (develop)](https://git.example.com/acme/api/tree/${developCommit}/deploy/kit) | staging | the only templates; branch develop from groups/development.yaml (branch) |`
    )
    expect(md).toContain(
      `| api | [acme/api@9e8d7c6 · deploy/kit (main)](https://git.example.com/acme/api/tree/${mainCommit}/deploy/kit) | prod-eu, prod-us | the only templates; branch main from groups/production.yaml (branch) |`
    )
    expect(md).toContain('| web | services/web | all 3 clusters | the only templates |')
  })

  it('a repository without service-owned templates has no Templates table', async () => {
    const only = Object.fromEntries(
      Object.entries(fleet).filter(([p]) => !p.startsWith('service-templates/'))
    )
    const root = repo(repositoryApi, only)
    const md = renderSummaryMarkdown(await render(root))
    expect(md).not.toContain('Templates')
    expect(index(root).clusters.staging.services.api.templates).toEqual({
      origin: 'repository',
      dir: 'services/api'
    })
  })

  it('renders the same bytes twice, and whatever order a record lists its source in', async () => {
    const root = repo()
    await render(root, { output: 'out-a' })
    await render(root, { output: 'out-b' })
    const a = readTree(join(root, 'out-a'))
    expect(readTree(join(root, 'out-b'))).toEqual(a)
    // The same record with its source keys in another order: the same index.
    const recordFile = join(root, 'service-templates/api/develop.yaml')
    const text = readFileSync(recordFile, 'utf8')
    const lines = text.split('\n')
    const start = lines.indexOf('source:')
    const source = lines.slice(start + 1, start + 6).reverse()
    writeFileSync(
      recordFile,
      [...lines.slice(0, start + 1), ...source, ...lines.slice(start + 6)].join('\n')
    )
    expect(readFileSync(recordFile, 'utf8')).not.toBe(text)
    await render(root, { output: 'out-c' })
    expect(readTree(join(root, 'out-c'))).toEqual(a)
  })
})

describe('serviceTemplateUsers: the clusters the image-deployer’s check renders', () => {
  it.each([
    ['develop: the cluster following develop', 'develop', {}, fleet, ['staging']],
    ['main: the clusters following main', 'main', {}, fleet, ['prod-eu', 'prod-us']],
    ['a branch no cluster follows: none', 'feature/x', {}, fleet, []],
    [
      'develop: a cluster pinning the develop set too',
      'develop',
      {
        'clusters/prod-us.yaml':
          'groups: [production]\nservices:\n  api:\n    templatesBranch: develop\n'
      },
      fleet,
      ['prod-us', 'staging']
    ],
    [
      'develop: not a disabled cluster',
      'develop',
      { 'clusters/staging.yaml': 'groups: [development]\nenabled: false\n' },
      fleet,
      []
    ],
    [
      'develop: not where a group disables the service',
      'develop',
      { 'groups/development.yaml': 'branch: develop\nservices:\n  api:\n    enabled: false\n' },
      fleet,
      []
    ],
    [
      'develop, before the first bump: the cluster whose group switches to the set',
      'develop',
      {
        ...repositoryApi,
        'services/api/kit.yaml': 'image: acme/api\ntemplates: repository\n',
        'groups/development.yaml': 'branch: develop\nservices:\n  api:\n    templates: service\n'
      },
      Object.fromEntries(
        Object.entries(fleet).filter(([p]) => !p.startsWith('service-templates/'))
      ),
      ['staging']
    ],
    // A first bump with nothing choosing would leave both sources: every cluster is checked,
    // and each render reports the ambiguity.
    [
      'develop, before a first bump that nothing chooses: every cluster (each is ambiguous)',
      'develop',
      repositoryApi,
      Object.fromEntries(
        Object.entries(fleet).filter(([p]) => !p.startsWith('service-templates/'))
      ),
      ['prod-eu', 'prod-us', 'staging']
    ]
  ])('%s', (_, branch, files, base, users) => {
    const r = loadRepository(repo(files, base))
    expect(serviceTemplateUsers(r, 'api', branch).map((c) => c.name)).toEqual(users)
  })
})
