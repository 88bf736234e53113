import { describe, expect, it } from '@jest/globals'
import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parse } from 'yaml'
import { inputNames, outputNames } from '../src/constants.js'

const here = dirname(fileURLToPath(import.meta.url))
const action = parse(readFileSync(join(here, '..', 'action.yml'), 'utf8')) as {
  inputs: Record<string, { description: string; required: boolean; default?: string }>
  outputs: Record<string, { description: string }>
  runs: { using: string; main: string }
}

describe('deployer action.yml', () => {
  it('declares exactly the inputs of the deploy option table and the outputs of the outputs table', () => {
    expect(Object.keys(action.inputs)).toEqual(inputNames)
    expect(Object.keys(action.outputs)).toEqual(outputNames)
  })
  it('describes every input and output, states required, and quotes defaults as strings', () => {
    for (const [name, input] of Object.entries(action.inputs)) {
      expect([name, typeof input.description, input.description.length > 10]).toEqual([
        name,
        'string',
        true
      ])
      expect([name, input.required]).toEqual([name, false])
    }
    const nonStringDefaults = Object.entries(action.inputs).filter(
      ([, input]) => input.default !== undefined && typeof input.default !== 'string'
    )
    expect(nonStringDefaults).toEqual([])
    for (const output of Object.values(action.outputs))
      expect(output.description.length).toBeGreaterThan(10)
  })
  it('runs the bundle on node24', () => {
    expect(action.runs).toEqual({ using: 'node24', main: 'dist/index.js' })
  })
})
