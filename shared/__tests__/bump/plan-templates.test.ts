/**
 * The templates part of a bump, pure: what the copy and its record become on one snapshot
 * (add, change, remove, unchanged, older, force, record rewrite, confinement), the two-phase
 * read and the check hook of the retry loop, on an in-memory branch.
 */
import { createHash } from 'node:crypto'
import { describe, expect, it } from '@jest/globals'
import {
  checkBumpRequest,
  defaultCommitMessage,
  filesToRead,
  InputError,
  lineDiff,
  parseImageRef,
  planBump,
  runBump,
  templateCopiesToRead,
  type BumpPlan,
  type BumpRequest,
  type FileChange,
  type RepoSnapshot,
  type RepoTarget
} from '../../src/index.js'
import {
  contentHash,
  readTemplateRecord,
  recordFor,
  renderTemplateRecord,
  type TemplateFile
} from '../../src/service-templates/record.js'

const built = (minute: number) => `2026-11-26T07:${String(minute).padStart(2, '0')}:00.000Z`
const imageFile = 'images/api/develop.yaml'
const folder = 'service-templates/api/develop'
const recordPath = 'service-templates/api/develop.yaml'

const deployment = 'kind: Deployment\nmetadata:\n  name: api\n'
const service = 'kind: Service\r\nmetadata:\r\n  name: api' // CRLF, no final newline
const config = 'kind: ConfigMap\ndata:\n  greeting: "grüße, 世界 🚀"\n'

function request(
  image: string,
  templates: readonly TemplateFile[] | undefined,
  overrides: Partial<BumpRequest> = {}
): BumpRequest {
  return {
    image: parseImageRef(image),
    imageName: 'api',
    branch: 'develop',
    imagesDir: 'images',
    writeImageFile: true,
    values: [],
    manifests: [],
    provenance: { repository: 'acme/api', commit: 'c'.repeat(40), builtAt: built(10) },
    force: false,
    messageTemplate: defaultCommitMessage,
    templates: templates && {
      service: 'api',
      dir: 'service-templates',
      sourcePath: 'deploy/kit',
      files: templates
    },
    ...overrides
  }
}

const set = (entries: Record<string, string>): TemplateFile[] =>
  Object.entries(entries).map(([path, content]) => ({ path, content }))

/** A branch as a map of files; `read` answers like a transport (undefined for missing). */
function branch(files: Record<string, string>) {
  return new Map(Object.entries(files))
}

/** What the two reads of an attempt give the plan: the first read, then the copies it names. */
function readFor(
  req: BumpRequest,
  repo: ReadonlyMap<string, string>
): Map<string, string | undefined> {
  const first = new Map(filesToRead(req).map((p) => [p, repo.get(p)]))
  for (const p of templateCopiesToRead(req, first)) first.set(p, repo.get(p))
  return first
}

/** Applies a plan to a branch, as a commit would. */
function apply(repo: Map<string, string>, plan: BumpPlan): Map<string, string> {
  const next = new Map(repo)
  for (const c of plan.changes)
    if (c.after === undefined) next.delete(c.path)
    else next.set(c.path, c.after)
  return next
}

const byPath = (changes: readonly FileChange[]) =>
  Object.fromEntries(changes.map((c) => [c.path, c.after === undefined ? 'deleted' : 'written']))

/** The branch after a first bump of deployment.yaml and service.yaml at build time 10. */
function firstBump() {
  const req = request(
    'ghcr.io/acme/api:1.0.0',
    set({ 'deployment.yaml': deployment, 'service.yaml': service })
  )
  const plan = planBump(readFor(req, new Map()), req)
  return { req, plan, repo: apply(new Map(), plan) }
}

