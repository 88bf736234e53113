import { describe, expect, it } from '@jest/globals'
import { inputEnvName, parseOutputFile } from '../runner/run-action.js'

describe('runner stand-in', () => {
  it('names inputs as the runner does: uppercase, spaces to underscores, hyphens kept', () => {
    expect(inputEnvName('dry-run')).toBe('INPUT_DRY-RUN')
    expect(inputEnvName('image name')).toBe('INPUT_IMAGE_NAME')
  })

  it('reads both GITHUB_OUTPUT forms, multi-line values included', () => {
    const text = [
      'a=1',
      'matrix<<ghadelimiter_1',
      '{"include":[',
      ']}',
      'ghadelimiter_1',
      'b=x=y',
      ''
    ].join('\n')
    expect(parseOutputFile(text)).toEqual({ a: '1', matrix: '{"include":[\n]}', b: 'x=y' })
  })
})
