// The runner's entry point: nothing but the call, so tests can import main.ts without side effects.
import { run } from './main.js'

await run()