describe('planBump with templates', () => {
  it('first bump: every file is new under the set folder, the record lists them, one commit with the image', () => {
    const { req, plan, repo } = firstBump()
    expect(templateCopiesToRead(req, readFor(req, new Map()))).toEqual([])
    expect(plan.outcome).toBe('changed')
    expect(byPath(plan.changes)).toEqual({
      [imageFile]: 'written',
      [`${folder}/deployment.yaml`]: 'written',
      [`${folder}/service.yaml`]: 'written',
      [recordPath]: 'written'
    })
    // The copy is the bundle byte for byte: CRLF and no final newline kept.
    expect(repo.get(`${folder}/service.yaml`)).toBe(service)
    const record = readTemplateRecord(repo.get(recordPath) ?? '', recordPath)
    expect(record).toMatchObject({
      service: 'api',
      branch: 'develop',
      image: 'ghcr.io/acme/api:1.0.0',
      source: {
        repository: 'acme/api',
        commit: 'c'.repeat(40),
        builtAt: built(10),
        path: 'deploy/kit'
      },
      files: { 'deployment.yaml': contentHash(deployment), 'service.yaml': contentHash(service) }
    })
    expect(plan.message).toContain('Templates: api@develop from deploy/kit: 2 added\n')
  })

  it('add, change and remove: reads only the changed and removed copies, deletes, rewrites the record', () => {
    const { repo } = firstBump()
    const changed = deployment + '  labels: {tier: web}\n'
    const req = request(
      'ghcr.io/acme/api:1.1.0',
      set({ 'deployment.yaml': changed, 'config/greeting.yaml': config }),
      { provenance: { repository: 'acme/api', builtAt: built(20) } }
    )
    const first = new Map(filesToRead(req).map((p) => [p, repo.get(p)]))
    expect([...first.keys()].sort()).toEqual([imageFile, recordPath])
    expect(templateCopiesToRead(req, first)).toEqual([
      `${folder}/deployment.yaml`,
      `${folder}/service.yaml`
    ])
    const plan = planBump(readFor(req, repo), req)
    expect(byPath(plan.changes)).toEqual({
      [imageFile]: 'written',
      [`${folder}/config/greeting.yaml`]: 'written',
      [`${folder}/deployment.yaml`]: 'written',
      [`${folder}/service.yaml`]: 'deleted',
      [recordPath]: 'written'
    })
    const removed = plan.changes.find((c) => c.path === `${folder}/service.yaml`)
    expect(removed?.before).toBe(service)
    expect(lineDiff(removed?.path ?? '', removed?.before, removed?.after)).toMatch(
      /^--- service-templates\/api\/develop\/service.yaml \(deleted\)\n@@ line 1 @@\n-kind: Service\\r/
    )
    const after = apply(repo, plan)
    expect(after.get(`${folder}/config/greeting.yaml`)).toBe(config)
    expect(Object.keys(readTemplateRecord(after.get(recordPath) ?? '', recordPath).files)).toEqual([
      'config/greeting.yaml',
      'deployment.yaml'
    ])
    expect(plan.message).toContain(
      'Templates: api@develop from deploy/kit: 1 added, 1 changed, 1 removed'
    )
  })

  it('unchanged: the same image and templates again make no change and read no copy', () => {
    const { repo } = firstBump()
    const again = request(
      'ghcr.io/acme/api:1.0.0',
      set({ 'deployment.yaml': deployment, 'service.yaml': service }),
      { provenance: { repository: 'acme/api', builtAt: built(30) } }
    )
    expect(templateCopiesToRead(again, readFor(again, repo))).toEqual([])
    const plan = planBump(readFor(again, repo), again)
    expect(plan.outcome).toBe('unchanged')
    expect(plan.changes).toEqual([])
  })

  it('a new image with the same templates rewrites the record alone (image and provenance)', () => {
    const { repo } = firstBump()
    const req = request(
      'ghcr.io/acme/api:1.0.1',
      set({ 'deployment.yaml': deployment, 'service.yaml': service }),
      { provenance: { repository: 'acme/api', builtAt: built(30) } }
    )
    const plan = planBump(readFor(req, repo), req)
    expect(plan.changes.map((c) => c.path)).toEqual([imageFile, recordPath])
    const record = readTemplateRecord(apply(repo, plan).get(recordPath) ?? '', recordPath)
    expect(record.image).toBe('ghcr.io/acme/api:1.0.1')
    expect(record.source.builtAt).toBe(built(30))
    expect(plan.message).toContain('Templates: api@develop from deploy/kit: no file changed')
  })

  it("an older build's templates are refused, and its image with them (both or neither)", () => {
    const { repo } = firstBump()
    // Same image (so the image file alone would be "unchanged"), older templates.
    const older = request('ghcr.io/acme/api:1.0.0', set({ 'deployment.yaml': 'kind: Old\n' }), {
      provenance: { repository: 'acme/api', builtAt: built(5) }
    })
    const plan = planBump(readFor(older, repo), older)
    expect(plan.outcome).toBe('older')
    expect(plan.changes).toEqual([])
    expect(plan.notes[0]).toMatch(
      /service-templates\/api\/develop.yaml records the templates of a newer build .* not replacing them, nor the image \(set force to override\)/
    )
    // A new image of an older build whose image file alone is missing: still refused whole.
    const withoutImage = new Map(repo)
    withoutImage.delete(imageFile)
    const older2 = { ...older, image: parseImageRef('ghcr.io/acme/api:0.9.0') }
    expect(planBump(readFor(older2, withoutImage), older2).outcome).toBe('older')
  })

  it('an older image file stops the templates too', () => {
    const { repo } = firstBump()
    const next = new Map(repo)
    next.delete(recordPath)
    const older = request('ghcr.io/acme/api:0.9.0', set({ 'deployment.yaml': 'kind: Old\n' }), {
      provenance: { repository: 'acme/api', builtAt: built(5) }
    })
    const plan = planBump(readFor(older, next), older)
    expect(plan.outcome).toBe('older')
    expect(plan.changes).toEqual([])
  })

  it('force replaces a newer build, image and templates', () => {
    const { repo } = firstBump()
    const req = request('ghcr.io/acme/api:0.9.0', set({ 'deployment.yaml': 'kind: Old\n' }), {
      provenance: { repository: 'acme/api', builtAt: built(5) },
      force: true
    })
    const plan = planBump(readFor(req, repo), req)
    expect(plan.outcome).toBe('changed')
    expect(plan.notes.join('\n')).toMatch(
      /replacing a newer build's templates because force is set/
    )
    const after = apply(repo, plan)
    expect(after.get(`${folder}/deployment.yaml`)).toBe('kind: Old\n')
    expect(after.has(`${folder}/service.yaml`)).toBe(false)
  })

  it('without an image file the record carries no image', () => {
    const req = request('ghcr.io/acme/api:1.0.0', set({ 'a.yaml': deployment }), {
      writeImageFile: false
    })
    const plan = planBump(readFor(req, new Map()), req)
    expect(plan.changes.map((c) => c.path)).toEqual([recordPath, `${folder}/a.yaml`])
    const record = readTemplateRecord(plan.changes[0].after ?? '', recordPath)
    expect(record.image).toBeUndefined()
  })

  it('a file the record lists but the copy lacks is not deleted again', () => {
    const { repo } = firstBump()
    const gone = new Map(repo)
    gone.delete(`${folder}/service.yaml`)
    const req = request('ghcr.io/acme/api:1.0.1', set({ 'deployment.yaml': deployment }), {
      provenance: { repository: 'acme/api', builtAt: built(30) }
    })
    const plan = planBump(readFor(req, gone), req)
    expect(plan.changes.map((c) => c.path)).toEqual([imageFile, recordPath])
  })

  it('a copy that already holds the new bytes is not written again; the record still moves', () => {
    const { repo } = firstBump()
    const edited = new Map(repo)
    edited.set(`${folder}/deployment.yaml`, 'kind: Deployment\n')
    const req = request(
      'ghcr.io/acme/api:1.0.0',
      set({ 'deployment.yaml': 'kind: Deployment\n', 'service.yaml': service }),
      { provenance: { repository: 'acme/api', builtAt: built(30) } }
    )
    const plan = planBump(readFor(req, edited), req)
    expect(plan.changes.map((c) => c.path)).toEqual([recordPath])
  })

  it('the {templates} placeholder; unknown placeholders are still refused', () => {
    const req = request('ghcr.io/acme/api:1.0.0', set({ 'a.yaml': deployment }), {
      messageTemplate: 'deploy {image-name}: {templates}'
    })
    expect(planBump(readFor(req, new Map()), req).message).toBe(
      'deploy api: api@develop from deploy/kit: 1 added\n'
    )
    const without = request('ghcr.io/acme/api:1.0.0', undefined)
    expect(planBump(readFor(without, new Map()), without).message).not.toMatch(/Templates/)
  })
})

