import { isAbsolute, resolve } from 'node:path'
import { readBoolean, readInteger, readList, readString } from '../../shared/src/action/index.js'
import type { RenderMode, Selection } from '../../shared/src/index.js'
import { Inputs } from './constants.js'

/** The action's settings, read and validated once. */
export interface Settings {
  /** Absolute manifests repository root. */
  readonly root: string
  /** The `path` input as given (annotations are relative to the workspace). */
  readonly path: string
  /** Absolute output folder, or undefined for kit.yaml's paths.output. */
  readonly output: string | undefined
  readonly selection: Selection
  readonly mode: RenderMode
  readonly shardSize: number
}

/** Reads every input; errors name the input, the value and what was expected. */
export function readSettings(workspace = process.cwd()): Settings {
  const path = readString(Inputs.path, { fallback: '.' })
  const output = readString(Inputs.output)
  const dryRun = readBoolean(Inputs.dryRun, false)
  const check = readBoolean(Inputs.check, false)
  if (dryRun && check) {
    throw new Error(`Inputs '${Inputs.dryRun}' and '${Inputs.check}' cannot both be true`)
  }
  return {
    root: resolve(workspace, path),
    path,
    output: output === '' ? undefined : isAbsolute(output) ? output : resolve(workspace, output),
    selection: {
      clusters: readList(Inputs.clusters),
      groups: readList(Inputs.groups),
      labels: readList(Inputs.labels),
      services: readList(Inputs.services)
    },
    mode: dryRun ? 'dry-run' : check ? 'check' : 'write',
    shardSize: readInteger(Inputs.shardSize, 0, 0, 10_000)
  }
}
