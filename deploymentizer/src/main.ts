import { runAction } from '../../shared/src/action/index.js'

/** Placeholder until the deploymentizer core lands. */
export async function run(): Promise<void> {
  await runAction(async () => {
    throw new Error('deploymentizer is not built yet')
  })
}
