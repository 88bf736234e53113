/**
 * Validation of the repository's own files against the JSON Schemas in ./schemas, the same
 * files editors use (yaml-language-server: $schema=...), so an editor and the render agree.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv'
import { InputError, quoteValue } from '../errors.js'
import { lineOf, type LoadedDocument } from '../yaml/index.js'
import clusterSchema from './schemas/cluster.schema.json' with { type: 'json' }
import groupSchema from './schemas/group.schema.json' with { type: 'json' }
import imageSchema from './schemas/image.schema.json' with { type: 'json' }
import kitSchema from './schemas/kit.schema.json' with { type: 'json' }
import serviceSchema from './schemas/service.schema.json' with { type: 'json' }

/** The schemas by the kind of file they describe. */
export const schemas = {
  kit: kitSchema,
  group: groupSchema,
  cluster: clusterSchema,
  service: serviceSchema,
  image: imageSchema
} as const

export type SchemaName = keyof typeof schemas

/**
 * The options every validator is compiled with. `validateSchema: false` skips checking the
 * schemas themselves against the JSON Schema meta-schema on every run (over half the compile
 * time): they are ours, and shared/__tests__/render/schema.test.ts checks them instead.
 */
export const ajvOptions = {
  allErrors: true,
  strict: true,
  allowUnionTypes: true,
  verbose: true,
  validateSchema: false
} as const

let ajv: Ajv | undefined
const validators = new Map<SchemaName, ValidateFunction>()

/** The validator for one kind of file, compiled when first needed. */
function compiled(name: SchemaName): ValidateFunction {
  let validate = validators.get(name)
  if (!validate) {
    ajv ??= new Ajv(ajvOptions)
    validate = ajv.compile(schemas[name])
    validators.set(name, validate)
  }
  return validate
}

/**
 * Validates a loaded file against its schema. Throws one InputError listing every problem,
 * each with its line, the first one's line on the error itself (for the annotation).
 */
export function validateAgainstSchema(
  name: SchemaName,
  value: unknown,
  file: string,
  doc: LoadedDocument | undefined
): void {
  const validate = compiled(name)
  if (validate(value)) return
  const problems = (validate.errors ?? []).map((e) => describeError(e, doc))
  problems.sort((a, b) => a.line - b.line)
  const first = problems[0]
  const text =
    problems.length === 1
      ? first.message
      : `${problems.length} problems:\n` +
        problems.map((p) => `  line ${p.line}: ${p.message}`).join('\n')
  throw new InputError(text, { file, line: first?.line })
}

function describeError(
  e: ErrorObject,
  doc: LoadedDocument | undefined
): { line: number; message: string } {
  const path = e.instancePath
    .split('/')
    .slice(1)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
  const where = path.length > 0 ? path.join('.') : 'the top level'
  let message: string
  let linePath = path
  switch (e.keyword) {
    case 'additionalProperties': {
      const key = String((e.params as { additionalProperty: string }).additionalProperty)
      linePath = [...path, key]
      message = `unknown key '${key}' in ${where}`
      break
    }
    case 'enum':
      message = `${where} must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')}`
      break
    case 'required':
      message = `${where} needs '${(e.params as { missingProperty: string }).missingProperty}'`
      break
    case 'propertyNames':
      message = `${where} has an invalid name '${String((e.params as { propertyName: string }).propertyName)}' (lowercase letters, digits and '-')`
      break
    case 'pattern':
    case 'not': {
      // The schema's description says what a valid value looks like ("must NOT be valid", Ajv's
      // own wording for `not`, says nothing a user can act on).
      const shown = typeof e.data === 'string' ? ` ${quoteValue(e.data)}` : ''
      const hint = (e.parentSchema as { description?: string } | undefined)?.description
      message = `${where}${shown} is not valid${hint ? `: ${hint}` : ''}`
      break
    }
    default:
      message = `${where} ${e.message ?? 'is invalid'}`
  }
  return { line: doc ? lineOf(doc, linePath) : 1, message }
}
