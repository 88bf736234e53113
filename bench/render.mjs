// npm run bench:render — how fast and how lean `kit render` is, against kustomize.
//
// 1. Generates a manifests repository of 200 services × 50 clusters (10,000 service renders,
//    20,000 objects) in a temp folder, and renders it with the bundled CLI in a child process
//    (wall time, peak RSS).
//    Then renders again into the folder it wrote (nothing changed: files are compared, none is
//    rewritten). Then the same fleet with every other service's templates service-owned (a set
//    per branch under service-templates/), alternating with the first (--dry-run both).
// 2. Renders the same services on 200 clusters (40,000 renders) to show that peak memory does
//    not grow with the number of clusters (clusters are rendered and written one at a time).
// 3. Renders an equivalent layout with `kubectl kustomize` (one base, one overlay per cluster
//    setting images, replicas and env) and prints the ratio.
//
// Environment: BENCH_SERVICES (200), BENCH_CLUSTERS (50), BENCH_BIG_CLUSTERS (200),
// BENCH_KUSTOMIZE_CLUSTERS (5, at most BENCH_CLUSTERS), BENCH_OWNED_PAIRS (3: alternating
// renders of the fleet with and without service-owned templates), KUBECTL (path to kubectl),
// BENCH_WORKDIR (generate into this folder and keep it, for profiling).
// Run `node scripts/bundle.mjs` first if the sources changed (npm run bench:render does).
import { spawnSync } from 'node:child_process'
import {
  mkdirSync,
  mkdtempSync,
  rmSync,
  writeFileSync,
  existsSync,
  readdirSync,
  readFileSync
} from 'node:fs'
import { tmpdir, cpus, loadavg, totalmem } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { performance } from 'node:perf_hooks'
import { importTs } from '../scripts/ts-module.mjs'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const { recordFor, renderTemplateRecord, templateRecordPath, templateSetFolder } = await importTs(
  'shared/src/service-templates/record.ts'
)
const kit = join(root, 'cli/dist/kit.js')
const child = join(root, 'bench/render-child.mjs')
const services = Number(process.env.BENCH_SERVICES ?? 200)
const clusters = Number(process.env.BENCH_CLUSTERS ?? 50)
const bigClusters = Number(process.env.BENCH_BIG_CLUSTERS ?? 200)
// kustomize takes seconds per overlay here, so by default a sample of overlays is timed and the
// per-cluster time is multiplied out; BENCH_KUSTOMIZE_CLUSTERS=50 times every overlay.
const kustomizeClusters = Math.min(clusters, Number(process.env.BENCH_KUSTOMIZE_CLUSTERS ?? 5))
const ownedPairs = Math.max(1, Number(process.env.BENCH_OWNED_PAIRS ?? 3))

const groups = ['development', 'staging', 'production', 'eu', 'us']
const clusterGroups = (i) => [groups[i % 3], groups[3 + (i % 2)]]
const branchOf = (g) => (g === 'development' ? 'develop' : 'main')
const replicasOf = { development: 1, staging: 2, production: 4 }
const svc = (i) => `svc-${String(i).padStart(3, '0')}`
const cl = (i) => `cluster-${String(i).padStart(3, '0')}`

function write(path, text) {
  mkdirSync(dirname(path), { recursive: true })
  writeFileSync(path, text)
}

/**
 * A kit manifests repository: every service a Deployment and a Service with placeholders. With
 * `serviceOwned`, every other service keeps its templates per branch (main and develop) under
 * service-templates/, as the image-deployer records them, instead of in services/.
 */
