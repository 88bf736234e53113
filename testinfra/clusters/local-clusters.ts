/**
 * Real, local Kubernetes clusters for tests and the demo: one etcd, and per cluster a
 * kube-apiserver, kube-controller-manager, kube-scheduler and kwok (fake nodes whose pods
 * really get scheduled, become Ready, complete or fail). Everything binds to 127.0.0.1 and
 * nothing is ever told about a non-loopback address: these machines forbid such traffic.
 *
 * The processes are detached, so `npm run clusters -- up` can return and a later `down` (or a
 * test's teardown) stops them. The set's state (ports, pids, kubeconfigs) lives in one
 * directory outside the repository.
 */
import { spawn, execFileSync } from 'node:child_process'
import { generateKeyPairSync, randomBytes } from 'node:crypto'
import {
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
  closeSync
} from 'node:fs'
import { request } from 'node:https'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))

/** Where a set of clusters keeps its state unless told otherwise. */
export function defaultStateRoot(): string {
  return process.env.KIT_CLUSTERS_DIR ?? join(tmpdir(), 'kit-clusters')
}

export interface LocalCluster {
  readonly name: string
  /** https://127.0.0.1:<port> */
  readonly server: string
  /** A kubeconfig holding only this cluster, context named after it. */
  readonly kubeconfigPath: string
  readonly ports: {
    readonly api: number
    readonly controllerManager: number
    readonly scheduler: number
    readonly kwok: number
  }
  readonly dir: string
}

export interface ClusterSet {
  /** True when upClusters found this set already running and reused it. */
  readonly reused?: boolean
  readonly root: string
  readonly etcdPort: number
  readonly clusters: readonly LocalCluster[]
  /** One kubeconfig with a context per cluster. */
  readonly kubeconfigPath: string
}

interface ProcessRecord {
  readonly cluster: string
  readonly component: string
  readonly pid: number
  readonly log: string
  /** How it was started, so one component can be started again (fault-injection tests). */
  readonly bin?: string
  readonly args?: readonly string[]
}

interface StateFile {
  readonly set: ClusterSet
  readonly processes: ProcessRecord[]
  readonly binDir: string
  readonly startedAt: string
}

export interface UpOptions {
  /** Cluster names; defaults to kit-1 .. kit-<count>. */
  readonly names?: readonly string[]
  readonly count?: number
  readonly root?: string
  /** First port of the range the set uses: etcd takes base and base+1, cluster i takes base+10*i .. +3. */
  readonly basePort?: number
  /** Fake nodes per cluster. */
  readonly nodes?: number
  readonly log?: (line: string) => void
  /** Use binaries from this directory instead of building or looking up the cache. */
  readonly binDir?: string
}

const components = ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kwok'] as const
const namePattern = /^[a-z0-9]([-a-z0-9]{0,30}[a-z0-9])?$/

/**
 * Builds (or finds in the cache) the control-plane binaries pinned in testinfra/controlplane
 * and returns their directory. The first build compiles Kubernetes from source.
 */
export function ensureBinaries(log: (line: string) => void = () => {}): string {
  const script = join(repoRoot(), 'testinfra', 'controlplane', 'build.sh')
  if (!existsSync(script)) throw new Error(`cannot find ${script}; run from a kit checkout`)
  log('checking control-plane binaries (first build compiles Kubernetes: 15-30 min)')
  const out = execFileSync('bash', [script], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit']
  })
  const lines = out.trim().split('\n')
  return lines[lines.length - 1]
}

function repoRoot(): string {
  // This file sits at testinfra/clusters/ in the source tree; bundled (npm run clusters, Jest's
  // global setup) it runs from a temporary folder, and the working directory is the clone's root.
  for (const candidate of [join(here, '..', '..'), join(here, '..', '..', '..'), process.cwd()]) {
    if (existsSync(join(candidate, 'testinfra', 'controlplane', 'build.sh'))) return candidate
  }
  return join(here, '..', '..')
}

/**
 * Starts a set of clusters, or returns the running set when it already has exactly these
 * names and every process is alive (so tests and the demo can share one warm set).
 */
