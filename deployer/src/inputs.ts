/**
 * Reads the deployer's inputs once, from the deploy option table (shared/src/options/deploy.ts),
 * and returns the request. Errors name the input, the value (never a credential) and the
 * expected form.
 */
import { readOptions } from '../../shared/src/action/index.js'
import {
  gitCommitTime,
  parseKubeconfigsInput,
  type DeployRequest
} from '../../shared/src/deploy/fleet/index.js'
import { InputError } from '../../shared/src/errors.js'
import { deployOptions, deployRequest } from '../../shared/src/options/deploy.js'
import { Inputs } from './constants.js'

/** Registers a secret with the runner's log masking and kit's own redactor. */
export type MaskSecret = (value: string) => void

/** Reads and validates the inputs; credentials are masked as soon as they are read. */
export async function readInputs(
  env: Readonly<Record<string, string | undefined>>,
  mask: MaskSecret
): Promise<DeployRequest> {
  const v = readOptions(deployOptions)
  // Mask before anything else can fail and print.
  for (const secret of [v.kubeconfig, v.kubeconfigs, v.token, v.webhookUrl])
    if (secret) mask(secret)
  const perCluster = parseKubeconfigsInput(v.kubeconfigs, env, Inputs.Kubeconfigs)
  for (const text of Object.values(perCluster)) mask(text)
  if (!v.kubeconfig && Object.keys(perCluster).length === 0 && !v.kubeconfigDir)
    throw new InputError(
      `no cluster credentials: set one of the inputs ${Inputs.Kubeconfig}, ${Inputs.Kubeconfigs} or ${Inputs.KubeconfigDir}`
    )
  const commit = v.commit || env.GITHUB_SHA || undefined
  if (v.githubDeployments && !v.token)
    throw new InputError(`Input '${Inputs.GithubDeployments}' needs '${Inputs.Token}'`)
  if (v.githubDeployments && !commit)
    throw new InputError(
      `Input '${Inputs.GithubDeployments}' needs a commit (input '${Inputs.Commit}' or GITHUB_SHA)`
    )
  return deployRequest(v, {
    credentials: {
      ...(v.kubeconfig ? { kubeconfig: v.kubeconfig } : {}),
      ...(Object.keys(perCluster).length ? { perCluster } : {}),
      ...(v.kubeconfigDir ? { directory: v.kubeconfigDir } : {})
    },
    commit,
    commitTime: v.commitTime ?? (commit ? await gitCommitTime(v.manifests, commit) : undefined),
    dryRun: v.dryRun
  })
}
