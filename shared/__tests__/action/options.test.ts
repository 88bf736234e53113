import { afterEach, describe, expect, it } from '@jest/globals'
import { readOptions } from '../../src/action/options.js'
import { renderOptions } from '../../src/options/render.js'

afterEach(() => {
  for (const k of Object.keys(process.env)) if (k.startsWith('INPUT_')) delete process.env[k]
})

describe('readOptions', () => {
  it("reads a table's inputs with its validators and defaults", () => {
    process.env.INPUT_CLUSTERS = 'a,b\nc'
    process.env['INPUT_SHARD-SIZE'] = '4'
    expect(readOptions(renderOptions)).toEqual({
      path: '.',
      output: '',
      clusters: ['a', 'b', 'c'],
      groups: [],
      labels: [],
      services: [],
      shardSize: 4,
      dryRun: false,
      check: false,
      json: false
    })
  })

  it('names the input in every error', () => {
    process.env['INPUT_SHARD-SIZE'] = '1.5'
    expect(() => readOptions(renderOptions)).toThrow(
      "Input 'shard-size' must be a whole number, got '1.5'"
    )
    process.env['INPUT_SHARD-SIZE'] = ''
    process.env.INPUT_PATH = 'p'.repeat(9000)
    expect(() => readOptions(renderOptions)).toThrow("Input 'path' is 9000 characters long")
  })
})