export async function upClusters(options: UpOptions = {}): Promise<ClusterSet> {
  const log = options.log ?? (() => {})
  const root = options.root ?? defaultStateRoot()
  const names =
    options.names ?? Array.from({ length: options.count ?? 3 }, (_, i) => `kit-${i + 1}`)
  if (names.length === 0) throw new Error('no clusters asked for: give a count of at least 1')
  for (const n of names) {
    if (!namePattern.test(n))
      throw new Error(
        `cluster name '${n}' is not a DNS label of lowercase letters, digits and '-' (max 32)`
      )
  }
  if (new Set(names).size !== names.length)
    throw new Error(`cluster names repeat: ${names.join(', ')}`)

  const existing = readState(root)
  if (existing) {
    const alive = existing.processes.every((p) => isAlive(p.pid))
    const same = existing.set.clusters.map((c) => c.name).join(',') === names.join(',')
    if (alive && same) {
      log(`reusing the running clusters ${names.join(', ')} (state in ${root})`)
      return { ...existing.set, reused: true }
    }
    if (alive) {
      throw new Error(
        `another set of clusters is running (${existing.set.clusters.map((c) => c.name).join(', ')}) in ${root}; ` +
          `stop it first with 'npm run clusters -- down'`
      )
    }
    log('found a stale cluster set (some processes are gone); cleaning it up')
    await downClusters({ root, log })
  }

  const binDir = options.binDir ?? ensureBinaries(log)
  for (const p of ['etcd', ...components]) {
    if (!existsSync(join(binDir, p)))
      throw new Error(
        `control-plane binary '${p}' is missing from ${binDir}; delete that directory and retry`
      )
  }

  const basePort = options.basePort ?? Number(process.env.KIT_CLUSTERS_BASE_PORT ?? 17000)
  const etcdPort = basePort
  const plannedPorts: { port: number; what: string }[] = [
    { port: etcdPort, what: 'etcd client' },
    { port: etcdPort + 1, what: 'etcd peer' }
  ]
  const clusters: LocalCluster[] = names.map((name, i) => {
    const base = basePort + 10 * (i + 1)
    const ports = { api: base, controllerManager: base + 1, scheduler: base + 2, kwok: base + 3 }
    plannedPorts.push(
      { port: ports.api, what: `kube-apiserver of ${name}` },
      { port: ports.controllerManager, what: `kube-controller-manager of ${name}` },
      { port: ports.scheduler, what: `kube-scheduler of ${name}` },
      { port: ports.kwok, what: `kwok of ${name}` }
    )
    return {
      name,
      server: `https://127.0.0.1:${ports.api}`,
      kubeconfigPath: join(root, name, 'kubeconfig'),
      ports,
      dir: join(root, name)
    }
  })
  await assertPortsFree(plannedPorts)

  rmSync(root, { recursive: true, force: true })
  mkdirSync(root, { recursive: true, mode: 0o700 })
  const set: ClusterSet = { root, etcdPort, clusters, kubeconfigPath: join(root, 'kubeconfig') }
  const state: StateFile = { set, processes: [], binDir, startedAt: new Date().toISOString() }
  const started = Date.now()

  try {
    const env = { ...process.env, GOMEMLIMIT: process.env.GOMEMLIMIT ?? '400MiB' }
    log(`starting etcd on 127.0.0.1:${etcdPort}`)
    const etcdDir = join(root, 'etcd')
    mkdirSync(etcdDir, { recursive: true })
    startProcess(
      state,
      '(shared)',
      'etcd',
      join(binDir, 'etcd'),
      [
        '--name=kit',
        `--data-dir=${join(etcdDir, 'data')}`,
        `--listen-client-urls=http://127.0.0.1:${etcdPort}`,
        `--advertise-client-urls=http://127.0.0.1:${etcdPort}`,
        `--listen-peer-urls=http://127.0.0.1:${etcdPort + 1}`,
        `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPort + 1}`,
        `--initial-cluster=kit=http://127.0.0.1:${etcdPort + 1}`,
        '--listen-metrics-urls=',
        '--auto-compaction-retention=1',
        // Test data is thrown away on `down`; fsync only slows every write on a shared disk.
        '--unsafe-no-fsync=true'
      ],
      join(etcdDir, 'etcd.log'),
      env
    )
    writeState(state)
    await waitFor(`etcd on port ${etcdPort}`, 30_000, state, async () =>
      (await httpGetPlain(`http://127.0.0.1:${etcdPort}/health`)).includes('true')
    )

    const stages = composeStages(binDir, root)
    // The API servers start in parallel: each spends its first seconds CPU-bound on its own.
    for (const c of clusters) startApiServer(state, c, binDir, etcdPort, env)
    writeState(state)
    await Promise.all(
      clusters.map((c) => waitFor(`kube-apiserver of ${c.name}`, 120_000, state, () => apiReady(c)))
    )
    for (const c of clusters) {
      writeKubeconfig(c)
      startAgents(state, c, binDir, stages, env)
    }
    writeState(state)
    writeMergedKubeconfig(set)
    await Promise.all(clusters.map((c) => prepareCluster(c, options.nodes ?? 2, state)))
    log(
      `${clusters.length} cluster(s) ready in ${((Date.now() - started) / 1000).toFixed(1)}s: ${names.join(', ')}`
    )
    log(`kubeconfig with a context per cluster: ${set.kubeconfigPath}`)
    return set
  } catch (err) {
    log('start failed; stopping what was started')
    await stopProcesses(state.processes)
    throw err
  }
}

