// One image reference grammar for the render and `kit bump` (parseImageRef): every reference
// the render writes (image files, pins, container images in templates, container images a
// placeholder fills in) is read with it, and refused with the file and line it came from.
import { afterEach, describe, expect, it } from '@jest/globals'
import { load } from 'js-yaml'
import { parseImageRef } from '../../src/images/image-ref.js'
import {
  formatProblem,
  RenderFailedError,
  runRender,
  type RenderProblem
} from '../../src/render/index.js'
import { baseRepo, makeRepo, readTree, removeAll } from './helpers.js'

const made: string[] = []
afterEach(() => removeAll(...made.splice(0)))

function repo(extra: Record<string, string | undefined>): string {
  const root = makeRepo({ ...baseRepo, ...extra })
  made.push(root)
  return root
}

async function problemsOf(root: string): Promise<RenderProblem[]> {
  try {
    await runRender({ root, mode: 'dry-run', env: {} })
  } catch (err) {
    if (err instanceof RenderFailedError) return [...err.problems]
    throw err
  }
  throw new Error('expected the render to fail')
}

/** The base deployment with a second container whose image is `image`. */
const withSidecar = (image: string) =>
  `${baseRepo['services/api/deployment.yaml']}        - name: sidecar\n          image: ${image}\n`

/** References `kit bump` refuses, each for another reason. */
const refused = {
  semicolon: 'ghcr.io/acme/api:1;reboot',
  substitution: 'ghcr.io/acme/api:$(id)',
  backticks: 'ghcr.io/acme/api:`id`',
  pipe: 'ghcr.io/acme/api:1|sh',
  ampersands: 'ghcr.io/acme/api:1&&curl',
  uppercase: 'ghcr.io/Acme/API:1',
  'a slash in the tag': 'ghcr.io/acme/api:feature/x',
  'a short digest': 'ghcr.io/acme/api@sha256:abc',
  'a 200-character tag': `ghcr.io/acme/api:${'t'.repeat(200)}`
}

