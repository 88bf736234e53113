// The CLI's version is its npm package's (cli/package.json), read when the bundle is built:
// esbuild inlines the JSON, so the installed bundle needs no package.json beside it.
import packageJson from '../package.json' with { type: 'json' }

/** `kit --version` prints this. */
export const version: string = packageJson.version
