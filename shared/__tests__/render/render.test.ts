import { afterEach, describe, expect, it } from '@jest/globals'
import { load } from 'js-yaml'
import { readdirSync } from 'node:fs'
import {
  formatProblem,
  loadRepository,
  RenderFailedError,
  renderCluster,
  runRender,
  selectTargets,
  type RenderProblem
} from '../../src/render/index.js'
import { baseRepo, makeRepo, readTree, removeAll } from './helpers.js'

const made: string[] = []
afterEach(() => removeAll(...made.splice(0)))

function repo(extra: Record<string, string | undefined> = {}): string {
  const root = makeRepo({ ...baseRepo, ...extra })
  made.push(root)
  return root
}

/** Renders one cluster in memory; returns the objects by file path, or throws the problems. */
function renderOne(root: string, cluster = 'a', env: Record<string, string> = {}) {
  const r = loadRepository(root)
  const sel = selectTargets(r, { clusters: [cluster] })
  const out = renderCluster(r, sel.clusters[0], sel.services, { env, secrets: new Set() })
  if (out.problems.length > 0) throw new RenderFailedError(out.problems)
  const objects: Record<string, Record<string, unknown>> = {}
  for (const s of out.services)
    for (const f of s.files) objects[f.path] = load(f.content) as Record<string, unknown>
  return { out, objects }
}

async function problemsOf(
  root: string,
  options: Partial<Parameters<typeof runRender>[0]> = {}
): Promise<RenderProblem[]> {
  try {
    await runRender({ root, mode: 'dry-run', env: {}, ...options })
  } catch (err) {
    if (err instanceof RenderFailedError) return [...err.problems]
    throw err
  }
  throw new Error('expected the render to fail')
}

describe('layering', () => {
  const layered = {
    'groups/g1.yaml':
      'values:\n  v: { from: g1, g1: true }\nservices:\n  api:\n    values:\n      v: { from: g1-api }\n',
    'groups/g2.yaml': 'values:\n  v: { from: g2, g2: true }\n',
    'services/api/values.yaml': 'replicas: 1\nv: { from: service, service: true }\n',
    'services/api/cm.yaml':
      'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: v }\ndata: ${{ values.v }}\n'
  }

  it.each([
    ['service values alone', 'groups: []', { from: 'service', service: true }],
    [
      'a group over the service, its per-service entry over the group',
      'groups: [g1]',
      { from: 'g1-api', service: true, g1: true }
    ],
    [
      'groups in the listed order (g2 after g1)',
      'groups: [g1, g2]',
      { from: 'g2', service: true, g1: true, g2: true }
    ],
    [
      'groups in the listed order (g1 after g2)',
      'groups: [g2, g1]',
      { from: 'g1-api', service: true, g1: true, g2: true }
    ],
    [
      'the cluster over its groups',
      'groups: [g1, g2]\nvalues:\n  v: { from: cluster }',
      { from: 'cluster', service: true, g1: true, g2: true }
    ],
    [
      "the cluster's per-service override last",
      'groups: [g1]\nvalues:\n  v: { from: cluster }\nservices:\n  api:\n    values:\n      v: { from: override, service: null }',
      { from: 'override', g1: true }
    ]
  ])('%s', (_rule, cluster, want) => {
    const root = repo({ ...layered, 'clusters/a.yaml': cluster })
    expect(renderOne(root).objects['api/configmap-v.yaml'].data).toEqual(want)
  })
})

