/**
 * The image deploy option table: every setting of the image-deployer action and of `kit bump`,
 * once. image-deployer/action.yml's inputs are generated from it (scripts/options-docs.mjs), the
 * action reads it (image-deployer/src/inputs.ts), the CLI parses and documents it
 * (cli/src/commands/bump.ts).
 */
import { readFileSync } from 'node:fs'
import { defaultCommitMessage } from '../bump/message.js'
import type { BumpRequest } from '../bump/plan.js'
import { checkBumpRequest, checkToken } from '../bump/validate.js'
import { parseValueEdit } from '../bump/value-edit.js'
import { InputError, quoteValue } from '../errors.js'
import { remoteTransportNames } from '../image-deploy/transports.js'
import { defaultBumpTimeoutMs, type ImageDeploySettings } from '../image-deploy/types.js'
import { checkBranchName } from '../images/image-file.js'
import {
  defaultImageName,
  formatImageRef,
  imageRefFromParts,
  parseImageRef,
  type ImageRef
} from '../images/image-ref.js'
import {
  booleanOption,
  choiceOption,
  listOption,
  textOption,
  timeOption,
  urlOption
} from './kinds.js'
import { readTemplateBundle } from '../service-templates/bundle.js'
import { defaultServiceTemplatesDir } from '../service-templates/record.js'
import { defineTable, type OptionDraft, type Values } from './table.js'
import { duration, integer, isoTime, maxBuildTimeAheadMs, type Validator } from './validate.js'

/** A commit identity, `Name <email@example.com>`. */
export interface Identity {
  readonly name: string
  readonly email: string
}

const identity: Validator<Identity> = (raw, label) => {
  const m = raw.length <= 512 ? /^\s*([^<>\n]+?)\s*<([^<>\s]+@[^<>\s]+)>\s*$/.exec(raw) : null
  if (!m)
    throw new InputError(
      `${label} must look like 'Name <email@example.com>', got ${quoteValue(raw)}`
    )
  return { name: m[1], email: m[2] }
}

const identityOption = (doc: string): OptionDraft<Identity | undefined> => ({
  type: 'text',
  doc,
  default: undefined,
  parse: identity,
  cli: { arg: "<'Name <email>'>" }
})

/** Build and commit times: ISO 8601, at most a day ahead (a future time would block later builds). */
export const buildTime: Validator<string> = (raw, label) =>
  isoTime(raw, label, { maxFutureMs: maxBuildTimeAheadMs })

/** A time budget of at least a second (a zero budget could not send a single request). */
const bumpTimeout: Validator<number> = (raw, label) => {
  const ms = duration()(raw, label)
  if (ms < 1000) throw new InputError(`${label} must be at least 1s, got ${quoteValue(raw)}`)
  return ms
}

