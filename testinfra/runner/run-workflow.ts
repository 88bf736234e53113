/**
 * Runs a whole workflow file the way GitHub's runner would, for the parts kit's example
 * workflows use: jobs in `needs` order (a job whose needs did not all succeed is skipped, as
 * GitHub does without an `if:`), `strategy.matrix` from an expression (include-only matrices,
 * fromJSON of another job's output), a job `environment` whose secrets override the
 * repository's, job outputs, `if:` conditions, and three kinds of step: actions/checkout (a
 * fresh copy of the repository per job, as each job gets its own runner), kit's actions (their
 * committed bundles through run-action.ts) and `run:` scripts (bash, with GITHUB_OUTPUT and
 * GITHUB_STEP_SUMMARY; each step's summary is returned with it).
 * Anything else (another action, a reusable workflow, `continue-on-error`, a matrix with axes)
 * is an error naming it: a workflow this runner cannot run faithfully is not run at all.
 *
 * Matrix jobs run one after the other (GitHub runs them in parallel; their results do not
 * depend on the order).
 */
import { spawnSync } from 'node:child_process'
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { load } from 'js-yaml'
import { kitActionOf } from '../workflows/check-workflows.js'
import {
  condition,
  interpolate,
  toText,
  type ExpressionContext,
  type Value
} from './expressions.js'
import { parseOutputFile, runAction } from './run-action.js'

interface StepSpec {
  id?: string
  name?: string
  uses?: string
  run?: string
  if?: string
  with?: Record<string, unknown>
  env?: Record<string, unknown>
  'continue-on-error'?: unknown
}

interface JobSpec {
  needs?: string | string[]
  if?: string
  uses?: string
  environment?: string | { name: string }
  strategy?: { matrix?: unknown }
  env?: Record<string, unknown>
  outputs?: Record<string, string>
  steps?: StepSpec[]
}

export interface WorkflowRunOptions {
  /** kit's repository: the action bundles run from here. */
  readonly repoRoot: string
  /** What actions/checkout puts in the workspace (copied fresh for every job). */
  readonly checkout: string
  /** Repository secrets. */
  readonly secrets: Record<string, string>
  /** Environment name → its secrets (an environment not listed has none, as on GitHub). */
  readonly environments: Record<string, Record<string, string>>
  /** Extra environment for every step (e.g. GITHUB_SHA). */
  readonly env?: Record<string, string | undefined>
  /**
   * Inputs a test adds to a kit step beyond the workflow's `with:` (e.g. an inventory name of
   * its own on shared clusters). Returned inputs must not be ones the step sets already.
   */
  readonly extraInputs?: (action: string, job: string) => Record<string, string>
  readonly stepTimeoutMs?: number
}

export interface StepRun {
  readonly name: string
  readonly outcome: 'success' | 'failure' | 'skipped'
  readonly outputs: Record<string, string>
  /** The step's stdout and stderr, for a failing test to show. */
  readonly log: string
  /** What the step appended to GITHUB_STEP_SUMMARY (kit's actions and `run:` scripts). */
  readonly summary?: string
}

export interface JobRun {
  readonly job: string
  readonly matrix?: Record<string, Value>
  readonly environment?: string
  readonly result: 'success' | 'failure' | 'skipped'
  readonly outputs: Record<string, string>
  readonly steps: readonly StepRun[]
}

/** Jobs in an order that runs every job after its needs. */
function jobOrder(jobs: Record<string, JobSpec>): string[] {
  const order: string[] = []
  const visiting = new Set<string>()
  const visit = (name: string): void => {
    if (order.includes(name)) return
    if (visiting.has(name)) throw new Error(`job '${name}' needs itself (a cycle)`)
    if (!jobs[name]) throw new Error(`a job needs '${name}', which the workflow does not define`)
    visiting.add(name)
    for (const n of needsOf(jobs[name])) visit(n)
    visiting.delete(name)
    order.push(name)
  }
  for (const name of Object.keys(jobs)) visit(name)
  return order
}

