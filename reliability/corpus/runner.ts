/**
 * Runs the corpus cases (cases-*.ts) through the shipped artefacts and judges them. The test
 * (reliability/__tests__/bad-input.test.ts) only wires these together and records the verdicts.
 *
 * What "nothing half done" means per target:
 * - deploymentizer / kit render: the previous output (or the guarded folder) byte for byte as
 *   it was;
 * - deployer / kit deploy: no object of the run on any test cluster (checked once after all
 *   cases: every case's manifests carry a Namespace and ConfigMap named after the case);
 * - image-deployer / kit bump: every ref of the case's repository as it was.
 */
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync
} from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, relative } from 'node:path'
import { CoreV1Api } from '@kubernetes/client-node'
import { parse } from 'yaml'
import { startGitServer, type GitServer } from '../../testinfra/git-server/server.js'
import { testClusters, testKubeconfigPath } from '../../testinfra/jest/clusters.js'
import { bumpSeed, seedContent, type BumpCase } from './cases-bump.js'
import type { DeployCase } from './cases-deploy.js'
import type { RenderCase } from './cases-render.js'
import {
  copyTree,
  corpusDir,
  expectCleanFailure,
  leaks,
  observedLine,
  repoRoot,
  runBundle,
  runKit,
  treeDigest,
  type ArtefactRun
} from './harness.js'

/** One case's verdict: what was observed, and what was wrong (empty: as expected). */
export interface Verdict {
  readonly name: string
  readonly target: string
  readonly observed: string
  readonly problems: readonly string[]
}

/** The token inside the hostile kubeconfigs of corpus/kubeconfigs/. */
const corpusKubeToken = 'corpus-kubeconfig-token-5b8e1d'
const runLabel = 'kit.dev/corpus-run'

/** Everything the cases share: a work folder, the rendered base, a git server, credentials. */
export class CorpusRun {
  readonly runId = randomBytes(3).toString('hex')
  readonly envSecret = `corpus-env-secret-${this.runId}-7f3a9c21`
  readonly gitToken = `corpus-git-token-${this.runId}-93c1e0b7a4`
  readonly work = mkdtempSync(join(tmpdir(), 'kit-corpus-'))
  readonly baseRepo = join(this.work, 'base')
  baseOutput = ''
  /** One server for the run: a promise, so cases starting at once do not each start one. */
  private git?: Promise<GitServer>
  private kube?: { text: string; secrets: string[] }

  /** Bundles the artefacts and renders the base repository once. */
  async start(): Promise<void> {
    execFileSync(process.execPath, [join(repoRoot, 'scripts', 'bundle.mjs')], { stdio: 'ignore' })
    copyTree(join(corpusDir, 'manifests-repo'), this.baseRepo)
    const base = await runKit(['render', '.'], { cwd: this.baseRepo, env: this.renderEnv() })
    if (base.exitCode !== 0)
      throw new Error(
        `the corpus base does not render (exit ${base.exitCode}): ${base.error || base.visible.slice(-2000)}`
      )
    this.baseOutput = treeDigest(join(this.baseRepo, 'generated'))
  }

  async stop(): Promise<void> {
    await (await this.git)?.close()
    rmSync(this.work, { recursive: true, force: true })
  }

  gitServer(): Promise<GitServer> {
    this.git ??= startGitServer({ token: this.gitToken })
    return this.git
  }

  /** The test clusters' kubeconfig and every credential string in it. */
  kubeconfig(): { text: string; secrets: string[] } {
    if (!this.kube) {
      const text = readFileSync(testKubeconfigPath(), 'utf8')
      this.kube = { text, secrets: credentialStrings(text) }
    }
    return this.kube
  }

  renderEnv(extra: Readonly<Record<string, string>> = {}): Record<string, string> {
    return { KIT_CORPUS_SECRET: this.envSecret, KIT_CORPUS_INJECT: 'from-env', ...extra }
  }

  // -------------------------------------------------------------------------------------------
  // The deploymentizer and kit render