export const imageDeployOptions = defineTable({
  repository: textOption(undefined, {
    doc: 'The manifests repository: owner/name on this GitHub server, or any git URL (git transport only). Never put credentials in the URL.',
    required: true,
    cli: {
      arg: '<x>',
      renamedFrom: ['repo'],
      doc: 'The manifests repository: owner/name on GitHub (or --server-url), any git URL, or a local folder (a working copy: files are edited in place, nothing is committed). Never put credentials in the URL.'
    }
  }),
  token: textOption('', {
    doc: 'Token with contents: write on the manifests repository (and pull-requests: write for pull-request mode). A GitHub App installation token makes GitHub sign API-transport commits.',
    required: true,
    cli: false,
    cliNote: 'read from `KIT_TOKEN` or `GITHUB_TOKEN`, never a flag'
  }),
  image: textOption('', {
    doc: 'The full image reference, e.g. ghcr.io/acme/api:main-3f2a1c9 (or set registry, image-repository and tag).',
    cli: { arg: '<ref>' }
  }),
  registry: textOption('', {
    doc: 'The image registry host, e.g. ghcr.io (used with image-repository and tag).',
    cli: { arg: '<host>' }
  }),
  imageRepository: textOption('', {
    doc: 'The image repository, e.g. acme/api (used instead of image).',
    cli: { arg: '<repo>' }
  }),
  tag: textOption('', {
    doc: 'The image tag (used with image-repository).',
    cli: { arg: '<tag>' }
  }),
  digest: textOption('', {
    doc: 'The image digest (sha256:...), recorded next to the tag.',
    cli: { arg: '<sha256:..>' }
  }),
  imageName: textOption('', {
    doc: 'The folder under images/ for this image. Default is the last part of the image repository.',
    cli: { arg: '<name>' }
  }),
  imagesDir: textOption('images', {
    doc: 'The images folder in the manifests repository.',
    cli: { arg: '<dir>' }
  }),
  templates: textOption('', {
    doc: "A folder in this repository with the service's own kit templates (manifests, values.yaml, kit.yaml), e.g. deploy/kit. They are checked, rendered against the clusters that follow this branch, and recorded with the image in one commit under service-templates/<service>/<branch>/.",
    cli: {
      arg: '<dir>',
      doc: "A folder with the service's own kit templates (manifests, values.yaml, kit.yaml), e.g. deploy/kit, relative to the current folder. They are checked, rendered against the clusters that follow this branch, and recorded with the image in one commit under service-templates/<service>/<branch>/."
    }
  }),
  service: textOption('', {
    doc: 'The service the templates belong to (a DNS label). Default is image-name.',
    cli: { arg: '<name>' }
  }),
  serviceTemplatesDir: textOption(defaultServiceTemplatesDir, {
    doc: "The service templates folder in the manifests repository (its kit.yaml's paths.serviceTemplates).",
    cli: { arg: '<dir>' }
  }),
  imageFile: booleanOption(true, {
    doc: 'Write images/<image-name>/<branch>.yaml. Set to false to only edit values or manifests.'
  }),
  branch: textOption('', {
    doc: "The service branch the image was built from. Default is the pull request's head branch or the pushed ref name.",
    cli: { arg: '<b>' }
  }),
  targetBranch: textOption('', {
    doc: 'The manifests repository branch to write (or to open the pull request against). Default is its default branch.',
    cli: { arg: '<b>' }
  }),
  mode: choiceOption(['commit', 'pull-request'] as const, 'commit', {
    doc: 'commit pushes one commit to target-branch; pull-request writes the branch kit/bump/<image-name>/<branch> and opens (or updates) its pull request, for protected branches.',
    cli: { arg: '<m>' }
  }),
  transport: choiceOption(remoteTransportNames, 'git', {
    doc: 'git (smart HTTPS, any git host, partial clone) or api (GitHub REST API, no clone).',
    cli: { arg: '<t>' }
  }),
  values: listOption({
    doc: 'YAML values to set, one per line: FILE:PATH sets the full image reference, FILE:PATH=FIELD one part (ref, name, tag or digest), e.g. helm/api/values.yaml:image.tag=tag.',
    cli: { arg: '<f:p[=x]>' }
  }),
  manifests: listOption({
    doc: 'Kubernetes manifest files or globs (one per line); every container image with the same repository gets the new tag and digest, like kustomize edit set image.',
    cli: { arg: '<glob>' }
  }),
  create: booleanOption(false, {
    doc: 'Create missing keys (and files) for values instead of failing.'
  }),
  commitMessage: textOption('', {
    doc: 'Commit message template. Placeholders: {image} {image-name} {branch} {version} {tag} {digest} {source-repository} {source-commit} {short-commit} {source-ref} {run-url} {built-at} {committed-at} {target-branch} {files} {templates}. Lines whose placeholders are all empty are dropped.',
    cli: { arg: '<tpl>', renamedFrom: ['message'] }
  }),
  author: identityOption(
    "Commit author as 'Name <email>'. Default for git is github-actions[bot]; for api, the token's identity."
  ),
  committer: identityOption("Commit committer as 'Name <email>'. Default is the author."),
  force: booleanOption(false, {
    doc: 'Write even when the image file records a newer build of the same source.'
  }),
  dryRun: booleanOption(false, { doc: 'Plan and show the change without writing anything.' }),
  timeout: {
    type: 'duration',
    default: defaultBumpTimeoutMs,
    parse: bumpTimeout,
    doc: 'How long the bump may take in all, retries included, e.g. 5m or 90s. Lost races and server failures are retried with jittered exponential backoff until it runs out; every network call is cut short by it (and gives up on its own after 30 to 60 s).',
    cli: { arg: '<dur>' }
  } satisfies OptionDraft<number>,
  maxAttempts: {
    type: 'integer',
    default: undefined,
    parse: integer(1, 100),
    doc: 'An optional cap on attempts, besides timeout. Unset, timeout alone bounds the retries.',
    cli: { arg: '<n>' }
  } satisfies OptionDraft<number | undefined>,
  apiUrl: urlOption({
    doc: 'The GitHub API URL. Default is GITHUB_API_URL (https://api.github.com).',
    cli: { arg: '<url>' }
  }),
  sourceRepository: textOption('', {
    doc: 'Provenance; default GITHUB_REPOSITORY.',
    cli: { arg: '<owner/name>' }
  }),
  sourceCommit: textOption('', { doc: 'Provenance; default GITHUB_SHA.', cli: { arg: '<sha>' } }),
  sourceRef: textOption('', { doc: 'Provenance; default GITHUB_REF.', cli: { arg: '<ref>' } }),
  runUrl: textOption('', {
    doc: 'Provenance; default the URL of this workflow run.',
    cli: { arg: '<url>' }
  }),
  builtAt: timeOption({
    doc: 'ISO 8601 build time; default now.',
    parse: buildTime,
    cli: { arg: '<iso>' }
  }),
  committedAt: timeOption({
    doc: "ISO 8601 time of the source commit; default the push event's head commit time. Preferred by the never-downgrade check.",
    parse: buildTime,
    cli: { arg: '<iso>' }
  }),
  serverUrl: textOption(undefined, {
    doc: 'The GitHub server for owner/name repositories. Default is GITHUB_SERVER_URL (https://github.com).',
    action: false,
    cli: { arg: '<url>' }
  }),
  json: booleanOption(false, {
    doc: "Print the action's outputs (result, changed, commit-sha, pull-request-url, files) as JSON.",
    action: false
  })
})