function generateKitRepo(dir, clusterCount, serviceOwned = false) {
  write(join(dir, 'kit.yaml'), 'defaults:\n  branch: main\n')
  for (const g of groups) {
    const values = replicasOf[g]
      ? `  replicas: ${replicasOf[g]}\n`
      : `  env:\n    - name: REGION\n      value: ${g}-1\n`
    write(
      join(dir, 'groups', `${g}.yaml`),
      `${replicasOf[g] ? `branch: ${branchOf(g)}\n` : ''}values:\n${values}`
    )
  }
  for (let c = 0; c < clusterCount; c++) {
    const [tier, region] = clusterGroups(c)
    // Every fifth cluster overrides one service's values, as real fleets do.
    const override =
      c % 5 === 0 ? `services:\n  ${svc(c % services)}:\n    values:\n      replicas: 9\n` : ''
    write(
      join(dir, 'clusters', `${cl(c)}.yaml`),
      `groups: [${tier}, ${region}]\nlabels:\n  tier: ${tier}\n  region: ${region}\n${override}`
    )
  }
  for (let s = 0; s < services; s++) {
    const name = svc(s)
    const owned = serviceOwned && s % 2 === 1
    const base = owned ? join(work, 'owned-staging', name) : join(dir, 'services', name)
    write(join(base, 'kit.yaml'), `image: acme/${name}\n`)
    write(
      join(base, 'values.yaml'),
      `replicas: 1\nport: ${8000 + s}\nenv:\n  - name: LOG_LEVEL\n    value: info\n  - name: REGION\n    value: unknown\nresources:\n  requests:\n    cpu: 100m\n    memory: 128Mi\n`
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
    if (owned) recordServiceOwned(dir, name, base)
    for (const branch of ['main', 'develop']) {
      write(
        join(dir, 'images', 'acme', name, `${branch}.yaml`),
        `image: registry.example.com/acme/${name}:${branch}-${(s * 7919).toString(16).padStart(7, '0')}\nsource:\n  repository: acme/${name}\n  commit: '${(s * 104729).toString(16).padStart(40, 'a')}'\n`
      )
    }
  }
}

/** Copies a service's folder into service-templates/<name>/<branch>/ with its record, per branch. */
function recordServiceOwned(dir, name, from) {
  const files = readdirSync(from).map((path) => ({
    path,
    content: readFileSync(join(from, path), 'utf8')
  }))
  for (const branch of ['main', 'develop']) {
    const folder = templateSetFolder('service-templates', name, branch)
    for (const f of files) write(join(dir, folder, f.path), f.content)
    const source = { repository: `acme/${name}`, commit: 'a'.repeat(40), path: 'deploy/kit' }
    write(
      join(dir, templateRecordPath('service-templates', name, branch)),
      renderTemplateRecord(recordFor({ service: name, branch, source }, files))
    )
  }
  rmSync(from, { recursive: true, force: true })
}

/** The same fleet as kustomize: one base with every service, one overlay per cluster. */
function generateKustomizeLayout(dir, clusterCount) {
  const resources = []
  for (let s = 0; s < services; s++) {
    const name = svc(s)
    write(
      join(dir, 'base', `${name}.yaml`),
      `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
  namespace: apps
  labels:
    app: ${name}
spec:
  replicas: 1
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
          image: registry.example.com/acme/${name}
          ports:
            - containerPort: ${8000 + s}
          env:
            - name: LOG_LEVEL
              value: info
            - name: REGION
              value: unknown
          resources:
            requests:
              cpu: 100m
              memory: 128Mi
---
apiVersion: v1
kind: Service
metadata:
  name: ${name}
  namespace: apps
spec:
  selector:
    app: ${name}
  ports:
    - port: 80
      targetPort: ${8000 + s}
`
    )
    resources.push(`  - ${name}.yaml`)
  }
  write(join(dir, 'base', 'kustomization.yaml'), `resources:\n${resources.join('\n')}\n`)
  for (let c = 0; c < clusterCount; c++) {
    const [tier, region] = clusterGroups(c)
    const branch = branchOf(tier)
    const images = []
    const replicas = []
    for (let s = 0; s < services; s++) {
      const name = svc(s)
      images.push(
        `  - name: registry.example.com/acme/${name}\n    newTag: ${branch}-${(s * 7919).toString(16).padStart(7, '0')}`
      )
      replicas.push(
        `  - name: ${name}\n    count: ${c % 5 === 0 && s === c % services ? 9 : replicasOf[tier]}`
      )
    }
    write(
      join(dir, 'overlays', cl(c), 'kustomization.yaml'),
      `resources:
  - ../../base
labels:
  - pairs:
      cluster: ${cl(c)}
    includeSelectors: false
images:
${images.join('\n')}
replicas:
${replicas.join('\n')}
patches:
  - target:
      kind: Deployment
    patch: |-
      - op: replace
        path: /spec/template/spec/containers/0/env/1/value
        value: ${region}-1
`
    )
  }
}

/** Runs the CLI bundle in a child process; returns its in-process time, total time and peak RSS. */
function runKit(repo, args, nodeFlags = []) {
  const started = performance.now()
  const r = spawnSync(process.execPath, [...nodeFlags, child, kit, 'render', repo, ...args], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024
  })
  const total = performance.now() - started
  const line = r.stderr.trim().split('\n').pop() ?? ''
  if (r.status !== 0 || !line.startsWith('BENCH ')) {
    throw new Error(`kit render failed (${r.status}):\n${r.stderr.slice(-2000)}`)
  }
  const stats = JSON.parse(line.slice(6))
  if (stats.exitCode !== 0)
    throw new Error(`kit render exited ${stats.exitCode}:\n${r.stderr.slice(-2000)}`)
  return { ...stats, totalMs: total }
}

