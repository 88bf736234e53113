import { describe, expect, it } from '@jest/globals'
import {
  backoffDelay,
  defaultCommitMessage,
  imageFileFor,
  InputError,
  lineDiff,
  newerRecorded,
  parseImageRef,
  parseRepositorySpec,
  planBump,
  readImageFile,
  renderCommitMessage,
  runBump,
  BumpConflictError,
  type BumpRequest,
  type FileChange,
  type RepoSnapshot,
  type RepoTarget
} from '../../src/index.js'

const built = (minute: number) => `2026-11-26T07:${String(minute).padStart(2, '0')}:00.000Z`

function request(image: string, overrides: Partial<BumpRequest> = {}): BumpRequest {
  return {
    image: parseImageRef(image),
    imageName: 'api',
    branch: 'main',
    imagesDir: 'images',
    writeImageFile: true,
    values: [],
    manifests: [],
    provenance: {
      repository: 'acme/api',
      commit: 'c'.repeat(40),
      runUrl: 'https://ci/run/1',
      builtAt: built(10)
    },
    force: false,
    messageTemplate: defaultCommitMessage,
    ...overrides
  }
}

const files = (entries: Record<string, string | undefined>) => new Map(Object.entries(entries))
const file = 'images/api/main.yaml'

describe('planBump', () => {
  it('creates a missing image file with the image and its provenance', () => {
    const plan = planBump(files({ [file]: undefined }), request('ghcr.io/acme/api:1.1.0'))
    expect(plan.outcome).toBe('changed')
    expect(plan.changes.map((c) => c.path)).toEqual([file])
    const content = readImageFile(plan.changes[0].after ?? '', file)
    expect(content).toEqual({
      image: 'ghcr.io/acme/api:1.1.0',
      digest: undefined,
      source: {
        repository: 'acme/api',
        commit: 'c'.repeat(40),
        ref: undefined,
        runUrl: 'https://ci/run/1',
        builtAt: built(10),
        committedAt: undefined
      }
    })
    expect(plan.message).toBe(
      `Bump api (main) to 1.1.0\n\nImage: ghcr.io/acme/api:1.1.0\nSource: acme/api@${'c'.repeat(40)}\nRun: https://ci/run/1\n`
    )
  })

  it('updates an existing file in place, keeping comments and other keys', () => {
    const existing =
      '# api on main\nimage: ghcr.io/acme/api:1.0.0 # current\nowner: team-a\nsource:\n  repository: acme/api\n  commit: old\n  builtAt: "2026-11-26T07:00:00.000Z"\n'
    const plan = planBump(files({ [file]: existing }), request('ghcr.io/acme/api:1.1.0'))
    expect(plan.changes[0].after).toBe(
      `# api on main\nimage: ghcr.io/acme/api:1.1.0 # current\nowner: team-a\nsource:\n  repository: acme/api\n  commit: ${'c'.repeat(40)}\n  builtAt: "${built(10)}"\n  runUrl: https://ci/run/1\n`
    )
  })

  it('makes no change when the image is already recorded, whatever the provenance says', () => {
    const first = planBump(files({ [file]: undefined }), request('ghcr.io/acme/api:1.1.0'))
    const again = planBump(
      files({ [file]: first.changes[0].after }),
      request('ghcr.io/acme/api:1.1.0', { provenance: { builtAt: built(30) } })
    )
    expect(again.outcome).toBe('unchanged')
    expect(again.changes).toEqual([])
    expect(again.notes.join()).toMatch(/already records/)
  })

  it('never downgrades: an older build is skipped unless forced', () => {
    const newer = planBump(
      files({ [file]: undefined }),
      request('ghcr.io/acme/api:2.0.0', {
        provenance: { repository: 'acme/api', builtAt: built(20) }
      })
    ).changes[0].after
    const older = request('ghcr.io/acme/api:1.9.0', {
      provenance: { repository: 'acme/api', builtAt: built(15) }
    })
    const skipped = planBump(files({ [file]: newer }), older)
    expect(skipped.outcome).toBe('older')
    expect(skipped.notes[0]).toMatch(
      /records a newer build .*not downgrading \(set force to override\)/
    )
    const forced = planBump(files({ [file]: newer }), { ...older, force: true })
    expect(forced.outcome).toBe('changed')
  })

  it.each([
    [{ builtAt: built(20) }, { builtAt: built(10) }, true],
    [{ builtAt: built(10) }, { builtAt: built(20) }, false],
    [{ builtAt: built(10) }, { builtAt: built(10) }, false],
    [{}, { builtAt: built(10) }, false],
    [
      { repository: 'acme/a', builtAt: built(20) },
      { repository: 'acme/b', builtAt: built(10) },
      false
    ],
    // A later build of an older commit is older: commit times win when both are known.
    [
      { committedAt: built(5), builtAt: built(10) },
      { committedAt: built(1), builtAt: built(20) },
      true
    ],
    [
      { committedAt: built(1), builtAt: built(30) },
      { committedAt: built(5), builtAt: built(20) },
      false
    ],
    [
      { committedAt: built(5), builtAt: built(30) },
      { committedAt: built(5), builtAt: built(20) },
      true
    ]
  ])('newerRecorded(%j, %j) is %s', (recorded, incoming, expected) => {
    expect(newerRecorded(recorded, incoming)).toBe(expected)
  })

  it('drops a stale digest and records a new one', () => {
    const digest = `sha256:${'d'.repeat(64)}`
    const withDigest = planBump(
      files({ [file]: undefined }),
      request(`ghcr.io/acme/api:1@${digest}`)
    ).changes[0].after as string
    expect(readImageFile(withDigest, file).digest).toBe(digest)
    const without = planBump(files({ [file]: withDigest }), request('ghcr.io/acme/api:2'))
      .changes[0].after as string
    expect(without).not.toContain('digest:')
    expect(readImageFile(without, file).image).toBe('ghcr.io/acme/api:2')
  })

  it('sets values and retags manifests in the same plan, globs included', () => {
    const manifest =
      'spec:\n  template:\n    spec:\n      containers:\n        - image: ghcr.io/acme/api:1\n'
    const plan = planBump(
      files({
        [file]: undefined,
        'helm/values.yaml': 'image:\n  tag: "1"\n',
        'services/api/deploy.yaml': manifest
      }),
      request('ghcr.io/acme/api:2', {
        values: [{ file: 'helm/values.yaml', path: ['image', 'tag'], field: 'tag', create: false }],
        manifests: ['services/**/*.yaml']
      }),
      ['README.md', 'helm/values.yaml', 'services/api/deploy.yaml']
    )
    expect(plan.changes.map((c) => [c.path, c.after])).toEqual([
      ['helm/values.yaml', 'image:\n  tag: "2"\n'],
      [file, expect.stringContaining('image: ghcr.io/acme/api:2')],
      ['services/api/deploy.yaml', manifest.replace('api:1', 'api:2')]
    ])
  })

  it('fails clearly on a missing manifest, a glob with no match, or no matching container', () => {
    const r = request('ghcr.io/acme/api:2', { writeImageFile: false, manifests: ['k8s/app.yaml'] })
    expect(() => planBump(files({ 'k8s/app.yaml': undefined }), r)).toThrow(
      /k8s\/app\.yaml: manifest file does not exist/
    )
    expect(() => planBump(files({}), { ...r, manifests: ['k8s/*.yaml'] }, ['README.md'])).toThrow(
      /no YAML file .* matches 'k8s\/\*\.yaml'/
    )
    expect(() => planBump(files({ 'k8s/app.yaml': 'kind: Service\n' }), r)).toThrow(
      /no container image with repository ghcr\.io\/acme\/api/
    )
    const v = request('ghcr.io/acme/api:2', {
      writeImageFile: false,
      values: [{ file: 'v.yaml', path: ['a'], field: 'ref', create: false }]
    })
    expect(() => planBump(files({ 'v.yaml': undefined }), v)).toThrow(
      /v\.yaml: file does not exist/
    )
  })
})

