// The render compiles its schemas without checking them against the meta-schema (to start
// faster); this checks them instead, with the same strict options.
import { describe, expect, it } from '@jest/globals'
import { Ajv } from 'ajv'
import { ajvOptions, schemas, validateAgainstSchema } from '../../src/render/index.js'

describe('JSON Schemas', () => {
  it.each(Object.keys(schemas) as (keyof typeof schemas)[])(
    '%s is a valid, strict JSON Schema',
    (name) => {
      const ajv = new Ajv({ ...ajvOptions, validateSchema: true })
      expect(ajv.validateSchema(schemas[name])).toBe(true)
      expect(ajv.errors ?? null).toBeNull()
      expect(() => ajv.compile(schemas[name])).not.toThrow()
    }
  )

  it('validates with every schema (compiled when first used)', () => {
    expect(() =>
      validateAgainstSchema('kit', { defaults: { branch: 'main' } }, 'kit.yaml', undefined)
    ).not.toThrow()
    expect(() =>
      validateAgainstSchema('cluster', { groups: 'prod' }, 'clusters/a.yaml', undefined)
    ).toThrow('clusters/a.yaml:1: groups must be array')
    expect(() => validateAgainstSchema('group', { bogus: 1 }, 'groups/g.yaml', undefined)).toThrow(
      "unknown key 'bogus'"
    )
    expect(() => validateAgainstSchema('service', { image: 3 }, 's/kit.yaml', undefined)).toThrow(
      'image must be string'
    )
    expect(() => validateAgainstSchema('image', {}, 'images/a/main.yaml', undefined)).toThrow(
      "needs 'image'"
    )
  })
})
