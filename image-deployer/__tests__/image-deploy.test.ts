/** The image deploy use case: the transport map and deployImage, from the source. */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startGitHubStandIn, type GitHubStandIn } from '../../testinfra/github-api/server.js'
import {
  deployImage,
  remoteTransportNames,
  transportNames,
  transportNamed,
  type ImageDeploySettings
} from '../../shared/src/image-deploy/index.js'
import { InputError, Redactor } from '../../shared/src/index.js'
import { bumpRequest } from './helpers.js'

const token = 'deploy-token-0123456789'
let api: GitHubStandIn
let work: string

beforeAll(async () => {
  api = await startGitHubStandIn({ token })
  work = await mkdtemp(join(tmpdir(), 'kit-image-deploy-'))
})
afterAll(async () => {
  await Promise.all([api.close(), rm(work, { recursive: true, force: true })])
})

const io = () => ({ log: () => undefined, redactor: new Redactor() })
const settings = (over: Partial<ImageDeploySettings>): ImageDeploySettings => ({
  repository: { gitUrl: `${api.url}/acme/m.git`, github: { owner: 'acme', repo: 'm' } },
  token,
  transport: 'api',
  mode: 'commit',
  targetBranch: '',
  request: bumpRequest('ghcr.io/acme/api:1'),
  dryRun: false,
  maxAttempts: 3,
  apiUrl: api.url,
  ...over
})

describe('transport map', () => {
  it('holds every transport once; settings and flags choose among the remote ones', () => {
    expect(transportNames).toEqual(['git', 'api', 'working-copy'])
    expect(remoteTransportNames).toEqual(['git', 'api'])
    expect(transportNamed('api')?.needsGitHubApi).toBe(true)
    expect(transportNamed('toString')).toBeUndefined()
  })

  it('refuses an unknown transport, and pull requests where a transport has none', async () => {
    await expect(deployImage(settings({ transport: 'ssh' }), io())).rejects.toThrow(
      "transport 'ssh' is unknown"
    )
    await expect(
      deployImage(
        settings({ transport: 'working-copy', mode: 'pull-request', repository: { gitUrl: work } }),
        io()
      )
    ).rejects.toThrow(InputError)
  })
})

describe('deployImage', () => {
  it('edits a working copy in place, once, without a commit', async () => {
    const r = await deployImage(
      settings({ transport: 'working-copy', repository: { gitUrl: work }, token: undefined }),
      io()
    )
    expect(r.outcome).toBe('committed')
    expect(r.commit).toBe('')
    expect(r.apiCalls).toBe(0)
    expect(await readFile(join(work, 'images', 'api', 'main.yaml'), 'utf8')).toContain(
      'image: ghcr.io/acme/api:1'
    )
  })

  it('writes a bump branch over the API and opens its pull request against the default branch', async () => {
    await api.createRepo('acme', 'm', [{ files: { 'README.md': '# m\n' } }])
    const r = await deployImage(
      settings({ mode: 'pull-request', request: bumpRequest('ghcr.io/acme/api:2') }),
      io()
    )
    expect(r.outcome).toBe('committed')
    expect(r.branch).toBe('kit/bump/api/main')
    expect(r.targetBranch).toBe('main')
    expect(r.pullRequestUrl).toMatch(/\/acme\/m\/pull\/1$/)
    expect(api.pulls('acme', 'm')).toMatchObject([
      { head: 'kit/bump/api/main', base: 'main', title: 'Bump api (main) to 2' }
    ])
    expect(r.apiCalls).toBeGreaterThan(0)
  })
})