describe('confinement', () => {
  it('a template path leaving the set is an internal error of the plan, an input error of the request', () => {
    const req = request(
      'ghcr.io/acme/api:1.0.0',
      set({ '../../../images/web/main.yaml': 'x: 1\n' })
    )
    expect(() => planBump(readFor(req, new Map()), req)).toThrow(
      /^internal: the templates plan reached service-templates\/api\/develop\/\.\.\/\.\.\/\.\.\/images\/web\/main\.yaml, outside/
    )
    expect(() => checkBumpRequest(req)).toThrow(InputError)
    expect(() => checkBumpRequest(req)).toThrow(
      /templates file: '..\/..\/..\/images\/web\/main.yaml' leaves/
    )
    const absolute = request('ghcr.io/acme/api:1.0.0', set({ '/etc/x.yaml': 'x: 1\n' }))
    expect(() => checkBumpRequest(absolute)).toThrow(/is absolute/)
    const twice = request('ghcr.io/acme/api:1.0.0', set({ 'a.yaml': 'x: 1\n' }))
    const dup = {
      ...twice,
      templates: {
        ...twice.templates!,
        files: [...twice.templates!.files, ...twice.templates!.files]
      }
    }
    expect(() => checkBumpRequest(dup)).toThrow(/lists 'a.yaml' twice/)
    const empty = { ...twice, templates: { ...twice.templates!, files: [] } }
    expect(() => checkBumpRequest(empty)).toThrow(/templates 'deploy\/kit' holds no file/)
    const badService = { ...twice, templates: { ...twice.templates!, service: 'API/x' } }
    expect(() => checkBumpRequest(badService)).toThrow(/service 'API\/x' must be a DNS label/)
  })

  it('a record changed by hand (another service, a path leaving the set) is refused, naming it', () => {
    const req = request('ghcr.io/acme/api:1.0.0', set({ 'a.yaml': deployment }))
    const head = { service: 'web', branch: 'develop', source: {} }
    const other = branch({
      [recordPath]: renderTemplateRecord(recordFor(head, [{ path: 'a.yaml', content: 'x' }]))
    })
    expect(() => planBump(readFor(req, other), req)).toThrow(
      /the record names service 'web' and branch 'develop', but it is the record of api@develop/
    )
    const leaving = renderTemplateRecord({
      service: 'api',
      branch: 'develop',
      source: {},
      files: { '../../x.yaml': contentHash('x') }
    })
    const err = (() => {
      try {
        planBump(readFor(req, branch({ [recordPath]: leaving })), req)
      } catch (e) {
        return e
      }
    })()
    expect(err).toBeInstanceOf(InputError)
    expect((err as InputError).message).toMatch(
      /lists '..\/..\/x.yaml', which is not a path inside/
    )
    expect((err as InputError).message).toContain(recordPath)
  })

  it('a manifests entry reaching into the copy is refused', () => {
    const { repo } = firstBump()
    const withImage = new Map(repo)
    withImage.set(
      `${folder}/deployment.yaml`,
      'kind: Deployment\nspec:\n  template:\n    spec:\n      containers:\n        - name: api\n          image: ghcr.io/acme/api:1.0.0\n'
    )
    const req = request('ghcr.io/acme/api:2.0.0', set({ 'deployment.yaml': deployment }), {
      manifests: [`${folder}/deployment.yaml`],
      provenance: { repository: 'acme/api', builtAt: built(30) }
    })
    expect(() => planBump(readFor(req, withImage), req)).toThrow(
      /is part of api's templates copy; a values or manifests entry must not edit it/
    )
  })

  it('a plan given the record without the copies it names refuses to guess', () => {
    const { repo } = firstBump()
    const req = request('ghcr.io/acme/api:1.0.0', set({ 'deployment.yaml': 'kind: X\n' }), {
      provenance: { repository: 'acme/api', builtAt: built(30) }
    })
    const firstOnly = new Map(filesToRead(req).map((p) => [p, repo.get(p)]))
    expect(() => planBump(firstOnly, req)).toThrow(/internal: the template copies .* were not read/)
  })
})

