import { describe, expect, it } from '@jest/globals'
import {
  decodeBranchFileName,
  encodeBranchFileName,
  imageFilePath,
  imageReference
} from '../../src/render/index.js'

describe('image files', () => {
  it.each([
    ['images', 'api', 'main', 'images/api/main.yaml'],
    ['images', 'acme/api', 'develop', 'images/acme/api/develop.yaml'],
    ['images', 'api', 'feature/login', 'images/api/feature%2Flogin.yaml'],
    ['images', 'api', 'feature-login', 'images/api/feature-login.yaml'],
    ['images', 'api', 'release/2026.11_rc', 'images/api/release%2F2026.11_rc.yaml'],
    ['images', 'api', 'fix/ü', 'images/api/fix%2F%C3%BC.yaml'],
    ['deploy/images', 'a.b_c-d/e', 'x@y', 'deploy/images/a.b_c-d/e/x%40y.yaml']
  ])('imageFilePath(%s, %s, %s) is %s', (dir, image, branch, want) => {
    expect(imageFilePath(dir, image, branch)).toBe(want)
  })

  it('maps distinct branches to distinct files and back', () => {
    const branches = ['feature/x', 'feature-x', 'feature%2Fx', 'a/b/c', 'ü/ß']
    const files = branches.map(encodeBranchFileName)
    expect(new Set(files).size).toBe(branches.length)
    expect(files.map(decodeBranchFileName)).toEqual(branches)
  })

  it.each(['', '..', '../x', 'a..b', '.hidden', '-x', 'a b', 'a:b', 'x/', '/x', 'a\\b', 'a\nb'])(
    'refuses the branch %j',
    (branch) => {
      expect(() => imageFilePath('images', 'api', branch)).toThrow('not a valid branch name')
    }
  )

  it.each(['../etc', 'Api', 'a//b', '/abs', 'a/../b', 'a b'])(
    'refuses the image source %j',
    (image) => {
      expect(() => imageFilePath('images', image, 'main')).toThrow('not a valid image source name')
    }
  )

  it('appends a recorded digest unless the reference has one', () => {
    const digest = `sha256:${'a'.repeat(64)}`
    expect(imageReference({ image: 'r/a:1', digest })).toBe(`r/a:1@${digest}`)
    expect(imageReference({ image: `r/a@${digest}`, digest })).toBe(`r/a@${digest}`)
    expect(imageReference({ image: 'r/a:1' })).toBe('r/a:1')
  })
})
