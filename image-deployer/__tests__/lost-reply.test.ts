/**
 * A push the server applied but whose reply never reached the run, over each transport: the
 * retry must recognise its own commit even when other pipelines committed on top meanwhile, and
 * report it (`committed`, the SHA), never push it twice; and a run whose push did not land must
 * not claim another run's commit of the same image (that is `unchanged`, no SHA).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { startGitServer, type GitServer } from '../../testinfra/git-server/server.js'
import { startGitHubStandIn, type GitHubStandIn } from '../../testinfra/github-api/server.js'
import { deployImage, type ImageDeploySettings } from '../../shared/src/image-deploy/index.js'
import { readImageFile, Redactor } from '../../shared/src/index.js'
import { author, bumpRequest, provenance } from './helpers.js'

const token = 'lost-reply-token-0123456789'
const seed = [{ files: { 'README.md': '# manifests\n' } }]
let gitServer: GitServer
let api: GitHubStandIn

beforeAll(async () => {
  ;[gitServer, api] = await Promise.all([startGitServer({ token }), startGitHubStandIn({ token })])
})
afterAll(async () => {
  await Promise.all([gitServer.close(), api.close()])
})

type Fault = 'reset-after-apply' | 'http-500'

/** One manifests repository on one transport, with a switch to fail its pushes. */
interface Remote {
  readonly settings: (image: string, builtAt?: string) => ImageDeploySettings
  /** Fails every push with `fault` (undefined: stops). */
  readonly failPushes: (fault: Fault | undefined) => void
  readonly git: (args: readonly string[]) => Promise<string>
}

async function remoteFor(transport: 'git' | 'api', name: string): Promise<Remote> {
  const base = (image: string, builtAt = '2026-11-26T07:00:00.000Z') => ({
    token,
    mode: 'commit' as const,
    targetBranch: 'main',
    request: bumpRequest(image, {
      provenance: provenance({ repository: `acme/${image.split('/')[2].split(':')[0]}`, builtAt })
    }),
    dryRun: false,
    apiUrl: api.url,
    author
  })
  if (transport === 'git') {
    const url = await gitServer.createRepo(name, seed)
    return {
      settings: (image, builtAt) => ({
        ...base(image, builtAt),
        transport: 'git',
        repository: { gitUrl: url }
      }),
      failPushes: (fault) =>
        gitServer.setPushFaults(fault ? { rate: 1, seed: 1, kinds: [fault] } : undefined),
      git: (args) => gitServer.git(name, args)
    }
  }
  await api.createRepo('acme', name, seed)
  return {
    settings: (image, builtAt) => ({
      ...base(image, builtAt),
      transport: 'api',
      repository: { gitUrl: `${api.url}/acme/${name}.git`, github: { owner: 'acme', repo: name } }
    }),
    failPushes: (fault) =>
      api.setRefFaults(fault ? { rate: 1, seed: 1, kinds: [fault] } : undefined),
    git: (args) => api.git('acme', name, args)
  }
}

/**
 * Runs a bump of ghcr.io/acme/api:1.0.0 whose first push fails with `fault`; while it waits to
 * retry, another pipeline bumps `meanwhile` (with no faults).
 */
async function bumpWithOtherOnTop(
  remote: Remote,
  fault: Fault,
  meanwhile: { image: string; builtAt?: string }
) {
  const log: string[] = []
  let other: string | undefined
  remote.failPushes(fault)
  try {
    const result = await deployImage(remote.settings('ghcr.io/acme/api:1.0.0'), {
      log: (l) => log.push(l),
      redactor: new Redactor(),
      sleep: async () => {
        if (other !== undefined) return
        remote.failPushes(undefined)
        const r = await deployImage(remote.settings(meanwhile.image, meanwhile.builtAt), {
          log: () => undefined,
          redactor: new Redactor()
        })
        other = r.commit
      }
    })
    const history = (await remote.git(['log', '--format=%H %s', 'main'])).trim().split('\n')
    return { result, log, other, history }
  } finally {
    remote.failPushes(undefined)
  }
}

describe.each(['git', 'api'] as const)(
  'a push whose reply was lost (%s transport)',
  (transport) => {
    it('reports its own commit when another pipeline committed on top before the retry', async () => {
      const remote = await remoteFor(transport, `lost-on-top-${transport}`)
      const { result, log, other, history } = await bumpWithOtherOnTop(
        remote,
        'reset-after-apply',
        {
          image: 'ghcr.io/acme/web:2.0.0'
        }
      )
      const api = history.filter((l) => l.includes('Bump api'))
      // It landed once, under the other pipeline's commit.
      expect(api).toHaveLength(1)
      expect(history[0]).toBe(`${other} Bump web (main) to 2.0.0`)
      expect(result).toMatchObject({
        outcome: 'committed',
        commit: api[0].split(' ')[0],
        files: ['images/api/main.yaml']
      })
      expect(log.join('\n')).toMatch(
        new RegExp(`the push of ${result.commit?.slice(0, 7)} landed although its reply was lost`)
      )
    })

    it('reports its own commit when a newer build of the image went on top, and pushes nothing again', async () => {
      const remote = await remoteFor(transport, `lost-newer-${transport}`)
      const { result, history } = await bumpWithOtherOnTop(remote, 'reset-after-apply', {
        image: 'ghcr.io/acme/api:1.1.0',
        builtAt: '2026-11-26T08:00:00.000Z'
      })
      const ours = history.find((l) => l.endsWith('Bump api (main) to 1.0.0'))
      expect(result).toMatchObject({ outcome: 'committed', commit: ours?.split(' ')[0] })
      expect(history.filter((l) => l.includes('Bump api'))).toHaveLength(2)
      const file = await remote.git(['show', 'main:images/api/main.yaml'])
      expect(readImageFile(file, 'images/api/main.yaml').image).toBe('ghcr.io/acme/api:1.1.0')
    })

    it('does not claim another run’s commit of the same image when its own push did not land', async () => {
      const remote = await remoteFor(transport, `not-landed-${transport}`)
      const { result, log, other, history } = await bumpWithOtherOnTop(remote, 'http-500', {
        image: 'ghcr.io/acme/api:1.0.0',
        builtAt: '2026-11-26T07:05:00.000Z'
      })
      // One commit records the image: the other run's. This run wrote nothing, and says so.
      expect(history.filter((l) => l.includes('Bump api'))).toEqual([
        `${other} Bump api (main) to 1.0.0`
      ])
      expect(result.outcome).toBe('unchanged')
      expect(result.commit).toBeUndefined()
      expect(log.join('\n')).not.toMatch(/landed although/)
    })
  }
)