describe('settings and images', () => {
  it('follows the branch the group sets, and a per-service branch over it', () => {
    const root = repo({
      'images/acme/api/develop.yaml': 'image: r/api:dev\n',
      'images/acme/api/feature%2Fx.yaml': 'image: r/api:fx\n',
      'groups/dev.yaml': 'branch: develop\n',
      'clusters/a.yaml': 'groups: [dev]\n',
      'clusters/b.yaml': 'groups: [dev]\nservices:\n  api:\n    branch: feature/x\n'
    })
    const image = (c: string) =>
      (
        renderOne(root, c).objects['api/deployment-apps-api.yaml'] as {
          spec: { template: { spec: { containers: { image: string }[] } } }
        }
      ).spec.template.spec.containers[0].image
    expect(image('a')).toBe('r/api:dev')
    expect(image('b')).toBe('r/api:fx')
  })

  it('uses a pinned image without reading an image file', () => {
    const root = repo({
      'images/acme/api/main.yaml': undefined,
      'clusters/a.yaml': 'groups: [prod]\nservices:\n  api:\n    image: r/api:pinned\n'
    })
    const { out } = renderOne(root)
    expect(out.services[0].images.image).toEqual({
      ref: 'r/api:pinned',
      pinned: true,
      pinnedBy: { file: 'clusters/a.yaml', key: 'services.api.image' },
      sourceName: 'acme/api'
    })
    expect(out.services[0].files[0].content).toContain('image: r/api:pinned')
  })

  it('fails on a missing image file, naming the expected file, cluster and service', () => {
    const root = repo({ 'images/acme/api/main.yaml': undefined })
    expect(() => renderOne(root)).toThrow(
      "cluster a, service api: no image file for acme/api on branch 'main' (images/acme/api/main.yaml)"
    )
  })

  it('skips the service with a warning when missingImage is skip', () => {
    const root = repo({
      'images/acme/api/main.yaml': undefined,
      'groups/prod.yaml': 'missingImage: skip\n'
    })
    const { out } = renderOne(root)
    expect(out.services).toEqual([])
    expect(out.skipped).toEqual([
      {
        name: 'api',
        warning: true,
        reason: "no image file for acme/api on branch 'main' (images/acme/api/main.yaml)"
      }
    ])
  })

  it('skips a service disabled by a group and re-enabled by a cluster, saying who decided', () => {
    const root = repo({
      'groups/prod.yaml': 'services:\n  api:\n    enabled: false\n',
      'clusters/b.yaml': 'groups: [prod]\nservices:\n  api:\n    enabled: true\n'
    })
    expect(renderOne(root, 'a').out.skipped).toEqual([
      { name: 'api', warning: false, reason: 'disabled by groups/prod.yaml' }
    ])
    expect(renderOne(root, 'b').out.services.map((s) => s.name)).toEqual(['api'])
  })

  it('renders a service that has no workload and no image (a bare Service)', () => {
    const root = repo({
      'services/db/service.yaml':
        'apiVersion: v1\nkind: Service\nmetadata:\n  name: db\nspec:\n  type: ExternalName\n  externalName: db.${{ cluster.labels.region }}.internal\n'
    })
    expect(renderOne(root).objects['db/service-db.yaml']).toMatchObject({
      spec: { externalName: 'db.eu.internal' }
    })
  })

  it('appends the recorded digest to the image reference', () => {
    const digest = `sha256:${'b'.repeat(64)}`
    const root = repo({ 'images/acme/api/main.yaml': `image: r/api:1\ndigest: ${digest}\n` })
    expect(renderOne(root).out.services[0].images.image.ref).toBe(`r/api:1@${digest}`)
  })
})

