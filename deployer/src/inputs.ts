/**
 * Reads the deployer's inputs once, from the deploy option table (shared/src/options/deploy.ts),
 * and returns the request. Errors name the input, the value (never a credential) and the
 * expected form.
 */
import { readFileSync } from 'node:fs'
import { readOptions } from '../../shared/src/action/index.js'
import { defaultKubeconfigFiles, notKubeconfigText } from '../../shared/src/deploy/cluster/index.js'
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
  for (const secret of [
    v.kubeconfig,
    v.kubeconfigs,
    v.token,
    v.webhookUrl,
    v.metricsToken,
    v.slackWebhookUrl
  ])
    if (secret) mask(secret)
  const perCluster = parseKubeconfigsInput(v.kubeconfigs, env, Inputs.Kubeconfigs)
  for (const text of Object.values(perCluster)) mask(text)
  if (v.kubeconfig) refuseNonKubeconfig(v.kubeconfig, `Input '${Inputs.Kubeconfig}'`)
  for (const [cluster, text] of Object.entries(perCluster))
    refuseNonKubeconfig(
      text,
      `The kubeconfig of cluster "${cluster}" (input '${Inputs.Kubeconfigs}')`
    )
  const files =
    !v.kubeconfig && Object.keys(perCluster).length === 0 && !v.kubeconfigDir
      ? environmentKubeconfigs(env, mask)
      : undefined
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
      ...(files ? { files } : {}),
      ...(Object.keys(perCluster).length ? { perCluster } : {}),
      ...(v.kubeconfigDir ? { directory: v.kubeconfigDir } : {})
    },
    commit,
    commitTime: v.commitTime ?? (commit ? await gitCommitTime(v.manifests, commit) : undefined),
    dryRun: v.dryRun
  })
}

/**
 * Without a credential input, the kubeconfig files of the KUBECONFIG list, which the standard
 * setup actions leave behind (azure/k8s-set-context, azure/aks-set-context,
 * google-github-actions/get-gke-credentials). ~/.kube/config is not read unless KUBECONFIG
 * names it: an empty credential input (a secret a fork's run cannot see) must never fall back
 * to whatever credentials a self-hosted runner happens to hold. Their credentials are masked
 * before anything can fail.
 */
function environmentKubeconfigs(
  env: Readonly<Record<string, string | undefined>>,
  mask: MaskSecret
): { paths: string[]; from: string } {
  const files = defaultKubeconfigFiles(env)
  if (!files.fromEnvironment)
    throw new InputError(
      `no cluster credentials: set one of the inputs ${Inputs.Kubeconfig}, ${Inputs.Kubeconfigs} or ${Inputs.KubeconfigDir}, or the KUBECONFIG environment variable to kubeconfig files (setup actions such as azure/k8s-set-context set it)`
    )
  for (const path of files.paths) {
    try {
      mask(readFileSync(path, 'utf8'))
    } catch {
      // Reported, with its path, when the credentials are loaded.
    }
  }
  return { paths: files.paths, from: files.from }
}

/**
 * A credential input that holds a file path (or base64) instead of kubeconfig text is refused
 * with what to use instead; the value itself is never repeated (it is masked).
 */
function refuseNonKubeconfig(value: string, what: string): void {
  const kind = notKubeconfigText(value)
  if (kind === 'a file path')
    throw new InputError(
      `${what} holds a file path, not a kubeconfig: it takes the kubeconfig itself (usually a secret's value). For a kubeconfig file on the runner, leave the credential inputs empty and set the KUBECONFIG environment variable to its path (setup actions such as azure/k8s-set-context do), or give its folder as '${Inputs.KubeconfigDir}' (one file per cluster)`
    )
  if (kind === 'base64')
    throw new InputError(
      `${what} looks base64-encoded: it takes the kubeconfig's YAML itself; store the decoded kubeconfig in the secret (base64 -d), or decode it in an earlier step into a file named by KUBECONFIG`
    )
}
