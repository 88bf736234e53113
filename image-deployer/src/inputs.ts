import { readFileSync } from 'node:fs'
import {
  checkBranchRef,
  checkBumpRequest,
  checkTime,
  checkToken,
  defaultCommitMessage,
  defaultImageName,
  formatImageRef,
  imageRefFromParts,
  InputError,
  parseImageRef,
  parseRepositorySpec,
  parseValueEdit,
  quoteValue,
  type BumpRequest,
  type ImageRef
} from '../../shared/src/index.js'
import { readBoolean, readInteger, readList, readString } from '../../shared/src/action/index.js'
import type { ImageDeploySettings } from '../../shared/src/github/index.js'
import { Inputs } from './constants.js'

/**
 * Reads and validates every input once. Defaults come from the GitHub context the runner
 * provides (GITHUB_REPOSITORY, GITHUB_SHA, GITHUB_REF, GITHUB_REF_NAME, GITHUB_HEAD_REF,
 * GITHUB_SERVER_URL, GITHUB_RUN_ID, GITHUB_API_URL), so a service workflow needs only the
 * repository, the token and the image.
 */
export function readSettings(
  env: NodeJS.ProcessEnv = process.env,
  now = new Date()
): ImageDeploySettings {
  const serverUrl = env.GITHUB_SERVER_URL || 'https://github.com'
  const repository = parseRepositorySpec(
    readString(Inputs.repository, { required: true }),
    serverUrl,
    `Input '${Inputs.repository}'`
  )
  const token = readString(Inputs.token)
  if (token) checkToken(`Input '${Inputs.token}'`, token)
  const image = readImage()

  const branch = readString(Inputs.branch) || env.GITHUB_HEAD_REF || env.GITHUB_REF_NAME || ''
  if (branch === '')
    throw new InputError(
      `Input '${Inputs.branch}' is required outside GitHub Actions (GITHUB_REF_NAME is not set)`
    )
  const imageName = readString(Inputs.imageName) || defaultImageName(image)

  const mode = oneOf(Inputs.mode, ['commit', 'pull-request'] as const, 'commit')
  const transport = oneOf(Inputs.transport, ['git', 'api'] as const, 'git')
  const create = readBoolean(Inputs.create, false)
  const values = readList(Inputs.values).map((line) =>
    parseValueEdit(line, create, `Input '${Inputs.values}'`)
  )
  const builtAt = readString(Inputs.builtAt) || now.toISOString()
  checkTime(`Input '${Inputs.builtAt}'`, builtAt, now.getTime())
  const committedAt = readString(Inputs.committedAt)
  if (committedAt !== '') checkTime(`Input '${Inputs.committedAt}'`, committedAt, now.getTime())
  const targetBranch = readString(Inputs.targetBranch)
  if (targetBranch !== '') checkBranchRef(`Input '${Inputs.targetBranch}'`, targetBranch)
  const apiUrl = readString(Inputs.apiUrl) || env.GITHUB_API_URL || 'https://api.github.com'
  if (apiUrl.length > 2048 || !/^https?:\/\/[^\s/]+[^\s]*$/.test(apiUrl))
    throw new InputError(
      `Input '${Inputs.apiUrl}' must be an http(s) URL, got ${quoteValue(apiUrl)}`
    )

  const sourceRepository = readString(Inputs.sourceRepository) || env.GITHUB_REPOSITORY || undefined
  const runUrl =
    readString(Inputs.runUrl) ||
    (env.GITHUB_REPOSITORY && env.GITHUB_RUN_ID
      ? `${serverUrl}/${env.GITHUB_REPOSITORY}/actions/runs/${env.GITHUB_RUN_ID}`
      : undefined)

  const request: BumpRequest = {
    image,
    imageName,
    branch,
    imagesDir: readString(Inputs.imagesDir) || 'images',
    writeImageFile: readBoolean(Inputs.imageFile, true),
    values,
    manifests: readList(Inputs.manifests),
    provenance: {
      repository: sourceRepository,
      commit: readString(Inputs.sourceCommit) || env.GITHUB_SHA || undefined,
      ref: readString(Inputs.sourceRef) || env.GITHUB_REF || undefined,
      runUrl,
      builtAt,
      committedAt: readString(Inputs.committedAt) || headCommitTime(env) || undefined
    },
    force: readBoolean(Inputs.force, false),
    messageTemplate: readString(Inputs.commitMessage) || defaultCommitMessage
  }
  if (!request.writeImageFile && values.length === 0 && request.manifests.length === 0)
    throw new InputError(
      `Nothing to do: '${Inputs.imageFile}' is false and neither '${Inputs.values}' nor '${Inputs.manifests}' is set`
    )
  // Names that become paths, and provenance, are checked now (the core checks them again).
  checkBumpRequest(request, now.getTime(), (input) => `Input '${input}'`)

  return {
    repository,
    token: token || undefined,
    transport,
    mode,
    targetBranch,
    request,
    dryRun: readBoolean(Inputs.dryRun, false),
    maxAttempts: readInteger(Inputs.maxAttempts, 10, 1, 100),
    author: parseIdentity(Inputs.author, readString(Inputs.author)),
    committer: parseIdentity(Inputs.committer, readString(Inputs.committer)),
    apiUrl,
    tempDir: env.RUNNER_TEMP || undefined
  }
}

