// The image-deployer's check before committing service-owned templates: the manifests
// repository as the commit would leave it is rendered on the clusters that would use the set;
// problems name the service repository's file and line; nothing else decides the outcome.
import { describe, expect, it } from '@jest/globals'
import type { BumpPlan, RepoSnapshot } from '../../src/bump/index.js'
import { InputError } from '../../src/errors.js'
import { formatProblem, RenderFailedError } from '../../src/render/problems.js'
import { checkServiceTemplates } from '../../src/service-templates/check.js'
import {
  recordFor,
  renderTemplateRecord,
  templateRecordPath
} from '../../src/service-templates/record.js'
import { bumpRequest } from '../../../image-deployer/__tests__/helpers.js'

const deployment = [
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
  '            - name: TOKEN',
  '              value: ${{ env.API_TOKEN }}',
  ''
].join('\n')

/** A manifests repository: staging follows develop with the service's own templates. */
const manifests: Record<string, string> = {
  'groups/dev.yaml': 'branch: develop\nservices:\n  api:\n    templates: service\n',
  'groups/prod.yaml': 'branch: main\n',
  'clusters/staging.yaml': 'groups: [dev]\n',
  'clusters/prod-eu.yaml': 'groups: [prod]\n',
  'services/web/kit.yaml': 'image: acme/web\n',
  'services/web/cm.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\n',
  'images/api/develop.yaml': 'image: ghcr.io/acme/api:develop-1\n',
  'images/api/main.yaml': 'image: ghcr.io/acme/api:main-1\n'
}

/** A snapshot over `files` that counts what it was asked to read. */
function snapshot(files: Record<string, string>): RepoSnapshot & { reads: string[] } {
  const reads: string[] = []
  return {
    head: 'abc',
    reads,
    read: async (paths) => {
      reads.push(...paths)
      return new Map(paths.map((p) => [p, files[p]]))
    },
    list: async () => Object.keys(files),
    write: async () => {
      throw new Error('the check never writes')
    }
  }
}

/** The plan a bump of `request` makes: the set's record (the copy is the request's files). */
function planOf(r: ReturnType<typeof request>): BumpPlan {
  const t = r.templates!
  const record = recordFor({ service: t.service, branch: r.branch, source: r.provenance }, t.files)
  const path = templateRecordPath(t.dir, t.service, r.branch)
  return {
    outcome: 'changed',
    changes: [{ path, after: renderTemplateRecord(record) }],
    message: '',
    notes: []
  }
}

async function check(files: Record<string, string>, r: ReturnType<typeof request>) {
  const snap = snapshot(files)
  return { snap, result: await checkServiceTemplates(snap, planOf(r), r) }
}

function request(templateFiles: Record<string, string>, branch = 'develop') {
  return bumpRequest('ghcr.io/acme/api:develop-2', {
    branch,
    templates: {
      service: 'api',
      dir: 'service-templates',
      sourcePath: 'deploy/kit',
      files: Object.entries(templateFiles).map(([path, content]) => ({ path, content }))
    }
  })
}

async function problems(fn: () => Promise<unknown>): Promise<string[]> {
  try {
    await fn()
  } catch (err) {
    if (err instanceof RenderFailedError) return err.problems.map(formatProblem)
    if (err instanceof InputError) return [err.message]
    throw err
  }
  throw new Error('expected the check to refuse')
}

describe('checkServiceTemplates', () => {
  const good = {
    'kit.yaml': 'image: api\n',
    'values.yaml': 'replicas: 2\n',
    'deployment.yaml': deployment
  }

  it('renders the set on the clusters following the branch, and reads no other service', async () => {
    const { snap, result } = await check(manifests, request(good))
    expect(result.clusters).toEqual(['staging'])
    expect(result.note).toBe('templates of api@develop render on 1 cluster (staging)')
    expect(snap.reads.filter((p) => p.startsWith('services/web/'))).toEqual([])
  })

  it('says so when no cluster uses the set yet, after loading it', async () => {
    const { result } = await check(manifests, request(good, 'feature/x'))
    expect(result.clusters).toEqual([])
    expect(result.note).toMatch(/no cluster renders them yet/)
    const typo = { ...good, 'deployment.yaml': deployment.replace('${{ image }}', '${{ imag }}') }
    expect(await problems(() => check(manifests, request(typo, 'feature/x')))).toEqual([
      expect.stringMatching(/^deploy\/kit\/deployment\.yaml:12(:\d+)?: .*imag/)
    ])
  })

  it('refuses a template that does not render, naming the service repository file and line', async () => {
    const broken = {
      ...good,
      'deployment.yaml': deployment.replace('values.replicas', 'values.replica')
    }
    expect(await problems(() => check(manifests, request(broken)))).toEqual([
      expect.stringMatching(/^deploy\/kit\/deployment\.yaml:7(:\d+)?: .*staging.*values\.replica/)
    ])
  })

  it('refuses a setup the render would find ambiguous', async () => {
    const both = {
      ...manifests,
      'groups/dev.yaml': 'branch: develop\n',
      'services/api/deployment.yaml': deployment,
      'services/api/values.yaml': 'replicas: 1\n',
      'services/api/kit.yaml': 'image: api\n'
    }
    const found = await problems(() => check(both, request(good)))
    expect(found.join('\n')).toMatch(
      /services\/api.*service-templates\/api|service-templates\/api.*services\/api/
    )
  })

  it('refuses a bump whose folders differ from the manifests repository kit.yaml', async () => {
    const moved = { ...manifests, 'kit.yaml': 'paths:\n  serviceTemplates: owned\n' }
    expect(await problems(() => check(moved, request(good)))).toEqual([
      "the manifests repository's kit.yaml has paths.serviceTemplates: 'owned', but this bump writes to 'service-templates'; set service-templates-dir: owned"
    ])
  })
})