export type ImageDeployOptions = Values<typeof imageDeployOptions>

/** What the front-end supplies: the environment, the clock and how it names an option. */
export interface ImageDeployContext {
  readonly env: Readonly<Record<string, string | undefined>>
  /** The service repository's root, where `templates` is read (the workspace, or the current folder). */
  readonly workspace: string
  readonly now: Date
  /** `Input 'x'` or `--x`. */
  readonly label: (name: string) => string
  /** Where the token came from, for its errors (default: the `token` option). */
  readonly tokenSource?: string
}

/**
 * The settings both front-ends run, from the table's values: defaults from the GitHub context
 * (GITHUB_REPOSITORY, GITHUB_SHA, GITHUB_REF, GITHUB_REF_NAME, GITHUB_HEAD_REF,
 * GITHUB_SERVER_URL, GITHUB_RUN_ID, GITHUB_API_URL), so a service workflow needs only the
 * repository, the token and the image. `repository` and `transport` are the front-end's (the
 * CLI also takes a local folder).
 */
export function imageDeploySettings(
  v: ImageDeployOptions,
  ctx: ImageDeployContext,
  target: Pick<ImageDeploySettings, 'repository' | 'transport' | 'token' | 'tempDir'>
): ImageDeploySettings {
  const { env, label } = ctx
  const o = imageDeployOptions
  if (target.token) checkToken(ctx.tokenSource ?? label(o.token.name), target.token)
  const image = imageFrom(v, label)
  const branch = v.branch || env.GITHUB_HEAD_REF || env.GITHUB_REF_NAME || ''
  if (branch === '')
    throw new InputError(
      `${label(o.branch.name)} is required outside GitHub Actions (GITHUB_REF_NAME is not set)`
    )
  if (v.targetBranch !== '') checkBranchName(label(o.targetBranch.name), v.targetBranch)
  const serverUrl = v.serverUrl || env.GITHUB_SERVER_URL || 'https://github.com'
  const request: BumpRequest = {
    image,
    imageName: v.imageName || defaultImageName(image),
    branch,
    imagesDir: v.imagesDir,
    writeImageFile: v.imageFile,
    values: v.values.map((line) => parseValueEdit(line, v.create, label(o.values.name))),
    manifests: v.manifests,
    provenance: {
      repository: v.sourceRepository || env.GITHUB_REPOSITORY || undefined,
      commit: v.sourceCommit || env.GITHUB_SHA || undefined,
      ref: v.sourceRef || env.GITHUB_REF || undefined,
      runUrl:
        v.runUrl ||
        (env.GITHUB_REPOSITORY && env.GITHUB_RUN_ID
          ? `${serverUrl}/${env.GITHUB_REPOSITORY}/actions/runs/${env.GITHUB_RUN_ID}`
          : undefined),
      builtAt: v.builtAt ?? ctx.now.toISOString(),
      committedAt: v.committedAt ?? headCommitTime(env)
    },
    force: v.force,
    messageTemplate: v.commitMessage || defaultCommitMessage,
    templates: templatesFrom(v, ctx, image)
  }
  if (
    !request.writeImageFile &&
    request.values.length === 0 &&
    request.manifests.length === 0 &&
    !request.templates
  )
    throw new InputError(
      `Nothing to do: '${o.imageFile.name}' is false and none of '${o.values.name}', '${o.manifests.name}' and '${o.templates.name}' is set`
    )
  // Names that become paths, and provenance, are checked now (the core checks them again).
  checkBumpRequest(request, ctx.now.getTime(), label)
  return {
    ...target,
    mode: v.mode,
    targetBranch: v.targetBranch,
    request,
    dryRun: v.dryRun,
    timeoutMs: v.timeout,
    maxAttempts: v.maxAttempts,
    author: v.author,
    committer: v.committer,
    apiUrl: v.apiUrl ?? (env.GITHUB_API_URL || 'https://api.github.com')
  }
}

