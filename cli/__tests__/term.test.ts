/**
 * Colour on a terminal, plain when piped or in CI: the pure decision, and the bundled CLI run
 * three ways (piped, on a pseudo-terminal, on a pseudo-terminal with CI set).
 */
import { describe, expect, it } from '@jest/globals'
import { spawnSync } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { colorEnabled, isCi, painter } from '../src/term.js'

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const fixtures = join(root, 'deploymentizer', '__tests__', 'fixtures')
/** An ANSI colour code (built from its escape character, which a regex literal may not hold). */
const esc = String.fromCharCode(27)
const ansi = new RegExp(`${esc}\\[\\d+m`)

describe('colorEnabled', () => {
  it.each([
    [{}, true, true],
    [{}, false, false],
    [{ CI: 'true' }, true, false],
    [{ CI: '1' }, true, false],
    [{ CI: 'false' }, true, true],
    [{ CI: '' }, true, true],
    [{ NO_COLOR: '1' }, true, false],
    [{ NO_COLOR: '' }, true, true],
    [{ FORCE_COLOR: '1' }, false, true],
    [{ FORCE_COLOR: '1', CI: 'true' }, false, true],
    [{ FORCE_COLOR: '0' }, true, false],
    [{ FORCE_COLOR: 'false' }, true, false]
  ])('%j on a terminal: %s → %s', (env, tty, expected) => {
    expect(colorEnabled(env, tty)).toBe(expected)
  })

  it('knows CI when CI is set to anything but false or 0', () => {
    expect(isCi({ CI: 'true' })).toBe(true)
    expect(isCi({ CI: 'false' })).toBe(false)
    expect(isCi({})).toBe(false)
  })

  it('paints only when enabled', () => {
    expect(painter(true).red('x')).toBe('\u001b[31mx\u001b[0m')
    expect(painter(false).red('x')).toBe('x')
    expect(painter(true).red('')).toBe('')
  })
})

/** Runs `kit render manifests --dry-run` on the deploymentizer fixture, piped or on a pty. */
function kitRender(options: { tty: boolean; env?: Record<string, string> }): string {
  const env = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '/tmp',
    DB_PASSWORD: 'x',
    API_TOKEN: 'y',
    KIT_NODE: process.execPath,
    KIT_CLI: join(root, 'cli', 'dist', 'kit.js'),
    ...options.env
  }
  // `script` gives the command a pseudo-terminal; the command text is constant and takes its
  // paths from the environment, so nothing is spliced into a shell string.
  const r = options.tty
    ? spawnSync(
        'script',
        ['-q', '-e', '-c', '"$KIT_NODE" "$KIT_CLI" render manifests --dry-run', '/dev/null'],
        { cwd: fixtures, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }
      )
    : spawnSync(process.execPath, [env.KIT_CLI, 'render', 'manifests', '--dry-run'], {
        cwd: fixtures,
        env,
        encoding: 'utf8'
      })
  expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' })
  expect(r.stdout).toContain('dry run: rendered 52 services on 6 clusters, 82 files')
  return r.stdout
}

describe('kit output colour, from the bundle', () => {
  it('is plain when piped', () => {
    expect(kitRender({ tty: false })).not.toMatch(ansi)
  })
  it('is coloured on a terminal', () => {
    expect(kitRender({ tty: true })).toContain(`${esc}[32m●${esc}[0m dev-eu-1`)
  })
  it('is plain on a terminal when CI is set', () => {
    expect(kitRender({ tty: true, env: { CI: 'true' } })).not.toMatch(ansi)
  })
})
