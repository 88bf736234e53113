/**
 * The outputs of the three actions, once: each action.yml's `outputs:` block and the table in
 * docs/outputs.md are generated from this table (scripts/outputs-docs.mjs; a test checks both),
 * the actions write their outputs through it, and the CLI's `--json` prints the same names.
 *
 * One vocabulary across the suite, so a workflow can read any step the same way: a name means one
 * kind of value in every action that sets it. `result` is a word (`failure` in every action when
 * the step failed, refused inputs included); `changed` is always 'true' or 'false'; a list is a
 * JSON list named for what it lists (`changed-clusters`); a JSON object or a list of objects has
 * a name of its own. Nothing here imports @actions/core: the CLI bundles this file.
 */

/** The kind of value an output holds. On the runner every output is text. */
export type OutputKind =
  /** One word saying how the step ended. */
  | 'result'
  /** 'true' or 'false'. */
  | 'boolean'
  /** Plain text (a SHA, a URL, a path). */
  | 'text'
  /** A JSON list of strings. */
  | 'list'
  /** A JSON object, or a JSON list of objects. */
  | 'object'

export interface OutputSpec {
  readonly name: string
  readonly kind: OutputKind
  /** action.yml's description. */
  readonly doc: string
  /** A second name for another output of the same action, kept so older workflows still read it. */
  readonly aliasOf?: string
}

export type ActionName = 'image-deployer' | 'deploymentizer' | 'deployer'

/** How each kind reads in the docs' table. */
const kindText: Record<OutputKind, string> = {
  result: 'word',
  boolean: "`'true'` / `'false'`",
  text: 'text',
  list: 'JSON list',
  object: 'JSON'
}

/** `result` when the step failed, in every action (refused inputs included). */
export const failureResult = 'failure'

export const actionOutputs: { readonly [A in ActionName]: readonly OutputSpec[] } = {
  'image-deployer': [
    {
      name: 'result',
      kind: 'result',
      doc: 'committed, unchanged (already recorded), older (a newer build is recorded), dry-run (would commit), or failure (the step failed, refused inputs included).'
    },
    {
      name: 'changed',
      kind: 'boolean',
      doc: "'true' when a commit was written (in a dry run: when one would be), else 'false'."
    },
    {
      name: 'commit-sha',
      kind: 'text',
      doc: 'The commit written (empty when nothing was committed).'
    },
    {
      name: 'pull-request-url',
      kind: 'text',
      doc: "The pull request's URL in pull-request mode."
    },
    {
      name: 'files',
      kind: 'list',
      doc: 'JSON list of the files changed (or that would change in a dry run).'
    }
  ],
  deploymentizer: [
    {
      name: 'result',
      kind: 'result',
      doc: 'success, or failure (a render problem, check found differences, or refused inputs).'
    },
    {
      name: 'clusters',
      kind: 'list',
      doc: 'JSON list of the rendered cluster names, e.g. ["prod-eu-1","prod-us-1"].'
    },
    {
      name: 'matrix',
      kind: 'object',
      doc: 'JSON for strategy.matrix: {"include":[{"cluster":"prod-eu-1"},...]}, or with shard-size {"include":[{"shard":"1-of-3","clusters":"a,b,c"},...]}.'
    },
    {
      name: 'index',
      kind: 'text',
      doc: 'Path of the index file (clusters, files, images with provenance, content hashes).'
    },
    {
      name: 'rendered',
      kind: 'object',
      doc: 'JSON counts: {"clusters":N,"services":N,"files":N,"skipped":N}.'
    },
    {
      name: 'hash',
      kind: 'text',
      doc: 'sha256 over the whole output; changes exactly when a rendered file changes.'
    },
    {
      name: 'up-to-date',
      kind: 'boolean',
      doc: "With check, 'true' when the output folder matches the render, else 'false'."
    }
  ],
  deployer: [
    {
      name: 'result',
      kind: 'result',
      doc: 'success when every selected cluster changed or was unchanged, else failure (refused inputs included).'
    },
    {
      name: 'changed',
      kind: 'boolean',
      doc: "'true' when at least one cluster changed (in a dry run: would change), else 'false'."
    },
    {
      name: 'clusters',
      kind: 'list',
      doc: 'JSON list of the selected cluster names, in the order of cluster-results.'
    },
    {
      name: 'changed-clusters',
      kind: 'list',
      doc: 'JSON list of the clusters that changed (in a dry run: would change).'
    },
    {
      name: 'failed-clusters',
      kind: 'list',
      doc: 'JSON list of the clusters that failed or were rolled back.'
    },
    {
      name: 'skipped-clusters',
      kind: 'list',
      doc: 'JSON list of the clusters that were skipped (a failed earlier wave, the version guard, no manifests).'
    },
    {
      name: 'cluster-results',
      kind: 'object',
      doc: 'JSON list, one object per cluster: cluster, result, objectsChanged, durationMs, reason, wave, counts, failures.'
    },
    {
      name: 'failed',
      kind: 'list',
      doc: 'The same JSON list as failed-clusters.',
      aliasOf: 'failed-clusters'
    },
    {
      name: 'skipped',
      kind: 'list',
      doc: 'The same JSON list as skipped-clusters.',
      aliasOf: 'skipped-clusters'
    },
    {
      name: 'drifted',
      kind: 'boolean',
      doc: "In a dry run, 'true' when at least one cluster differs from the manifests (drift: a deploy would change it), else 'false'; always 'false' outside a dry run."
    },
    {
      name: 'drifted-clusters',
      kind: 'list',
      doc: 'JSON list of the clusters that differ from the manifests (dry run only; a cluster whose dry run failed is in failed-clusters instead).'
    },
    {
      name: 'degraded-clusters',
      kind: 'list',
      doc: 'JSON list of the clusters whose watch window found them degraded after healthy (each is also in failed-clusters: rolled back, or failed when the rollback did not succeed).'
    }
  ]
}

