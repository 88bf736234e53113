/**
 * A manifests repository for the render load case (docs/manifests-format.md): `services`
 * services, each a Deployment, a Service and a ConfigMap with placeholders (every tenth also a
 * Secret from the environment), on `clusters` clusters in tier and region groups, every fifth
 * cluster overriding one service's values, image files for two branches. Every service renders
 * on every cluster, so the expected output is known exactly.
 */
import { createHash } from 'node:crypto'
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'

/** The environment variable the Secrets read (its value is set by the test, never logged). */
export const secretEnvName = 'KIT_LOAD_API_TOKEN'

const tiers = ['development', 'staging', 'production'] as const
const regions = ['eu', 'us'] as const
const replicasOf: Record<(typeof tiers)[number], number> = {
  development: 1,
  staging: 2,
  production: 3
}
export const serviceName = (i: number): string => `svc-${String(i).padStart(3, '0')}`
export const clusterName = (i: number): string => `cluster-${String(i).padStart(3, '0')}`
const hasSecret = (s: number): boolean => s % 10 === 0

function write(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true })
  writeFileSync(path, text)
}

/** What a full render of the generated repository must produce. */
export interface ExpectedRender {
  readonly clusters: string[]
  readonly services: string[]
  /** Rendered object files per cluster (the index.json comes on top). */
  readonly filesPerCluster: number
}

/** Writes the repository into `dir` (which must not exist or be empty). */
export function generateRenderRepo(
  dir: string,
  services: number,
  clusters: number
): ExpectedRender {
  write(join(dir, 'kit.yaml'), 'defaults:\n  branch: main\n')
  for (const tier of tiers)
    write(
      join(dir, 'groups', `${tier}.yaml`),
      `branch: ${tier === 'development' ? 'develop' : 'main'}\nvalues:\n  replicas: ${replicasOf[tier]}\n`
    )
  for (const region of regions)
    write(
      join(dir, 'groups', `${region}.yaml`),
      `values:\n  env:\n    - name: REGION\n      value: ${region}-1\n`
    )
  for (let c = 0; c < clusters; c++) {
    const tier = tiers[c % tiers.length]
    const region = regions[c % regions.length]
    const override =
      c % 5 === 0
        ? `services:\n  ${serviceName(c % services)}:\n    values:\n      replicas: 7\n`
        : ''
    write(
      join(dir, 'clusters', `${clusterName(c)}.yaml`),
      `groups: [${tier}, ${region}]\nlabels:\n  tier: ${tier}\n  region: ${region}\n${override}`
    )
  }
  for (let s = 0; s < services; s++) {
    const name = serviceName(s)
    const base = join(dir, 'services', name)
    write(join(base, 'kit.yaml'), `image: acme/${name}\n`)
    write(
      join(base, 'values.yaml'),
      [
        'replicas: 1',
        `port: ${8000 + s}`,
        'env:',
        '  - name: LOG_LEVEL',
        '    value: info',
        '  - name: REGION',
        '    value: unknown',
        'resources:',
        '  requests: { cpu: 50m, memory: 64Mi }',
        'settings:',
        `  pool: ${s % 7}`,
        '  feature: "on"',
        ''
      ].join('\n')
    )
    write(
      join(base, 'deployment.yaml'),
      `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
  namespace: apps
  labels:
    app: ${name}
    cluster: \${{ cluster.name }}
spec:
  replicas: \${{ values.replicas }}
  selector:
    matchLabels:
      app: ${name}
  template:
    metadata:
      labels:
        app: ${name}
    spec:
      containers:
        - name: app
          image: \${{ image }}
          ports:
            - containerPort: \${{ values.port }}
          env: \${{ values.env }}
          resources: \${{ values.resources }}
`
    )
    write(
      join(base, 'service.yaml'),
      `apiVersion: v1
kind: Service
metadata:
  name: ${name}
  namespace: apps
spec:
  selector:
    app: ${name}
  ports:
    - port: 80
      targetPort: \${{ values.port }}
`
    )
    write(
      join(base, 'configmap.yaml'),
      `apiVersion: v1
kind: ConfigMap
metadata:
  name: ${name}-settings
  namespace: apps
data:
  cluster: \${{ cluster.name }}
  region: \${{ cluster.labels.region }}
  branch: \${{ service.branch }}
  settings.json: \${{ values.settings | json }}
`
    )
    if (hasSecret(s))
      write(
        join(base, 'secret.yaml'),
        `apiVersion: v1
kind: Secret
metadata:
  name: ${name}-token
  namespace: apps
data:
  token: \${{ env.${secretEnvName} | base64 }}
`
      )
    for (const branch of ['main', 'develop'])
      write(
        join(dir, 'images', 'acme', name, `${branch}.yaml`),
        `image: registry.example.com/acme/${name}:${branch}-${(s * 7919 + 1).toString(16).padStart(7, '0')}\nsource:\n  repository: acme/${name}\n  commit: '${(s * 104729 + 1).toString(16).padStart(40, 'b')}'\n`
      )
  }
  const secrets = Array.from({ length: services }, (_, s) => s).filter(hasSecret).length
  return {
    clusters: Array.from({ length: clusters }, (_, c) => clusterName(c)),
    services: Array.from({ length: services }, (_, s) => serviceName(s)),
    filesPerCluster: services * 3 + secrets
  }
}