/** Stops every process of the set in `root` and removes its state. Safe to call when nothing runs. */
export async function downClusters(
  options: { root?: string; log?: (line: string) => void } = {}
): Promise<number> {
  const root = options.root ?? defaultStateRoot()
  const state = readState(root)
  if (!state) {
    options.log?.(`no clusters are running (no state in ${root})`)
    return 0
  }
  const count = await stopProcesses(state.processes)
  rmSync(root, { recursive: true, force: true })
  options.log?.(
    `stopped ${state.set.clusters.length} cluster(s) (${count} processes) and removed ${root}`
  )
  return count
}

export interface ClusterStatus {
  readonly name: string
  readonly server: string
  readonly kubeconfigPath: string
  readonly ready: boolean
  readonly processes: { component: string; pid: number; alive: boolean; rssKiB: number }[]
}

/** Reports the running set: per cluster whether its API answers, and each process's memory. */
export async function clusterStatus(options: { root?: string } = {}): Promise<{
  root: string
  clusters: ClusterStatus[]
  etcd?: { pid: number; alive: boolean; rssKiB: number }
}> {
  const root = options.root ?? defaultStateRoot()
  const state = readState(root)
  if (!state) return { root, clusters: [] }
  const proc = (p: ProcessRecord) => ({
    component: p.component,
    pid: p.pid,
    alive: isAlive(p.pid),
    rssKiB: rssKiB(p.pid)
  })
  const etcd = state.processes.find((p) => p.component === 'etcd')
  const clusters: ClusterStatus[] = []
  for (const c of state.set.clusters) {
    clusters.push({
      name: c.name,
      server: c.server,
      kubeconfigPath: c.kubeconfigPath,
      ready: await apiReady(c).catch(() => false),
      processes: state.processes.filter((p) => p.cluster === c.name).map(proc)
    })
  }
  return { root, clusters, etcd: etcd ? proc(etcd) : undefined }
}

/** The running set in `root`, if any. */
export function readClusterSet(root = defaultStateRoot()): ClusterSet | undefined {
  return readState(root)?.set
}

// --- one component at a time (fault injection) -----------------------------------------

/** A process of a running set: the shared etcd, or one component of one cluster. */
export type ComponentName = 'etcd' | (typeof components)[number]

export interface ComponentTarget {
  /** The set's state directory (default: defaultStateRoot()). */
  readonly root?: string
  /** The cluster the component belongs to; leave it out for the shared etcd. */
  readonly cluster?: string
  readonly component: ComponentName
}

function describeTarget(t: ComponentTarget): string {
  return t.component === 'etcd' ? 'the shared etcd' : `${t.component} of ${t.cluster ?? '?'}`
}

