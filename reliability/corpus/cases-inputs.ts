/**
 * Action-input cases of the corpus: invalid values for the inputs that have a type (booleans,
 * integers, durations, enums, times, names), and one oversized value for every input of every
 * action.yml (read from the files, so a new input is covered the day it is added).
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parse } from 'yaml'
import { repoRoot } from './harness.js'
import type { ActionName, InputCase } from './runner.js'

export const actions: readonly ActionName[] = ['deploymentizer', 'deployer', 'image-deployer']

/**
 * The largest value the runner can hand an action: one INPUT_ variable holds at most 128 KiB
 * (Linux's MAX_ARG_STRLEN), so a 1 MB input cannot reach an action at all. 120 KiB strings,
 * and lists of 60,000 one-character items, are the largest inputs that can.
 */
export const oversizedBytes = 120 * 1024
export const oversizedItems = 60_000

/** Inputs read as lists (one item per line or comma). */
const listInputs: Readonly<Record<ActionName, readonly string[]>> = {
  deploymentizer: ['clusters', 'groups', 'labels', 'services'],
  deployer: [
    'clusters',
    'waves',
    'prune-allow-kinds',
    'labels',
    'annotations',
    'cluster-labels',
    'kubeconfigs'
  ],
  'image-deployer': ['values', 'manifests']
}

/** The inputs an action.yml declares, in order. */
export function inputsOf(action: ActionName): string[] {
  const yml = parse(readFileSync(join(repoRoot, action, 'action.yml'), 'utf8')) as {
    inputs: Record<string, unknown>
  }
  return Object.keys(yml.inputs)
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

/** The error must name the input (a list input may be named in the singular: "unknown cluster"). */
function naming(input: string): RegExp {
  return new RegExp(`${escapeRe(input)}|${escapeRe(input.replace(/s$/, ''))}`, 'i')
}

/** One case per input of every action: a 120 KiB value, or a list of 60,000 items. */
export function oversizedCases(): InputCase[] {
  const out: InputCase[] = []
  for (const action of actions) {
    for (const input of inputsOf(action)) {
      const list = listInputs[action].includes(input)
      out.push({
        action,
        input,
        value: list
          ? Array.from({ length: oversizedItems }, () => 'x').join('\n')
          : 'a'.repeat(oversizedBytes),
        label: list ? `a list of ${oversizedItems.toLocaleString('en')} items` : 'a 120 KiB value',
        where: naming(input)
      })
    }
  }
  return out
}

const typed = (
  action: ActionName,
  input: string,
  value: string,
  extra?: Record<string, string>
): InputCase => ({
  action,
  input,
  value,
  label: JSON.stringify(value),
  where: naming(input),
  extra
})

/** Invalid values for the inputs with a type: booleans, integers, durations, enums, times, names. */
export function typedCases(): InputCase[] {
  return [
    typed('deploymentizer', 'dry-run', 'yes'),
    typed('deploymentizer', 'check', 'maybe'),
    typed('deploymentizer', 'shard-size', '-1'),
    typed('deploymentizer', 'shard-size', '1.5'),
    typed('deploymentizer', 'shard-size', '99999999999999999999'),
    typed('deploymentizer', 'check', 'true', { 'dry-run': 'true' }),
    typed('deploymentizer', 'labels', 'region in (eu'),
    typed('deployer', 'dry-run', 'yes'),
    typed('deployer', 'wait', 'no'),
    typed('deployer', 'prune', 'on'),
    typed('deployer', 'rollback-on-failure', '1'),
    typed('deployer', 'timeout', '10 minutes'),
    typed('deployer', 'timeout', '-5m'),
    typed('deployer', 'timeout', '999999999h'),
    typed('deployer', 'lock-timeout', '5mins'),
    typed('deployer', 'fail-fast-grace', '1.5s'),
    typed('deployer', 'unschedulable-timeout', 'forever'),
    typed('deployer', 'concurrency', '0'),
    typed('deployer', 'concurrency', 'five'),
    typed('deployer', 'concurrency', '1e3'),
    typed('deployer', 'prune-max', '-1'),
    typed('deployer', 'fast-rollback-keep', '99'),
    typed('deployer', 'fail-fast-threshold', 'all'),
    typed('deployer', 'strategy', 'blue-green'),
    typed('deployer', 'commit-time', 'yesterday'),
    typed('deployer', 'inventory', '../kube-system'),
    typed('deployer', 'webhook-url', 'file:///etc/passwd'),
    typed('deployer', 'labels', 'no-equals-sign'),
    typed('deployer', 'annotations', '=value'),
    typed('deployer', 'cluster-labels', '{not json'),
    typed('deployer', 'selector', 'app in ('),
    typed('image-deployer', 'mode', 'force-push'),
    typed('image-deployer', 'transport', 'ssh'),
    typed('image-deployer', 'max-attempts', '0'),
    typed('image-deployer', 'max-attempts', 'ten'),
    typed('image-deployer', 'dry-run', 'yes'),
    typed('image-deployer', 'force', 'Yes'),
    typed('image-deployer', 'create', '1'),
    typed('image-deployer', 'image-file', 'off'),
    typed('image-deployer', 'built-at', 'yesterday'),
    typed('image-deployer', 'committed-at', '2026-13-45T00:00:00Z'),
    typed('image-deployer', 'committed-at', '9999-01-01T00:00:00Z'),
    typed('image-deployer', 'author', 'no email here'),
    typed('image-deployer', 'committer', '<nobody@example.com>'),
    typed('image-deployer', 'api-url', 'not a url'),
    typed('image-deployer', 'source-commit', 'not-a-sha;id')
  ]
}
