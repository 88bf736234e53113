import * as core from '@actions/core'
import { formatImageRef, Redactor } from '../../shared/src/index.js'
import { runAction, writeOutputs, writeSummary } from '../../shared/src/action/index.js'
import { imageDeployerOutputValues } from '../../shared/src/outputs/values.js'
import { deployImage, type ImageDeployResult } from '../../shared/src/image-deploy/index.js'
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
    const settings = readSettings()
    const image = formatImageRef(settings.request.image)
    core.info(
      `Recording ${image} for ${settings.request.imageName} (${settings.request.branch}) in ${settings.repository.gitUrl}`
    )
    let result: ImageDeployResult
    try {
      result = await deployImage(settings, {
        log: (line) => core.info(redactor.scrub(line)),
        redactor
      })
    } catch (e) {
      throw new Error(redactor.scrub(e instanceof Error ? e.message : String(e)), { cause: e })
    }
    for (const note of result.notes) core.info(redactor.scrub(note))
    if (result.diff) core.info(redactor.scrub(result.diff))

    writeOutputs('image-deployer', imageDeployerOutputValues(result))
    const line = redactor.scrub(summaryLine(image, settings.request.imageName, result))
    core.info(line)
    await writeSummary(line)
  }, failureOutputs)
}

/** One line for the log and the job summary. */
export function summaryLine(image: string, imageName: string, result: ImageDeployResult): string {
  const where = `${result.branch}${result.pullRequestUrl ? ` (${result.pullRequestUrl})` : ''}`
  switch (result.outcome) {
    case 'committed':
      return `image-deployer: ${imageName} → ${image} committed to ${where} as ${result.commit?.slice(0, 7)} (${result.files.join(', ')}; attempt ${result.attempts})`
    case 'unchanged':
      return `image-deployer: ${imageName} already at ${image} on ${where}; no commit`
    case 'older':
      return `image-deployer: ${image} skipped, ${result.branch} records a newer build (${result.notes[0] ?? ''})`
    case 'dry-run':
      return `image-deployer: dry run, would commit ${image} to ${where} (${result.files.join(', ')})`
  }
}