/** The service's templates, read from the workspace and checked, when `templates` is set. */
function templatesFrom(
  v: ImageDeployOptions,
  ctx: ImageDeployContext,
  image: ImageRef
): BumpRequest['templates'] {
  const o = imageDeployOptions
  if (v.templates === '') {
    if (v.service !== '')
      throw new InputError(
        `${ctx.label(o.service.name)} names the service of '${o.templates.name}', which is not set`
      )
    return undefined
  }
  const bundle = readTemplateBundle({
    root: ctx.workspace,
    folder: v.templates,
    service: v.service || v.imageName || defaultImageName(image),
    label: (name) => ctx.label(name)
  })
  return {
    service: bundle.service,
    dir: v.serviceTemplatesDir,
    sourcePath: bundle.sourcePath,
    files: bundle.files
  }
}

/** The image from `image`, or from `registry` + `image-repository` + `tag`; `digest` added. */
function imageFrom(v: ImageDeployOptions, label: (name: string) => string): ImageRef {
  const o = imageDeployOptions
  const [image, registry, repository, tag, digest] = [
    o.image,
    o.registry,
    o.imageRepository,
    o.tag,
    o.digest
  ].map((x) => x.name)
  let ref: ImageRef
  if (v.image !== '') {
    if (v.imageRepository !== '')
      throw new InputError(
        `Set either '${image}' or '${repository}' (with registry and tag), not both`
      )
    if (v.registry !== '' || v.tag !== '')
      throw new InputError(
        `Inputs '${registry}' and '${tag}' go with '${repository}'; '${image}' already holds the whole reference`
      )
    ref = parseImageRef(v.image, label(image))
  } else if (v.imageRepository !== '') {
    ref = imageRefFromParts(
      { registry: v.registry, repository: v.imageRepository, tag: v.tag || undefined },
      {
        registry: label(registry),
        repository: label(repository),
        tag: label(tag),
        digest: label(digest)
      }
    )
  } else {
    throw new InputError(`${label(image)} is required (or '${repository}' with '${tag}')`)
  }
  if (v.digest) {
    if (ref.digest && ref.digest !== v.digest)
      throw new InputError(
        `${label(digest)} (${quoteValue(v.digest)}) differs from the digest in '${image}' (${ref.digest})`
      )
    ref = parseImageRef(
      `${formatImageRef({ ...ref, digest: undefined })}@${v.digest}`,
      label(digest)
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
function headCommitTime(env: Readonly<Record<string, string | undefined>>): string | undefined {
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