function findComponent(t: ComponentTarget): {
  state: StateFile
  index: number
  record: ProcessRecord
} {
  const root = t.root ?? defaultStateRoot()
  const state = readState(root)
  if (!state) throw new Error(`no cluster set is running in ${root}`)
  if (t.component !== 'etcd' && !state.set.clusters.some((c) => c.name === t.cluster))
    throw new Error(
      `no cluster '${t.cluster ?? ''}' in the set in ${root} (it has ${state.set.clusters.map((c) => c.name).join(', ')})`
    )
  const index = state.processes.findIndex(
    (p) => p.component === t.component && (t.component === 'etcd' || p.cluster === t.cluster)
  )
  if (index < 0) throw new Error(`${describeTarget(t)} is not part of the set in ${root}`)
  return { state, index, record: state.processes[index] }
}

/**
 * Stops one component of a running set — SIGKILL by default, the way a crash looks to its
 * clients (SIGTERM: a clean stop, escalated to SIGKILL after `graceMs`) — and waits until the
 * process is gone. The set's state keeps the component, so startComponent can bring it back.
 * Returns the pid that was stopped (undefined when it was not running).
 */
export async function stopComponent(
  target: ComponentTarget,
  options: { signal?: 'SIGKILL' | 'SIGTERM'; graceMs?: number } = {}
): Promise<number | undefined> {
  const { record } = findComponent(target)
  if (!isAlive(record.pid)) return undefined
  const sig = options.signal ?? 'SIGKILL'
  signal(record.pid, sig)
  const deadline = Date.now() + (options.graceMs ?? 15_000)
  while (isAlive(record.pid)) {
    if (sig === 'SIGTERM' && Date.now() > deadline) signal(record.pid, 'SIGKILL')
    await sleep(50)
  }
  return record.pid
}

/**
 * Starts a stopped component again with the binary and arguments it first ran with (same
 * ports, certificates, tokens and data directory, so every kubeconfig stays valid), records
 * its new pid and waits until it serves (see waitUntilServing). A starved machine can make a
 * kube-apiserver give up while starting (a post-start hook times out and it exits): a process
 * that exits before it serves is started again, up to `attempts` times in all (default 3).
 * Returns the new pid.
 */
export async function startComponent(
  target: ComponentTarget,
  options: { timeoutMs?: number; attempts?: number } = {}
): Promise<number> {
  const { record } = findComponent(target)
  if (isAlive(record.pid))
    throw new Error(`${describeTarget(target)} is still running (pid ${record.pid})`)
  if (!record.bin || !record.args)
    throw new Error(
      `${describeTarget(target)} was started by an older kit that did not record its arguments; restart the whole set`
    )
  const attempts = Math.max(1, options.attempts ?? 3)
  const deadline = Date.now() + (options.timeoutMs ?? 240_000)
  // As at first start, an API server comes up before its cluster's agents talk to it: the
  // agents are paused meanwhile. Left running, every informer of the controller manager,
  // scheduler and kwok reconnects at once, and on a starved machine the flood of TLS
  // handshakes starves the server's own loopback client until a post-start hook gives up.
  const agents =
    target.component === 'kube-apiserver'
      ? findComponent(target).state.processes.filter(
          (p) => p.cluster === target.cluster && p.component !== 'kube-apiserver' && isAlive(p.pid)
        )
      : []
  for (const a of agents) signal(a.pid, 'SIGSTOP')
  try {
    return await startUntilServing(target, record, attempts, deadline)
  } finally {
    for (const a of agents) signal(a.pid, 'SIGCONT')
  }
}

