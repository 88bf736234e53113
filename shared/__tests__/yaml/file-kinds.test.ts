/**
 * Every kind of file kit reads goes through the one YAML loader: a merge key (`<<`) in any of
 * them reaches what kit does with it (the rendered output, the manifest to apply, the image
 * file, the kubeconfig), a tag kit does not know is refused naming the file and line, and a
 * large legal value renders. One table row per kind of file.
 */
import { afterEach, describe, expect, it } from '@jest/globals'
import { join } from 'node:path'
import { parse } from 'yaml'
import { InputError } from '../../src/errors.js'
import { readImageFile } from '../../src/images/image-file.js'
import { kubeConfigsFromInputs } from '../../src/k8s/client/credentials.js'
import { parseManifests } from '../../src/k8s/manifests.js'
import { formatProblem, RenderFailedError, runRender } from '../../src/render/index.js'
import { Redactor } from '../../src/secrets/redact.js'
import { baseRepo, makeRepo, readTree, removeAll } from '../render/helpers.js'

const made: string[] = []
afterEach(() => removeAll(...made.splice(0)))

function repo(files: Record<string, string>): string {
  const root = makeRepo({ ...baseRepo, ...files })
  made.push(root)
  return root
}

/** Renders into `generated/`; returns cluster a's api Deployment. */
async function renderedDeployment(files: Record<string, string>): Promise<Deployment> {
  const root = repo(files)
  await runRender({ root, mode: 'write', env: {} })
  const tree = readTree(join(root, 'generated', 'a', 'api'))
  const name = Object.keys(tree).find((f) => f.startsWith('deployment-'))
  return parse(tree[name as string]) as Deployment
}

interface Deployment {
  metadata: { labels?: Record<string, string> }
  spec: {
    replicas: number
    template: {
      metadata?: { labels?: Record<string, string> }
      spec: { containers: { image: string }[] }
    }
  }
}

/** The first problem a render reports, as kit prints it. */
async function renderError(files: Record<string, string>): Promise<string> {
  try {
    await runRender({ root: repo(files), mode: 'dry-run', env: {} })
  } catch (err) {
    if (err instanceof RenderFailedError) return formatProblem(err.problems[0])
    if (err instanceof InputError) return err.message
    throw err
  }
  throw new Error('expected the render to fail')
}

const deployment = (extra: { labels?: string; podLabels?: string } = {}): string =>
  [
    'apiVersion: apps/v1',
    'kind: Deployment',
    'metadata:',
    '  name: api',
    '  namespace: apps',
    ...(extra.labels ? [`  labels: ${extra.labels}`] : []),
    'spec:',
    '  replicas: ${{ values.replicas }}',
    '  template:',
    ...(extra.podLabels ? ['    metadata:', `      labels: ${extra.podLabels}`] : []),
    '    spec:',
    '      containers:',
    '        - name: api',
    '          image: ${{ image }}',
    ''
  ].join('\n')

/** A group without values or branch, so a lower layer's values show through. */
const plainGroup = { 'groups/prod.yaml': 'branch: main\n' }

describe('merge keys reach the rendered output, from every kind of repository file', () => {
  it.each<[string, Record<string, string>, (d: Deployment) => unknown, unknown]>([
    [
      'service values',
      {
        ...plainGroup,
        'services/api/values.yaml': 'defaults: &d\n  replicas: 4\n<<: *d\n'
      },
      (d) => d.spec.replicas,
      4
    ],
    [
      'group',
      { 'groups/prod.yaml': 'branch: main\nvalues:\n  <<: {replicas: 5}\n' },
      (d) => d.spec.replicas,
      5
    ],
    [
      'cluster (a list of sources: the first wins)',
      {
        'clusters/a.yaml': 'groups: [prod]\nvalues:\n  <<: [{replicas: 6}, {replicas: 60}]\n'
      },
      (d) => d.spec.replicas,
      6
    ],
    [
      'kit.yaml',
      {
        'kit.yaml': 'defaults:\n  <<: {branch: develop}\n',
        'groups/prod.yaml': 'values:\n  replicas: 3\n',
        'images/acme/api/develop.yaml': 'image: r.example/acme/api:develop-7\n'
      },
      (d) => d.spec.template.spec.containers[0].image,
      'r.example/acme/api:develop-7'
    ],
    [
      "service's kit.yaml",
      {
        'services/api/kit.yaml': '<<: {image: acme/other}\n',
        'images/acme/other/main.yaml': 'image: r.example/acme/other:main-8\n'
      },
      (d) => d.spec.template.spec.containers[0].image,
      'r.example/acme/other:main-8'
    ],
    [
      'template (an anchor merged with a key of its own)',
      {
        'services/api/deployment.yaml': deployment({
          labels: '&labels {app: api, tier: web}',
          podLabels: '{<<: *labels, tier: pod}'
        })
      },
      (d) => d.spec.template.metadata?.labels,
      { app: 'api', tier: 'pod' }
    ],
    [
      'image file',
      {
        'images/acme/api/main.yaml':
          'x-build: &build {image: r.example/acme/api:merged-9}\n<<: *build\n'
      },
      (d) => d.spec.template.spec.containers[0].image,
      'r.example/acme/api:merged-9'
    ]
  ])('%s', async (_kind, files, pick, expected) => {
    expect(pick(await renderedDeployment(files))).toEqual(expected)
  })
})