describe('image files, messages, repositories, backoff', () => {
  it('encodes slash branches the way the deploymentizer reads them', () => {
    expect(imageFileFor('images', 'api', 'main')).toBe('images/api/main.yaml')
    expect(imageFileFor('/images/', 'api', 'feature/login')).toBe('images/api/feature%2Flogin.yaml')
    expect(() => imageFileFor('images', '../etc', 'main')).toThrow(InputError)
    expect(() => imageFileFor('images', 'api', '../x')).toThrow(InputError)
  })

  it('renders templates, drops lines whose placeholders are all empty, refuses unknown ones', () => {
    expect(
      renderCommitMessage('{image-name}@{short-commit}\n\nRun: {run-url}', {
        'image-name': 'api',
        'short-commit': 'abc1234'
      })
    ).toBe('api@abc1234\n')
    expect(() => renderCommitMessage('{imag}', {})).toThrow(/placeholder \{imag\} is unknown/)
  })

  it.each([
    [
      'acme/manifests',
      'https://github.com',
      'https://github.com/acme/manifests.git',
      { owner: 'acme', repo: 'manifests' }
    ],
    [
      'https://github.com/acme/manifests.git',
      'https://github.com',
      'https://github.com/acme/manifests.git',
      { owner: 'acme', repo: 'manifests' }
    ],
    [
      'acme/m',
      'https://ghe.example.com/',
      'https://ghe.example.com/acme/m.git',
      { owner: 'acme', repo: 'm' }
    ],
    [
      'https://git.example.com/team/m.git',
      'https://github.com',
      'https://git.example.com/team/m.git',
      undefined
    ]
  ])('reads the repository %s', (text, server, gitUrl, github) => {
    expect(parseRepositorySpec(text, server)).toEqual({ gitUrl, github })
  })

  it('refuses credentials in a repository URL', () => {
    expect(() => parseRepositorySpec('https://user:secret@github.com/a/b.git')).toThrow(
      /must not contain credentials/
    )
    expect(() => parseRepositorySpec('not a repo')).toThrow(/neither owner\/name nor a URL/)
  })

  it('backs off with full jitter, widening with the attempt and the lost attempt’s duration', () => {
    const policy = { baseMs: 100, capMs: 1000 }
    expect(backoffDelay(1, policy, () => 0.999)).toBe(99)
    expect(backoffDelay(3, policy, () => 0.5)).toBe(200)
    expect(backoffDelay(9, policy, () => 0.999)).toBe(999)
    expect(backoffDelay(1, policy, () => 0.5, 600)).toBe(300)
  })

  it('shows exactly the changed lines in a diff', () => {
    expect(lineDiff('f', 'a\nb\nc\n', 'a\nB\nc\n')).toBe('--- f\n+++ f\n@@ line 2 @@\n-b\n+B')
  })
})