async function startUntilServing(
  target: ComponentTarget,
  record: ProcessRecord,
  attempts: number,
  deadline: number
): Promise<number> {
  if (!record.bin || !record.args) throw new Error(`${describeTarget(target)}: no arguments`)
  for (let attempt = 1; ; attempt++) {
    const { state, index } = findComponent(target)
    const env = { ...process.env, GOMEMLIMIT: process.env.GOMEMLIMIT ?? '400MiB' }
    const scratch: StateFile = { ...state, processes: [] }
    startProcess(
      scratch,
      record.cluster,
      record.component,
      record.bin,
      [...record.args],
      record.log,
      env
    )
    state.processes[index] = scratch.processes[0]
    writeState(state)
    try {
      await waitUntilServing(target, Math.max(1000, deadline - Date.now()))
      return scratch.processes[0].pid
    } catch (err) {
      if (!(err instanceof ComponentExitedError) || attempt >= attempts) throw err
    }
  }
}

/** The component's process is gone (it exited, or was stopped) while someone waited for it. */
class ComponentExitedError extends Error {}

/** stopComponent, then startComponent: the crash-and-recover of one component. */
export async function restartComponent(
  target: ComponentTarget,
  options: { signal?: 'SIGKILL' | 'SIGTERM'; downMs?: number; timeoutMs?: number } = {}
): Promise<number> {
  await stopComponent(target, { signal: options.signal })
  if (options.downMs) await sleep(options.downMs)
  return startComponent(target, { timeoutMs: options.timeoutMs })
}

/**
 * Waits until a component serves: etcd answers /health with true, a kube-apiserver answers
 * /readyz with 200 (which includes its etcd check); the agents only need a live process.
 * Fails early, with the last lines of its log, when the process exits meanwhile.
 */
export async function waitUntilServing(
  target: ComponentTarget,
  timeoutMs = 120_000
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const { state, record } = findComponent(target)
    if (!isAlive(record.pid))
      throw new ComponentExitedError(
        `${describeTarget(target)} is not running; last log lines:\n${tail(record.log, 15)}`
      )
    const cluster = state.set.clusters.find((c) => c.name === target.cluster)
    const serving =
      target.component === 'etcd'
        ? await httpGetPlain(`http://127.0.0.1:${state.set.etcdPort}/health`)
            .then((b) => b.includes('true'))
            .catch(() => false)
        : target.component === 'kube-apiserver' && cluster
          ? await apiReady(cluster).catch(() => false)
          : true
    if (serving) return
    if (Date.now() > deadline)
      throw new Error(
        `timed out after ${Math.round(timeoutMs / 1000)}s waiting for ${describeTarget(target)} to serve`
      )
    await sleep(250)
  }
}

// --- process management -------------------------------------------------------------

function startProcess(
  state: StateFile,
  cluster: string,
  component: string,
  bin: string,
  args: string[],
  logPath: string,
  env: NodeJS.ProcessEnv
): void {
  const fd = openSync(logPath, 'a')
  // detached: own process group, so `down` can stop it (and anything it forks) from another process.
  const child = spawn(bin, args, { detached: true, stdio: ['ignore', fd, fd], env })
  closeSync(fd)
  if (child.pid === undefined)
    throw new Error(`could not start ${component} for ${cluster} (${bin})`)
  child.unref()
  state.processes.push({ cluster, component, pid: child.pid, log: logPath, bin, args })
}

async function stopProcesses(processes: readonly ProcessRecord[]): Promise<number> {
  const live = processes.filter((p) => isAlive(p.pid))
  // Agents first, etcd last, so nothing logs a storm of connection errors while stopping.
  const order = [...live].sort(
    (a, b) => Number(a.component === 'etcd') - Number(b.component === 'etcd')
  )
  for (const p of order) signal(p.pid, 'SIGTERM')
  const deadline = Date.now() + 15_000
  while (Date.now() < deadline && live.some((p) => isAlive(p.pid))) await sleep(100)
  for (const p of live) if (isAlive(p.pid)) signal(p.pid, 'SIGKILL')
  while (live.some((p) => isAlive(p.pid))) await sleep(50)
  return live.length
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(-pid, sig)
  } catch {
    try {
      process.kill(pid, sig)
    } catch {
      /* already gone */
    }
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
  } catch {
    return false
  }
  // A zombie (exited, not yet reaped by its parent) is not alive.
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.split(') ')[1]?.[0] !== 'Z'
  } catch {
    return false
  }
}

function rssKiB(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return m ? Number(m[1]) : 0
  } catch {
    return 0
  }
}

