import { readOptions } from '../../shared/src/action/index.js'
import { parseRepositorySpec } from '../../shared/src/index.js'
import type { ImageDeploySettings } from '../../shared/src/image-deploy/index.js'
import { imageDeployOptions, imageDeploySettings } from '../../shared/src/options/image-deploy.js'
import { actionLabel } from '../../shared/src/options/table.js'

/**
 * Reads and validates every input once, from the image deploy option table
 * (shared/src/options/image-deploy.ts). Defaults come from the GitHub context the runner
 * provides, so a service workflow needs only the repository, the token and the image.
 */
export function readSettings(
  env: NodeJS.ProcessEnv = process.env,
  now = new Date()
): ImageDeploySettings {
  const v = readOptions(imageDeployOptions)
  const serverUrl = env.GITHUB_SERVER_URL || 'https://github.com'
  return imageDeploySettings(
    v,
    { env, now, label: actionLabel, workspace: env.GITHUB_WORKSPACE || process.cwd() },
    {
      repository: parseRepositorySpec(
        v.repository ?? '',
        serverUrl,
        actionLabel(imageDeployOptions.repository.name)
      ),
      transport: v.transport,
      token: v.token || undefined,
      tempDir: env.RUNNER_TEMP || undefined
    }
  )
}