/** The image from `image`, or from `registry` + `image-repository` + `tag`; `digest` added. */
function readImage(): ImageRef {
  const full = readString(Inputs.image)
  const digest = readString(Inputs.digest) || undefined
  const repositoryPart = readString(Inputs.imageRepository)
  let ref: ImageRef
  const registry = readString(Inputs.registry)
  const tag = readString(Inputs.tag)
  if (full !== '') {
    if (repositoryPart !== '')
      throw new InputError(
        `Set either '${Inputs.image}' or '${Inputs.imageRepository}' (with registry and tag), not both`
      )
    if (registry !== '' || tag !== '')
      throw new InputError(
        `Inputs '${Inputs.registry}' and '${Inputs.tag}' go with '${Inputs.imageRepository}'; '${Inputs.image}' already holds the whole reference`
      )
    ref = parseImageRef(full, `Input '${Inputs.image}'`)
  } else if (repositoryPart !== '') {
    ref = imageRefFromParts(
      { registry, repository: repositoryPart, tag: tag || undefined },
      {
        registry: `Input '${Inputs.registry}'`,
        repository: `Input '${Inputs.imageRepository}'`,
        tag: `Input '${Inputs.tag}'`,
        digest: `Input '${Inputs.digest}'`
      }
    )
  } else {
    throw new InputError(
      `Input '${Inputs.image}' is required (or '${Inputs.imageRepository}' with '${Inputs.tag}')`
    )
  }
  if (digest) {
    if (ref.digest && ref.digest !== digest)
      throw new InputError(
        `Input '${Inputs.digest}' (${quoteValue(digest)}) differs from the digest in '${Inputs.image}' (${ref.digest})`
      )
    ref = parseImageRef(
      `${formatImageRef({ ...ref, digest: undefined })}@${digest}`,
      `Input '${Inputs.digest}'`
    )
  }
  if (!ref.tag && !ref.digest)
    throw new InputError(
      `The image ${formatImageRef(ref)} needs a tag or a digest; 'latest' is not recorded implicitly`
    )
  return ref
}

/**
 * The pushed head commit's time from the event payload (push events carry
 * head_commit.timestamp); the never-downgrade check prefers it to the build time.
 */
function headCommitTime(env: NodeJS.ProcessEnv): string | undefined {
  if (!env.GITHUB_EVENT_PATH) return undefined
  try {
    const event = JSON.parse(readFileSync(env.GITHUB_EVENT_PATH, 'utf8')) as {
      head_commit?: { timestamp?: unknown }
    }
    const ts = event.head_commit?.timestamp
    return typeof ts === 'string' && !Number.isNaN(Date.parse(ts))
      ? new Date(ts).toISOString()
      : undefined
  } catch {
    return undefined
  }
}

function parseIdentity(input: string, value: string): { name: string; email: string } | undefined {
  if (value === '') return undefined
  const m = value.length <= 512 ? /^\s*([^<>\n]+?)\s*<([^<>\s]+@[^<>\s]+)>\s*$/.exec(value) : null
  if (!m)
    throw new InputError(
      `Input '${input}' must look like 'Name <email@example.com>', got ${quoteValue(value)}`
    )
  return { name: m[1], email: m[2] }
}

function oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
  const value = readString(name) || fallback
  if (!(allowed as readonly string[]).includes(value))
    throw new InputError(
      `Input '${name}' must be one of ${allowed.join(', ')}, got ${quoteValue(value)}`
    )
  return value as T
}