async function assertPortsFree(ports: readonly { port: number; what: string }[]): Promise<void> {
  const taken: string[] = []
  for (const p of ports) {
    if (!(await portFree(p.port))) taken.push(`127.0.0.1:${p.port} (wanted for ${p.what})`)
  }
  if (taken.length > 0) {
    throw new Error(
      `port already in use: ${taken.join(', ')}. Another program or cluster set holds it; ` +
        `check 'npm run clusters -- status', or choose another range with KIT_CLUSTERS_BASE_PORT`
    )
  }
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer()
    server.once('error', () => resolve(false))
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)))
  })
}

function readState(root: string): StateFile | undefined {
  const file = join(root, 'state.json')
  if (!existsSync(file)) return undefined
  return JSON.parse(readFileSync(file, 'utf8')) as StateFile
}

function writeState(state: StateFile): void {
  writeFileSync(join(state.set.root, 'state.json'), JSON.stringify(state, null, 2) + '\n', {
    mode: 0o600
  })
}

async function waitFor(
  what: string,
  timeoutMs: number,
  state: StateFile,
  probe: () => Promise<boolean>
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const dead = state.processes.find((p) => !isAlive(p.pid))
    if (dead)
      throw new Error(
        `${dead.component} of ${dead.cluster} exited while waiting for ${what}; last log lines:\n${tail(dead.log, 15)}`
      )
    if (await probe().catch(() => false)) return
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs / 1000}s waiting for ${what}`)
    await sleep(250)
  }
}

function tail(file: string, lines: number): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n')
  } catch {
    return '(no log)'
  }
}

// --- components -----------------------------------------------------------------------

function startApiServer(
  state: StateFile,
  c: LocalCluster,
  binDir: string,
  etcdPort: number,
  env: NodeJS.ProcessEnv
): void {
  mkdirSync(join(c.dir, 'certs'), { recursive: true, mode: 0o700 })
  // The service-account signing key; the API server makes its own serving certificate.
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
  writeFileSync(join(c.dir, 'sa.key'), privateKey.export({ type: 'pkcs8', format: 'pem' }), {
    mode: 0o600
  })
  const token = randomBytes(24).toString('hex')
  writeFileSync(join(c.dir, 'token'), token, { mode: 0o600 })
  // Static token auth: the admin belongs to system:masters, which RBAC always allows.
  writeFileSync(join(c.dir, 'tokens.csv'), `${token},kit-admin,kit-admin,"system:masters"\n`, {
    mode: 0o600
  })
  startProcess(
    state,
    c.name,
    'kube-apiserver',
    join(binDir, 'kube-apiserver'),
    [
      `--etcd-servers=http://127.0.0.1:${etcdPort}`,
      // One etcd serves the whole set; each cluster keeps its own key prefix.
      `--etcd-prefix=/kit-clusters/${c.name}`,
      '--bind-address=127.0.0.1',
      '--advertise-address=127.0.0.1',
      `--secure-port=${c.ports.api}`,
      `--cert-dir=${join(c.dir, 'certs')}`,
      `--token-auth-file=${join(c.dir, 'tokens.csv')}`,
      '--authorization-mode=Node,RBAC',
      '--allow-privileged=true',
      '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
      `--service-account-key-file=${join(c.dir, 'sa.key')}`,
      `--service-account-signing-key-file=${join(c.dir, 'sa.key')}`,
      '--service-cluster-ip-range=10.96.0.0/16',
      // The reconciler would publish 127.0.0.1 as the `kubernetes` Service's endpoint; nothing
      // in these clusters dials it, and loopback endpoints are rejected by validation anyway.
      '--endpoint-reconciler-type=none',
      '--enable-priority-and-fairness=false',
      '--profiling=false'
    ],
    join(c.dir, 'kube-apiserver.log'),
    env
  )
}