/** git's id of a file's content, as a transport's listing gives it. */
const blobId = (content: string) => {
  const bytes = Buffer.from(content, 'utf8')
  return createHash('sha1').update(`blob ${bytes.length}\0`).update(bytes).digest('hex')
}

/**
 * An in-memory branch: reads are logged with the head they were made at; writes move it. With
 * `blobIds`, its snapshots list blob ids as the git and GitHub transports do.
 */
function memoryTarget(initial: Map<string, string>, options: { blobIds?: boolean } = {}) {
  let files = new Map(initial)
  let head = 0
  const reads: { head: string; paths: string[] }[] = []
  let writes = 0
  const target: RepoTarget = {
    description: 'memory',
    async open(): Promise<RepoSnapshot> {
      const at = `c${head}`
      const seen = files
      return {
        head: at,
        read: async (paths) => {
          reads.push({ head: at, paths: [...paths] })
          return new Map(paths.map((p) => [p, seen.get(p)]))
        },
        list: async () => [...seen.keys()],
        ...(options.blobIds
          ? { blobIds: async () => new Map([...seen].map(([p, c]) => [p, blobId(c)])) }
          : {}),
        write: async (changes) => {
          if (`c${head}` !== at) return { kind: 'conflict', reason: 'non-fast-forward' }
          writes++
          files = new Map(files)
          for (const c of changes)
            if (c.after === undefined) files.delete(c.path)
            else files.set(c.path, c.after)
          head++
          return { kind: 'written', commit: `c${head}` }
        }
      }
    }
  }
  return { target, files: () => files, reads, writes: () => writes, bump: () => head++ }
}