  async render(c: RenderCase, i: number): Promise<Verdict> {
    const root = join(this.work, 'render', String(i))
    const repo = join(root, 'repo')
    copyTree(this.baseRepo, repo)
    for (const [target, file] of Object.entries(c.corpus ?? {})) {
      mkdirSync(join(repo, target, '..'), { recursive: true })
      copyFileSync(join(corpusDir, 'deploymentizer', file), join(repo, target))
    }
    c.prepare?.(repo)
    const guarded = c.guarded?.(repo) ?? join(repo, 'generated')
    const before = treeDigest(guarded)
    const env = this.renderEnv(c.env)
    const secrets = [this.envSecret]
    const action = await runBundle('deploymentizer', { path: '.', ...c.inputs }, { cwd: repo, env })
    const afterAction = treeDigest(guarded)
    const problems: string[] = []
    const judge = (who: string, run: ArtefactRun, changed: boolean): void => {
      if (c.renders) {
        if (run.exitCode !== 0) problems.push(`${who}: ${observedLine(run)}`)
        else problems.push(...c.renders(repo).map((p) => `${who}: ${p}`))
        problems.push(...leaks(run.visible, secrets).map((p) => `${who}: ${p}`))
      } else {
        problems.push(
          ...expectCleanFailure(run, c.where ?? /./, secrets).map((p) => `${who}: ${p}`)
        )
        if (changed) problems.push(`${who}: the output folder changed`)
        for (const also of c.alsoReports ?? [])
          if (!also.test(run.visible)) problems.push(`${who}: does not report ${also}`)
      }
    }
    judge('action', action, afterAction !== before)
    let kit: ArtefactRun | undefined
    if (c.kitArgs !== null) {
      kit = await runKit(['render', '.', ...(c.kitArgs ?? [])], { cwd: repo, env })
      judge('kit', kit, treeDigest(guarded) !== before)
    }
    rmSync(root, { recursive: true, force: true })
    const observed = c.renders
      ? problems.length === 0
        ? `rendered (exit 0): ${c.renderedNote ?? 'as expected'}`
        : observedLine(action)
      : observedLine(
          action,
          afterAction === before ? 'previous output unchanged' : 'OUTPUT CHANGED'
        )
    return {
      name: c.name,
      target: kit ? 'deploymentizer action, kit render' : 'deploymentizer action',
      observed,
      problems
    }
  }

  // -------------------------------------------------------------------------------------------
  // The deployer and kit deploy, against the real test clusters

  /** A valid Namespace and ConfigMap for kit-e2e-1 named after the case: must never be applied. */
  canary(id: string): string {
    const ns = this.namespaceOf(id)
    return [
      `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${ns}\n  labels: {${runLabel}: "${this.runId}"}`,
      `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: canary\n  namespace: ${ns}\n  labels: {${runLabel}: "${this.runId}"}\ndata: {case: "${id}"}`
    ].join('\n---\n')
  }

  namespaceOf(id: string): string {
    return `corpus-${this.runId}-${id}`
  }

  /** What this run left on the test clusters (there must be nothing). */
  async appliedByThisRun(): Promise<string[]> {
    const found: string[] = []
    for (const c of testClusters()) {
      const api = c.kubeConfig.makeApiClient(CoreV1Api)
      for (const n of (await api.listNamespace()).items)
        if (n.metadata?.name?.startsWith(`corpus-${this.runId}-`))
          found.push(`${c.name}: Namespace ${n.metadata.name}`)
      const maps = await api.listConfigMapForAllNamespaces({
        labelSelector: `${runLabel}=${this.runId}`
      })
      for (const m of maps.items)
        found.push(`${c.name}: ConfigMap ${m.metadata?.namespace}/${m.metadata?.name}`)
    }
    return found
  }

  /** Removes whatever a failing case applied, so the shared clusters stay clean. */
  async cleanClusters(): Promise<void> {
    for (const c of testClusters()) {
      const api = c.kubeConfig.makeApiClient(CoreV1Api)
      for (const n of (await api.listNamespace()).items)
        if (n.metadata?.name?.startsWith(`corpus-${this.runId}-`))
          await api.deleteNamespace({ name: n.metadata.name }).catch(() => undefined)
    }
  }

