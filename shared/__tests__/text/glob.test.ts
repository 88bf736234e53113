/** kit's one glob dialect (docs/manifests-format.md, "Globs"): cluster names and manifest paths. */
import { describe, expect, it } from '@jest/globals'
import { matchesAnyGlob, matchesGlob } from '../../src/text/glob.js'

describe('matchesGlob', () => {
  it.each([
    // `*`: any run of characters within a folder.
    ['prod-*', 'prod-eu-1', true],
    ['prod-*', 'prod-', true],
    ['prod-*', 'staging-1', false],
    ['*-1', 'prod-eu-1', true],
    ['*', 'a/b', false],
    ['services/*.yaml', 'services/web.yaml', true],
    ['services/*.yaml', 'services/web/deployment.yaml', false],
    // `?`: one character, never `/`.
    ['prod-?', 'prod-1', true],
    ['prod-?', 'prod-12', false],
    ['a?b', 'a/b', false],
    // `**` as a segment: zero or more folders.
    ['services/**/*.yaml', 'services/web.yaml', true],
    ['services/**/*.yaml', 'services/web/overlays/prod.yaml', true],
    ['**/*.yaml', 'a.yaml', true],
    ['**', 'a/b/c', true],
    ['a/**', 'a', false],
    // Sets and ranges.
    ['prod-[ab]', 'prod-a', true],
    ['prod-[ab]', 'prod-c', false],
    ['prod-[0-9]', 'prod-7', true],
    ['prod-[!ab]', 'prod-c', true],
    ['prod-[!ab]', 'prod-a', false],
    // Alternatives and numeric ranges.
    ['prod-{eu,us}-*', 'prod-us-1', true],
    ['prod-{eu,us}-*', 'prod-ap-1', false],
    ['prod-{1..3}', 'prod-2', true],
    ['prod-{1..3}', 'prod-4', false],
    // Leading dots: only an explicit dot matches them.
    ['*', '.hidden', false],
    ['**/*.yaml', '.github/ci.yaml', false],
    ['services/**/*.yaml', 'services/.old/web.yaml', false],
    ['.github/*.yaml', '.github/ci.yaml', true],
    ['.*', '.hidden', true],
    // Everything else is literal.
    ['a.b', 'a.b', true],
    ['a.b', 'axb', false],
    ['a+', 'aa', false],
    ['a+', 'a+', true],
    ['(a)', '(a)', true],
    ['!a', 'b', false],
    ['prod-eu-1', 'prod-eu-1', true],
    ['prod-eu-1', 'prod-eu-10', false]
  ])('%s against %s is %s', (glob, name, expected) => {
    expect(matchesGlob(name, glob)).toBe(expected)
  })

  it('matches a name against any of several globs', () => {
    expect(matchesAnyGlob('prod-2', ['staging', 'prod-*'])).toBe(true)
    expect(matchesAnyGlob('canary', ['staging', 'prod-*'])).toBe(false)
    expect(matchesAnyGlob('canary', [])).toBe(false)
  })
})
