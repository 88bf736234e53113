import * as core from '@actions/core'
import { formatImageRef, Redactor } from '../../shared/src/index.js'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import {
  ReportedError,
  runAction,
  writeOutputs,
  writeSummary
} from '../../shared/src/action/index.js'
import {
  formatProblem,
  RenderFailedError,
  renderFailureMarkdown,
  type RenderProblem
} from '../../shared/src/render/index.js'
import { plural } from '../../shared/src/text/plural.js'
import { imageDeployerOutputValues } from '../../shared/src/outputs/values.js'
import {
  deployImage,
  type ImageDeployResult,
  type ImageDeploySettings
} from '../../shared/src/image-deploy/index.js'
import {
  describeChangedFiles,
  templateSetFolder
} from '../../shared/src/service-templates/record.js'
import { failureOutputs } from './constants.js'
import { readSettings } from './inputs.js'

/** The image-deployer: records a newly built image in the manifests repository. */
export async function run(): Promise<void> {
  await runAction(async () => {
    const redactor = new Redactor()
    const token = core.getInput('token')
    if (token) {
      core.setSecret(token)
      redactor.add(token)
    }
    const settings = await refusingTemplates(readSettings, redactor)
    const image = formatImageRef(settings.request.image)
    core.info(
      `Recording ${image} for ${settings.request.imageName} (${settings.request.branch}) in ${settings.repository.gitUrl}`
    )
    let result: ImageDeployResult
    try {
      result = await refusingTemplates(
        () =>
          deployImage(settings, {
            log: (line) => core.info(redactor.scrub(line)),
            redactor
          }),
        redactor
      )
    } catch (e) {
      if (e instanceof ReportedError) throw e
      throw new Error(redactor.scrub(e instanceof Error ? e.message : String(e)), { cause: e })
    }
    for (const note of result.notes) core.info(redactor.scrub(note))
    if (result.diff) core.info(redactor.scrub(result.diff))

    writeOutputs('image-deployer', imageDeployerOutputValues(result))
    const line = redactor.scrub(
      summaryLine(image, settings.request.imageName, result, changedSetFolder(settings))
    )
    core.info(line)
    await writeSummary(line)
  }, failureOutputs)
}

/**
 * Runs `fn`; when the service's templates are refused (read from the folder, or by the render
 * before the commit), every problem becomes an annotation at its file and line in this
 * repository and the summary lists them all; nothing was committed.
 */
async function refusingTemplates<T>(fn: () => T | Promise<T>, redactor: Redactor): Promise<T> {
  try {
    return await fn()
  } catch (err) {
    if (!(err instanceof RenderFailedError)) throw err
    const workspace = process.env.GITHUB_WORKSPACE || process.cwd()
    for (const p of err.problems) {
      core.error(redactor.scrub(formatProblem(p)), {
        title: 'kit image-deployer',
        // Problems in the manifests repository's files have no place in this repository.
        file: p.file && existsSync(join(workspace, p.file)) ? p.file : undefined,
        startLine: p.line,
        startColumn: p.column
      })
    }
    const heading =
      "kit image-deployer: the service's templates were refused, nothing was committed"
    await writeSummary(renderFailureMarkdown(err.problems.map(scrubbed(redactor)), heading))
    throw new ReportedError(
      `the templates were refused with ${plural(err.total, 'problem')}; nothing was committed`,
      { cause: err }
    )
  }
}

function scrubbed(redactor: Redactor) {
  return (p: RenderProblem): RenderProblem => ({ ...p, message: redactor.scrub(p.message) })
}

/** The template set folder this bump writes, when it carries templates. */
function changedSetFolder(settings: ImageDeploySettings): string | undefined {
  const t = settings.request.templates
  return t ? templateSetFolder(t.dir, t.service, settings.request.branch) : undefined
}

/** One line for the log and the job summary. */
export function summaryLine(
  image: string,
  imageName: string,
  result: ImageDeployResult,
  setFolder?: string
): string {
  const files = describeChangedFiles(result.files, setFolder)
  const where = `${result.branch}${result.pullRequestUrl ? ` (${result.pullRequestUrl})` : ''}`
  switch (result.outcome) {
    case 'committed':
      return `image-deployer: ${imageName} → ${image} committed to ${where} as ${result.commit?.slice(0, 7)} (${files}; attempt ${result.attempts})`
    case 'unchanged':
      return `image-deployer: ${imageName} already at ${image} on ${where}; no commit`
    case 'older':
      return `image-deployer: ${image} skipped, ${result.branch} records a newer build (${result.notes[0] ?? ''})`
    case 'dry-run':
      return `image-deployer: dry run, would commit ${image} to ${where} (${files})`
  }
}
