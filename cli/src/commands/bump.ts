import { existsSync, statSync } from 'node:fs'
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises'
import { dirname, join, relative, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import {
  defaultCommitMessage,
  defaultImageName,
  formatImageRef,
  InputError,
  parseImageRef,
  parseRepositorySpec,
  parseValueEdit,
  Redactor,
  runBump,
  type BumpRequest,
  type BumpResult,
  type RepoSnapshot,
  type RepoTarget
} from '../../../shared/src/index.js'
import { deployImage } from '../../../shared/src/github/index.js'
import { type Command, ExitCode, UsageError } from '../command.js'
import { color, err, errColor, out } from '../term.js'

const help = `kit bump — record a new image in a manifests repository (the image-deployer's core)

Usage:
  kit bump --repo <owner/name|git URL|dir> --image <ref> [--branch <service branch>] [options]

Where:
  --repo <x>            owner/name on GitHub (or --server-url), any git URL, or a local folder
                        (a working copy: files are edited in place, nothing is committed)
  --image <ref>         full image reference, e.g. ghcr.io/acme/api:main-3f2a1c9
  --digest <sha256:..>  record the digest too
  --image-name <name>   folder under images/ (default: last part of the image repository)
  --branch <b>          service branch the image was built from (default: GITHUB_REF_NAME)
  --target-branch <b>   manifests branch to write (default: the repository's default branch)
  --mode <m>            commit (default) or pull-request
  --transport <t>       git (default) or api
  --values <f:p[=x]>    also set a YAML value (repeatable): FILE:PATH[=ref|name|tag|digest]
  --manifests <glob>    also retag matching container images in manifests (repeatable)
  --create              create missing keys/files for --values
  --no-image-file       do not write images/<image>/<branch>.yaml
  --images-dir <d>      images folder (default images)
  --message <tpl>       commit message template ({image} {image-name} {branch} {version} ...)
  --author <who>        'Name <email>' (git default: github-actions[bot])
  --source-repository, --source-commit, --source-ref, --run-url, --built-at, --committed-at
                        provenance (defaults from the GITHUB_* environment when present)
  --force               write even when a newer build is recorded
  --dry-run             show the change, write nothing
  --max-attempts <n>    attempts when the branch keeps moving (default 10)
  --api-url <url>       GitHub API (default GITHUB_API_URL or https://api.github.com)
  --server-url <url>    GitHub server for owner/name (default GITHUB_SERVER_URL or https://github.com)

The token is read from KIT_TOKEN or GITHUB_TOKEN (never a flag: flags end up in shell history
and process lists). It is sent as an HTTP header per call and never stored.

Exit codes: 0 committed, unchanged or skipped as older; 1 failed; 2 bad usage or input.`

export const bumpCommand: Command = {
  name: 'bump',
  summary: 'record a new image in a manifests repository (commit or pull request)',
  help,
  async run(args) {
    const { values: v } = parseArgs({
      args,
      options: {
        repo: { type: 'string' },
        image: { type: 'string' },
        digest: { type: 'string' },
        'image-name': { type: 'string' },
        branch: { type: 'string' },
        'target-branch': { type: 'string' },
        mode: { type: 'string' },
        transport: { type: 'string' },
        values: { type: 'string', multiple: true },
        manifests: { type: 'string', multiple: true },
        create: { type: 'boolean' },
        'no-image-file': { type: 'boolean' },
        'images-dir': { type: 'string' },
        message: { type: 'string' },
        author: { type: 'string' },
        'source-repository': { type: 'string' },
        'source-commit': { type: 'string' },
        'source-ref': { type: 'string' },
        'run-url': { type: 'string' },
        'built-at': { type: 'string' },
        'committed-at': { type: 'string' },
        force: { type: 'boolean' },
        'dry-run': { type: 'boolean' },
        'max-attempts': { type: 'string' },
        'api-url': { type: 'string' },
        'server-url': { type: 'string' }
      }
    })
    const env = process.env
    if (!v.repo) throw new UsageError('--repo is required')
    if (!v.image) throw new UsageError('--image is required')
    const branch = v.branch ?? env.GITHUB_HEAD_REF ?? env.GITHUB_REF_NAME
    if (!branch) throw new UsageError('--branch is required (GITHUB_REF_NAME is not set)')
    const mode = oneOf('--mode', v.mode ?? 'commit', ['commit', 'pull-request'] as const)
    const transport = oneOf('--transport', v.transport ?? 'git', ['git', 'api'] as const)
    const maxAttempts = v['max-attempts'] === undefined ? 10 : Number(v['max-attempts'])
    if (!Number.isInteger(maxAttempts) || maxAttempts < 1 || maxAttempts > 100)
      throw new UsageError(
        `--max-attempts must be a whole number from 1 to 100, got '${v['max-attempts']}'`
      )
    for (const t of [v['built-at'], v['committed-at']])
      if (t !== undefined && Number.isNaN(Date.parse(t)))
        throw new UsageError(`'${t}' is not an ISO-8601 time`)

    let image = parseImageRef(v.image, '--image')
    if (v.digest)
      image = parseImageRef(
        `${formatImageRef({ ...image, digest: undefined })}@${v.digest}`,
        '--digest'
      )
    const serverUrl = v['server-url'] ?? env.GITHUB_SERVER_URL ?? 'https://github.com'
    const request: BumpRequest = {
      image,
      imageName: v['image-name'] ?? defaultImageName(image),
      branch,
      imagesDir: v['images-dir'] ?? 'images',
      writeImageFile: !v['no-image-file'],
      values: (v.values ?? []).map((line) => parseValueEdit(line, v.create ?? false, '--values')),
      manifests: v.manifests ?? [],
      provenance: {
        repository: v['source-repository'] ?? env.GITHUB_REPOSITORY,
        commit: v['source-commit'] ?? env.GITHUB_SHA,
        ref: v['source-ref'] ?? env.GITHUB_REF,
        runUrl:
          v['run-url'] ??
          (env.GITHUB_REPOSITORY && env.GITHUB_RUN_ID
            ? `${serverUrl}/${env.GITHUB_REPOSITORY}/actions/runs/${env.GITHUB_RUN_ID}`
            : undefined),
        builtAt: v['built-at'] ?? new Date().toISOString(),
        committedAt: v['committed-at']
      },
      force: v.force ?? false,
      messageTemplate: v.message ?? defaultCommitMessage
    }
    const log = (line: string): void => err(errColor.dim(line))

    let result: BumpResult & { branch?: string; pullRequestUrl?: string }
    if (isLocalDir(v.repo)) {
      if (mode !== 'commit' || transport !== 'git')
        throw new UsageError(
          'a local folder is edited in place; --mode and --transport do not apply'
        )
      result = await runBump(new WorkingCopy(resolve(v.repo)), request, {
        maxAttempts: 1,
        dryRun: v['dry-run'] ?? false,
        log
      })
    } else {
      const token = env.KIT_TOKEN || env.GITHUB_TOKEN || undefined
      const redactor = new Redactor()
      redactor.add(token)
      try {
        result = await deployImage(
          {
            repository: parseRepositorySpec(v.repo, serverUrl),
            token,
            transport,
            mode,
            targetBranch: v['target-branch'] ?? '',
            request,
            dryRun: v['dry-run'] ?? false,
            maxAttempts,
            author: v.author ? parseIdentity(v.author) : undefined,
            apiUrl: v['api-url'] ?? env.GITHUB_API_URL ?? 'https://api.github.com'
          },
          { log: (l) => log(redactor.scrub(l)), redactor }
        )
      } catch (e) {
        if (e instanceof Error) e.message = redactor.scrub(e.message)
        throw e
      }
    }
    for (const note of result.notes) log(note)
    if (result.diff) out(result.diff)
    const ref = formatImageRef(image)
    switch (result.outcome) {
      case 'committed':
        out(
          result.commit
            ? `${color.green('✓')} ${ref} committed to ${result.branch} as ${result.commit}${result.pullRequestUrl ? ` (${result.pullRequestUrl})` : ''}`
            : `${color.green('✓')} ${ref} written to ${result.files.join(', ')} (commit them yourself)`
        )
        break
      case 'unchanged':
        out(`${color.green('✓')} ${ref} is already recorded; nothing to commit`)
        break
      case 'older':
        out(
          `${color.yellow('•')} ${ref} skipped: a newer build is recorded (use --force to replace it)`
        )
        break
      case 'dry-run':
        out(`${color.blue('•')} dry run: would change ${result.files.join(', ')}`)
        break
    }
    return ExitCode.ok
  }
}

function isLocalDir(repo: string): boolean {
  return !/^[a-z]+:\/\//i.test(repo) && existsSync(repo) && statSync(repo).isDirectory()
}

function oneOf<T extends string>(flag: string, value: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(value))
    throw new UsageError(`${flag} must be one of ${allowed.join(', ')}, got '${value}'`)
  return value as T
}

