import { actionOptions } from '../../shared/src/options/table.js'
import { deployOptions } from '../../shared/src/options/deploy.js'

/**
 * The deployer's input names, from the deploy option table (shared/src/options/deploy.ts),
 * which action.yml's inputs are generated from.
 */
export const Inputs = {
  Manifests: deployOptions.manifests.name,
  Kubeconfig: deployOptions.kubeconfig.name,
  Kubeconfigs: deployOptions.kubeconfigs.name,
  KubeconfigDir: deployOptions.kubeconfigDir.name,
  Commit: deployOptions.commit.name,
  GithubDeployments: deployOptions.githubDeployments.name,
  Token: deployOptions.token.name
} as const

/** Every input name, in action.yml's order. */
export const inputNames: readonly string[] = actionOptions(deployOptions).map((o) => o.name)

export const Outputs = {
  Result: 'result',
  Clusters: 'clusters',
  Changed: 'changed',
  Failed: 'failed',
  Skipped: 'skipped'
} as const
