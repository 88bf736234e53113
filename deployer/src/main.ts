/**
 * The deployer action: read inputs, deploy every selected cluster through the shared fleet
 * core, and report (log groups per cluster, error annotations, step summary, outputs,
 * optional GitHub Deployments and webhook). The only file that does action I/O.
 */
import * as core from '@actions/core'
import { runAction, writeOutput, writeSummary } from '../../shared/src/action/index.js'
import type { DeployLog } from '../../shared/src/deploy/cluster/types.js'
import {
  clusterResultLine,
  headline,
  isSuccess,
  outcomeIcon,
  outcomeLabel,
  registerCredential,
  renderClusterLog,
  renderOutputs,
  renderSummary,
  runDeploy,
  runIdentity,
  sendWebhook,
  shortReason,
  shouldFail,
  groupWarnings,
  withoutClusterPrefix,
  type FleetRow
} from '../../shared/src/deploy/fleet/index.js'
import { InputError } from '../../shared/src/errors.js'
import { Redactor } from '../../shared/src/secrets/redact.js'
import { Outputs } from './constants.js'
import { createGithubDeployments } from './github-deployments.js'
import { readInputs } from './inputs.js'

/** Runs the action. */
export async function run(): Promise<void> {
  await runAction(async () => {
    const redactor = new Redactor()
    // A kubeconfig is masked by its credential strings (everything under `users`), not as one
    // multi-line blob: the runner masks line by line, and masking `apiVersion: v1` would shred
    // the log. Unparseable text (or a plain token) is masked line by line.
    const mask = (value: string): void => {
      for (const v of registerCredential(redactor, value)) core.setSecret(v)
    }
    const clean = (m: string): string => redactor.scrub(m)
    const log: DeployLog = {
      info: (m) => core.info(clean(m)),
      warning: (m) => core.warning(clean(m)),
      debug: (m) => core.debug(clean(m))
    }
    let request
    try {
      request = readInputs(process.env, mask)
    } catch (err) {
      throw new Error(clean(err instanceof Error ? err.message : String(err)), { cause: err })
    }
    const identity = runIdentity(process.env)
    const deployments =
      request.githubDeployments && request.token && request.commit && identity.repository
        ? createGithubDeployments({
            token: request.token,
            repository: identity.repository,
            ref: request.commit,
            environmentPrefix: request.environmentPrefix,
            runUrl: identity.runUrl,
            apiUrl: process.env.GITHUB_API_URL ?? 'https://api.github.com',
            log,
            redactor
          })
        : undefined
    if (request.githubDeployments && !identity.repository)
      log.warning('github-deployments: GITHUB_REPOSITORY is not set; no deployments are created')
    if (request.dryRun) log.info('dry run: nothing will be changed on any cluster')

    // Clusters deploy concurrently, so their lines interleave live (prefixed with the
    // cluster); each cluster's full story is repeated in one collapsible group when it ends.
    // A cluster's warnings are log lines, not annotations: a failed cluster gets exactly one
    // error annotation; the warnings of successful clusters become annotations at the end,
    // each distinct warning once with the clusters it came from. Lines a cluster's work still
    // writes after its result (a deploy given up on at its deadline) go to the debug log only.
    const buffers = new Map<string, string[]>()
    const warnings = new Map<string, string[]>()
    const finished = new Set<string>()
    const logFor = (cluster: string): DeployLog => {
      const buffer = buffers.get(cluster) ?? []
      buffers.set(cluster, buffer)
      const cautions = warnings.get(cluster) ?? []
      warnings.set(cluster, cautions)
      const text = (m: string): string => withoutClusterPrefix(cluster, clean(m))
      const emit = (line: string): void => {
        if (finished.has(cluster)) core.debug(`[${cluster}] (after its result) ${line}`)
        else {
          buffer.push(line)
          core.info(`[${cluster}] ${line}`)
        }
      }
      return {
        info: (m) => emit(text(m)),
        warning: (m) => {
          if (!finished.has(cluster)) cautions.push(text(m))
          emit(`warning: ${text(m)}`)
        },
        debug: (m) => core.debug(`[${cluster}] ${text(m)}`)
      }
    }
    const annotated = new Set<string>()
    const annotateFailure = (row: FleetRow): void => {
      if (row.outcome !== 'failed' && row.outcome !== 'rolled-back') return
      annotated.add(row.cluster)
      // The cluster leads the message too: the log line of an annotation shows no title.
      core.error(clean(`${row.cluster}: ${shortReason(row) ?? outcomeLabel(row.outcome)}`), {
        title: `kit deploy: ${row.cluster} ${outcomeLabel(row.outcome)}`
      })
    }

    let report
    try {
      report = await runDeploy(request, identity, {
        log,
        logFor,
        redactor,
        onClusterStart: async (cluster) => {
          if (!request.dryRun) await deployments?.start(cluster)
        },
        onClusterDone: async (row) => {
          finished.add(row.cluster)
          core.startGroup(
            `${outcomeIcon(row.outcome, request.dryRun)} ${clean(clusterResultLine(row, request.dryRun))}`
          )
          for (const l of buffers.get(row.cluster) ?? []) core.info(l)
          // The engine's own lines already carry each failure's detail.
          for (const l of renderClusterLog(row, {
            failures: (buffers.get(row.cluster) ?? []).length === 0
          }))
            core.info(clean(l))
          core.endGroup()
          annotateFailure(row)
          if (!request.dryRun) await deployments?.finish(row)
        }
      })
    } catch (err) {
      if (err instanceof InputError && err.where.file)
        core.error(clean(err.message), {
          title: 'kit deploy: invalid input',
          file: err.where.file,
          startLine: err.where.line
        })
      throw new Error(clean(err instanceof Error ? err.message : String(err)), { cause: err })
    }
    // Rows decided before any cluster started (manifests without credentials) had no group.
    for (const row of report.rows.filter((r) => !finished.has(r.cluster))) {
      core.info(
        clean(
          `${outcomeIcon(row.outcome, request.dryRun)} ${clusterResultLine(row, request.dryRun)}`
        )
      )
      annotateFailure(row)
    }
    const succeeded = new Set(report.rows.filter((r) => isSuccess(r.outcome)).map((r) => r.cluster))
    for (const w of groupWarnings([...warnings].filter(([cluster]) => succeeded.has(cluster))))
      core.warning(w, { title: 'kit deploy' })

    const outputs = renderOutputs(report)
    writeOutput(Outputs.Result, outputs.result)
    writeOutput(Outputs.Clusters, JSON.parse(clean(JSON.stringify(outputs.clusters))))
    writeOutput(Outputs.Changed, outputs.changed)
    writeOutput(Outputs.Failed, outputs.failed)
    writeOutput(Outputs.Skipped, outputs.skipped)
    await writeSummary(clean(renderSummary(report)))
    if (request.webhookUrl) {
      try {
        await sendWebhook(
          request.webhookUrl,
          report,
          { commit: request.commit, runUrl: identity.runUrl, repository: identity.repository },
          { redactor }
        )
      } catch (err) {
        log.warning(err instanceof Error ? err.message : String(err))
      }
    }
    const verdict = clean(`kit deploy: ${headline(report)}`)
    if (!shouldFail(report)) core.info(verdict)
    else if (annotated.size > 0) {
      // Each failed cluster has its error annotation already; one more would only repeat them.
      core.info(verdict)
      process.exitCode = core.ExitCode.Failure
    } else core.setFailed(verdict)
  })
}
