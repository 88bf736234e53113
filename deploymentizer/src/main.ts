/**
 * The deploymentizer action: render the manifests repository into one folder per cluster,
 * then publish the cluster list, a strategy.matrix and the index path. A thin shell over
 * shared/src/render (runRender); this file only does the runner I/O.
 */
import { posix, relative, sep } from 'node:path'
import * as core from '@actions/core'
import {
  ReportedError,
  runAction,
  writeOutputs,
  writeSummary
} from '../../shared/src/action/index.js'
import { deploymentizerOutputValues } from '../../shared/src/outputs/values.js'
import {
  formatProblem,
  isTrackedByGit,
  RenderFailedError,
  renderFailureMarkdown,
  renderSummaryMarkdown,
  runRender,
  skipWarnings
} from '../../shared/src/index.js'
import { plural } from '../../shared/src/text/plural.js'
import { failureOutputs } from './constants.js'
import { readSettings } from './inputs.js'

export async function run(): Promise<void> {
  await runAction(async () => {
    const settings = readSettings()
    let result
    try {
      result = await runRender({
        root: settings.root,
        output: settings.output,
        selection: settings.selection,
        mode: settings.mode,
        env: process.env,
        log: (line) => core.info(line)
      })
    } catch (err) {
      if (!(err instanceof RenderFailedError)) throw err
      for (const p of err.problems) {
        core.error(formatProblem({ ...p, file: undefined, line: undefined }), {
          title: 'kit render',
          file: p.file ? workspacePath(settings.path, p.file) : undefined,
          startLine: p.line,
          startColumn: p.column
        })
      }
      await writeSummary(renderFailureMarkdown(err.problems))
      // Each problem has its annotation: the step's failure is a log line, not one more.
      throw new ReportedError(
        `render failed with ${plural(err.total, 'problem')}; nothing was written`,
        { cause: err }
      )
    }
    // Mask first: nothing below prints a value, but the runner's log masking is the backstop.
    for (const secret of result.secrets) core.setSecret(secret)
    // One annotation per distinct skip, naming its clusters: a service missing its image on
    // forty clusters is one problem, not forty.
    for (const w of skipWarnings(result.clusters)) core.warning(w)
    if (result.disabled.length > 0)
      core.info(`disabled clusters (no output): ${result.disabled.join(', ')}`)
    if (
      settings.mode === 'write' &&
      result.secrets.length > 0 &&
      (await isTrackedByGit(result.outputDir))
    ) {
      core.warning(
        `${displayPath(result.outputDir)} is tracked by git and this render wrote values from env.* (Secrets). Do not commit the output folder; add it to .gitignore.`
      )
    }
    writeOutputs(
      'deploymentizer',
      deploymentizerOutputValues(result, {
        shardSize: settings.shardSize,
        index: displayPath(result.indexPath)
      })
    )
    await writeSummary(renderSummaryMarkdown(result))
    if (settings.mode === 'check' && result.differences.length > 0) {
      for (const d of result.differences.slice(0, 50)) core.info(`  ${d}`)
      throw new Error(
        `${displayPath(result.outputDir)} is not up to date (${plural(result.differences.length, 'difference')}); render and commit it`
      )
    }
  }, failureOutputs)
}

/** A repository-relative file as a workspace-relative path, for annotations. */
function workspacePath(repoPath: string, file: string): string {
  return posix.normalize(posix.join(repoPath.split(sep).join('/'), file))
}

/** Paths in outputs and messages: relative to the workspace when inside it. */
function displayPath(abs: string): string {
  const r = relative(process.cwd(), abs)
  return r === '' || r.startsWith('..') ? abs : r.split(sep).join('/')
}
