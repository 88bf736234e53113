// Every problem of a render in one run: every missing env variable and every failing placeholder
// of an object, every missing image file of a service, each distinct problem once with the
// clusters it was found on, and past the limit a count of the rest.
import { afterEach, describe, expect, it } from '@jest/globals'
import {
  formatProblem,
  maxReportedProblems,
  ProblemList,
  RenderFailedError,
  runRender
} from '../../src/render/index.js'
import { baseRepo, makeRepo, removeAll } from './helpers.js'

const made: string[] = []
afterEach(() => removeAll(...made.splice(0)))

function repo(extra: Record<string, string | undefined>): string {
  const root = makeRepo({ ...baseRepo, ...extra })
  made.push(root)
  return root
}

async function failure(root: string, env: Record<string, string> = {}): Promise<RenderFailedError> {
  try {
    await runRender({ root, mode: 'dry-run', env })
  } catch (err) {
    if (err instanceof RenderFailedError) return err
    throw err
  }
  throw new Error('expected the render to fail')
}

const lines = (err: RenderFailedError) => err.problems.map(formatProblem)

describe('one render reports every problem', () => {
  it('every missing or empty env variable of one object, each on its line', async () => {
    const err = await failure(
      repo({
        'services/api/secret.yaml': [
          'apiVersion: v1',
          'kind: Secret',
          'metadata: {name: api-env, namespace: apps}',
          'stringData:',
          '  A: ${{ env.KIT_A }}',
          '  B: ${{ env.KIT_B }}',
          '  C: ${{ env.KIT_C }}',
          '  D: ${{ env.KIT_D }}',
          ''
        ].join('\n')
      }),
      { KIT_B: 'set', KIT_C: '' }
    )
    expect(lines(err)).toEqual([
      "services/api/secret.yaml:5: clusters a, b, service api: 'env.KIT_A': environment variable KIT_A is not set in the render's environment",
      "services/api/secret.yaml:7: clusters a, b, service api: 'env.KIT_C': environment variable KIT_C is empty (GitHub passes a secret that does not exist as an empty string); if an empty value is intended, add | allow-empty",
      "services/api/secret.yaml:8: clusters a, b, service api: 'env.KIT_D': environment variable KIT_D is not set in the render's environment"
    ])
    expect(err.total).toBe(3)
  })

  it('every failing placeholder of one string, and of every template and service', async () => {
    const err = await failure(
      repo({
        'services/api/cm.yaml':
          'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: api}\ndata:\n  url: https://${{ values.host }}:${{ values.port }}/${{ values.list }}\n',
        'services/api/values.yaml': 'replicas: 1\nlist: [a]\n',
        'services/web/cm.yaml':
          'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: web}\ndata:\n  x: ${{ values.nothing }}\n'
      })
    )
    expect(err.problems.map((p) => [p.file, p.line, p.service, p.message.slice(0, 40)])).toEqual([
      ['services/api/cm.yaml', 5, 'api', "'values.host': no value 'host' in values"],
      ['services/api/cm.yaml', 5, 'api', "'values.port': no value 'port' in values"],
      ['services/api/cm.yaml', 5, 'api', "'values.list' is a list inside a longer "],
      ['services/web/cm.yaml', 5, 'web', "'values.nothing': no value 'nothing' in "]
    ])
  })

  it('every missing image file of a service', async () => {
    const err = await failure(
      repo({
        'services/api/kit.yaml':
          'image: acme/api\nimages:\n  proxy: acme/proxy\n  agent: acme/agent\n',
        'images/acme/api/main.yaml': undefined
      })
    )
    expect(err.problems.map((p) => p.message.replace(/;.*/, ''))).toEqual([
      "no image file for acme/api on branch 'main' (images/acme/api/main.yaml)",
      "no image file for acme/proxy on branch 'main' (images/acme/proxy/main.yaml)",
      "no image file for acme/agent on branch 'main' (images/acme/agent/main.yaml)"
    ])
  })

  it('one problem found on many clusters is reported once, naming the first few clusters', async () => {
    const clusters: Record<string, string> = {}
    for (const n of ['c1', 'c2', 'c3', 'c4', 'c5'])
      clusters[`clusters/${n}.yaml`] = 'groups: [prod]\n'
    const err = await failure(repo({ ...clusters, 'images/acme/api/main.yaml': undefined }))
    expect(lines(err)).toEqual([
      "clusters a, b, c1, c2, c3 and 2 more, service api: no image file for acme/api on branch 'main' (images/acme/api/main.yaml); the branch is set by groups/prod.yaml (branch); pin an image, follow another branch, or set missingImage: skip"
    ])
    expect(err.problems[0].clusters).toEqual(['a', 'b', 'c1', 'c2', 'c3', 'c4', 'c5'])
    expect(err.total).toBe(1)
  })

  it(`lists ${maxReportedProblems} distinct problems, then counts the rest`, async () => {
    const data = Array.from({ length: 60 }, (_, i) => `  k${i}: \${{ env.KIT_MISSING_${i} }}`)
    const err = await failure(
      repo({
        'services/api/secret.yaml': `apiVersion: v1\nkind: Secret\nmetadata: {name: s}\nstringData:\n${data.join('\n')}\n`
      })
    )
    expect(err.total).toBe(60)
    expect(err.problems).toHaveLength(maxReportedProblems + 1)
    expect(err.problems[maxReportedProblems].message).toBe('... and 10 more problems')
    expect(err.message.split('\n')[0]).toBe('60 problems:')
  })
})

describe('ProblemList', () => {
  it.each([
    [
      'the same problem on two clusters is one problem with both',
      [
        { message: 'm', file: 'f', line: 1, cluster: 'a' },
        { message: 'm', file: 'f', line: 1, cluster: 'b' }
      ],
      [{ message: 'm', file: 'f', line: 1, clusters: ['a', 'b'] }],
      1
    ],
    [
      'another line is another problem',
      [
        { message: 'm', file: 'f', line: 1, cluster: 'a' },
        { message: 'm', file: 'f', line: 2, cluster: 'a' }
      ],
      [
        { message: 'm', file: 'f', line: 1, cluster: 'a' },
        { message: 'm', file: 'f', line: 2, cluster: 'a' }
      ],
      2
    ],
    [
      'another service is another problem',
      [
        { message: 'm', service: 's', cluster: 'a' },
        { message: 'm', service: 't', cluster: 'a' }
      ],
      [
        { message: 'm', service: 's', cluster: 'a' },
        { message: 'm', service: 't', cluster: 'a' }
      ],
      2
    ],
    [
      'a problem of no cluster stays so',
      [
        { message: 'm', file: 'kit.yaml' },
        { message: 'm', file: 'kit.yaml' }
      ],
      [{ message: 'm', file: 'kit.yaml' }],
      1
    ]
  ])('%s', (_what, added, listed, total) => {
    const list = new ProblemList()
    for (const p of added) list.add(p)
    expect(list.list()).toEqual(listed)
    expect(list.total).toBe(total)
  })

  it('counts the distinct problems past the limit, not their repeats', () => {
    const list = new ProblemList()
    for (let i = 0; i < maxReportedProblems + 3; i++)
      for (const cluster of ['a', 'b']) list.add({ message: `m${i}`, cluster })
    expect(list.total).toBe(maxReportedProblems + 3)
    expect(list.list().at(-1)).toEqual({ message: '... and 3 more problems' })
    expect(list.failure((m) => m.toUpperCase()).problems[0].message).toBe('M0')
  })
})