describe('runBump with templates', () => {
  const quick = { sleep: async () => undefined, random: () => 0.5 }

  it('reads the record first, then the copies it names, at the same head', async () => {
    const { repo } = firstBump()
    const m = memoryTarget(repo)
    const req = request('ghcr.io/acme/api:1.1.0', set({ 'deployment.yaml': 'kind: X\n' }), {
      provenance: { repository: 'acme/api', builtAt: built(20) }
    })
    const r = await runBump(m.target, req, { ...quick, dryRun: false, maxAttempts: 1 })
    expect(r.outcome).toBe('committed')
    expect(m.reads).toEqual([
      { head: 'c0', paths: [imageFile, recordPath] },
      { head: 'c0', paths: [`${folder}/deployment.yaml`, `${folder}/service.yaml`] }
    ])
    expect(m.files().has(`${folder}/service.yaml`)).toBe(false)
    expect(m.files().get(`${folder}/deployment.yaml`)).toBe('kind: X\n')
  })

  it("with blob ids, reads the record, the copies that differ and the check's files in one read; the check reads only the rest", async () => {
    const { repo } = firstBump()
    repo.set('groups/web.yaml', 'branch: develop\n')
    repo.set('clusters/eu-1.yaml', 'groups: [web]\n')
    const m = memoryTarget(repo, { blobIds: true })
    const req = request('ghcr.io/acme/api:1.1.0', set({ 'deployment.yaml': 'kind: X\n' }), {
      provenance: { repository: 'acme/api', builtAt: built(20) }
    })
    const seen: (string | undefined)[] = []
    const check = async (snapshot: RepoSnapshot) => {
      const got = await snapshot.read(['groups/web.yaml', 'clusters/eu-1.yaml'])
      seen.push(got.get('groups/web.yaml'), got.get('clusters/eu-1.yaml'))
    }
    const checkReads = (listing: readonly string[]) =>
      listing.filter((p) => p.startsWith('groups/'))
    const r = await runBump(m.target, req, {
      ...quick,
      dryRun: false,
      maxAttempts: 1,
      check,
      checkReads
    })
    expect(r.outcome).toBe('committed')
    expect(m.reads).toEqual([
      {
        head: 'c0',
        paths: [
          imageFile,
          recordPath,
          `${folder}/deployment.yaml`,
          `${folder}/service.yaml`,
          'groups/web.yaml'
        ]
      },
      // The check's file the hint did not name, at the same head.
      { head: 'c0', paths: ['clusters/eu-1.yaml'] }
    ])
    expect(seen).toEqual(['branch: develop\n', 'groups: [web]\n'])
  })

  it('blob ids are only a hint: a copy the record says differs is read even when its id matches the bundle', async () => {
    const { repo } = firstBump()
    // Someone put the new content into the copy by hand; the record still has the old hash.
    repo.set(`${folder}/deployment.yaml`, 'kind: X\n')
    const m = memoryTarget(repo, { blobIds: true })
    const req = request(
      'ghcr.io/acme/api:1.1.0',
      set({ 'deployment.yaml': 'kind: X\n', 'service.yaml': service }),
      { provenance: { repository: 'acme/api', builtAt: built(20) } }
    )
    const r = await runBump(m.target, req, { ...quick, dryRun: false, maxAttempts: 1 })
    expect(r.outcome).toBe('committed')
    expect(m.reads).toEqual([
      { head: 'c0', paths: [imageFile, recordPath] },
      { head: 'c0', paths: [`${folder}/deployment.yaml`] }
    ])
    expect(readTemplateRecord(m.files().get(recordPath)!, recordPath).files).toEqual({
      'deployment.yaml': contentHash('kind: X\n'),
      'service.yaml': contentHash(service)
    })
  })

  it('runs the check on every attempt before the write, on the snapshot planned on; a throw writes nothing', async () => {
    const m = memoryTarget(new Map())
    const req = request('ghcr.io/acme/api:1.0.0', set({ 'a.yaml': config }))
    const seen: { head: string; files: string[] }[] = []
    let calls = 0
    const check = async (snapshot: RepoSnapshot, plan: BumpPlan) => {
      seen.push({ head: snapshot.head, files: plan.changes.map((c) => c.path) })
      // Another pipeline commits while the first attempt checks: the write loses the race.
      if (calls++ === 0) m.bump()
    }
    const r = await runBump(m.target, req, { ...quick, dryRun: false, maxAttempts: 3, check })
    expect(r).toMatchObject({ outcome: 'committed', attempts: 2 })
    expect(seen).toEqual([
      { head: 'c0', files: [imageFile, recordPath, `${folder}/a.yaml`] },
      { head: 'c1', files: [imageFile, recordPath, `${folder}/a.yaml`] }
    ])

    const refused = memoryTarget(new Map())
    const broken = async () => {
      throw new InputError('a.yaml: line 3: broken template')
    }
    await expect(
      runBump(refused.target, req, { ...quick, dryRun: false, maxAttempts: 3, check: broken })
    ).rejects.toThrow('broken template')
    expect(refused.writes()).toBe(0)
    expect(refused.files().size).toBe(0)
  })

  it('runs the check in a dry run, and not when there is nothing to change', async () => {
    const req = request('ghcr.io/acme/api:1.0.0', set({ 'a.yaml': config }))
    let calls = 0
    const check = async () => {
      calls++
    }
    const m = memoryTarget(new Map())
    const dry = await runBump(m.target, req, { ...quick, dryRun: true, check })
    expect(dry.outcome).toBe('dry-run')
    expect(calls).toBe(1)
    expect(m.writes()).toBe(0)
    await runBump(m.target, req, { ...quick, dryRun: false, check })
    expect(calls).toBe(2)
    const again = await runBump(m.target, req, { ...quick, dryRun: false, check })
    expect(again.outcome).toBe('unchanged')
    expect(calls).toBe(2)
  })
})
