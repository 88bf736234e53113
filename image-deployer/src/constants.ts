import { outputNames as outputNamesOf } from '../../shared/src/outputs/table.js'
import { imageDeployOptions } from '../../shared/src/options/image-deploy.js'
import { actionOptions, inputNamesOf } from '../../shared/src/options/table.js'

/**
 * Input names: the image deploy option table's (shared/src/options/image-deploy.ts), which
 * action.yml's inputs are generated from.
 */
export const inputNames: readonly string[] = actionOptions(imageDeployOptions).map((o) => o.name)

/** Table key → input name (`imageRepository` → `image-repository`). */
export const Inputs = inputNamesOf(imageDeployOptions)

/** Every output name, in action.yml's order: the outputs table's (shared/src/outputs/table.ts). */
export const outputNames: readonly string[] = outputNamesOf('image-deployer')

/** What a failed step sets besides `result: failure`: no commit was written by this run. */
export const failureOutputs = { changed: false } as const
