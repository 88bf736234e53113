/**
 * The deployer action: read inputs, deploy every selected cluster through the shared fleet
 * core, and report (log groups per cluster, error annotations, step summary, outputs,
 * optional GitHub Deployments and webhook). The only file that does action I/O.
 */
import * as core from '@actions/core'
import { runAction, writeOutput, writeSummary } from '../../shared/src/action/index.js'
import type { DeployLog } from '../../shared/src/deploy/cluster/types.js'
import {
  headline,
  registerCredential,
  renderClusterLog,
  renderOutputs,
  renderSummary,
  runDeploy,
  runIdentity,
  sendWebhook,
  shouldFail,
  type FleetRow
} from '../../shared/src/deploy/fleet/index.js'
import { InputError } from '../../shared/src/errors.js'
import { Redactor } from '../../shared/src/secrets/redact.js'
import { Outputs } from './constants.js'
import { createGithubDeployments } from './github-deployments.js'
import { readInputs } from './inputs.js'

const icons: Record<FleetRow['outcome'], string> = {
  changed: '✅',
  unchanged: '✅',
  failed: '❌',
  'rolled-back': '↩️',
  skipped: '⏭️'
}

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
    const buffers = new Map<string, string[]>()
    const logFor = (cluster: string): DeployLog => {
      const buffer = buffers.get(cluster) ?? []
      buffers.set(cluster, buffer)
      const line = (m: string): string => {
        const text = clean(m)
        buffer.push(text)
        return `[${cluster}] ${text}`
      }
      return {
        info: (m) => core.info(line(m)),
        warning: (m) => core.warning(line(m)),
        debug: (m) => core.debug(line(m))
      }
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
          core.startGroup(
            `${icons[row.outcome]} ${row.cluster}: ${row.outcome}${row.reason ? ` — ${clean(row.reason)}` : ''}`
          )
          for (const l of buffers.get(row.cluster) ?? []) core.info(l)
          for (const l of renderClusterLog(row)) core.info(clean(l))
          core.endGroup()
          if (row.outcome === 'failed' || row.outcome === 'rolled-back') {
            const details = row.failures.map(
              (f) =>
                `${f.object}${f.pod ? ` pod ${f.pod}` : ''}${f.container ? ` container ${f.container}` : ''}: ${f.reason} — ${f.message}`
            )
            core.error(clean([row.reason ?? row.outcome, ...details].join('\n')), {
              title: `kit deploy: ${row.cluster} ${row.outcome}`
            })
          }
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
    core.info(clean(headline(report)))
    if (shouldFail(report)) core.setFailed(clean(`kit deploy: ${headline(report)}`))
  })
}
