import { InputError, quoteValue } from '../errors.js'
import { parseYamlPath } from '../yaml-edit/index.js'
import { ImageField, type ValueEdit } from './plan.js'
import { checkRepoPath } from './validate.js'

/**
 * One value edit written as `FILE:PATH` (the whole image reference) or `FILE:PATH=FIELD` (one
 * part: ref, name, tag or digest), e.g. `helm/api/values.yaml:image.tag=tag`. `what` names
 * the input or flag in errors.
 */
export function parseValueEdit(line: string, create: boolean, what = 'values'): ValueEdit {
  const m = /^([^:]+):([^=]+?)(?:=(\w+))?$/.exec(line.trim())
  if (!m)
    throw new InputError(
      `${what}: ${quoteValue(line)} is not FILE:PATH or FILE:PATH=FIELD (e.g. helm/values.yaml:image.tag=tag)`
    )
  const field = (m[3] ?? 'ref') as ImageField
  if (!Object.values(ImageField).includes(field))
    throw new InputError(
      `${what}: field ${quoteValue(m[3])} must be one of ${Object.values(ImageField).join(', ')}`
    )
  const file = checkRepoPath(what, m[1].trim())
  return { file, path: parseYamlPath(m[2].trim()), field, create }
}
