/** The one image-file module: the branch-name rule both the bump and the render use. */
import { describe, expect, it } from '@jest/globals'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  branchNameProblem,
  checkBranchName,
  encodeBranchFileName,
  imageFilePath,
  InputError,
  maxFileNameBytes
} from '../../src/index.js'
import { checkBumpRequest } from '../../src/bump/index.js'
import { quoteIfNeeded } from '../../src/images/image-file.js'
import { loadYamlMapping } from '../../src/yaml/load.js'
import * as render from '../../src/render/index.js'

describe('one branch-name rule', () => {
  it.each([
    ['', 'it is empty'],
    ['@', "'@' alone"],
    ['-x', "starts with '-'"],
    ['/x', 'empty folder'],
    ['x/', 'empty folder'],
    ['a//b', 'empty folder'],
    ['a..b', "'..'"],
    ['a@{1}', "'@{'"],
    ['a.', "ends with '.'"],
    ['a.lock/b', "'.lock'"],
    ['a/.b', "starts with '.'"],
    ['.hidden', "starts with '.'"],
    ['a b', 'a space'],
    ['a\nb', 'a control character'],
    ['main:refs/heads/x', "':'"],
    ['a~1', "'~'"],
    ['a\\b', "'\\'"]
  ])('refuses %j (%s), as git does', (branch, why) => {
    expect(branchNameProblem(branch)).toContain(why)
    expect(() => checkBranchName('branch', branch)).toThrow(InputError)
  })

  it.each(['main', 'feature/login', 'release/2026.11_rc', 'x@y', 'fix/ü', '%2e%2e/%2e%2e'])(
    'accepts %j',
    (branch) => {
      expect(branchNameProblem(branch)).toBeUndefined()
    }
  )

  it('limits the image file name to 255 bytes, not the branch to a character count', () => {
    // 250 plain characters: `<250>.yaml` is exactly 255 bytes.
    expect(branchNameProblem('b'.repeat(250))).toBeUndefined()
    expect(branchNameProblem('b'.repeat(251))).toMatch(
      /256 bytes long; a file name holds at most 255/
    )
    // 169 characters, under the old 200-character rule, but 84 '/' take three bytes each.
    const slashes = Array.from({ length: 85 }, () => 'a').join('/')
    expect(slashes.length).toBeLessThan(200)
    expect(branchNameProblem(slashes)).toMatch(/image file name would be 342 bytes/)
    // Non-ASCII: 'ü' is two UTF-8 bytes, six encoded characters.
    expect(branchNameProblem('ü'.repeat(41))).toBeUndefined()
    expect(branchNameProblem('ü'.repeat(42))).toMatch(/257 bytes/)
  })

  it('accepts exactly the names whose file can be written', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kit-image-file-'))
    try {
      const longest = encodeBranchFileName('x/'.repeat(61) + 'abcd') + '.yaml'
      expect(Buffer.byteLength(longest)).toBeLessThanOrEqual(maxFileNameBytes)
      await writeFile(join(dir, longest), 'image: a\n')
      await expect(writeFile(join(dir, 'y'.repeat(maxFileNameBytes + 1)), '')).rejects.toThrow(
        /ENAMETOOLONG/
      )
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('is the same rule for the render, the bump request and target-branch', () => {
    const branch = 'a/'.repeat(90) + 'b'
    expect(() => render.imageFilePath('images', 'api', branch)).toThrow('not a valid branch name')
    expect(() => imageFilePath('images', 'api', branch)).toThrow('not a valid branch name')
    expect(() =>
      checkBumpRequest({
        image: { registry: 'ghcr.io', repository: 'acme/api', tag: '1' },
        imageName: 'api',
        branch,
        imagesDir: 'images',
        writeImageFile: true,
        values: [],
        manifests: [],
        provenance: {},
        force: false,
        messageTemplate: '{image}'
      })
    ).toThrow(/^branch 'a\/a\/.*is not a valid branch name: its image file name would be/)
    expect(() => checkBranchName("Input 'target-branch'", '--upload-pack=id')).toThrow(
      "Input 'target-branch' '--upload-pack=id' is not a valid branch name: it starts with '-'"
    )
  })
})

describe('quoteIfNeeded', () => {
  // Every value must read back through kit's YAML loader as the same string: branch names,
  // image references and provenance go into image files and template records this way.
  const values = [
    'main',
    'release/1.2',
    'ghcr.io/acme/api:1.2.3',
    'api@sha256:0123',
    '0x1f',
    '0X1F',
    '0o17',
    '0b101',
    '123',
    '1_000',
    '1e5',
    '1.5',
    '.inf',
    'yes',
    'No',
    'null',
    '~',
    '2026-12-08',
    '2026-12-08T00:00:00Z',
    'x:',
    'a:b',
    'feature:',
    "it's",
    '#tag',
    '-x',
    '12:30',
    ''
  ]
  it.each(values)('%j reads back as itself', (value) => {
    const text = `k: ${quoteIfNeeded(value)}\n`
    expect(loadYamlMapping(text, 'f.yaml').value.k).toBe(value)
  })

  it('leaves plain names plain', () => {
    for (const v of ['main', 'release/1.2', 'ghcr.io/acme/api:1.2.3', 'a:b'])
      expect(quoteIfNeeded(v)).toBe(v)
  })
})
