import { existsSync, statSync } from 'node:fs'
import { resolve } from 'node:path'
import {
  describeChangedFiles,
  templateSetFolder
} from '../../../shared/src/service-templates/record.js'
import { outputsJson } from '../../../shared/src/outputs/table.js'
import { imageDeployerOutputValues } from '../../../shared/src/outputs/values.js'
import { formatImageRef, parseRepositorySpec, Redactor } from '../../../shared/src/index.js'
import {
  deployImage,
  type ImageDeployResult,
  type ImageDeploySettings
} from '../../../shared/src/image-deploy/index.js'
import {
  imageDeployOptions,
  imageDeploySettings,
  type ImageDeployOptions
} from '../../../shared/src/options/image-deploy.js'
import { cliLabel, cliOptions } from '../../../shared/src/options/table.js'
import { type Command, ExitCode, UsageError } from '../command.js'
import { helpLines, parseFlags } from '../options.js'
import { color, err, errColor, out } from '../term.js'

const help = `kit bump — record a new image in a manifests repository (the image-deployer's core)

Usage:
  kit bump --repository <owner/name|git URL|dir> --image <ref> [--branch <service branch>] [options]

Options (each is the image-deployer action's input of the same name):
${helpLines(cliOptions(imageDeployOptions)).join('\n')}

The token is read from KIT_TOKEN or GITHUB_TOKEN (never a flag: flags end up in shell history
and process lists). It is sent as an HTTP header per call and never stored.

Exit codes: 0 committed, unchanged or skipped as older; 1 failed; 2 bad usage or input.`

export const bumpCommand: Command = {
  name: 'bump',
  summary: 'record a new image in a manifests repository (commit or pull request)',
  help,
  async run(args) {
    const flags = parseFlags(imageDeployOptions, args)
    const settings = settingsFrom(flags, process.env)
    const log = (line: string): void => err(errColor.dim(line))
    const redactor = new Redactor()
    redactor.add(settings.token)
    let result: ImageDeployResult
    try {
      result = await deployImage(settings, { log: (l) => log(redactor.scrub(l)), redactor })
    } catch (e) {
      if (e instanceof Error) e.message = redactor.scrub(e.message)
      throw e
    }
    for (const note of result.notes) log(note)
    if (flags.json) {
      // The image-deployer's outputs, and the diff a dry run shows (scripts read stdout whole).
      const json = {
        ...outputsJson('image-deployer', imageDeployerOutputValues(result)),
        diff: result.diff
      }
      out(redactor.scrub(JSON.stringify(json, null, 2)))
      return ExitCode.ok
    }
    if (result.diff) out(result.diff)
    const t = settings.request.templates
    const setFolder = t ? templateSetFolder(t.dir, t.service, settings.request.branch) : undefined
    out(outcomeLine(formatImageRef(settings.request.image), result, setFolder))
    return ExitCode.ok
  }
}

/**
 * The deploy settings from the flags and the GITHUB_* environment. A local folder is the
 * working-copy transport; anything else is a remote reached by --transport.
 */
function settingsFrom(v: ImageDeployOptions, env: NodeJS.ProcessEnv): ImageDeploySettings {
  const o = imageDeployOptions
  if (!v.repository) throw new UsageError(`${cliLabel(o.repository.name)} is required`)
  const ctx = {
    env,
    now: new Date(),
    label: cliLabel,
    tokenSource: 'KIT_TOKEN',
    workspace: process.cwd()
  }
  if (isLocalDir(v.repository)) {
    if (v.mode !== o.mode.default || v.transport !== o.transport.default)
      throw new UsageError('a local folder is edited in place; --mode and --transport do not apply')
    return imageDeploySettings(v, ctx, {
      repository: { gitUrl: resolve(v.repository) },
      transport: 'working-copy'
    })
  }
  const serverUrl = v.serverUrl || env.GITHUB_SERVER_URL || 'https://github.com'
  return imageDeploySettings(v, ctx, {
    repository: parseRepositorySpec(v.repository, serverUrl, cliLabel(o.repository.name)),
    token: env.KIT_TOKEN || env.GITHUB_TOKEN || undefined,
    transport: v.transport
  })
}

/** The line that says what happened. */
function outcomeLine(ref: string, result: ImageDeployResult, setFolder?: string): string {
  const files = describeChangedFiles(result.files, setFolder)
  switch (result.outcome) {
    case 'committed':
      return result.commit
        ? `${color.green('✓')} ${ref} committed to ${result.branch} as ${result.commit}${result.pullRequestUrl ? ` (${result.pullRequestUrl})` : ''}`
        : `${color.green('✓')} ${ref} written to ${files} (commit them yourself)`
    case 'unchanged':
      return `${color.green('✓')} ${ref} is already recorded; nothing to commit`
    case 'older':
      return `${color.yellow('•')} ${ref} skipped: a newer build is recorded (use --force to replace it)`
    case 'dry-run':
      return `${color.blue('•')} dry run: would change ${files}`
  }
}

function isLocalDir(repo: string): boolean {
  return !/^[a-z]+:\/\//i.test(repo) && existsSync(repo) && statSync(repo).isDirectory()
}