describe('tags kit does not know are refused with file and line, in every kind of file', () => {
  it.each([
    ['service values', 'services/api/values.yaml', 'replicas: 1\nx: !!js/function "f"\n', 2],
    ['group', 'groups/prod.yaml', 'branch: main\nvalues:\n  a: !vault secret/a\n', 3],
    ['cluster', 'clusters/a.yaml', 'groups: [prod]\nlabels: !!python/object:os.system {}\n', 2],
    ['kit.yaml', 'kit.yaml', 'defaults:\n  branch: !Ref Branch\n', 2],
    ["service's kit.yaml", 'services/api/kit.yaml', 'image: !!binary YWNtZS9hcGk=\n', 1],
    [
      'template',
      'services/api/cm.yaml',
      'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: !!set {a}\n',
      4
    ],
    ['image file', 'images/acme/api/main.yaml', 'image: !!timestamp 2026-01-01\n', 1]
  ])('%s', async (_kind, file, text, line) => {
    const message = await renderError({ [file]: text })
    expect(message).toMatch(
      new RegExp(`^${file.replace(/\./g, '\\.')}:${line}:\\d+: .*YAML tag !\\S+ is not accepted`)
    )
  })
})

describe('files kit reads outside the render', () => {
  it('a manifest to deploy: merged, or refused with file and line', () => {
    const text =
      'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  labels: &l {app: c}\ndata:\n  <<: *l\n  own: x\n'
    expect(parseManifests(text, 'm.yaml')[0].object).toMatchObject({ data: { app: 'c', own: 'x' } })
    expect(() => parseManifests(`${text}  run: !!js/function "f"\n`, 'm.yaml')).toThrow(
      /^m\.yaml:9:8: YAML tag !!js\/function is not accepted/
    )
  })

  it('an image file a bump reads: merged, or refused with file and line', () => {
    const text =
      "x: &src {repository: acme/api}\nimage: r.example/acme/api:1\nsource:\n  <<: *src\n  builtAt: '2026-01-01T00:00:00Z'\n"
    expect(readImageFile(text, 'images/api/main.yaml').source.repository).toBe('acme/api')
    expect(() => readImageFile('image: !custom r.example/acme/api:1\n', 'i.yaml')).toThrow(
      /^i\.yaml:1:8: YAML tag !custom is not accepted/
    )
  })

  it('a kubeconfig: merged, or refused naming the line (never the content)', async () => {
    const config = (user: string) =>
      [
        'apiVersion: v1',
        'kind: Config',
        'clusters: [{name: east, cluster: {server: "https://east.example.com"}}]',
        'x-user: &user {token: merged-token-123456}',
        `users: [{name: u, user: ${user}}]`,
        'contexts: [{name: east, context: {cluster: east, user: u}}]',
        ''
      ].join('\n')
    const creds = await kubeConfigsFromInputs({ kubeconfig: config('{<<: *user}') }, new Redactor())
    expect(creds.clusters.get('east')?.getCurrentUser()?.token).toBe('merged-token-123456')
    const refused = kubeConfigsFromInputs(
      { kubeconfig: config('!secret {token: t-123456}') },
      new Redactor()
    )
    await expect(refused).rejects.toThrow(/line 5/)
    await expect(refused).rejects.not.toThrow(/t-123456/)
  })
})

describe('large legal values render', () => {
  const config = [
    'apiVersion: v1',
    'kind: ConfigMap',
    'metadata: {name: big, namespace: apps}',
    'data:',
    '  line: ${{ values.line }}',
    '  text: ${{ values.text }}',
    '  env: ${{ values.list }}',
    ''
  ].join('\n')

  it('a 3 MiB string, a long text and a list of 20,000 items from values', async () => {
    const line = 'x'.repeat(3 * 1024 * 1024)
    const text = 'line of text\n'.repeat(20_000)
    const list = Array.from({ length: 20_000 }, (_, i) => `item-${i}`)
    const root = repo({
      ...plainGroup,
      'services/api/cm.yaml': config,
      'services/api/values.yaml': [
        'replicas: 1',
        `line: ${line}`,
        'text: |',
        ...text
          .split('\n')
          .slice(0, -1)
          .map((l) => `  ${l}`),
        'list:',
        ...list.map((i) => `  - ${i}`),
        ''
      ].join('\n')
    })
    await runRender({ root, mode: 'write', env: {} })
    const out = readTree(join(root, 'generated', 'a', 'api'))
    const data = (parse(out['configmap-apps-big.yaml']) as { data: Record<string, unknown> }).data
    expect(data.line).toBe(line)
    expect(data.text).toBe(text)
    expect(data.env).toEqual(list)
  })
})
