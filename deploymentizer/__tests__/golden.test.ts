// The fixture repository rendered and compared with the committed golden output byte for byte.
// After an intended change: UPDATE_GOLDEN=1 npm run jest:unit -- deploymentizer/__tests__/golden.test.ts
import { afterAll, describe, expect, it } from '@jest/globals'
import { cpSync, readdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { load } from 'js-yaml'
import { runRender, type RenderRunResult } from '../../shared/src/index.js'
import { fixtureEnv, goldenDir, readTree, workspaceWithFixture } from './helpers.js'

const ws = workspaceWithFixture()
afterAll(() => rmSync(ws, { recursive: true, force: true }))

describe('fixture repository', () => {
  let result: RenderRunResult
  let tree: Record<string, string>

  it('renders every enabled cluster exactly like the golden output', async () => {
    result = await runRender({ root: join(ws, 'manifests'), mode: 'write', env: fixtureEnv })
    tree = readTree(result.outputDir)
    if (process.env.UPDATE_GOLDEN === '1') {
      rmSync(goldenDir, { recursive: true, force: true })
      cpSync(result.outputDir, goldenDir, { recursive: true })
    }
    const golden = readTree(goldenDir)
    expect(Object.keys(tree).sort()).toEqual(Object.keys(golden).sort())
    for (const path of Object.keys(golden)) expect([path, tree[path]]).toEqual([path, golden[path]])
  })

  it('covers the scenarios the fixture exists for', () => {
    const obj = (path: string) => load(tree[path]) as Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(readdirSync(result.outputDir).sort()).toEqual([
      'dev-eu-1',
      'dev-us-1',
      'index.json',
      'prod-eu-1',
      'prod-us-1',
      'prod-us-2',
      'staging-us-1'
    ])
    expect(result.disabled).toEqual(['legacy-ap-1'])
    // Layering: production group replicas, eu group env merged by name into the service's env.
    const api = obj('prod-eu-1/api/deployment-acme-api.yaml')
    expect(api.spec.replicas).toBe(4)
    expect(api.spec.template.spec.containers[0].env).toEqual([
      { name: 'LOG_FORMAT', value: 'json' },
      { name: 'REGION', value: 'eu-west-1' },
      { name: 'DATA_RESIDENCY', value: 'eu' }
    ])
    // A per-service override beats the group; null removed limits on prod-us-2 only.
    expect(obj('staging-us-1/api/deployment-acme-api.yaml').spec.replicas).toBe(3)
    expect(
      obj('prod-us-2/api/deployment-acme-api.yaml').spec.template.spec.containers[0].resources
    ).toEqual({
      requests: { cpu: '100m', memory: '128Mi' }
    })
    // HPA values: group over service, cluster over group.
    expect(obj('prod-us-1/api/horizontalpodautoscaler-acme-api.yaml').spec).toMatchObject({
      minReplicas: 4,
      maxReplicas: 40
    })
    // Multi-container service with two image sources; the sidecar's digest is appended.
    const web = obj('prod-us-1/web/deployment-acme-web.yaml').spec.template.spec.containers
    expect(web.map((c: { image: string }) => c.image)).toEqual([
      'ghcr.io/acme/web:main-5e6f7a8',
      `ghcr.io/acme/nginx-proxy:1.27.3@sha256:${'a'.repeat(64)}`
    ])
    // Pinned image on prod-eu-1 only.
    expect(
      obj('prod-eu-1/worker/deployment-acme-worker.yaml').spec.template.spec.containers[0].image
    ).toBe('ghcr.io/acme/worker:main-1111111')
    expect(
      obj('prod-us-1/worker/deployment-acme-worker.yaml').spec.template.spec.containers[0].image
    ).toBe('ghcr.io/acme/worker:main-2222222')
    // A branch with a slash, followed per service in staging.
    expect(
      obj('staging-us-1/cron-report/cronjob-acme-report.yaml').spec.jobTemplate.spec.template.spec
        .containers[0].image
    ).toBe('ghcr.io/acme/cron-report:release-2026-11-7777777')
    // Secret from env; service-only Service; disabled and skipped services.
    expect(obj('dev-us-1/app-secrets/secret-acme-app-secrets.yaml').data.DB_PASSWORD).toBe(
      Buffer.from('s3cret-pass').toString('base64')
    )
    expect(result.secrets).toEqual(expect.arrayContaining(['s3cret-pass', 'tok-1234567890']))
    expect(obj('prod-us-1/external-db/service-acme-db.yaml').spec.externalName).toBe(
      'db.us-east-1.acme.internal'
    )
    expect(tree['prod-us-1/debug-tools/pod-acme-debug-tools.yaml']).toBeUndefined()
    expect(tree['dev-us-1/debug-tools/pod-acme-debug-tools.yaml']).toBeDefined()
    const prod = result.clusters.find((c) => c.name === 'prod-us-1')!
    expect(prod.skipped.map((s) => [s.name, s.warning])).toEqual([
      ['canary', true],
      ['debug-tools', false]
    ])
    // The escape and the no-injection guarantee in one ConfigMap.
    const cm = obj('prod-us-1/api/configmap-acme-api-config.yaml')
    expect(cm.data.greeting).toBe('Hello from ${{ cluster }} (prod-us-1)')
    expect(cm.data.motd).toBe('Welcome: read the #docs\nkind: Secret')
    expect(Object.keys(cm)).toEqual(['apiVersion', 'kind', 'metadata', 'data'])
  })

  it('renders byte-identical output a second time', async () => {
    const again = await runRender({
      root: join(ws, 'manifests'),
      output: join(ws, 'again'),
      mode: 'write',
      env: fixtureEnv
    })
    expect(readTree(again.outputDir)).toEqual(tree)
    expect(again.hash).toBe(result.hash)
  })
})