const needsOf = (job: JobSpec): string[] =>
  job.needs === undefined ? [] : Array.isArray(job.needs) ? job.needs : [job.needs]

/** The matrix combinations of a job: one empty one without a strategy. */
function combinations(
  job: JobSpec,
  ctx: ExpressionContext,
  name: string
): (Record<string, Value> | undefined)[] {
  if (job.strategy?.matrix === undefined) return [undefined]
  const matrix = interpolate(job.strategy.matrix, ctx)
  if (matrix === null || typeof matrix !== 'object' || Array.isArray(matrix))
    throw new Error(`job '${name}': strategy.matrix is not an object: ${toText(matrix)}`)
  const axes = Object.keys(matrix).filter((k) => k !== 'include')
  if (axes.length > 0)
    throw new Error(
      `job '${name}': matrix axes (${axes.join(', ')}) are not supported, only include`
    )
  const include = matrix.include
  if (!Array.isArray(include) || include.length === 0)
    throw new Error(`job '${name}': the matrix has no combinations (GitHub fails such a job)`)
  return include.map((c) => c as Record<string, Value>)
}

/** Runs one step; returns its outcome and outputs. */
async function runStep(
  step: StepSpec,
  ctx: ExpressionContext,
  workspace: string,
  job: string,
  options: WorkflowRunOptions
): Promise<StepRun> {
  const name = step.name ? toText(interpolate(step.name, ctx)) : (step.uses ?? step.run ?? '')
  if (step['continue-on-error'] !== undefined)
    throw new Error(`job '${job}' step '${name}': continue-on-error is not supported`)
  const env: Record<string, string> = {}
  for (const [k, v] of Object.entries(step.env ?? {})) env[k] = toText(interpolate(v, ctx))
  if (step.uses?.startsWith('actions/checkout@')) {
    cpSync(options.checkout, workspace, { recursive: true })
    return { name, outcome: 'success', outputs: {}, log: '' }
  }
  const action = step.uses ? kitActionOf(step.uses) : undefined
  if (action) {
    const inputs: Record<string, string> = {}
    for (const [k, v] of Object.entries(step.with ?? {})) inputs[k] = toText(interpolate(v, ctx))
    for (const [k, v] of Object.entries(options.extraInputs?.(action, job) ?? {})) {
      if (k in inputs) throw new Error(`job '${job}' step '${name}' sets ${k} already`)
      inputs[k] = v
    }
    const run = await runAction(options.repoRoot, action, {
      inputs,
      env: { ...options.env, GITHUB_WORKSPACE: workspace, ...env },
      cwd: workspace,
      timeoutMs: options.stepTimeoutMs ?? 300_000
    })
    return {
      name,
      outcome: run.exitCode === 0 ? 'success' : 'failure',
      outputs: run.outputs,
      log: run.stdout + run.stderr,
      summary: run.summary
    }
  }
  if (step.run !== undefined)
    return runScript(name, toText(interpolate(step.run, ctx)), env, workspace, options)
  throw new Error(`job '${job}' step '${name}': ${step.uses ?? 'this step'} is not supported here`)
}

function runScript(
  name: string,
  script: string,
  env: Record<string, string>,
  workspace: string,
  options: WorkflowRunOptions
): StepRun {
  const temp = mkdtempSync(join(tmpdir(), 'kit-workflow-step-'))
  try {
    const output = join(temp, 'output')
    const summary = join(temp, 'summary')
    writeFileSync(output, '')
    writeFileSync(summary, '')
    const res = spawnSync('bash', ['-e', '-c', script], {
      cwd: workspace,
      env: {
        ...process.env,
        ...options.env,
        ...env,
        GITHUB_OUTPUT: output,
        GITHUB_STEP_SUMMARY: summary,
        RUNNER_TEMP: temp,
        GITHUB_WORKSPACE: workspace
      },
      encoding: 'utf8',
      timeout: options.stepTimeoutMs ?? 300_000
    })
    return {
      name,
      outcome: res.status === 0 ? 'success' : 'failure',
      outputs: parseOutputFile(readFileSync(output, 'utf8')),
      log: (res.stdout ?? '') + (res.stderr ?? ''),
      summary: readFileSync(summary, 'utf8')
    }
  } finally {
    rmSync(temp, { recursive: true, force: true })
  }
}

