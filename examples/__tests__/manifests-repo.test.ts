/**
 * The example manifests repository renders the way its README and workflows say, through the
 * deploymentizer's bundle run as the GitHub runner runs it: which image each cluster gets,
 * how groups and clusters override values, the Secret built from the build environment (and
 * masked), the two renders per cluster-set pattern the workflows use, and the failure a user
 * sees when the secret is not passed.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { load } from 'js-yaml'
import { runAction, type ActionRun } from '../../testinfra/runner/run-action.js'

const root = process.cwd()
const example = join(root, 'examples', 'manifests-repo')
const databaseUrl = 'postgres://shop:s3cret-Pa55@db.internal:5432/shop'

const copies: string[] = []
afterAll(() => copies.forEach((d) => rmSync(d, { recursive: true, force: true })))

/** A fresh copy of the example, as a checkout of it would be. */
function checkout(): string {
  const dir = mkdtempSync(join(tmpdir(), 'kit-example-'))
  copies.push(dir)
  cpSync(example, dir, { recursive: true })
  rmSync(join(dir, 'generated'), { recursive: true, force: true })
  return dir
}

function render(
  dir: string,
  inputs: Record<string, string>,
  env: Record<string, string | undefined>
) {
  return runAction(root, 'deploymentizer', {
    inputs, // path defaults to '.', the workspace, as in the example workflows
    env: { GITHUB_WORKSPACE: dir, ...env },
    cwd: dir,
    timeoutMs: 60_000
  })
}

