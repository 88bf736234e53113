/**
 * Service-owned templates through deployImage on real parts: the smart-HTTP git server and the
 * GitHub API stand-in, commit and pull-request modes. The git server serves the stand-in's
 * repositories, so one repository is reached over both wires (and pull requests over git work).
 * Files are compared by git blob id, so the copy is checked byte for byte.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { createHash } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startGitServer, type GitServer } from '../../testinfra/git-server/server.js'
import { startGitHubStandIn, type GitHubStandIn } from '../../testinfra/github-api/server.js'
import { deployImage, type ImageDeploySettings } from '../../shared/src/image-deploy/index.js'
import { InputError, Redactor, type BumpRequest } from '../../shared/src/index.js'
import { readTemplateRecord, type TemplateFile } from '../../shared/src/service-templates/record.js'
import { author, bumpRequest, provenance } from './helpers.js'

const token = 'templates-token-0123456789'
let api: GitHubStandIn
let gitServer: GitServer

beforeAll(async () => {
  api = await startGitHubStandIn({ token })
  gitServer = await startGitServer({ token, root: api.root })
})
afterAll(async () => {
  await gitServer.close()
  await api.close()
})

const folder = 'service-templates/api/develop'
const record = 'service-templates/api/develop.yaml'
const imageFile = 'images/api/develop.yaml'
/** A manifests repository with one cluster, which follows main: the develop set only loads. */
const seed = [
  { files: { 'README.md': '# manifests\n', 'clusters/dev.yaml': 'description: dev\n' } }
]

const deployment = 'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\n'
const crlf = 'apiVersion: v1\r\nkind: Service\r\nmetadata:\r\n  name: api' // no final newline
const multibyte =
  'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: greeting\ndata:\n  greeting: "grüße, 世界 🚀"\n'
const hpa = 'apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata:\n  name: api\n'
const configMap = (name: string, build: number) =>
  `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\ndata:\n  build: "${build}"\n`

/** git's id of a blob holding exactly these UTF-8 bytes. */
function blobId(content: string): string {
  return createHash('sha1')
    .update(`blob ${Buffer.byteLength(content, 'utf8')}\0`)
    .update(content, 'utf8')
    .digest('hex')
}

const set = (entries: Record<string, string>): TemplateFile[] =>
  Object.entries(entries).map(([path, content]) => ({ path, content }))

/** Build `minute` of api on develop, carrying `files` (or no templates). */
function build(minute: number, tag: string, files?: Record<string, string>): BumpRequest {
  return bumpRequest(`ghcr.io/acme/api:${tag}`, {
    branch: 'develop',
    provenance: provenance({ builtAt: `2026-11-26T07:${String(minute).padStart(2, '0')}:00Z` }),
    templates: files && {
      service: 'api',
      dir: 'service-templates',
      sourcePath: 'deploy/kit',
      files: set(files)
    }
  })
}

type Wire = 'git' | 'api'
type Mode = 'commit' | 'pull-request'

function settings(wire: Wire, mode: Mode, repo: string, request: BumpRequest) {
  const s: ImageDeploySettings = {
    repository: {
      gitUrl: wire === 'git' ? `${gitServer.url}/acme/${repo}.git` : `${api.url}/acme/${repo}.git`,
      github: { owner: 'acme', repo }
    },
    token,
    transport: wire,
    mode,
    targetBranch: mode === 'commit' ? 'main' : '',
    request,
    dryRun: false,
    maxAttempts: 3,
    timeoutMs: 60_000,
    apiUrl: api.url,
    author
  }
  return s
}

const io = (lines: string[] = []) => ({
  log: (l: string) => lines.push(l),
  redactor: new Redactor()
})

/** A repository reached over both wires: `acme/<name>` of the stand-in, served by the git server. */
async function repository(name: string) {
  await api.createRepo('acme', name, seed)
  await gitServer.adoptRepo(`acme/${name}`)
  const git = (args: readonly string[]) => api.git('acme', name, args)
  const head = async (ref: string) => (await git(['rev-parse', ref])).trim()
  /** Every file under the set folder at `ref`, by path inside it, with its blob id. */
  const copy = async (ref: string) => {
    const out = await git(['ls-tree', '-r', ref, '--', `${folder}/`])
    return Object.fromEntries(
      out
        .split('\n')
        .filter(Boolean)
        .map((l) => /^\d+ blob ([0-9a-f]+)\t(.*)$/.exec(l) as RegExpExecArray)
        .map((m) => [m[2].slice(folder.length + 1), m[1]])
    )
  }
  const changedIn = async (commit: string) =>
    (await git(['show', '--name-status', '--format=', commit])).trim().split('\n').sort()
  return { git, head, copy, changedIn }
}

const expected = (files: Record<string, string>) =>
  Object.fromEntries(Object.entries(files).map(([p, c]) => [p, blobId(c)]))

const v1 = {
  'deployment.yaml': deployment,
  'service.yaml': crlf,
  'config/greeting.yaml': multibyte
}
const v2 = {
  'deployment.yaml': deployment + '  labels:\n    tier: web\n',
  'hpa.yaml': hpa
}

