/**
 * The hostile and bad input corpus, run through the shipped artefacts: the three
 * actions from their bundles as the runner calls them, and `kit` where a case has a CLI form.
 * Every case must end with a clear error naming what and where (the input, or file and line),
 * a non-zero exit, no secret in anything visible, and nothing half done: the deploymentizer's
 * previous output byte for byte as it was, nothing on any test cluster, no commit or branch in
 * the manifests repository. A few inputs are valid although they look hostile (a leading BOM,
 * placeholder values full of YAML syntax, a branch spelled with %2e): those must do the right
 * thing instead. Every case is recorded (section 'bad-input') before the asserts.
 *
 * The corpus is in reliability/corpus/ (README.md lists each class); the cases in cases-*.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { record } from '../record.js'
import { bumpCases } from '../corpus/cases-bump.js'
import { runCliCases } from '../corpus/cases-cli.js'
import { deployCases } from '../corpus/cases-deploy.js'
import { actions, inputsOf, oversizedCases, typedCases } from '../corpus/cases-inputs.js'
import { renderCases } from '../corpus/cases-render.js'
import { inBatches, treeDigest } from '../corpus/harness.js'
import { CorpusRun, type Verdict } from '../corpus/runner.js'

/** Small action runs at once: enough to overlap process start-up on two cores. */
const parallel = 4
/** A few minutes on an idle two-core machine; generous for a loaded CI runner. */
const timeoutMs = 30 * 60_000

const run = new CorpusRun()

beforeAll(() => run.start(), timeoutMs)
afterAll(async () => {
  await run.cleanClusters()
  await run.stop()
}, timeoutMs)

/** Records every verdict, then asserts that none has a problem (listing them all if some do). */
function expectRecordedAsExpected(verdicts: readonly Verdict[]): void {
  for (const v of verdicts)
    record({
      section: 'bad-input',
      name: v.name,
      target: v.target,
      observed: v.observed,
      ok: v.problems.length === 0
    })
  const failed = verdicts
    .filter((v) => v.problems.length > 0)
    .map((v) => `${v.target} — ${v.name}: ${v.problems.join('; ')}`)
  expect(failed).toEqual([])
}

describe('deploymentizer and kit render: hostile manifests repositories and inputs', () => {
  it(
    'refuses every hostile file or input with file and line, writing nothing',
    async () => {
      const cases = renderCases(() => run.baseOutput, treeDigest)
      expect(cases.length).toBeGreaterThanOrEqual(60)
      expectRecordedAsExpected(await inBatches(cases, parallel, (c, i) => run.render(c, i)))
    },
    timeoutMs
  )
})

describe('deployer and kit deploy: hostile manifests, cluster names and kubeconfigs', () => {
  it(
    'refuses every case before touching any cluster',
    async () => {
      const verdicts = await inBatches(deployCases(), parallel, (c, i) => run.deploy(c, i))
      const applied = await run.appliedByThisRun()
      expectRecordedAsExpected(
        verdicts.map((v) => {
          // Exactly this case's namespace: corpus-…-d1 must not claim corpus-…-d13's objects.
          const left = applied.filter(
            (a) => a.endsWith(` ${v.namespace}`) || a.includes(` ${v.namespace}/`)
          )
          return {
            ...v,
            observed: `${v.observed}${left.length === 0 ? ' — nothing applied' : ` — APPLIED: ${left.join(', ')}`}`,
            problems: [...v.problems, ...left.map((a) => `applied ${a}`)]
          }
        })
      )
    },
    timeoutMs
  )
})

describe('image-deployer and kit bump: hostile references, names and repository files', () => {
  it(
    'refuses every case, committing nothing',
    async () => {
      expectRecordedAsExpected(await inBatches(bumpCases(), parallel, (c, i) => run.bump(c, i)))
    },
    timeoutMs
  )
})

describe('kit: mistyped commands and flags', () => {
  it(
    'refuses each with one error in kit’s form, naming the word meant',
    async () => {
      expectRecordedAsExpected(await runCliCases())
    },
    timeoutMs
  )
})

describe('every action input: invalid typed values and oversized values', () => {
  it(
    'refuses invalid values of typed inputs, naming the input',
    async () => {
      // Only what these cases applied counts: a failing deploy case above is reported there.
      const before = new Set(await run.appliedByThisRun())
      const verdicts = await inBatches(typedCases(), parallel, (c, i) => run.input(c, i))
      expect((await run.appliedByThisRun()).filter((a) => !before.has(a))).toEqual([])
      expectRecordedAsExpected(verdicts)
    },
    timeoutMs
  )

  it(
    'refuses an oversized value for every input of every action, naming the input',
    async () => {
      const cases = oversizedCases()
      // Every input of every action.yml is covered.
      for (const action of actions)
        expect(cases.filter((c) => c.action === action).map((c) => c.input)).toEqual(
          inputsOf(action)
        )
      const before = new Set(await run.appliedByThisRun())
      const verdicts = await inBatches(cases, parallel, (c, i) => run.input(c, 1000 + i))
      expect((await run.appliedByThisRun()).filter((a) => !before.has(a))).toEqual([])
      expectRecordedAsExpected(verdicts)
    },
    timeoutMs
  )
})