describe('the render refuses what the bump refuses', () => {
  it.each(Object.entries(refused))('kit bump refuses %s: %s', (_why, ref) => {
    expect(() => parseImageRef(ref)).toThrow('is not a valid image reference')
  })

  // Each place a reference comes from, with the file and line the error must name.
  const places: [
    string,
    (ref: string) => Record<string, string | undefined>,
    string,
    number,
    string
  ][] = [
    [
      'an image file',
      (ref) => ({ 'images/acme/api/main.yaml': `# built by CI\nimage: '${ref}'\n` }),
      'images/acme/api/main.yaml',
      2,
      'image '
    ],
    [
      "a cluster's pin",
      (ref) => ({
        'images/acme/api/main.yaml': undefined,
        'clusters/a.yaml': `groups: [prod]\nservices:\n  api:\n    image: '${ref}'\n`
      }),
      'clusters/a.yaml',
      4,
      'services.api.image '
    ],
    [
      "a group's pin of a named image",
      (ref) => ({
        'groups/prod.yaml': `branch: main\nservices:\n  api:\n    images:\n      proxy: '${ref}'\n`
      }),
      'groups/prod.yaml',
      5,
      'services.api.images.proxy '
    ],
    [
      'a container image written in a template',
      (ref) => ({ 'services/api/deployment.yaml': withSidecar(`'${ref}'`) }),
      'services/api/deployment.yaml',
      14,
      'spec.template.spec.containers[1].image '
    ],
    [
      'a container image from values through a whole-value placeholder',
      (ref) => ({
        'services/api/deployment.yaml': withSidecar('${{ values.sidecar }}'),
        'services/api/values.yaml': `replicas: 1\nsidecar: '${ref}'\n`
      }),
      'services/api/deployment.yaml',
      14,
      "'values.sidecar': spec.template.spec.containers[1].image "
    ]
  ]

  for (const [place, files, file, line, what] of places) {
    it.each(Object.entries(refused))(`in ${place}: %s`, async (_why, ref) => {
      const problems = await problemsOf(repo(files(ref)))
      expect(problems).toHaveLength(1)
      expect(problems[0]).toMatchObject({ file, line })
      expect(problems[0].message.startsWith(what)).toBe(true)
      expect(problems[0].message).toContain('is not a valid image reference')
      // The same reason the bump gives.
      let bump = ''
      try {
        parseImageRef(ref)
      } catch (err) {
        bump = (err as Error).message
      }
      expect(problems[0].message).toContain(bump.slice(bump.indexOf(': ') + 2))
    })
  }

  it('refuses a tag from values embedded in a longer string, naming the placeholder', async () => {
    const problems = await problemsOf(
      repo({
        'services/api/deployment.yaml': withSidecar('r.example/acme/side:${{ values.tag }}'),
        'services/api/values.yaml': 'replicas: 1\ntag: 1;reboot\n'
      })
    )
    expect(problems.map(formatProblem)).toEqual([
      "services/api/deployment.yaml:14: clusters a, b, service api: 'values.tag': spec.template.spec.containers[1].image 'r.example/acme/side:1;reboot' is not a valid image reference: tag '1;reboot' may hold only letters, digits, '_', '.' and '-' (at most 128, not starting with '.' or '-') (expected [registry/]repository[:tag][@sha256:digest])"
    ])
  })

  it('refuses images inside a subtree a placeholder fills in (a CronJob, init containers)', async () => {
    const problems = await problemsOf(
      repo({
        'services/api/cron.yaml': [
          'apiVersion: batch/v1',
          'kind: CronJob',
          'metadata: {name: report}',
          'spec:',
          '  jobTemplate:',
          '    spec:',
          '      template:',
          '        spec: ${{ values.pod }}',
          ''
        ].join('\n'),
        'services/api/values.yaml':
          'replicas: 1\npod:\n  initContainers: [{name: init, image: Busybox}]\n  containers: [{name: run, image: "r/run:1 "}]\n'
      })
    )
    const what = (p: RenderProblem) => p.message.replace(/ is not a valid image reference: .*/, '')
    expect(problems.map((p) => [p.file, p.line, what(p)])).toEqual([
      [
        'services/api/cron.yaml',
        8,
        "'values.pod': spec.jobTemplate.spec.template.spec.initContainers[0].image 'Busybox'"
      ],
      [
        'services/api/cron.yaml',
        8,
        "'values.pod': spec.jobTemplate.spec.template.spec.containers[0].image 'r/run:1 '"
      ]
    ])
  })

  it('refuses a digest that does not fit the image, on the digest line', async () => {
    const problems = await problemsOf(
      repo({
        'images/acme/api/main.yaml': `image: r/api:1\ndigest: sha256:${'a'.repeat(63)}\n`
      })
    )
    // The schema says so first; either way the file and the line of the digest.
    expect(problems[0]).toMatchObject({ file: 'images/acme/api/main.yaml', line: 2 })
  })
})

describe('references the bump accepts render as written', () => {
  const digest = `sha256:${'c'.repeat(64)}`
  it.each([
    ['a registry with a port', 'localhost:5000/acme/api:1'],
    ['Docker Hub shorthand', 'nginx'],
    ['a digest only', `ghcr.io/acme/api@${digest}`],
    ['tag and digest', `ghcr.io/acme/api:1.2.3@${digest}`],
    ['an uppercase tag', 'ghcr.io/acme/api:V_1.2-RC']
  ])('%s: %s', async (_what, ref) => {
    const root = repo({
      'images/acme/api/main.yaml': `image: '${ref}'\n`,
      'services/api/deployment.yaml': withSidecar('${{ values.sidecar }}'),
      'services/api/values.yaml': `replicas: 1\nsidecar: '${ref}'\n`
    })
    const result = await runRender({ root, mode: 'write', env: {} })
    const deployment = load(readTree(result.outputDir)['a/api/deployment-apps-api.yaml']) as {
      spec: { template: { spec: { containers: { image: string }[] } } }
    }
    expect(deployment.spec.template.spec.containers.map((c) => c.image)).toEqual([ref, ref])
  })

  it('leaves a null container image alone (workload templates may omit it)', async () => {
    const root = repo({ 'services/api/deployment.yaml': withSidecar('null') })
    await expect(runRender({ root, mode: 'dry-run', env: {} })).resolves.toBeDefined()
  })
})