describe.each([
  ['git', 'commit'],
  ['api', 'commit'],
  ['git', 'pull-request'],
  ['api', 'pull-request']
] as [Wire, Mode][])('templates over %s, %s mode', (wire, mode) => {
  const name = `tpl-${wire}-${mode}`
  const branch = mode === 'commit' ? 'main' : 'kit/bump/api/develop'

  it('adds, changes and removes files with the image in one commit, byte for byte; the same again is no commit; an older build is refused whole', async () => {
    const r = await repository(name)
    const base = await r.head('main')

    const first = await deployImage(settings(wire, mode, name, build(10, '1.0.0', v1)), io())
    expect(first.outcome).toBe('committed')
    expect(first.branch).toBe(branch)
    expect(await r.head(branch)).toBe(first.commit)
    expect(await r.copy(branch)).toEqual(expected(v1))
    expect(await r.changedIn(first.commit ?? '')).toEqual(
      [
        `A\t${imageFile}`,
        `A\t${folder}/config/greeting.yaml`,
        `A\t${folder}/deployment.yaml`,
        `A\t${folder}/service.yaml`,
        `A\t${record}`
      ].sort()
    )
    const message = await r.git(['log', '-1', '--format=%B', branch])
    expect(message).toContain('Templates: api@develop from deploy/kit: 3 added\n')

    const second = await deployImage(settings(wire, mode, name, build(20, '1.1.0', v2)), io())
    expect(second.outcome).toBe('committed')
    expect(await r.head(`${branch}~1`)).toBe(first.commit)
    // The emptied config/ folder goes with its last file.
    expect(await r.copy(branch)).toEqual(expected(v2))
    expect(await r.changedIn(second.commit ?? '')).toEqual(
      [
        `A\t${folder}/hpa.yaml`,
        `D\t${folder}/config/greeting.yaml`,
        `D\t${folder}/service.yaml`,
        `M\t${imageFile}`,
        `M\t${folder}/deployment.yaml`,
        `M\t${record}`
      ].sort()
    )
    const recorded = readTemplateRecord(await r.git(['show', `${branch}:${record}`]), record)
    expect(recorded).toMatchObject({
      image: 'ghcr.io/acme/api:1.1.0',
      source: { builtAt: '2026-11-26T07:20:00Z', path: 'deploy/kit' }
    })
    expect(Object.keys(recorded.files)).toEqual(['deployment.yaml', 'hpa.yaml'])
    expect(second.diff).toMatch(/^--- service-templates\/api\/develop\/service.yaml \(deleted\)$/m)

    const again = await deployImage(settings(wire, mode, name, build(30, '1.1.0', v2)), io())
    expect(again.outcome).toBe('unchanged')
    expect(await r.head(branch)).toBe(second.commit)

    const older = await deployImage(
      settings(wire, mode, name, build(15, '1.0.5', { 'deployment.yaml': configMap('old', 15) })),
      io()
    )
    expect(older.outcome).toBe('older')
    expect(older.notes.join('\n')).toMatch(/newer build/)
    expect(await r.head(branch)).toBe(second.commit)
    expect(await r.copy(branch)).toEqual(expected(v2))

    // Pull-request mode: the same commits on the bump branch, one pull request, main untouched.
    const pr = mode === 'pull-request'
    expect(await r.head('main')).toBe(pr ? base : second.commit)
    expect(api.pulls('acme', name)).toMatchObject(
      pr ? [{ head: 'kit/bump/api/develop', base: 'main', state: 'open' }] : []
    )
    expect(first.pullRequestUrl === undefined).toBe(!pr)
    expect(second.pullRequestUrl).toBe(first.pullRequestUrl)
  })
})

describe('templates through deployImage: the check hook and dry runs', () => {
  it.each(['git', 'api'] as Wire[])(
    'over %s: a refusing check writes nothing; a dry run checks and shows the deletions',
    async (wire) => {
      const name = `tpl-check-${wire}`
      const r = await repository(name)
      await deployImage(settings(wire, 'commit', name, build(10, '1.0.0', v1)), io())
      const before = await r.head('main')
      const seen: string[] = []
      const refuse = {
        ...io(),
        check: async (
          snapshot: { head: string },
          plan: { changes: readonly { path: string }[] }
        ) => {
          seen.push(`${snapshot.head} ${plan.changes.length}`)
          throw new InputError('deploy/kit/deployment.yaml: line 4: broken template')
        }
      }
      await expect(
        deployImage(settings(wire, 'commit', name, build(20, '1.1.0', v2)), refuse)
      ).rejects.toThrow('broken template')
      expect(seen).toEqual([`${before} 6`])
      expect(await r.head('main')).toBe(before)

      let checked = 0
      const dry = await deployImage(
        { ...settings(wire, 'commit', name, build(20, '1.1.0', v2)), dryRun: true },
        { ...io(), check: async () => void checked++ }
      )
      expect(dry.outcome).toBe('dry-run')
      expect(checked).toBe(1)
      expect(dry.diff).toMatch(
        /^--- service-templates\/api\/develop\/config\/greeting.yaml \(deleted\)\n@@ line 1 @@\n-apiVersion: v1$/m
      )
      expect(await r.head('main')).toBe(before)
    }
  )
})

