import { imageDeployOptions } from '../../shared/src/options/image-deploy.js'
import { actionOptions, inputNamesOf } from '../../shared/src/options/table.js'

/**
 * Input names: the image deploy option table's (shared/src/options/image-deploy.ts), which
 * action.yml's inputs are generated from.
 */
export const inputNames: readonly string[] = actionOptions(imageDeployOptions).map((o) => o.name)

/** Table key → input name (`imageRepository` → `image-repository`). */
export const Inputs = inputNamesOf(imageDeployOptions)

/** Output names, exactly as in action.yml. */
export const Outputs = {
  commitSha: 'commit-sha',
  changed: 'changed',
  result: 'result',
  pullRequestUrl: 'pull-request-url',
  files: 'files'
} as const