/** The output names of an action, in action.yml's order. */
export function outputNames(action: ActionName): string[] {
  return actionOutputs[action].map((o) => o.name)
}

/** An output's value as the runner stores it: booleans 'true'/'false', lists and objects JSON. */
export function outputText(value: unknown): string {
  if (typeof value === 'string') return value
  if (typeof value === 'boolean') return value ? 'true' : 'false'
  return JSON.stringify(value)
}

/**
 * Every output of `action` from `values` (keyed by output name; an alias takes its target's
 * value), in action.yml's order. A missing value is a programming error, not an empty output.
 */
export function outputEntries(
  action: ActionName,
  values: Readonly<Record<string, unknown>>
): [string, unknown][] {
  return actionOutputs[action].map((o) => {
    const key = o.aliasOf ?? o.name
    if (!(key in values)) throw new Error(`${action}: no value for the output '${key}'`)
    return [o.name, values[key]]
  })
}

/**
 * The CLI's `--json` of `action`: the same names and values as the action's outputs, with JSON's
 * own booleans and lists; aliases are left out (they repeat another output).
 */
export function outputsJson(
  action: ActionName,
  values: Readonly<Record<string, unknown>>
): Record<string, unknown> {
  const names = new Set(
    actionOutputs[action].filter((o) => o.aliasOf === undefined).map((o) => o.name)
  )
  return Object.fromEntries(outputEntries(action, values).filter(([name]) => names.has(name)))
}

// ---------------------------------------------------------------------------------------------
// Generated text: action.yml's outputs block and the docs' table

/** Whether `s` reads back as itself as a plain (unquoted) YAML scalar. */
const plainYaml = (s: string): boolean => /^[A-Za-z][^:#{}[\]'"`|>&*!%@]*$/.test(s)

/** An action.yml `outputs:` block, wrapped at 100 columns like the inputs block. */
export function outputsBlock(action: ActionName): string {
  const lines = ['outputs:']
  for (const o of actionOutputs[action]) {
    lines.push(`  ${o.name}:`)
    const one = `    description: ${o.doc}`
    if (plainYaml(o.doc) && one.length <= 100) lines.push(one)
    else lines.push('    description: >', ...wrap(o.doc, 6, 100))
  }
  return lines.join('\n')
}

function wrap(text: string, indent: number, width: number): string[] {
  const lines: string[] = []
  let line = ''
  for (const word of text.split(/\s+/)) {
    if (line !== '' && indent + line.length + 1 + word.length > width) {
      lines.push(' '.repeat(indent) + line)
      line = word
    } else line = line === '' ? word : `${line} ${word}`
  }
  if (line !== '') lines.push(' '.repeat(indent) + line)
  return lines
}

/** action.yml with its `outputs:` block (up to the blank line before `runs:`) regenerated. */
export function renderOutputsYml(current: string, action: ActionName): string {
  const re = /^outputs:\n[\s\S]*?(?=\n\nruns:)/m
  if (!re.test(current)) throw new Error('action.yml has no outputs: block followed by runs:')
  return current.replace(re, () => outputsBlock(action))
}

const actionOrder: readonly ActionName[] = ['image-deployer', 'deploymentizer', 'deployer']

const cell = (s: string): string => s.replace(/\s+/g, ' ').trim().replace(/\|/g, '\\|')

/**
 * The one table of every output: a row per name, the actions that set it, its kind (the same in
 * every action) and what it holds in each.
 */
export function outputsTable(): string {
  const names: string[] = []
  for (const a of actionOrder)
    for (const o of actionOutputs[a]) if (!names.includes(o.name)) names.push(o.name)
  const lines = ['| output | kind | set by | holds |', '| --- | --- | --- | --- |']
  for (const name of names) {
    const uses = actionOrder.flatMap((a) =>
      actionOutputs[a].filter((o) => o.name === name).map((o) => ({ action: a, o }))
    )
    const docs = [...new Set(uses.map((u) => u.o.doc))]
    const holds =
      docs.length === 1
        ? cell(docs[0])
        : uses.map((u) => `**${u.action}**: ${cell(u.o.doc)}`).join('<br>')
    lines.push(
      `| \`${name}\` | ${kindText[uses[0].o.kind]} | ${uses.map((u) => u.action).join(', ')} | ${holds} |`
    )
  }
  return lines.join('\n')
}

/** docs/outputs.md with its table (between the outputs-table markers) regenerated. */
export function renderOutputsDoc(current: string): string {
  const re = /(<!-- outputs-table -->\n)[\s\S]*?(<!-- \/outputs-table -->)/
  if (!re.test(current))
    throw new Error('docs/outputs.md has no <!-- outputs-table --> ... <!-- /outputs-table -->')
  return current.replace(
    re,
    (_m, open: string, close: string) => `${open}${outputsTable()}\n${close}`
  )
}
