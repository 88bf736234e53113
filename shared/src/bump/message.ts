import { InputError } from '../errors.js'

/** The default commit message: a title a person scans in `git log`, then the provenance. */
export const defaultCommitMessage = [
  'Bump {image-name} ({branch}) to {version}',
  '',
  'Image: {image}',
  'Templates: {templates}',
  'Source: {source-repository}@{source-commit}',
  'Run: {run-url}'
].join('\n')

/** The placeholders a commit message template may use. */
export const messagePlaceholders = [
  'image',
  'image-name',
  'branch',
  'version',
  'tag',
  'digest',
  'source-repository',
  'source-commit',
  'short-commit',
  'source-ref',
  'run-url',
  'built-at',
  'committed-at',
  'target-branch',
  'files',
  /** The service's templates and what changed in them: `api@develop from deploy/kit: 1 changed`. */
  'templates'
] as const

export type MessageValues = Partial<Record<(typeof messagePlaceholders)[number], string>>

/**
 * Fills `{name}` placeholders. A line whose placeholders are all empty is dropped, so the
 * default template stays tidy when, say, there is no run URL. An unknown placeholder is an
 * error naming the known ones (a typo would otherwise land in every commit).
 */
export function renderCommitMessage(template: string, values: MessageValues): string {
  const known = new Set<string>(messagePlaceholders)
  const lines = template.split('\n').flatMap((line) => {
    let used = 0
    let filled = 0
    const out = line.replace(/\{([a-z-]+)\}/g, (_, name: string) => {
      if (!known.has(name))
        throw new InputError(
          `commit message placeholder {${name}} is unknown; use one of ${[...known].map((k) => `{${k}}`).join(', ')}`
        )
      used++
      const v = values[name as keyof MessageValues] ?? ''
      if (v !== '') filled++
      return v
    })
    return used > 0 && filled === 0 ? [] : [out.replace(/\s+$/, '')]
  })
  const message = lines
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim()
  if (message === '') throw new InputError('the commit message is empty')
  return message + '\n'
}