function parseIdentity(value: string): { name: string; email: string } {
  const m = /^\s*([^<>]+?)\s*<([^<>\s]+@[^<>\s]+)>\s*$/.exec(value)
  if (!m) throw new UsageError(`--author must look like 'Name <email@example.com>', got '${value}'`)
  return { name: m[1], email: m[2] }
}

/**
 * A local folder as a bump target: files are read and written in place (for a laptop or
 * another CI system that commits by itself). There is no concurrent writer, so no conflicts.
 */
class WorkingCopy implements RepoTarget {
  readonly description: string
  constructor(private readonly root: string) {
    this.description = root
  }

  async open(): Promise<RepoSnapshot> {
    const root = this.root
    const inside = (path: string): string => {
      const full = resolve(root, path)
      if (relative(root, full).startsWith('..')) throw new InputError(`${path} is outside ${root}`)
      return full
    }
    return {
      head: 'working-copy',
      read: async (paths) =>
        new Map(
          await Promise.all(
            paths.map(async (p): Promise<[string, string | undefined]> => {
              const full = inside(p)
              return [p, existsSync(full) ? await readFile(full, 'utf8') : undefined]
            })
          )
        ),
      list: async () => {
        const entries = await readdir(root, { recursive: true, withFileTypes: true })
        return entries
          .filter((e) => e.isFile())
          .map((e) => relative(root, join(e.parentPath, e.name)))
          .filter((p) => !p.startsWith('.git/'))
      },
      write: async (changes) => {
        for (const c of changes) {
          const full = inside(c.path)
          await mkdir(dirname(full), { recursive: true })
          await writeFile(full, c.after)
        }
        return { kind: 'written', commit: '' }
      }
    }
  }
}
