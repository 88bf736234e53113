/**
 * The CLI side of the option tables: flags are the action inputs' names, read by the same
 * validators into the same values; renamed flags are refused naming the new one.
 */
import { afterEach, describe, expect, it } from '@jest/globals'
import { readOptions } from '../../shared/src/action/options.js'
import { deployOptions } from '../../shared/src/options/deploy.js'
import { renderOptions } from '../../shared/src/options/render.js'
import { UsageError } from '../src/command.js'
import { requestFromArgs } from '../src/commands/deploy.js'
import { helpLines, parseFlags } from '../src/options.js'
import { cliOptions } from '../../shared/src/options/table.js'

afterEach(() => {
  for (const k of Object.keys(process.env)) if (k.startsWith('INPUT_')) delete process.env[k]
})

function thrown(f: () => unknown): Error | undefined {
  try {
    f()
  } catch (e) {
    return e as Error
  }
  return undefined
}

describe('parseFlags', () => {
  it('reads the same values as the action from the same text', () => {
    const given: Record<string, string> = {
      clusters: 'a, b',
      timeout: '2m30s',
      concurrency: '7',
      waves: 'staging\nprod-*',
      'commit-time': '2026-11-26T07:00:00+01:00',
      'unschedulable-timeout': '90s',
      'wait-for-load-balancers': 'true',
      'rollback-on-failure': 'false',
      labels: 'team=web',
      strategy: 'fast-rollback'
    }
    for (const [k, v] of Object.entries(given)) process.env[`INPUT_${k.toUpperCase()}`] = v
    const fromAction = readOptions(deployOptions)
    const args = Object.entries(given).flatMap(([k, v]) =>
      v === 'true' ? [`--${k}`] : v === 'false' ? [`--no-${k}`] : [`--${k}`, v]
    )
    const fromCli = parseFlags(deployOptions, args)
    expect(fromCli).toEqual(fromAction)
    expect(fromCli).toMatchObject({
      clusters: ['a', 'b'],
      timeout: 150_000,
      unschedulableTimeout: 90_000,
      waitForLoadBalancers: true,
      rollbackOnFailure: false,
      commitTime: '2026-11-26T06:00:00.000Z'
    })
  })

  it('takes the defaults of the table when a flag is absent', () => {
    const v = parseFlags(deployOptions, [])
    for (const o of cliOptions(deployOptions))
      expect([
        o.name,
        v[o.name.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase()) as keyof typeof v]
      ]).toEqual([o.name, o.default])
  })

  it('accepts repeated list flags and the positional argument', () => {
    const v = parseFlags(renderOptions, ['repo', '--clusters', 'a', '--clusters', 'b,c'])
    expect(v.path).toBe('repo')
    expect(v.clusters).toEqual(['a', 'b', 'c'])
  })

  it.each([
    [renderOptions, '--out', 'x', '--out is now --output'],
    [renderOptions, '--cluster', 'x', '--cluster is now --clusters'],
    [renderOptions, '--group', 'x', '--group is now --groups'],
    [renderOptions, '--label', 'x', '--label is now --labels'],
    [renderOptions, '--service', 'x', '--service is now --services'],
    [deployOptions, '--no-rollback', undefined, '--no-rollback is now --no-rollback-on-failure']
  ])('refuses the earlier spelling %#: %s', (table, flag, value, message) => {
    const e = thrown(() => parseFlags(table, value === undefined ? [flag] : [flag, value]))
    expect(e).toBeInstanceOf(UsageError)
    expect(e?.message).toContain(message)
  })

  it.each([
    [['--timeout', 'soon'], "--timeout must be a duration like 90s, 10m or 1h30m, got 'soon'"],
    [['--concurrency', '0'], '--concurrency must be between 1 and 100, got 0'],
    [
      ['--strategy', 'blue-green'],
      "--strategy must be rolling-update or fast-rollback, got 'blue-green'"
    ],
    [['--commit-time', 'yesterday'], '--commit-time must be an ISO 8601 time'],
    [['--inventory', '../x'], '--inventory must be up to 40 lower-case letters'],
    [['--webhook-url', 'ftp://x'], '--webhook-url must be an http(s) URL']
  ])('refuses %j with the action input validator, naming the flag', (args, message) => {
    expect(thrown(() => parseFlags(deployOptions, args))?.message).toContain(message)
  })

  it.each([
    [['--clustr', 'a'], 'unknown option --clustr; did you mean --clusters?'],
    [['--no-wiat'], 'unknown option --no-wiat; did you mean --no-wait?'],
    [['--frobnicate'], 'unknown option --frobnicate'],
    [['--timeout'], '--timeout needs a value'],
    [['--timeout', '--prune'], '--timeout needs a value (write --timeout=--prune if the value'],
    [['--prune=yes'], '--prune takes no value (it is on or off: --prune or --no-prune)'],
    [['--no-prune=yes'], '--no-prune takes no value (it is on or off: --prune or --no-prune)'],
    [['--prune='], '--prune takes no value']
  ])('refuses the command line %j in kit’s words', (args, message) => {
    const e = thrown(() => parseFlags(deployOptions, args))
    expect(e).toBeInstanceOf(UsageError)
    expect(e?.message.startsWith(message)).toBe(true)
    expect(e?.message).not.toMatch(/positional argument|Option '/)
  })

  it('takes `--x=` as an empty value and `--x=-y` as a value starting with a dash', () => {
    expect(parseFlags(renderOptions, ['--output=']).output).toBe(renderOptions.output.default)
    expect(parseFlags(renderOptions, ['--services=-x', '--dry-run']).services).toEqual(['-x'])
  })

  it('documents every flag in the help, with its default', () => {
    const help = helpLines(cliOptions(deployOptions)).join('\n')
    for (const o of cliOptions(deployOptions))
      expect(help).toMatch(new RegExp(`--(\\[no-\\])?${o.name} `))
    expect(help).toMatch(/--timeout <dur> +Per-cluster time limit/)
    expect(help).toContain('(default 10m)')
  })
})

describe('kit deploy flags', () => {
  const request = async (args: string[]) =>
    (
      await requestFromArgs(
        ['manifests', '--kubeconfig-dir', '/nonexistent', '--commit', 'abc', ...args],
        'deploy',
        {},
        () => {}
      )
    ).request

  it('has a flag for every deploy setting the action has', async () => {
    expect(
      await request([
        '--unschedulable-timeout',
        '3m',
        '--wait-for-load-balancers',
        '--no-rollback-on-failure'
      ])
    ).toMatchObject({
      cluster: {
        failFast: { unschedulableMs: 180_000 },
        waitForLoadBalancers: true,
        rollbackOnFailure: false
      }
    })
    expect(await request([])).toMatchObject({
      cluster: { waitForLoadBalancers: false, rollbackOnFailure: true }
    })
  })
})
