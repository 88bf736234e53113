/**
 * The deployer action: read inputs, deploy every selected cluster through the shared fleet
 * core, and report (log groups per cluster, error annotations, step summary, outputs,
 * optional GitHub Deployments and webhook). The only file that does action I/O, with what it
 * shows of the deploy in ./reporter.ts.
 */
import * as core from '@actions/core'
import { ReportedError, runAction } from '../../shared/src/action/index.js'
import type { DeployLog } from '../../shared/src/deploy/cluster/types.js'
import {
  registerCredential,
  runDeploy,
  runIdentity,
  sendWebhook,
  type DeployRequest,
  type FleetReport,
  type RunIdentity
} from '../../shared/src/deploy/fleet/index.js'
import { InputError } from '../../shared/src/errors.js'
import { Redactor } from '../../shared/src/secrets/redact.js'
import { failureOutputs } from './constants.js'
import { createGithubDeployments, type GithubDeployments } from './github-deployments.js'
import { readInputs } from './inputs.js'
import { ActionReporter } from './reporter.js'

/** Runs the action. */
export async function run(): Promise<void> {
  await runAction(async () => {
    const redactor = new Redactor()
    const clean = (m: string): string => redactor.scrub(m)
    const log: DeployLog = {
      info: (m) => core.info(clean(m)),
      warning: (m) => core.warning(clean(m)),
      debug: (m) => core.debug(clean(m))
    }
    const request = await readRequest(redactor)
    const identity = runIdentity(process.env)
    const deployments = githubDeployments(request, identity, log, redactor)
    if (request.cluster.dryRun) log.info('dry run: nothing will be changed on any cluster')

    const reporter = new ActionReporter(clean, request.cluster.dryRun)
    let report: FleetReport
    try {
      report = await runDeploy(request, identity, {
        log,
        logFor: (cluster) => reporter.logFor(cluster),
        redactor,
        onClusterStart: async (cluster) => {
          if (!request.cluster.dryRun) await deployments?.start(cluster)
        },
        onClusterDone: async (row) => {
          reporter.done(row)
          if (!request.cluster.dryRun) await deployments?.finish(row)
        }
      })
    } catch (err) {
      throw deployError(err, clean)
    }
    reporter.fleetDone(report)
    await reporter.publish(report)
    if (request.notify.webhookUrl) await notify(request, identity, report, redactor, log)
    reporter.verdict(report)
  }, failureOutputs)
}

/**
 * The inputs, their secrets masked. A kubeconfig is masked by its credential strings
 * (everything under `users`), not as one multi-line blob: the runner masks line by line, and
 * masking `apiVersion: v1` would shred the log. Unparseable text (or a plain token) is masked
 * line by line.
 */
async function readRequest(redactor: Redactor): Promise<DeployRequest> {
  const mask = (value: string): void => {
    for (const v of registerCredential(redactor, value)) core.setSecret(v)
  }
  try {
    return await readInputs(process.env, mask)
  } catch (err) {
    throw new Error(redactor.scrub(err instanceof Error ? err.message : String(err)), {
      cause: err
    })
  }
}

/** GitHub Deployments per cluster, when asked for and the run knows its repository. */
function githubDeployments(
  request: DeployRequest,
  identity: RunIdentity,
  log: DeployLog,
  redactor: Redactor
): GithubDeployments | undefined {
  const deployments =
    request.notify.githubDeployments &&
    request.notify.token &&
    request.cluster.version.commit &&
    identity.repository
      ? createGithubDeployments({
          token: request.notify.token,
          repository: identity.repository,
          ref: request.cluster.version.commit,
          environmentPrefix: request.notify.environmentPrefix,
          environment: request.notify.environment,
          runUrl: identity.runUrl,
          apiUrl: process.env.GITHUB_API_URL ?? 'https://api.github.com',
          log,
          redactor
        })
      : undefined
  if (request.notify.githubDeployments && !identity.repository)
    log.warning('github-deployments: GITHUB_REPOSITORY is not set; no deployments are created')
  return deployments
}

/**
 * A deploy that could not start: an input error gets its one annotation at its file and line
 * (the step then fails without a second one); any other error is the step's failure.
 */
function deployError(err: unknown, clean: (s: string) => string): Error {
  const message = clean(err instanceof Error ? err.message : String(err))
  if (!(err instanceof InputError && err.where.file)) return new Error(message, { cause: err })
  core.error(message, {
    title: 'kit deploy: invalid input',
    file: err.where.file,
    startLine: err.where.line
  })
  return new ReportedError(message, { cause: err })
}

/** The webhook's failure is a warning: the deploy's outcome is what the step reports. */
async function notify(
  request: DeployRequest,
  identity: RunIdentity,
  report: FleetReport,
  redactor: Redactor,
  log: DeployLog
): Promise<void> {
  if (!request.notify.webhookUrl) return
  try {
    await sendWebhook(
      request.notify.webhookUrl,
      report,
      {
        commit: request.cluster.version.commit,
        runUrl: identity.runUrl,
        repository: identity.repository
      },
      { redactor }
    )
  } catch (err) {
    log.warning(err instanceof Error ? err.message : String(err))
  }
}