  deployInputs(dir: string, id: string): Record<string, string> {
    return {
      manifests: dir,
      kubeconfig: this.kubeconfig().text,
      wait: 'false',
      timeout: '60s',
      'lock-timeout': '30s',
      inventory: this.namespaceOf(id)
    }
  }

  async deploy(c: DeployCase, i: number): Promise<Verdict & { namespace: string }> {
    const id = `d${i}`
    const root = join(this.work, 'deploy', String(i))
    const dir = join(root, 'manifests')
    mkdirSync(join(dir, 'kit-e2e-1'), { recursive: true })
    writeFileSync(join(dir, 'kit-e2e-1', 'canary.yaml'), this.canary(id))
    for (const [target, file] of Object.entries(c.corpus ?? {})) {
      mkdirSync(join(dir, target, '..'), { recursive: true })
      copyFileSync(join(corpusDir, 'deployer', file), join(dir, target))
    }
    c.prepare?.(dir)
    const inputs = { ...this.deployInputs(dir, id), ...c.inputs }
    const kitArgs = [
      'deploy',
      dir,
      '--no-wait',
      '--timeout',
      '60s',
      '--inventory',
      inputs.inventory
    ]
    if (c.kubeconfig?.startsWith('dir:')) {
      // Binary content cannot travel in an environment variable: a kubeconfig folder instead.
      const kdir = join(root, 'kubeconfigs')
      mkdirSync(kdir)
      copyFileSync(
        join(corpusDir, 'kubeconfigs', c.kubeconfig.slice(4)),
        join(kdir, 'kit-e2e-1.yaml')
      )
      inputs.kubeconfig = ''
      inputs['kubeconfig-dir'] = kdir
      kitArgs.push('--kubeconfig-dir', kdir)
    } else if (c.kubeconfig) {
      const file = join(corpusDir, 'kubeconfigs', c.kubeconfig)
      inputs.kubeconfig = readFileSync(file, 'utf8')
      kitArgs.push('--kubeconfig', file)
    } else kitArgs.push('--kubeconfig', testKubeconfigPath())
    const secrets = [...this.kubeconfig().secrets, corpusKubeToken]
    const action = await runBundle('deployer', inputs, { cwd: root })
    const problems = expectCleanFailure(action, c.where, secrets).map((p) => `action: ${p}`)
    let kit: ArtefactRun | undefined
    if (c.kitArgs !== null) {
      kit = await runKit([...kitArgs, ...(c.kitArgs ?? [])], { cwd: root })
      problems.push(...expectCleanFailure(kit, c.where, secrets).map((p) => `kit: ${p}`))
    }
    rmSync(root, { recursive: true, force: true })
    return {
      name: c.name,
      target: kit ? 'deployer action, kit deploy' : 'deployer action',
      // The report shows paths inside the manifests folder, not this run's temporary folder.
      observed: observedLine(action).split(`${dir}/`).join('').split(root).join('…'),
      problems,
      namespace: this.namespaceOf(id)
    }
  }

  // -------------------------------------------------------------------------------------------
  // The image-deployer and kit bump, against a real git server

  bumpInputs(url: string): Record<string, string> {
    return {
      repository: url,
      token: this.gitToken,
      image: 'ghcr.io/acme/api:1.2.3',
      branch: 'main',
      'built-at': '2026-11-26T10:00:00Z'
    }
  }

  /** Every ref of a repository with its commit (equal before and after: nothing written). */
  async refsOf(repo: string): Promise<string> {
    return (await this.gitServer()).git(repo, ['for-each-ref', '--format=%(refname) %(objectname)'])
  }

