// The service repository's templates folder, read for the bump: an exact copy of what is on
// disk, or every problem at once, each naming its file — before any network call.
import { afterEach, describe, expect, it } from '@jest/globals'
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { InputError } from '../../src/errors.js'
import { formatProblem, RenderFailedError } from '../../src/render/problems.js'
import { readTemplateBundle, templateLimits } from '../../src/service-templates/bundle.js'

const made: string[] = []
afterEach(() => {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true })
})

const deployment =
  'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\nspec:\n  template:\n    spec:\n      containers:\n        - name: api\n          image: ${{ image }}\n'

/** A workspace with `files` (path → text, or a Buffer for exact bytes). */
function workspace(files: Record<string, string | Buffer>): string {
  const root = mkdtempSync(join(tmpdir(), 'kit-bundle-'))
  made.push(root)
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true })
    writeFileSync(join(root, path), content)
  }
  return root
}

const label = (name: string) => `Input '${name}'`
const read = (root: string, folder = 'deploy/kit', service = 'api') =>
  readTemplateBundle({ root, folder, service, label })

/** Every problem line of a refusal (or the single message of an InputError). */
function refusal(fn: () => unknown): string[] {
  try {
    fn()
  } catch (err) {
    if (err instanceof RenderFailedError) return err.problems.map(formatProblem)
    if (err instanceof InputError) return [err.message]
    throw err
  }
  throw new Error('expected a refusal')
}