/** Every file under `dir`, relative and sorted, with the sha256 of its bytes. */
export function treeDigest(dir: string): { files: number; digest: string; paths: string[] } {
  const paths = readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => relative(dir, join(d.parentPath, d.name)))
    .sort()
  const all = createHash('sha256')
  for (const p of paths) {
    all.update(`${p}\0`)
    all.update(
      createHash('sha256')
        .update(readFileSync(join(dir, p)))
        .digest('hex')
    )
    all.update('\n')
  }
  return { files: paths.length, digest: all.digest('hex'), paths }
}

/** The parts of index.json the completeness check reads. */
export interface RenderIndex {
  readonly kind: string
  readonly clusters: Record<
    string,
    { services: Record<string, { files: string[] }>; skipped?: unknown[] }
  >
}

/**
 * Problems with a render's output against what the repository must produce: clusters or
 * services missing from the index, files the index lists that are absent, files not listed,
 * wrong counts. An empty list means complete.
 */
export function renderProblems(outDir: string, expected: ExpectedRender): string[] {
  const problems: string[] = []
  let index: RenderIndex
  try {
    index = JSON.parse(readFileSync(join(outDir, 'index.json'), 'utf8')) as RenderIndex
  } catch (e) {
    return [`no readable index.json: ${e instanceof Error ? e.message : String(e)}`]
  }
  const onDisk = new Set(treeDigest(outDir).paths.filter((p) => p !== 'index.json'))
  const listed = new Set<string>()
  const clusters = Object.keys(index.clusters ?? {}).sort()
  if (clusters.join(',') !== expected.clusters.join(','))
    problems.push(`index clusters ${clusters.length}, expected ${expected.clusters.length}`)
  for (const c of expected.clusters) {
    const entry = index.clusters?.[c]
    if (!entry) continue
    const services = Object.keys(entry.services).sort()
    if (services.join(',') !== expected.services.join(','))
      problems.push(
        `${c}: ${services.length} services in the index, expected ${expected.services.length}`
      )
    if ((entry.skipped ?? []).length) problems.push(`${c}: ${entry.skipped?.length} skipped`)
    let files = 0
    for (const s of Object.values(entry.services))
      for (const f of s.files) {
        files++
        listed.add(f)
        if (!onDisk.has(f)) problems.push(`${f} is in the index but not on disk`)
      }
    if (files !== expected.filesPerCluster)
      problems.push(`${c}: ${files} files in the index, expected ${expected.filesPerCluster}`)
  }
  for (const f of onDisk) if (!listed.has(f)) problems.push(`${f} is on disk but not in the index`)
  return problems
}