/** A parsed manifest; its shape is what the assertions check. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Tree = Record<string, any>

function object(dir: string, cluster: string, file: string): Tree {
  return load(readFileSync(join(dir, 'generated', cluster, file), 'utf8')) as Tree
}

function imageFile(image: string, branch: string): string {
  return (
    load(readFileSync(join(example, 'images', image, `${branch}.yaml`), 'utf8')) as {
      image: string
    }
  ).image
}

describe('examples/manifests-repo rendered by the deploymentizer bundle', () => {
  let dir: string
  let run: ActionRun

  beforeAll(async () => {
    dir = checkout()
    run = await render(dir, {}, { API_DATABASE_URL: databaseUrl })
  })

  it('renders the three clusters the demo and the workflows name', () => {
    expect(run.exitCode).toBe(0)
    expect(JSON.parse(run.outputs.clusters)).toEqual(['prod-eu', 'prod-us', 'staging-us'])
    expect(JSON.parse(run.outputs.rendered)).toEqual({
      clusters: 3,
      services: 12,
      files: 30,
      skipped: 0
    })
  })

  it("gives staging api's develop build and everything else main's", () => {
    const image = (cluster: string, service: string, file: string) =>
      object(dir, cluster, `${service}/${file}`).spec.template.spec.containers[0].image
    expect(image('staging-us', 'api', 'deployment-shop-api.yaml')).toBe(imageFile('api', 'develop'))
    expect(image('staging-us', 'web', 'deployment-shop-web.yaml')).toBe(imageFile('web', 'main'))
    for (const prod of ['prod-eu', 'prod-us']) {
      expect(image(prod, 'api', 'deployment-shop-api.yaml')).toBe(imageFile('api', 'main'))
      expect(image(prod, 'worker', 'deployment-shop-worker.yaml')).toBe(imageFile('worker', 'main'))
    }
    expect(imageFile('api', 'develop')).not.toBe(imageFile('api', 'main'))
  })

  it('layers values: service defaults, then groups in order, then the cluster', () => {
    const config = (c: string) => object(dir, c, 'web/configmap-shop-web-config.yaml').data
    expect(config('staging-us')).toEqual({
      LOG_LEVEL: 'debug',
      FEATURE_NEW_CHECKOUT: 'true',
      API_URL: 'http://api.shop.svc.cluster.local:8080'
    })
    expect(config('prod-eu').CONSENT_BANNER).toBe('true') // the eu group, after production
    expect(config('prod-us').CONSENT_BANNER).toBeUndefined()
    const hpa = (c: string) => object(dir, c, 'web/horizontalpodautoscaler-shop-web.yaml').spec
    expect([
      hpa('staging-us').maxReplicas,
      hpa('prod-eu').maxReplicas,
      hpa('prod-us').maxReplicas
    ]).toEqual([2, 12, 20])
    const api = (c: string) => object(dir, c, 'api/deployment-shop-api.yaml').spec
    expect([api('staging-us').replicas, api('prod-eu').replicas]).toEqual([1, 3]) // typed, not "3"
    const cron = (c: string) => object(dir, c, 'worker/cronjob-shop-worker-cleanup.yaml').spec
    expect([cron('staging-us').suspend, cron('prod-eu').suspend]).toEqual([true, false])
    expect(
      object(dir, 'prod-eu', 'worker/deployment-shop-worker.yaml').spec.template.spec.containers[0]
        .args
    ).toEqual(['consume', '--queue', 'orders-eu'])
    // The HorizontalPodAutoscaler owns web's replica count: the Deployment must not set one.
    expect(object(dir, 'prod-us', 'web/deployment-shop-web.yaml').spec.replicas).toBeUndefined()
  })

  it('builds the Secret from the environment and masks the value in the log', () => {
    const secret = object(dir, 'prod-us', 'api/secret-shop-api-credentials.yaml')
    const encoded = Buffer.from(databaseUrl).toString('base64')
    expect(secret.data.DATABASE_URL).toBe(encoded)
    expect(run.stdout).toContain(`::add-mask::${databaseUrl}`)
    expect(run.stdout).toContain(`::add-mask::${encoded}`)
    expect(run.summary).not.toContain(databaseUrl)
    expect(run.summary).not.toContain(encoded)
  })

  it('records each image with its provenance in the index', () => {
    const index = JSON.parse(readFileSync(join(dir, 'generated', 'index.json'), 'utf8'))
    const api = index.clusters['staging-us'].services.api.images.image
    expect(api.file).toBe('images/api/develop.yaml')
    // Provenance is listed once per image file, under the index's top-level `images`.
    expect(index.images[api.file].provenance).toMatchObject({
      repository: 'acme/api',
      ref: 'refs/heads/develop'
    })
  })

  it("renders api from the templates each branch's build brought, as the index records", () => {
    const index = JSON.parse(readFileSync(join(dir, 'generated', 'index.json'), 'utf8'))
    const templates = (cluster: string, service: string) =>
      index.clusters[cluster].services[service].templates
    // The record's source is the build that wrote the image file of the same branch.
    const built = (branch: string) => ({
      ...(load(readFileSync(join(example, 'images', 'api', `${branch}.yaml`), 'utf8')) as Tree)
        .source,
      path: 'deploy/kit'
    })
    const own = (branch: string) => ({
      origin: 'service',
      dir: `service-templates/api/${branch}`,
      record: `service-templates/api/${branch}.yaml`,
      branch,
      source: built(branch)
    })
    expect(templates('staging-us', 'api')).toEqual(own('develop'))
    expect(templates('prod-eu', 'api')).toEqual(own('main'))
    expect(templates('prod-us', 'api')).toEqual(own('main'))
    expect(templates('prod-us', 'web')).toEqual({ origin: 'repository', dir: 'services/web' })
  })
})

describe("examples/manifests-repo's copies of api's templates", () => {
  const source = join(root, 'examples', 'service-repo', 'deploy', 'kit')
  const files = (d: string) => readdirSync(d, { recursive: true, encoding: 'utf8' }).sort()

  it.each(['develop', 'main'])(
    'hold for %s exactly the files of examples/service-repo/deploy/kit',
    (branch) => {
      const copy = join(example, 'service-templates', 'api', branch)
      expect(files(copy)).toEqual(files(source))
      for (const f of files(source)) {
        expect([f, readFileSync(join(copy, f))]).toEqual([f, readFileSync(join(source, f))])
      }
    }
  )
})

describe('the two renders per cluster set that the example workflows run', () => {
  it('add up to every cluster, each set with its own secret value', async () => {
    const dir = checkout()
    const staging = await render(
      dir,
      { groups: 'staging' },
      { API_DATABASE_URL: 'postgres://staging-db/shop' }
    )
    const production = await render(
      dir,
      { groups: 'production' },
      { API_DATABASE_URL: 'postgres://prod-db/shop' }
    )
    expect([staging.exitCode, production.exitCode]).toEqual([0, 0])
    const url = (c: string) =>
      Buffer.from(
        object(dir, c, 'api/secret-shop-api-credentials.yaml').data.DATABASE_URL,
        'base64'
      ).toString()
    expect([url('staging-us'), url('prod-eu'), url('prod-us')]).toEqual([
      'postgres://staging-db/shop',
      'postgres://prod-db/shop',
      'postgres://prod-db/shop'
    ])
    const index = JSON.parse(readFileSync(join(dir, 'generated', 'index.json'), 'utf8'))
    expect(Object.keys(index.clusters).sort()).toEqual(['prod-eu', 'prod-us', 'staging-us'])
  })
})

describe('a render without the secret in its environment', () => {
  it("fails, names each copy's file and line, the clusters and the variable, and writes nothing", async () => {
    const dir = checkout()
    const run = await render(dir, {}, { API_DATABASE_URL: undefined })
    expect(run.exitCode).not.toBe(0)
    // api's templates are service-owned: staging renders develop's copy, production main's, so
    // the problem is reported once per copy, each at its own file and line.
    const errors = run.annotations
      .filter((a) => a.level === 'error')
      .map((a) => [a.properties, a.message])
    const problem =
      "service api: 'env.API_DATABASE_URL | base64': environment variable API_DATABASE_URL is not set in the render's environment"
    expect(errors).toEqual([
      [
        'title=kit render,file=service-templates/api/main/secret.yaml,line=15',
        `clusters prod-eu, prod-us, ${problem}`
      ],
      [
        'title=kit render,file=service-templates/api/develop/secret.yaml,line=15',
        `cluster staging-us, ${problem}`
      ]
    ])
    const out = join(dir, 'generated')
    expect(existsSync(out) ? readdirSync(out, { recursive: true }) : []).toEqual([])
  })
})