/** One job (one matrix combination) on a fresh workspace. */
async function runJobInstance(
  name: string,
  job: JobSpec,
  matrix: Record<string, Value> | undefined,
  needs: Record<string, Value>,
  options: WorkflowRunOptions
): Promise<JobRun> {
  const base = { matrix: matrix ?? {}, needs }
  const pre: ExpressionContext = {
    contexts: { ...base, secrets: options.secrets },
    jobSucceeded: true
  }
  const envSpec = job.environment
  const environment =
    envSpec === undefined
      ? undefined
      : toText(interpolate(typeof envSpec === 'string' ? envSpec : envSpec.name, pre))
  const secrets = { ...options.secrets, ...(environment ? options.environments[environment] : {}) }
  const workspace = mkdtempSync(join(tmpdir(), 'kit-workflow-job-'))
  const steps: StepRun[] = []
  const stepContext: Record<string, Value> = {}
  let ok = true
  try {
    for (const step of job.steps ?? []) {
      const ctx: ExpressionContext = {
        contexts: {
          ...base,
          secrets,
          steps: stepContext,
          runner: { temp: workspace },
          github: { workspace }
        },
        jobSucceeded: ok
      }
      if (!condition(step.if, ctx)) {
        steps.push({ name: step.name ?? step.uses ?? '', outcome: 'skipped', outputs: {}, log: '' })
        continue
      }
      const run = await runStep(step, ctx, workspace, name, options)
      steps.push(run)
      if (step.id) stepContext[step.id] = { outputs: run.outputs, outcome: run.outcome }
      if (run.outcome === 'failure') ok = false
    }
    const final: ExpressionContext = {
      contexts: { ...base, secrets, steps: stepContext },
      jobSucceeded: ok
    }
    const outputs: Record<string, string> = {}
    for (const [k, v] of Object.entries(job.outputs ?? {}))
      outputs[k] = toText(interpolate(v, final))
    return {
      job: name,
      ...(matrix ? { matrix } : {}),
      ...(environment ? { environment } : {}),
      result: ok ? 'success' : 'failure',
      outputs,
      steps
    }
  } finally {
    rmSync(workspace, { recursive: true, force: true })
  }
}

/** Runs every job of the workflow; returns one entry per job run (per matrix combination). */
export async function runWorkflow(text: string, options: WorkflowRunOptions): Promise<JobRun[]> {
  const wf = load(text) as { jobs?: Record<string, JobSpec> }
  const jobs = wf.jobs ?? {}
  const runs: JobRun[] = []
  const finished = new Map<string, { result: string; outputs: Record<string, string> }>()
  for (const name of jobOrder(jobs)) {
    const job = jobs[name]
    if (job.uses) throw new Error(`job '${name}': reusable workflows are not supported`)
    if (job.if !== undefined) throw new Error(`job '${name}': a job-level if: is not supported`)
    const needs: Record<string, Value> = {}
    for (const n of needsOf(job)) needs[n] = finished.get(n)!
    if (needsOf(job).some((n) => finished.get(n)?.result !== 'success')) {
      runs.push({ job: name, result: 'skipped', outputs: {}, steps: [] })
      finished.set(name, { result: 'skipped', outputs: {} })
      continue
    }
    const ctx: ExpressionContext = {
      contexts: { needs, secrets: options.secrets },
      jobSucceeded: true
    }
    const instances: JobRun[] = []
    for (const matrix of combinations(job, ctx, name))
      instances.push(await runJobInstance(name, job, matrix, needs, options))
    runs.push(...instances)
    finished.set(name, {
      result: instances.every((r) => r.result === 'success') ? 'success' : 'failure',
      outputs: Object.assign({}, ...instances.map((r) => r.outputs))
    })
  }
  return runs
}