describe('validation and errors', () => {
  it('names file, line, clusters and service for a missing value, once for every cluster', async () => {
    const root = repo({
      'services/api/deployment.yaml': baseRepo['services/api/deployment.yaml'].replace(
        'values.replicas',
        'values.replica'
      )
    })
    const problems = await problemsOf(root)
    expect(problems).toHaveLength(1)
    expect(problems[0]).toMatchObject({
      file: 'services/api/deployment.yaml',
      line: 7,
      clusters: ['a', 'b'],
      service: 'api'
    })
    expect(problems[0].message).toContain("no value 'replica' in values (it has: replicas)")
    expect(formatProblem(problems[0])).toMatch(
      /^services\/api\/deployment\.yaml:7: clusters a, b, service api: /
    )
  })

  it.each([
    ['no apiVersion', 'kind: ConfigMap\nmetadata: {name: x}\n', 'has no apiVersion'],
    ['no kind', 'apiVersion: v1\nmetadata: {name: x}\n', 'has no valid kind'],
    ['no metadata.name', 'apiVersion: v1\nkind: ConfigMap\nmetadata: {}\n', 'has no metadata.name'],
    [
      'a name with a slash',
      'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ../../x}\n',
      'is not a valid Kubernetes name'
    ],
    [
      'a bad namespace',
      'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x, namespace: ../up}\n',
      'not a valid namespace name'
    ],
    ['a list document', '- a\n- b\n', 'must be a mapping']
  ])('refuses an object with %s', async (_what, text, message) => {
    const problems = await problemsOf(repo({ 'services/api/extra.yaml': `# comment\n${text}` }))
    expect(problems[0].file).toBe('services/api/extra.yaml')
    expect(problems[0].line).toBe(2)
    expect(problems[0].message).toContain(message)
  })

  it('refuses the same kind/namespace/name twice in a cluster, naming both files', async () => {
    const root = repo({
      'services/web/deployment.yaml':
        'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\n  namespace: apps\n'
    })
    const problems = await problemsOf(root)
    expect(problems[0]).toMatchObject({
      file: 'services/web/deployment.yaml',
      line: 1,
      clusters: ['a', 'b'],
      service: 'web'
    })
    expect(problems[0].message).toBe(
      'duplicate object Deployment apps/api: also rendered from services/api/deployment.yaml:1'
    )
  })

  it('reports a YAML syntax error with its line and column', async () => {
    const problems = await problemsOf(
      repo({ 'services/api/bad.yaml': 'apiVersion: v1\nkind: [unclosed\n' })
    )
    expect(problems[0].file).toBe('services/api/bad.yaml')
    expect(problems[0].message).toContain('invalid YAML')
    expect(problems[0].line).toBeGreaterThanOrEqual(2)
  })

  it('refuses an alias bomb', async () => {
    const lines = ['a0: &a0 [x, x, x, x, x, x, x, x, x, x]']
    for (let i = 1; i < 8; i++)
      lines.push(
        `a${i}: &a${i} [${Array(10)
          .fill(`*a${i - 1}`)
          .join(', ')}]`
      )
    const problems = await problemsOf(repo({ 'services/api/values.yaml': lines.join('\n') + '\n' }))
    expect(problems[0].message).toContain('alias bomb')
  })

  it('refuses an oversized file', async () => {
    const big = `data: "${'x'.repeat(4 * 1024 * 1024 + 1)}"\n`
    const problems = await problemsOf(repo({ 'services/api/big.yaml': big }))
    expect(problems[0]).toMatchObject({ file: 'services/api/big.yaml' })
    expect(problems[0].message).toContain('larger than')
  })

  it.each([
    [
      'an unknown key in a cluster file, with its line',
      { 'clusters/a.yaml': 'groups: [prod]\nreplicas: 3\n' },
      'clusters/a.yaml',
      2,
      "unknown key 'replicas' in the top level"
    ],
    [
      'a wrong type',
      { 'clusters/a.yaml': 'enabled: "yes"\n' },
      'clusters/a.yaml',
      1,
      'enabled must be boolean'
    ],
    [
      'a bad missingImage',
      { 'groups/prod.yaml': 'missingImage: ignore\n' },
      'groups/prod.yaml',
      1,
      'missingImage must be one of "error", "skip"'
    ],
    [
      'an unknown group',
      { 'clusters/a.yaml': 'groups:\n  - prod\n  - nope\n' },
      'clusters/a.yaml',
      3,
      "unknown group 'nope'"
    ],
    [
      'an unknown service override',
      { 'clusters/a.yaml': 'services:\n  apii:\n    enabled: false\n' },
      'clusters/a.yaml',
      2,
      "unknown service 'apii'"
    ],
    [
      'a name that does not match the file',
      { 'clusters/a.yaml': 'name: b\n' },
      'clusters/a.yaml',
      1,
      "name 'b' must match the file name 'a'"
    ],
    [
      'a cluster file name that is not a DNS label',
      { 'clusters/A_b.yaml': 'groups: []\n' },
      'clusters/A_b.yaml',
      undefined,
      "cluster name 'A_b'"
    ],
    [
      'kit.yaml paths escaping the repository',
      { 'kit.yaml': 'paths:\n  output: ../../etc\n' },
      'kit.yaml',
      2,
      'paths.output'
    ],
    [
      'an image file without image',
      { 'images/acme/api/main.yaml': 'digest: nope\n' },
      'images/acme/api/main.yaml',
      1,
      "needs 'image'"
    ]
  ])('refuses %s', async (_what, files, file, line, message) => {
    const problems = await problemsOf(repo(files))
    expect(problems[0].file).toBe(file)
    expect(problems[0].line).toBe(line)
    expect(problems.map((p) => p.message).join('\n')).toContain(message)
  })

  it('never puts an env value in an error message', async () => {
    const root = repo({
      'services/api/secret.yaml':
        'apiVersion: v1\nkind: Secret\nmetadata:\n  name: ${{ env.TOKEN }}\n'
    })
    let message = ''
    try {
      await runRender({ root, mode: 'dry-run', env: { TOKEN: 'Bad/Token-Value' } })
    } catch (err) {
      message = (err as Error).message
    }
    expect(message).toContain('is not a valid Kubernetes name')
    expect(message).not.toContain('Bad/Token-Value')
  })
})