function findKubectl() {
  if (process.env.KUBECTL) return process.env.KUBECTL
  const built = spawnSync('bash', [join(root, 'testinfra/controlplane/build.sh')], {
    encoding: 'utf8'
  })
  if (built.status === 0) {
    const bin = built.stdout.trim().split('\n').pop()
    if (bin && existsSync(join(bin, 'kubectl'))) return join(bin, 'kubectl')
  }
  const which = spawnSync('which', ['kubectl'], { encoding: 'utf8' })
  return which.status === 0 ? which.stdout.trim() : undefined
}

function countFiles(dir) {
  return readdirSync(dir, { recursive: true, withFileTypes: true }).filter((d) => d.isFile()).length
}

const fmt = (ms) => `${(ms / 1000).toFixed(2)} s`
/** CPU time of a run: all threads, the main (rendering) thread, and the kernel's share. */
const cpuOf = (run) =>
  `CPU ${fmt(run.cpuMs)} (main thread ${fmt(run.mainCpuMs)}, kernel ${fmt(run.sysMs)})`
const mib = (kib) => `${(kib / 1024).toFixed(0)} MiB`
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b)
  const m = Math.floor(s.length / 2)
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2
}

const keep = process.env.BENCH_WORKDIR
const work = keep ?? mkdtempSync(join(tmpdir(), 'kit-bench-render-'))
try {
  console.log(
    `machine: ${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(1)} GiB, node ${process.version}`
  )
  console.log(
    `generating ${services} services × ${clusters} clusters (and × ${bigClusters}) in ${work}`
  )
  if (!existsSync(join(work, 'kit'))) generateKitRepo(join(work, 'kit'), clusters)
  if (!existsSync(join(work, 'kit-big'))) generateKitRepo(join(work, 'kit-big'), bigClusters)

  const renders = services * clusters
  const repo = join(work, 'kit')
  // Warm the page cache and the bundle once, so every run (and kustomize) starts equally warm.
  runKit(repo, ['--dry-run'])

  const dry = runKit(repo, ['--dry-run'])
  console.log(`\nkit render, ${renders} service renders (${renders * 2} objects):`)
  console.log(
    `  render + validate, no writes (--dry-run): ${fmt(dry.ms)} in-process, ${fmt(dry.totalMs)} with node start; peak RSS ${mib(dry.maxRssKiB)}; ${cpuOf(dry)}`
  )
  rmSync(join(work, 'out'), { recursive: true, force: true })
  const disk = runKit(repo, ['--output', join(work, 'out')])
  const files = countFiles(join(work, 'out')) - 1
  console.log(
    `  render + write ${files} files to ${work} (new folder): ${fmt(disk.ms)} in-process, ${fmt(disk.totalMs)} with node start; peak RSS ${mib(disk.maxRssKiB)}; ${cpuOf(disk)}`
  )
  // The same render again into the folder it made: every file is compared, none rewritten.
  const again = runKit(repo, ['--output', join(work, 'out')])
  console.log(
    `  the same render again into that folder (nothing changed): ${fmt(again.ms)} in-process, ${fmt(again.totalMs)} with node start; ${cpuOf(again)}`
  )
  if (existsSync('/dev/shm')) {
    const shm = mkdtempSync('/dev/shm/kit-bench-')
    try {
      const mem = runKit(repo, ['--output', join(shm, 'out')])
      console.log(
        `  render + write to tmpfs (/dev/shm, no disk latency): ${fmt(mem.ms)} in-process, ${fmt(mem.totalMs)} with node start; ${cpuOf(mem)}`
      )
    } finally {
      rmSync(shm, { recursive: true, force: true })
    }
  }
  // Half the services with per-branch service-owned templates, the same fleet otherwise. A
  // single run of each is at the mercy of whatever else the machine does meanwhile, so the two
  // renders alternate (BENCH_OWNED_PAIRS pairs) and the verdict is on the median of the pairs'
  // ratios.
  const ownedRepo = join(work, 'kit-owned')
  if (!existsSync(ownedRepo)) generateKitRepo(ownedRepo, clusters, true)
  runKit(ownedRepo, ['--dry-run'])
  const pairs = []
  for (let i = 0; i < ownedPairs; i++) {
    const plain = runKit(repo, ['--dry-run'])
    const owned = runKit(ownedRepo, ['--dry-run'])
    pairs.push({ plain, owned })
    console.log(
      `    pair ${i + 1}: every service in services/ ${fmt(plain.ms)} (main thread ${fmt(plain.mainCpuMs)}), half service-owned ${fmt(owned.ms)} (main thread ${fmt(owned.mainCpuMs)}): ${(owned.ms / plain.ms).toFixed(2)}x wall, ${(owned.mainCpuMs / plain.mainCpuMs).toFixed(2)}x main-thread CPU`
    )
  }
  const ownedRatio = median(pairs.map((p) => p.owned.ms / p.plain.ms))
  const ownedCpuRatio = median(pairs.map((p) => p.owned.mainCpuMs / p.plain.mainCpuMs))
  console.log(
    `  half the services with service-owned templates per branch (--dry-run): ${fmt(median(pairs.map((p) => p.owned.ms)))} in-process (median of ${pairs.length}, alternating with the render above); ${ownedRatio.toFixed(2)}x the render above, median of the pairs [baseline] (limit 1.20x: ${ownedRatio <= 1.2 ? 'met' : 'NOT met'}); ${ownedCpuRatio.toFixed(2)}x its main-thread CPU`
  )
  console.log(
    `  load average during the run: ${loadavg()
      .map((l) => l.toFixed(1))
      .join(', ')} (other work on this machine slows every figure)`
  )
  console.log(
    `  ${((renders / dry.ms) * 1000).toFixed(0)} service renders/s rendering; target < 5 s for ${renders}: ` +
      `${dry.ms < 5000 ? 'met' : 'NOT met'} without writes, ${disk.ms < 5000 ? 'met' : 'NOT met'} writing to disk`
  )

  console.log('')
  // Memory: the same services on 4× the clusters. The heap is capped so the numbers show what
  // the render retains, not how lazily V8 collects garbage: a render holding every cluster's
  // output would not fit, one that streams cluster by cluster stays flat.
  const cap = ['--max-old-space-size=48']
  for (const [label, args] of [
    ['render only (--dry-run)', ['--dry-run']],
    ['render + write', ['--output']]
  ]) {
    const outArgs = (name) => (args[0] === '--output' ? ['--output', join(work, name)] : args)
    const a = runKit(repo, outArgs('out-m1'), cap)
    const b = runKit(join(work, 'kit-big'), outArgs('out-m2'), cap)
    console.log(
      `peak RSS, ${label}, 48 MiB heap cap: ${clusters} clusters ${mib(a.maxRssKiB)} (${fmt(a.ms)}), ` +
        `${bigClusters} clusters ${mib(b.maxRssKiB)} (${fmt(b.ms)}, ${services * bigClusters} renders): ` +
        `×${(b.maxRssKiB / a.maxRssKiB).toFixed(2)} for ×${(bigClusters / clusters).toFixed(0)} clusters`
    )
    rmSync(join(work, 'out-m1'), { recursive: true, force: true })
    rmSync(join(work, 'out-m2'), { recursive: true, force: true })
  }
  console.log(
    `without the cap (V8 grows its heap as it likes): ${clusters} clusters ${mib(disk.maxRssKiB)} writing, ${mib(dry.maxRssKiB)} --dry-run`
  )

  const kubectl = findKubectl()
  if (!kubectl) {
    console.log('\nkubectl not found: no kustomize baseline (set KUBECTL)')
  } else {
    rmSync(join(work, 'kustomize'), { recursive: true, force: true })
    generateKustomizeLayout(join(work, 'kustomize'), kustomizeClusters)
    mkdirSync(join(work, 'out-kustomize'), { recursive: true })
    const started = performance.now()
    for (let c = 0; c < kustomizeClusters; c++) {
      const r = spawnSync(kubectl, ['kustomize', join(work, 'kustomize', 'overlays', cl(c))], {
        encoding: 'utf8',
        maxBuffer: 256 * 1024 * 1024
      })
      if (r.status !== 0) throw new Error(`kubectl kustomize failed: ${r.stderr}`)
      writeFileSync(join(work, 'out-kustomize', `${cl(c)}.yaml`), r.stdout)
    }
    const kMs = performance.now() - started
    const perCluster = kMs / kustomizeClusters
    const kustomizeAll = perCluster * clusters
    console.log(
      `\nkubectl kustomize (${kubectl}), ${kustomizeClusters} overlays × ${services} services: ${fmt(kMs)} (${(perCluster / 1000).toFixed(2)} s per cluster)` +
        (kustomizeClusters === clusters
          ? ''
          : `, ${fmt(kustomizeAll)} for ${clusters} clusters at that rate`)
    )
    const ratio = kustomizeAll / disk.totalMs
    console.log(
      `ratio: kit render (writing ${files} files, node start included, ${fmt(disk.totalMs)}) is ${ratio.toFixed(1)}× faster than kubectl kustomize (${fmt(kustomizeAll)}); target ≥ 10×: ${ratio >= 10 ? 'met' : 'NOT met'}`
    )
    console.log(
      `       rendering only (--dry-run, ${fmt(dry.totalMs)}): ${(kustomizeAll / dry.totalMs).toFixed(1)}×`
    )
  }
} finally {
  if (!keep) rmSync(work, { recursive: true, force: true })
}
