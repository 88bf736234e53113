import { runAction } from '../../shared/src/action/index.js'

/** Placeholder until the image-deployer core lands. */
export async function run(): Promise<void> {
  await runAction(async () => {
    throw new Error('image-deployer is not built yet')
  })
}
