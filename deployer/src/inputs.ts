/**
 * Reads the deployer's inputs once, validates every one, and returns typed settings. Errors
 * name the input, the value (never a credential) and the expected form.
 */
import {
  readBoolean,
  readDuration,
  readInteger,
  readLines,
  readList,
  readString
} from '../../shared/src/action/index.js'
import {
  fleetDefaults,
  gitCommitTime,
  inventoryNameProblem,
  parseClusterLabels,
  parseCommitTime,
  parseKeyValues,
  parseKubeconfigsInput,
  type DeployRequest
} from '../../shared/src/deploy/fleet/index.js'
import { InputError } from '../../shared/src/errors.js'
import { Inputs } from './constants.js'

/** Registers a secret with the runner's log masking and kit's own redactor. */
export type MaskSecret = (value: string) => void

/** Reads and validates the inputs; credentials are masked as soon as they are read. */
export function readInputs(
  env: Readonly<Record<string, string | undefined>>,
  mask: MaskSecret
): DeployRequest {
  // Whole documents: a kubeconfig with many clusters and embedded certificates is large.
  const kubeconfig = readString(Inputs.Kubeconfig, { maxChars: Infinity })
  if (kubeconfig) mask(kubeconfig)
  const kubeconfigsRaw = readString(Inputs.Kubeconfigs, { maxChars: Infinity })
  if (kubeconfigsRaw) mask(kubeconfigsRaw)
  const perCluster = parseKubeconfigsInput(kubeconfigsRaw, env, Inputs.Kubeconfigs)
  for (const text of Object.values(perCluster)) mask(text)
  const kubeconfigDir = readString(Inputs.KubeconfigDir)
  if (!kubeconfig && Object.keys(perCluster).length === 0 && !kubeconfigDir)
    throw new InputError(
      `no cluster credentials: set one of the inputs ${Inputs.Kubeconfig}, ${Inputs.Kubeconfigs} or ${Inputs.KubeconfigDir}`
    )
  const token = readString(Inputs.Token)
  if (token) mask(token)
  const webhookUrl = readString(Inputs.WebhookUrl)
  if (webhookUrl) {
    mask(webhookUrl)
    if (!/^https?:\/\//.test(webhookUrl))
      throw new InputError(`Input '${Inputs.WebhookUrl}' must be an http(s) URL`)
  }

  const strategy = readString(Inputs.Strategy, { fallback: 'rolling-update' })
  if (strategy !== 'rolling-update' && strategy !== 'fast-rollback')
    throw new InputError(
      `Input '${Inputs.Strategy}' must be rolling-update or fast-rollback, got '${strategy}'`
    )
  const manifests = readString(Inputs.Manifests, { fallback: fleetDefaults.manifests })
  const commit = readString(Inputs.Commit) || env.GITHUB_SHA || undefined
  const commitTimeRaw = readString(Inputs.CommitTime)
  const commitTime = commitTimeRaw
    ? parseCommitTime(commitTimeRaw, `Input '${Inputs.CommitTime}'`)
    : commit
      ? gitCommitTime(manifests, commit)
      : undefined
  const rollback = readBoolean(Inputs.Rollback, false)
  const redeploy = readBoolean(Inputs.Redeploy, false)
  const githubDeployments = readBoolean(Inputs.GithubDeployments, false)
  if (githubDeployments && !token)
    throw new InputError(`Input '${Inputs.GithubDeployments}' needs '${Inputs.Token}'`)
  if (githubDeployments && !commit)
    throw new InputError(
      `Input '${Inputs.GithubDeployments}' needs a commit (input '${Inputs.Commit}' or GITHUB_SHA)`
    )

  const inventory = readString(Inputs.Inventory)
  const inventoryProblem = inventory ? inventoryNameProblem(inventory) : undefined
  if (inventoryProblem)
    throw new InputError(`Input '${Inputs.Inventory}' ${inventoryProblem}, got '${inventory}'`)

  return {
    manifests,
    inventory,
    credentials: {
      ...(kubeconfig ? { kubeconfig } : {}),
      ...(Object.keys(perCluster).length ? { perCluster } : {}),
      ...(kubeconfigDir ? { directory: kubeconfigDir } : {})
    },
    clusters: readList(Inputs.Clusters),
    selector: readString(Inputs.Selector) || undefined,
    dryRun: readBoolean(Inputs.DryRun, false),
    wait: readBoolean(Inputs.Wait, true),
    timeoutMs: readDuration(Inputs.Timeout, fleetDefaults.timeoutMs),
    concurrency: readInteger(Inputs.Concurrency, fleetDefaults.concurrency, 1, 100),
    waves: readLines(Inputs.Waves),
    waveLabel: readString(Inputs.WaveLabel) || undefined,
    clusterLabels: parseClusterLabels(readString(Inputs.ClusterLabels), Inputs.ClusterLabels),
    prune: {
      enabled: readBoolean(Inputs.Prune, false),
      max: readInteger(Inputs.PruneMax, fleetDefaults.pruneMax, 0),
      allowKinds: readList(Inputs.PruneAllowKinds)
    },
    rollbackOnFailure: readBoolean(Inputs.RollbackOnFailure, true),
    strategy,
    fastRollbackKeep: readInteger(Inputs.FastRollbackKeep, fleetDefaults.fastRollbackKeep, 0, 20),
    lockTimeoutMs: readDuration(Inputs.LockTimeout, fleetDefaults.lockTimeoutMs),
    commit,
    commitTime,
    rollback,
    redeploy,
    failFast: {
      graceMs: readDuration(Inputs.FailFastGrace, fleetDefaults.failFastGraceMs),
      unschedulableMs: readDuration(Inputs.UnschedulableTimeout, fleetDefaults.unschedulableMs),
      threshold: readInteger(Inputs.FailFastThreshold, fleetDefaults.failFastThreshold, 0)
    },
    waitForLoadBalancers: readBoolean(Inputs.WaitForLoadBalancers, false),
    labels: parseKeyValues(readString(Inputs.Labels), Inputs.Labels),
    annotations: parseKeyValues(readString(Inputs.Annotations), Inputs.Annotations),
    githubDeployments,
    token: token || undefined,
    environmentPrefix: readString(Inputs.EnvironmentPrefix),
    webhookUrl: webhookUrl || undefined
  }
}
