import { outputNames as outputNamesOf } from '../../shared/src/outputs/table.js'
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

/** Every output name, in action.yml's order: the outputs table's (shared/src/outputs/table.ts). */
export const outputNames: readonly string[] = outputNamesOf('deployer')

/** What a failed step sets besides `result: failure` (a deploy that never started changed nothing). */
export const failureOutputs = { changed: false } as const
