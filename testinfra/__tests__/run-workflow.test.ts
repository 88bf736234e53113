/**
 * The workflow runner the example suites use (testinfra/runner/run-workflow.ts) follows GitHub's
 * rules for what the examples rely on: expressions, needs (and skipping after a failure), a
 * matrix from another job's output, environment secrets over repository secrets, job outputs,
 * if: conditions; and it refuses what it cannot run faithfully. Bash steps only: no clusters.
 */
import { afterAll, describe, expect, it } from '@jest/globals'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { evaluate, interpolate, type ExpressionContext } from '../runner/expressions.js'
import { runWorkflow } from '../runner/run-workflow.js'

const checkout = mkdtempSync(join(tmpdir(), 'kit-run-workflow-'))
afterAll(() => rmSync(checkout, { recursive: true, force: true }))

const ctx: ExpressionContext = {
  contexts: {
    matrix: { cluster: 'prod-eu' },
    needs: { plan: { outputs: { m: '{"include":[{"cluster":"a"}]}', 'prod-eu': 'x' } } },
    secrets: { TOKEN: 's3cret' }
  },
  jobSucceeded: true
}

describe('expressions', () => {
  it('reads contexts, hyphenated names included, and missing properties as empty', () => {
    expect(evaluate('matrix.cluster', ctx)).toBe('prod-eu')
    expect(evaluate('needs.plan.outputs.prod-eu', ctx)).toBe('x')
    expect(evaluate('needs.plan.outputs.nope', ctx)).toBeNull()
    expect(interpolate('${{ matrix.cluster }}=KUBECONFIG ${{ secrets.NONE }}!', ctx)).toBe(
      'prod-eu=KUBECONFIG !'
    )
  })

  it('keeps the value of a whole-value expression: fromJSON gives an object', () => {
    expect(interpolate('${{ fromJSON(needs.plan.outputs.m) }}', ctx)).toEqual({
      include: [{ cluster: 'a' }]
    })
  })

  it('follows GitHub for ||, &&, ==, ! and format', () => {
    expect(evaluate("secrets.NONE || 'fallback'", ctx)).toBe('fallback')
    expect(evaluate("matrix.cluster == 'PROD-EU' && 'yes'", ctx)).toBe('yes')
    expect(evaluate("!(matrix.cluster != 'prod-eu')", ctx)).toBe(true)
    expect(evaluate("format('{0}-{1}', matrix.cluster, 2)", ctx)).toBe('prod-eu-2')
  })

  it('refuses what it does not implement, naming the expression', () => {
    expect(() => evaluate("contains(matrix.cluster, 'eu')", ctx)).toThrow(
      "unsupported function contains() in expression: contains(matrix.cluster, 'eu')"
    )
    expect(() => evaluate('vars.X', ctx)).toThrow("unknown context 'vars'")
  })
})

describe('runWorkflow', () => {
  const options = {
    repoRoot: process.cwd(),
    checkout,
    secrets: { WHO: 'repository', ONLY_REPO: 'r' },
    environments: { 'prod-eu': { WHO: 'prod-eu environment' } }
  }

  it('runs needs in order, a matrix from a job output, environments and job outputs', async () => {
    const runs = await runWorkflow(
      [
        'jobs:',
        '  deploy:',
        '    needs: plan',
        '    strategy:',
        '      matrix: ${{ fromJSON(needs.plan.outputs.matrix) }}',
        '    environment: ${{ matrix.cluster }}',
        '    outputs:',
        '      who: ${{ steps.s.outputs.who }}',
        '    steps:',
        '      - id: s',
        '        env: { WHO: "${{ secrets.WHO }}/${{ secrets.ONLY_REPO }}" }',
        '        run: echo "who=$WHO" >> "$GITHUB_OUTPUT"',
        '  plan:',
        '    outputs:',
        '      matrix: ${{ steps.p.outputs.matrix }}',
        '    steps:',
        '      - id: p',
        `        run: echo 'matrix={"include":[{"cluster":"prod-eu"},{"cluster":"prod-us"}]}' >> "$GITHUB_OUTPUT"`
      ].join('\n'),
      options
    )
    expect(runs.map((r) => [r.job, r.environment, r.result, r.outputs])).toEqual([
      [
        'plan',
        undefined,
        'success',
        { matrix: '{"include":[{"cluster":"prod-eu"},{"cluster":"prod-us"}]}' }
      ],
      ['deploy', 'prod-eu', 'success', { who: 'prod-eu environment/r' }],
      ['deploy', 'prod-us', 'success', { who: 'repository/r' }]
    ])
  })

  it('skips the jobs after a failed one, and runs if: always() steps of the failed job', async () => {
    const runs = await runWorkflow(
      [
        'jobs:',
        '  one:',
        '    steps:',
        '      - run: exit 3',
        '      - run: echo never',
        '      - if: always()',
        '        run: echo cleanup',
        '  two:',
        '    needs: [one]',
        '    steps:',
        '      - run: echo never'
      ].join('\n'),
      options
    )
    expect(runs.map((r) => [r.job, r.result, r.steps.map((s) => s.outcome)])).toEqual([
      ['one', 'failure', ['failure', 'skipped', 'success']],
      ['two', 'skipped', []]
    ])
  })

  it("returns what each run: step appended to the job's step summary", async () => {
    const runs = await runWorkflow(
      [
        'jobs:',
        '  one:',
        '    steps:',
        '      - run: echo "#### first" >> "$GITHUB_STEP_SUMMARY"',
        '      - run: echo "second" >> "$GITHUB_STEP_SUMMARY"'
      ].join('\n'),
      options
    )
    expect(runs[0].steps.map((s) => [s.outcome, s.summary])).toEqual([
      ['success', '#### first\n'],
      ['success', 'second\n']
    ])
  })

  it('refuses a step it cannot run and a matrix with axes', async () => {
    await expect(
      runWorkflow('jobs:\n  a:\n    steps:\n      - uses: actions/setup-node@v4', options)
    ).rejects.toThrow(
      "job 'a' step 'actions/setup-node@v4': actions/setup-node@v4 is not supported here"
    )
    await expect(
      runWorkflow(
        'jobs:\n  a:\n    strategy:\n      matrix: { os: [a, b] }\n    steps:\n      - run: "true"',
        options
      )
    ).rejects.toThrow("job 'a': matrix axes (os) are not supported, only include")
  })
})
