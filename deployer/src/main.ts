import { runAction } from '../../shared/src/action/index.js'

/** Placeholder until the deployer core lands. */
export async function run(): Promise<void> {
  await runAction(async () => {
    throw new Error('deployer is not built yet')
  })
}