  /** A manifests repository holding the seed, with hostile files over it (bytes kept as they are). */
  async newBumpRepo(name: string, seed: BumpCase['seed'] = {}): Promise<string> {
    const server = await this.gitServer()
    const files = new Map<string, Buffer>(
      Object.entries(bumpSeed).map(([path, text]) => [path, Buffer.from(text, 'utf8')])
    )
    for (const [path, spec] of Object.entries(seed)) files.set(path, seedContent(corpusDir, spec))
    const utf8 = new TextDecoder('utf-8', { fatal: true })
    const texts: Record<string, string> = {}
    let allText = true
    for (const [path, bytes] of files) {
      try {
        texts[path] = utf8.decode(bytes)
      } catch {
        allText = false
      }
    }
    if (allText) return server.createRepo(name, [{ files: texts }])
    // The server seeds from strings; a file that is not UTF-8 is pushed as bytes from a clone.
    const url = await server.createRepo(name, [{ files: { 'README.md': bumpSeed['README.md'] } }])
    const scratch = mkdtempSync(join(this.work, 'seed-'))
    const git = (...args: string[]) =>
      execFileSync('git', [
        '-C',
        scratch,
        '-c',
        'user.name=seed',
        '-c',
        'user.email=seed@example.com',
        ...args
      ])
    execFileSync('git', ['clone', '-q', join(server.root, `${name}.git`), scratch])
    for (const [path, bytes] of files) {
      mkdirSync(join(scratch, path, '..'), { recursive: true })
      writeFileSync(join(scratch, path), bytes)
    }
    git('add', '-A')
    git('commit', '-q', '-m', 'seed')
    git('push', '-q', 'origin', 'HEAD:main')
    rmSync(scratch, { recursive: true, force: true })
    return url
  }

  /**
   * The service repository a case's templates are read from, or undefined when the case has
   * none. Every path stays inside it (a link may point anywhere: that is what the case tries).
   */
  serviceWorkspace(c: BumpCase, i: number): string | undefined {
    if (!c.service) return undefined
    const root = join(this.work, 'service', String(i))
    mkdirSync(root, { recursive: true })
    for (const [path, spec] of Object.entries(c.service)) {
      const full = join(root, path)
      if (relative(root, full).startsWith('..')) throw new Error(`${path} leaves the workspace`)
      mkdirSync(dirname(full), { recursive: true })
      if ('symlink' in spec) symlinkSync(spec.symlink, full)
      else writeFileSync(full, 'bytes' in spec ? spec.bytes : spec.content)
    }
    return root
  }

  async bump(c: BumpCase, i: number): Promise<Verdict> {
    const server = await this.gitServer()
    const name = `bump-${i}`
    const url = await this.newBumpRepo(name, c.seed)
    const before = await this.refsOf(name)
    const workspace = this.serviceWorkspace(c, i)
    // The action reads `templates` under GITHUB_WORKSPACE (it runs elsewhere, so a product
    // that read its current folder instead would not find them); kit under its current folder.
    const env = {
      GITHUB_REPOSITORY: 'acme/api',
      GITHUB_SHA: 'f'.repeat(40),
      GITHUB_WORKSPACE: workspace
    }
    const secrets = [this.gitToken]
    const action = await runBundle(
      'image-deployer',
      { ...this.bumpInputs(url), ...c.inputs },
      { env }
    )
    const afterAction = await this.refsOf(name)
    const problems: string[] = []
    const alsoReports = (who: string, run: ArtefactRun): void => {
      for (const also of c.alsoReports ?? [])
        if (!also.test(run.visible)) problems.push(`${who}: does not report ${also}`)
    }
    if (c.commits) {
      if (action.exitCode !== 0) problems.push(`action: ${observedLine(action)}`)
      else {
        const changed = (await server.git(name, ['diff', '--name-only', 'main~1', 'main']))
          .split('\n')
          .filter(Boolean)
        if (changed.join(',') !== c.commits.join(','))
          problems.push(
            `the commit changed ${changed.join(', ')}, expected ${c.commits.join(', ')}`
          )
        for (const [path, check] of Object.entries(c.committed ?? {}))
          for (const p of check(await server.git(name, ['show', `main:${path}`])))
            problems.push(`${path}: ${p}`)
      }
      problems.push(...leaks(action.visible, secrets))
    } else {
      problems.push(...expectCleanFailure(action, c.where, secrets).map((p) => `action: ${p}`))
      alsoReports('action', action)
      if (afterAction !== before) problems.push('action: the repository changed')
    }
    let kit: ArtefactRun | undefined
    if (c.kitArgs !== null && !c.commits) {
      kit = await runKit(['bump', '--repository', url, ...(c.kitArgs ?? [])], {
        env: { KIT_TOKEN: this.gitToken },
        cwd: workspace
      })
      problems.push(...expectCleanFailure(kit, c.where, secrets).map((p) => `kit: ${p}`))
      alsoReports('kit', kit)
      if ((await this.refsOf(name)) !== before) problems.push('kit: the repository changed')
    }
    if (workspace) rmSync(workspace, { recursive: true, force: true })
    // The report shows the service repository as `<workspace>`, not this run's temporary folder.
    const shown = (line: string) => (workspace ? line.split(workspace).join('<workspace>') : line)
    return {
      name: c.name,
      target: kit ? 'image-deployer action, kit bump' : 'image-deployer action',
      observed: shown(
        c.commits
          ? problems.length === 0
            ? `committed only ${c.commits.join(', ')} (exit 0)`
            : observedLine(action)
          : observedLine(action, afterAction === before ? 'nothing committed' : 'COMMITTED')
      ),
      problems
    }
  }