/** An in-memory branch whose head moves under the bump `conflicts` times. */
function fakeTarget(
  conflicts: number
): RepoTarget & { writes: number; files: Map<string, string> } {
  const state = { writes: 0, files: new Map<string, string>(), head: 0 }
  return {
    description: 'fake',
    get writes() {
      return state.writes
    },
    files: state.files,
    async open(): Promise<RepoSnapshot> {
      const head = String(state.head)
      return {
        head,
        read: async (paths) => new Map(paths.map((p) => [p, state.files.get(p)])),
        list: async () => [...state.files.keys()],
        write: async (changes: readonly FileChange[]) => {
          state.writes++
          if (state.writes <= conflicts) {
            state.head++
            return { kind: 'conflict', reason: 'non-fast-forward' }
          }
          for (const c of changes)
            if (c.after === undefined) state.files.delete(c.path)
            else state.files.set(c.path, c.after)
          state.head++
          return { kind: 'written', commit: String(state.head) }
        }
      }
    }
  }
}

describe('runBump', () => {
  const noSleep = { sleep: async () => undefined, random: () => 0.5 }

  it('re-reads and re-applies after lost races, then commits', async () => {
    const target = fakeTarget(2)
    const waits: string[] = []
    const result = await runBump(target, request('ghcr.io/acme/api:1'), {
      maxAttempts: 5,
      dryRun: false,
      ...noSleep,
      log: (l) => waits.push(l)
    })
    expect(result.outcome).toBe('committed')
    expect(result.attempts).toBe(3)
    expect(waits).toHaveLength(2)
    expect(target.files.get(file)).toContain('ghcr.io/acme/api:1')
  })

  it('gives up with a clear error when every attempt loses', async () => {
    const err = await runBump(fakeTarget(10), request('ghcr.io/acme/api:1'), {
      maxAttempts: 3,
      dryRun: false,
      ...noSleep
    }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(BumpConflictError)
    expect((err as Error).message).toMatch(
      /gave up after 3 attempts; the branch moved every time \(non-fast-forward\)/
    )
  })

  it('writes nothing in a dry run and reports the diff', async () => {
    const target = fakeTarget(0)
    const result = await runBump(target, request('ghcr.io/acme/api:1'), {
      maxAttempts: 1,
      dryRun: true
    })
    expect(result.outcome).toBe('dry-run')
    expect(target.writes).toBe(0)
    expect(result.diff).toContain('+image: ghcr.io/acme/api:1')
  })
})