describe('readTemplateBundle', () => {
  it('copies every file byte for byte, sorted, sub-folders included', () => {
    const crlf = 'apiVersion: v1\r\nkind: ConfigMap\r\nmetadata:\r\n  name: c\r\ndata:\r\n  a: "ü€"'
    const root = workspace({
      'deploy/kit/deployment.yaml': deployment,
      'deploy/kit/values.yaml': 'replicas: 2\n',
      'deploy/kit/kit.yaml': 'image: api\n',
      'deploy/kit/extra/config.yml': crlf,
      'src/main.go': 'package main\n'
    })
    const bundle = read(root)
    expect(bundle.sourcePath).toBe('deploy/kit')
    expect(bundle.files.map((f) => f.path)).toEqual([
      'deployment.yaml',
      'extra/config.yml',
      'kit.yaml',
      'values.yaml'
    ])
    expect(bundle.files.find((f) => f.path === 'extra/config.yml')?.content).toBe(crlf)
  })

  it('normalises ./deploy/kit/ to deploy/kit', () => {
    const root = workspace({ 'deploy/kit/d.yaml': deployment })
    expect(read(root, './deploy//kit/').sourcePath).toBe('deploy/kit')
  })

  const cases: [string, Record<string, string | Buffer>, string, RegExp][] = [
    [
      'a path with ..',
      { 'deploy/kit/d.yaml': deployment },
      'deploy/../deploy/kit',
      /contains '\.\.'/
    ],
    ['an absolute path', { 'deploy/kit/d.yaml': deployment }, '/etc', /absolute path/],
    ['the repository root', { 'd.yaml': deployment }, '.', /repository root/],
    ['a missing folder', {}, 'deploy/kit', /'deploy' does not exist/],
    ['a file, not a folder', { 'deploy/kit': 'x' }, 'deploy/kit', /'deploy\/kit' is not a folder/],
    [
      'a file that is not YAML',
      { 'deploy/kit/d.yaml': deployment, 'deploy/kit/run.sh': '#!/bin/sh\n' },
      'deploy/kit',
      /^deploy\/kit\/run\.sh: not a YAML file/
    ],
    [
      'a hidden file',
      { 'deploy/kit/d.yaml': deployment, 'deploy/kit/.env.yaml': 'a: 1\n' },
      'deploy/kit',
      /^deploy\/kit\/\.env\.yaml: the name '\.env\.yaml' is refused/
    ],
    [
      'a name with a space',
      { 'deploy/kit/my app.yaml': deployment },
      'deploy/kit',
      /^deploy\/kit\/my app\.yaml: the name 'my app\.yaml' is refused/
    ],
    [
      'invalid YAML, with its line',
      { 'deploy/kit/d.yaml': 'a: 1\nb: [\n' },
      'deploy/kit',
      /^deploy\/kit\/d\.yaml:\d+(:\d+)?: /
    ],
    [
      'an unknown tag',
      { 'deploy/kit/d.yaml': 'a: !vault secret\n' },
      'deploy/kit',
      /^deploy\/kit\/d\.yaml:1:\d+: .*tag/
    ],
    [
      'invalid UTF-8',
      { 'deploy/kit/d.yaml': Buffer.from([0x61, 0x3a, 0x20, 0xff, 0x0a]) },
      'deploy/kit',
      /^deploy\/kit\/d\.yaml:1:\d+: not valid UTF-8/
    ],
    [
      'a byte order mark',
      {
        'deploy/kit/d.yaml': Buffer.concat([
          Buffer.from([0xef, 0xbb, 0xbf]),
          Buffer.from(deployment)
        ])
      },
      'deploy/kit',
      /^deploy\/kit\/d\.yaml: starts with a byte order mark/
    ],
    [
      'a file over the limit',
      { 'deploy/kit/d.yaml': `a: "${'x'.repeat(templateLimits.fileBytes)}"\n` },
      'deploy/kit',
      /^deploy\/kit\/d\.yaml: 1048582 bytes, over the 1 MiB \(1048576 bytes\) a template file may have/
    ],
    [
      'values.yaml only',
      { 'deploy/kit/values.yaml': 'a: 1\n' },
      'deploy/kit',
      /^deploy\/kit\/: holds no templates/
    ]
  ]
  it.each(cases)('refuses %s, naming it', (_name, files, folder, expected) => {
    const problems = refusal(() => read(workspace(files), folder))
    expect(problems.some((p) => expected.test(p))).toBe(true)
  })

  it('refuses too many files and too many bytes in all, with every other problem', () => {
    const files: Record<string, string> = { 'deploy/kit/run.sh': 'x' }
    for (let i = 0; i <= templateLimits.files; i++) files[`deploy/kit/f${i}.yaml`] = 'a: 1\n'
    const problems = refusal(() => read(workspace(files)))
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^deploy\/kit\/run\.sh: not a YAML file/),
        `deploy/kit/: ${templateLimits.files + 1} files is over the ${templateLimits.files} a templates folder may hold`
      ])
    )
    const big: Record<string, string> = {}
    for (let i = 0; i < 9; i++) big[`deploy/kit/f${i}.yaml`] = `a: "${'x'.repeat(1000 * 1000)}"\n`
    expect(refusal(() => read(workspace(big)))).toEqual([
      expect.stringMatching(/^deploy\/kit\/: 8\.6 MiB in all is over the 8 MiB/)
    ])
  })

  it('refuses symbolic links: the folder, a step to it, and an entry', () => {
    const root = workspace({ 'real/kit/d.yaml': deployment, 'outside.yaml': 'a: 1\n' })
    symlinkSync(join(root, 'real'), join(root, 'deploy'))
    expect(refusal(() => read(root))).toEqual([
      expect.stringMatching(/'deploy' is a symbolic link/)
    ])
    symlinkSync(join(root, 'outside.yaml'), join(root, 'real/kit/link.yaml'))
    expect(refusal(() => read(root, 'real/kit'))).toEqual([
      'real/kit/link.yaml: symbolic links are not followed'
    ])
  })

  it('refuses a service name that is not a DNS label', () => {
    const root = workspace({ 'deploy/kit/d.yaml': deployment })
    for (const bad of ['API', '../x', 'a_b', '-a', 'a'.repeat(64)])
      expect(refusal(() => read(root, 'deploy/kit', bad))).toEqual([
        expect.stringMatching(/^Input 'service' .* must be a DNS label/)
      ])
  })
})