  // -------------------------------------------------------------------------------------------
  // One action input set to an invalid or oversized value

  async input(c: InputCase, i: number): Promise<Verdict> {
    const root = join(this.work, 'inputs', String(i))
    mkdirSync(root, { recursive: true })
    let inputs: Record<string, string>
    let cwd = root
    let secrets: string[]
    let unchanged: () => Promise<boolean>
    if (c.action === 'deploymentizer') {
      const repo = join(root, 'repo')
      cwd = repo
      copyTree(this.baseRepo, repo)
      inputs = { path: '.' }
      secrets = [this.envSecret]
      unchanged = async () => treeDigest(join(repo, 'generated')) === this.baseOutput
    } else if (c.action === 'deployer') {
      const dir = join(root, 'manifests')
      mkdirSync(join(dir, 'kit-e2e-1'), { recursive: true })
      writeFileSync(join(dir, 'kit-e2e-1', 'canary.yaml'), this.canary(`in${i}`))
      // A dry run: an input wrongly accepted must still not change a cluster.
      inputs = { ...this.deployInputs(dir, `in${i}`), 'dry-run': 'true' }
      secrets = [...this.kubeconfig().secrets]
      unchanged = async () => true
    } else {
      const name = `input-${i}`
      const url = await this.newBumpRepo(name)
      const before = await this.refsOf(name)
      inputs = this.bumpInputs(url)
      secrets = [this.gitToken]
      unchanged = async () => (await this.refsOf(name)) === before
    }
    const run = await runBundle(
      c.action,
      { ...inputs, ...c.extra, [c.input]: c.value },
      { cwd, env: this.renderEnv() }
    )
    const problems = expectCleanFailure(run, c.where, secrets)
    if (!(await unchanged())) problems.push('something was written')
    rmSync(root, { recursive: true, force: true })
    return {
      name: `input ${c.input} = ${c.label}`,
      target: `${c.action} action`,
      observed: observedLine(run),
      problems
    }
  }
}

export type ActionName = 'deploymentizer' | 'deployer' | 'image-deployer'

/** One input of one action set to `value` (other inputs valid). */
export interface InputCase {
  readonly action: ActionName
  readonly input: string
  readonly value: string
  /** How the value reads in the report. */
  readonly label: string
  readonly where: RegExp
  readonly extra?: Readonly<Record<string, string>>
}

/** Every string under a kubeconfig's users (tokens, keys, certificates): none may be shown. */
function credentialStrings(text: string): string[] {
  const out: string[] = []
  const visit = (v: unknown): void => {
    if (typeof v === 'string') out.push(v)
    else if (Array.isArray(v)) v.forEach(visit)
    else if (v && typeof v === 'object') Object.values(v).forEach(visit)
  }
  const users = (parse(text) as { users?: { user?: unknown }[] }).users ?? []
  users.forEach((u) => visit(u.user))
  return out.filter((s) => s.length >= 8)
}