function startAgents(
  state: StateFile,
  c: LocalCluster,
  binDir: string,
  stagesPath: string,
  env: NodeJS.ProcessEnv
): void {
  startProcess(
    state,
    c.name,
    'kube-controller-manager',
    join(binDir, 'kube-controller-manager'),
    [
      `--kubeconfig=${c.kubeconfigPath}`,
      '--bind-address=127.0.0.1',
      `--secure-port=${c.ports.controllerManager}`,
      '--leader-elect=false',
      `--root-ca-file=${join(c.dir, 'certs', 'apiserver.crt')}`,
      `--service-account-private-key-file=${join(c.dir, 'sa.key')}`,
      '--use-service-account-credentials=false',
      // kwok renews node leases from the same busy machine; on a loaded CI box a renewal can lag
      // past the 40 s default and the controller would mark every pod NotReady. Fake nodes never
      // really fail, so be generous.
      '--node-monitor-grace-period=5m',
      '--profiling=false'
    ],
    join(c.dir, 'kube-controller-manager.log'),
    env
  )
  startProcess(
    state,
    c.name,
    'kube-scheduler',
    join(binDir, 'kube-scheduler'),
    [
      `--kubeconfig=${c.kubeconfigPath}`,
      '--bind-address=127.0.0.1',
      `--secure-port=${c.ports.scheduler}`,
      '--leader-elect=false',
      '--profiling=false'
    ],
    join(c.dir, 'kube-scheduler.log'),
    env
  )
  startProcess(
    state,
    c.name,
    'kwok',
    join(binDir, 'kwok'),
    [
      `--kubeconfig=${c.kubeconfigPath}`,
      `--config=${stagesPath}`,
      '--manage-all-nodes=true',
      '--node-name=localhost',
      '--node-ip=127.0.0.1',
      // Pod IPs are only ever written into status; loopback keeps even that on this host.
      '--cidr=127.100.0.1/16',
      `--server-address=127.0.0.1:${c.ports.kwok}`,
      `--node-port=${c.ports.kwok}`,
      // Heartbeat through node Leases (renewed every ~10 s), as a kubelet does. The
      // node-heartbeat-with-lease Stage refreshes node status only every ~5 min; without
      // leases the controller manager saw each node silent for just over its grace period,
      // marked it Unknown for a few seconds every 5 minutes and set every pod NotReady for good.
      '--node-lease-duration-seconds=40'
    ],
    join(c.dir, 'kwok.log'),
    env
  )
}

/** kwok has no built-in Stages: give it its defaults (kept by build.sh) plus kit's fault Stages. */
function composeStages(binDir: string, root: string): string {
  const defaults = [
    'node-initialize',
    'node-heartbeat-with-lease',
    'pod-ready',
    'pod-complete',
    'pod-delete'
  ]
  const parts = defaults.map((n) =>
    readFileSync(join(binDir, 'stages', `${n}.yaml`), 'utf8').trimEnd()
  )
  parts.push(
    readFileSync(join(repoRoot(), 'testinfra', 'clusters', 'fault-stages.yaml'), 'utf8').trimEnd()
  )
  const file = join(root, 'kwok-stages.yaml')
  writeFileSync(file, parts.join('\n---\n') + '\n')
  return file
}

function caPath(c: LocalCluster): string {
  return join(c.dir, 'certs', 'apiserver.crt')
}

function writeKubeconfig(c: LocalCluster): void {
  writeFileSync(c.kubeconfigPath, kubeconfigYaml([c]), { mode: 0o600 })
}

function writeMergedKubeconfig(set: ClusterSet): void {
  writeFileSync(set.kubeconfigPath, kubeconfigYaml(set.clusters), { mode: 0o600 })
}

function kubeconfigYaml(clusters: readonly LocalCluster[]): string {
  const lines = [
    'apiVersion: v1',
    'kind: Config',
    `current-context: ${clusters[0].name}`,
    'clusters:'
  ]
  for (const c of clusters) {
    const ca = readFileSync(caPath(c)).toString('base64')
    lines.push(
      `- name: ${c.name}`,
      '  cluster:',
      `    server: ${c.server}`,
      `    certificate-authority-data: ${ca}`
    )
  }
  lines.push('users:')
  for (const c of clusters) {
    lines.push(
      `- name: ${c.name}-admin`,
      '  user:',
      `    token: ${readFileSync(join(c.dir, 'token'), 'utf8')}`
    )
  }
  lines.push('contexts:')
  for (const c of clusters) {
    lines.push(
      `- name: ${c.name}`,
      '  context:',
      `    cluster: ${c.name}`,
      `    user: ${c.name}-admin`
    )
  }
  return lines.join('\n') + '\n'
}