describe('problems reported once, where they are', () => {
  const secret = {
    'services/api/secret.yaml':
      'apiVersion: v1\nkind: Secret\nmetadata:\n  name: api\n  namespace: apps\nstringData:\n  TOKEN: ${{ env.TOKEN }}\n'
  }

  it('fails on an empty env value (a missing GitHub secret), naming the variable, file, line, cluster and service, and writes nothing', async () => {
    const root = repo(secret)
    let caught: unknown
    try {
      await runRender({ root, mode: 'write', env: { TOKEN: '' } })
    } catch (err) {
      caught = err
    }
    expect(caught).toBeInstanceOf(RenderFailedError)
    const problems = (caught as RenderFailedError).problems
    expect(problems.map((p) => [p.file, p.line, p.clusters, p.service])).toEqual([
      ['services/api/secret.yaml', 7, ['a', 'b'], 'api']
    ])
    expect(problems[0].message).toBe(
      "'env.TOKEN': environment variable TOKEN is empty (GitHub passes a secret that does not exist as an empty string); if an empty value is intended, add | allow-empty"
    )
    expect(readdirSync(root).sort()).toEqual(['clusters', 'groups', 'images', 'services'])
  })

  it('renders an empty env value the template allows explicitly', async () => {
    const root = repo({
      'services/api/secret.yaml': secret['services/api/secret.yaml'].replace(
        'env.TOKEN',
        'env.TOKEN | allow-empty'
      )
    })
    const result = await runRender({ root, mode: 'write', env: { TOKEN: '' } })
    const tree = readTree(result.outputDir)
    expect(load(tree['a/api/secret-apps-api.yaml'])).toMatchObject({ stringData: { TOKEN: '' } })
  })

  it.each([
    ["a service's kit.yaml", 'services/api/kit.yaml', 'image: acme/api\nimages: [oops\n'],
    ["a service's values.yaml", 'services/api/values.yaml', 'replicas: 1\nenv: {a: 1\n'],
    ['a group file', 'groups/prod.yaml', 'branch: main\nvalues: [\n']
  ])(
    'reports a YAML syntax error in %s once, with line and column, not as unknown names everywhere',
    async (_what, file, text) => {
      // Both clusters use the group and override the service: each would be "unknown".
      const root = repo({
        [file]: text,
        'clusters/a.yaml': 'groups: [prod]\nservices:\n  api:\n    values:\n      replicas: 2\n',
        'clusters/b.yaml': 'groups: [prod]\nservices:\n  api:\n    enabled: true\n'
      })
      const problems = await problemsOf(root)
      expect(problems).toHaveLength(1)
      expect(problems[0].file).toBe(file)
      expect(problems[0].message).toMatch(/^invalid YAML: /)
      expect(problems[0].line).toBeGreaterThanOrEqual(2)
      expect(problems[0].column).toBeGreaterThanOrEqual(1)
      expect(formatProblem(problems[0])).toMatch(
        new RegExp(`^${file.replace('.', '\\.')}:\\d+:\\d+: invalid YAML: `)
      )
    }
  )

  it('reports a broken kit.yaml alone (every other folder depends on it)', async () => {
    const root = repo({
      'kit.yaml': 'paths:\n  services: manifests/services\n  clusters: [\n'
    })
    const problems = await problemsOf(root)
    expect(problems).toHaveLength(1)
    expect(problems[0]).toMatchObject({ file: 'kit.yaml' })
    expect(problems[0].message).toMatch(/^invalid YAML: /)
  })

  it('counts problems in plain English and says how many were left out', async () => {
    // 51 clusters (a, b and 49 more) each miss a different value: 51 distinct problems.
    const clusters: Record<string, string> = {
      'clusters/a.yaml': 'groups: [prod]\nvalues: {only-a: 1}\n',
      'clusters/b.yaml': 'groups: [prod]\nvalues: {only-b: 1}\n'
    }
    for (let i = 0; i < 49; i++) {
      const n = `c${String(i).padStart(2, '0')}`
      clusters[`clusters/${n}.yaml`] = `groups: [prod]\nvalues: {only-${n}: 1}\n`
    }
    const root = repo({
      ...clusters,
      'services/api/cm.yaml':
        'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata:\n  x: ${{ values.missing }}\n'
    })
    let caught: RenderFailedError | undefined
    try {
      await runRender({ root, mode: 'dry-run', env: {} })
    } catch (err) {
      caught = err as RenderFailedError
    }
    // 50 listed, then one line for the rest.
    expect(caught?.total).toBe(51)
    expect(caught?.problems).toHaveLength(51)
    expect(caught?.problems[50].message).toBe('... and 1 more problem')
    expect(caught?.message).toMatch(/^51 problems:\n/)
    expect(new RenderFailedError([{ message: 'x' }, { message: 'y' }]).message).toMatch(
      /^2 problems:/
    )
    expect(new RenderFailedError([{ message: 'x' }]).message).toBe('x')
  })
})

