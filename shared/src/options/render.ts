/**
 * The render option table: every setting of the deploymentizer action and of `kit render`,
 * once. deploymentizer/action.yml's inputs are generated from it (scripts/options-docs.mjs),
 * the action reads it (deploymentizer/src/inputs.ts), the CLI parses and documents it
 * (cli/src/commands/render.ts).
 */
import { resolve } from 'node:path'
import { InputError } from '../errors.js'
import type { RenderMode } from '../render/pipeline.js'
import type { Selection } from '../render/select.js'
import { booleanOption, integerOption, listOption, textOption } from './kinds.js'
import { defineTable, type Values } from './table.js'

export const renderOptions = defineTable({
  path: textOption('.', {
    doc: 'The manifests repository root, relative to the workspace.',
    cli: {
      positional: true,
      arg: '<dir>',
      doc: 'The manifests repository root, relative to the current directory (the argument, or this flag).'
    }
  }),
  output: textOption('', {
    doc: "The output folder, relative to the workspace. Empty means kit.yaml's paths.output inside the repository (default generated). A full render replaces the folder; a filtered render replaces only the selected clusters' (or services') folders.",
    cli: {
      arg: '<dir>',
      renamedFrom: ['out'],
      doc: "The output folder, relative to the current directory. Empty means kit.yaml's paths.output inside the repository (default generated). A full render replaces the folder; a filtered render replaces only the selected clusters' (or services') folders."
    }
  }),
  clusters: listOption({
    doc: 'Only these clusters (comma- or newline-separated). Empty means all.',
    cli: { arg: '<a,b>', renamedFrom: ['cluster'] }
  }),
  groups: listOption({
    doc: 'Only clusters in any of these groups (comma- or newline-separated).',
    cli: { arg: '<g,..>', renamedFrom: ['group'] }
  }),
  labels: listOption({
    doc: 'Only clusters whose labels match every requirement (comma- or newline-separated): key=value, key!=value, key (has the label) or !key.',
    cli: { arg: '<k=v,..>', renamedFrom: ['label'] }
  }),
  services: listOption({
    doc: "Only these services (comma- or newline-separated). Other services' output is kept.",
    cli: { arg: '<s,..>', renamedFrom: ['service'] }
  }),
  shardSize: integerOption(
    0,
    { min: 0, max: 10_000 },
    {
      doc: "Group clusters into shards of this many for the matrix output (one job per shard). 0 means one job per cluster (at most 256, GitHub's matrix limit).",
      cli: { arg: '<n>' }
    }
  ),
  dryRun: booleanOption(false, { doc: 'Render and validate everything but write nothing.' }),
  check: booleanOption(false, {
    doc: 'Render and compare with the output folder; fail when it differs (for repositories that commit the rendered output).'
  }),
  json: booleanOption(false, {
    doc: "Print the action's outputs (result, clusters, matrix, index, rendered, hash, up-to-date) and the differences as JSON.",
    action: false
  })
})

export type RenderOptions = Values<typeof renderOptions>

/** The render both front-ends run, read and validated once. */
export interface RenderSettings {
  /** Absolute manifests repository root. */
  readonly root: string
  /** The `path` option as given (annotations are relative to the workspace). */
  readonly path: string
  /** Absolute output folder, or undefined for kit.yaml's paths.output. */
  readonly output: string | undefined
  readonly selection: Selection
  readonly mode: RenderMode
  readonly shardSize: number
  readonly json: boolean
}

/**
 * The settings from the table's values; paths resolve against `base` (the workspace or the
 * current directory); `label` names an option the way the front-end does in errors.
 */
export function renderSettings(
  v: RenderOptions,
  base: string,
  label: (name: string) => string
): RenderSettings {
  if (v.dryRun && v.check)
    throw new InputError(
      `${label(renderOptions.dryRun.name)} and ${label(renderOptions.check.name)} cannot both be set`
    )
  return {
    root: resolve(base, v.path),
    path: v.path,
    output: v.output === '' ? undefined : resolve(base, v.output),
    selection: {
      clusters: v.clusters,
      groups: v.groups,
      labels: v.labels,
      services: v.services
    },
    mode: v.dryRun ? 'dry-run' : v.check ? 'check' : 'write',
    shardSize: v.shardSize,
    json: v.json
  }
}