describe('the render check before the commit', () => {
  it.each(['git', 'api'] as Wire[])(
    'over %s: a template that does not load is refused, naming its file in the service repository; nothing lands',
    async (wire) => {
      const name = `tpl-broken-${wire}`
      const r = await repository(name)
      const before = await r.head('main')
      const broken = { ...v1, 'deployment.yaml': deployment + '  labels: ${{ values.nope\n' }
      const err = await deployImage(
        settings(wire, 'commit', name, build(10, '1.0.0', broken)),
        io()
      ).catch((e: unknown) => e as Error)
      expect(err).toBeInstanceOf(Error)
      expect((err as Error).message).toContain('deploy/kit/deployment.yaml')
      expect(await r.head('main')).toBe(before)
    }
  )
})

describe('templates over git: reading the copies', () => {
  it('fetches every changed copy in one request, not one round trip per file', async () => {
    const name = 'tpl-many'
    const r = await repository(name)
    const many = (n: number) =>
      Object.fromEntries(
        Array.from({ length: 40 }, (_, i) => [`f${i}.yaml`, configMap(`f${i}`, n)])
      )
    await deployImage(settings('git', 'commit', name, build(10, '1.0.0', many(1))), io())
    const before = gitServer.requests
    const second = await deployImage(
      settings('git', 'commit', name, build(20, '1.1.0', many(2))),
      io()
    )
    expect(second.outcome).toBe('committed')
    expect(second.changes.filter((c) => c.before !== undefined)).toHaveLength(42)
    expect(await r.copy('main')).toEqual(expected(many(2)))
    // The ref advertisement and fetch of the head, one fetch of the 42 blobs, the push: a
    // handful of requests (one per blob would be 80 more).
    expect(gitServer.requests - before).toBeLessThan(15)
  })
})

describe('templates in a working copy', () => {
  it('writes the copy byte for byte, deletes removed files and their emptied folders', async () => {
    const work = await mkdtemp(join(tmpdir(), 'kit-templates-wc-'))
    try {
      await mkdir(join(work, 'clusters'))
      await writeFile(join(work, 'clusters', 'dev.yaml'), 'description: dev\n')
      const s = (request: BumpRequest): ImageDeploySettings => ({
        ...settings('git', 'commit', 'unused', request),
        transport: 'working-copy',
        repository: { gitUrl: work },
        token: undefined
      })
      const first = await deployImage(s(build(10, '1.0.0', v1)), io())
      expect(first.outcome).toBe('committed')
      for (const [p, content] of Object.entries(v1))
        expect((await readFile(join(work, folder, p))).equals(Buffer.from(content, 'utf8'))).toBe(
          true
        )
      const second = await deployImage(s(build(20, '1.1.0', v2)), io())
      expect(second.outcome).toBe('committed')
      expect(existsSync(join(work, folder, 'config'))).toBe(false)
      expect(existsSync(join(work, folder, 'service.yaml'))).toBe(false)
      expect(await readFile(join(work, folder, 'hpa.yaml'), 'utf8')).toBe(hpa)
      // A folder that still holds a file stays.
      const third = await deployImage(s(build(30, '1.2.0', { 'hpa.yaml': hpa })), io())
      expect(third.changes.filter((c) => c.after === undefined).map((c) => c.path)).toEqual([
        `${folder}/deployment.yaml`
      ])
      expect(existsSync(join(work, folder, 'hpa.yaml'))).toBe(true)
    } finally {
      await rm(work, { recursive: true, force: true })
    }
  })
})

describe('the GitHub API stand-in deletes tree entries as GitHub does', () => {
  it('sha: null deletes a file; a path the base tree lacks, or sha with content, is a 422', async () => {
    const name = 'tpl-tree-delete'
    await api.createRepo('acme', name, [{ files: { 'a/x.yaml': 'x: 1\n', 'b.yaml': 'b: 1\n' } }])
    const tree = (await api.git('acme', name, ['rev-parse', 'main^{tree}'])).trim()
    const post = (entries: unknown[]) =>
      fetch(`${api.url}/repos/acme/${name}/git/trees`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}` },
        body: JSON.stringify({ base_tree: tree, tree: entries })
      })
    const entry = (path: string, extra: object = {}) => ({
      path,
      mode: '100644',
      type: 'blob',
      sha: null,
      ...extra
    })
    const deleted = await post([entry('a/x.yaml')])
    expect(deleted.status).toBe(201)
    const sha = ((await deleted.json()) as { sha: string }).sha
    // The emptied folder goes with its file.
    expect((await api.git('acme', name, ['ls-tree', '-r', '--name-only', sha])).trim()).toBe(
      'b.yaml'
    )
    const missing = await post([entry('a/nope.yaml')])
    expect(missing.status).toBe(422)
    expect(((await missing.json()) as { message: string }).message).toBe('GitRPC::BadObjectState')
    expect((await post([entry('a')])).status).toBe(422)
    expect((await post([entry('b.yaml', { content: 'b: 2\n' })])).status).toBe(422)
  })
})