describe('selection', () => {
  const files = {
    'groups/dev.yaml': 'branch: main\n',
    'clusters/c.yaml': 'groups: [dev]\nlabels:\n  region: eu\n',
    'clusters/off.yaml': 'enabled: false\ngroups: [prod]\n'
  }
  it.each([
    [{}, ['a', 'b', 'c'], ['off']],
    [{ clusters: ['b'] }, ['b'], []],
    [{ groups: ['dev'] }, ['c'], []],
    [{ labels: ['region=eu'] }, ['a', 'c'], []],
    [{ labels: ['region!=eu'] }, ['b'], ['off']],
    [{ labels: ['region'] }, ['a', 'b', 'c'], []],
    [{ groups: ['prod'], labels: ['region=us'] }, ['b'], []],
    // The Kubernetes grammar (k8s/selector.ts), as the deployer's `selector`.
    [{ labels: ['region==eu'] }, ['a', 'c'], []],
    [{ labels: ['region in (us,eu)', '!nothing'] }, ['a', 'b', 'c'], []],
    [{ labels: ['region notin (eu)'] }, ['b'], ['off']],
    [{ labels: ['region=eu,region!=us'] }, ['a', 'c'], []],
    // A list input split at commas is put back together.
    [{ labels: ['region in (us', 'eu)'] }, ['a', 'b', 'c'], []],
    // Cluster names are globs (text/glob.ts), as the deployer's `clusters`.
    [{ clusters: ['[ab]'] }, ['a', 'b'], []],
    [{ clusters: ['*'], groups: ['prod'] }, ['a', 'b'], ['off']],
    [{ clusters: ['{c,off}'] }, ['c'], ['off']]
  ])('%j selects %j (disabled %j)', (selection, clusters, disabled) => {
    const r = loadRepository(repo(files))
    const sel = selectTargets(r, selection)
    expect(sel.clusters.map((c) => c.name)).toEqual(clusters)
    expect(sel.disabled).toEqual(disabled)
  })

  it.each([
    [{ clusters: ['nope'] }, "unknown cluster 'nope' (known: a, b, c, off)"],
    [{ services: ['nope'] }, "unknown service 'nope'"],
    [{ groups: ['nope'] }, "unknown group 'nope'"],
    [{ labels: ['a=b=c'] }, "label selector 'a=b=c'"],
    [{ clusters: ['off'] }, 'every selected cluster is disabled (off)'],
    [{ labels: ['region=mars'] }, 'no cluster matches the selection'],
    [{ clusters: ['x*'] }, "unknown cluster 'x*' (known: a, b, c, off)"],
    [{ labels: ['a b'] }, "label selector 'a b': requirement 'a b' is not key, !key, key=value"],
    [{ labels: ['a/b/c=x'] }, "has an invalid key 'a/b/c' (a key is [prefix/]name"],
    [{ labels: ['region=eu', 'a=b=c'] }, "label selector 'region=eu,a=b=c': requirement 'a=b=c'"]
  ])('refuses %j', (selection, message) => {
    const r = loadRepository(repo(files))
    expect(() => selectTargets(r, selection)).toThrow(message)
  })
})

describe('determinism', () => {
  it('renders byte-identical output and index for identical input', async () => {
    const root = repo()
    const a = await runRender({ root, output: `${root}/out-a`, mode: 'write', env: {} })
    const b = await runRender({ root, output: `${root}/out-b`, mode: 'write', env: {} })
    expect(readTree(a.outputDir)).toEqual(readTree(b.outputDir))
    expect(a.hash).toBe(b.hash)
    expect(Object.keys(readTree(a.outputDir)).sort()).toEqual([
      'a/api/deployment-apps-api.yaml',
      'b/api/deployment-apps-api.yaml',
      'index.json'
    ])
  })
})
