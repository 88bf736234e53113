/**
 * Checks GitHub workflow files against the actions' own action.yml: every step that uses a kit
 * action passes only inputs the action declares and every input it requires, and every
 * `steps.<id>.outputs.<name>` a workflow reads is an output that step's action declares.
 * This is what a user copying the examples would otherwise find out on their first run.
 */
import { load } from 'js-yaml'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'

export const kitActions = ['image-deployer', 'deploymentizer', 'deployer'] as const
export type KitAction = (typeof kitActions)[number]

export interface ActionMetadata {
  readonly inputs: Record<string, { description?: string; required?: boolean; default?: unknown }>
  readonly outputs: Record<string, { description?: string }>
}

export function readActionMetadata(repoRoot: string, action: KitAction): ActionMetadata {
  const meta = load(
    readFileSync(join(repoRoot, action, 'action.yml'), 'utf8')
  ) as Partial<ActionMetadata>
  return { inputs: meta.inputs ?? {}, outputs: meta.outputs ?? {} }
}

/** Which kit action a `uses:` value names, if any: `./deployer`, `org/kit/deployer@v1`, ... */
export function kitActionOf(uses: string): KitAction | undefined {
  const m =
    /^(?:\.\/|[\w.-]+\/[\w.-]+\/)(image-deployer|deploymentizer|deployer)(?:@[\w./-]+)?$/.exec(
      uses.trim()
    )
  return m ? (m[1] as KitAction) : undefined
}

interface Step {
  id?: string
  uses?: string
  with?: Record<string, unknown>
}

/** Problems found in one workflow text; an empty list means it is consistent. */
export function checkWorkflow(
  text: string,
  file: string,
  actions: Record<KitAction, ActionMetadata>
): string[] {
  const problems: string[] = []
  const wf = load(text) as {
    jobs?: Record<string, { steps?: Step[]; uses?: string; with?: Record<string, unknown> }>
  }
  let kitSteps = 0
  for (const [jobName, job] of Object.entries(wf.jobs ?? {})) {
    const stepActions = new Map<string, KitAction>()
    for (const [i, step] of (job.steps ?? []).entries()) {
      const action = step.uses ? kitActionOf(step.uses) : undefined
      if (!action) continue
      kitSteps++
      const where = `${file}: job '${jobName}' step ${step.id ?? i + 1} (${step.uses})`
      if (step.id) stepActions.set(step.id, action)
      const meta = actions[action]
      const given = Object.keys(step.with ?? {})
      for (const k of given)
        if (!(k in meta.inputs))
          problems.push(`${where}: input '${k}' is not declared by ${action}/action.yml`)
      for (const [k, spec] of Object.entries(meta.inputs)) {
        if (spec.required === true && spec.default === undefined && !given.includes(k)) {
          problems.push(`${where}: required input '${k}' is missing`)
        }
      }
    }
    const jobText = JSON.stringify(job)
    for (const m of jobText.matchAll(/steps\.([\w-]+)\.outputs\.([\w-]+)/g)) {
      const action = stepActions.get(m[1])
      if (action && !(m[2] in actions[action].outputs)) {
        problems.push(
          `${file}: job '${jobName}' reads steps.${m[1]}.outputs.${m[2]}, which ${action}/action.yml does not declare`
        )
      }
    }
  }
  if (kitSteps === 0 && /uses:.*(image-deployer|deploymentizer|deployer)/.test(text)) {
    problems.push(`${file}: mentions a kit action but no step's uses: was recognised`)
  }
  return problems
}

/** The secret names a workflow reads (`secrets.NAME`). */
export function secretsUsed(text: string): string[] {
  return [
    ...new Set([...text.matchAll(/secrets\.([A-Za-z_][A-Za-z0-9_]*)/g)].map((m) => m[1]))
  ].sort()
}