// --- talking to the API ------------------------------------------------------------------

async function apiReady(c: LocalCluster): Promise<boolean> {
  if (!existsSync(caPath(c))) return false
  const body = await apiRequest(c, 'GET', '/readyz')
  return body.status === 200
}

/** One HTTPS request to a local cluster with its token and CA; the tests' own client is client-node. */
export function apiRequest(
  c: LocalCluster,
  method: string,
  path: string,
  payload?: unknown
): Promise<{ status: number; body: string }> {
  const token = existsSync(join(c.dir, 'token')) ? readFileSync(join(c.dir, 'token'), 'utf8') : ''
  return new Promise((resolve, reject) => {
    const req = request(
      `${c.server}${path}`,
      {
        method,
        ca: readFileSync(caPath(c)),
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': 'application/json',
          accept: 'application/json'
        },
        timeout: 5000
      },
      (res) => {
        let body = ''
        res.setEncoding('utf8')
        res.on('data', (d: string) => (body += d))
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
      }
    )
    req.on('timeout', () => req.destroy(new Error(`timeout talking to ${c.server}`)))
    req.on('error', reject)
    if (payload !== undefined) req.write(JSON.stringify(payload))
    req.end()
  })
}

function httpGetPlain(url: string): Promise<string> {
  return fetch(url, { signal: AbortSignal.timeout(2000) }).then((r) => r.text())
}

/** Creates the fake nodes and waits until they are Ready and the default ServiceAccount exists. */
async function prepareCluster(c: LocalCluster, nodes: number, state: StateFile): Promise<void> {
  for (let i = 0; i < nodes; i++) {
    const name = `kwok-node-${i}`
    const res = await apiRequest(c, 'POST', '/api/v1/nodes', {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: {
        name,
        annotations: { 'kwok.x-k8s.io/node': 'fake', 'node.alpha.kubernetes.io/ttl': '0' },
        labels: {
          type: 'kwok',
          'kubernetes.io/hostname': name,
          'kubernetes.io/os': 'linux',
          'kubernetes.io/arch': 'amd64',
          'node-role.kubernetes.io/agent': ''
        }
      },
      spec: {},
      status: {
        // Fake pods cost nothing: room for benchmarks and many suites' namespaces at once.
        allocatable: { cpu: '256', memory: '1024Gi', pods: '1000' },
        capacity: { cpu: '256', memory: '1024Gi', pods: '1000' },
        addresses: [
          { type: 'InternalIP', address: '127.0.0.1' },
          { type: 'Hostname', address: 'localhost' }
        ]
      }
    })
    if (res.status !== 201 && res.status !== 409)
      throw new Error(
        `creating node ${name} on ${c.name} failed: HTTP ${res.status} ${res.body.slice(0, 300)}`
      )
  }
  await waitFor(`${nodes} Ready node(s) on ${c.name}`, 60_000, state, async () => {
    const res = await apiRequest(c, 'GET', '/api/v1/nodes')
    const items =
      (
        JSON.parse(res.body) as {
          items?: {
            spec?: { taints?: unknown[] }
            status?: { conditions?: { type: string; status: string }[] }
          }[]
        }
      ).items ?? []
    const ready = items.filter(
      (n) =>
        n.status?.conditions?.some((x) => x.type === 'Ready' && x.status === 'True') &&
        (n.spec?.taints ?? []).length === 0
    )
    return ready.length >= nodes
  })
  // Pods are refused until the controller manager has made the namespace's default ServiceAccount.
  await waitFor(
    `the default ServiceAccount on ${c.name}`,
    60_000,
    state,
    async () =>
      (await apiRequest(c, 'GET', '/api/v1/namespaces/default/serviceaccounts/default')).status ===
      200
  )
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms))
}
