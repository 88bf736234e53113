/**
 * Where a service's templates came from, as a person reads it in a summary: the short text
 * (`acme/api@3f2a1c9 · deploy/kit`) and, when the service repository is on the GitHub server,
 * the page of that folder at that commit. One rule for every summary that shows it.
 */
import { parseRepositorySpec } from '../bump/repository.js'
import type { TemplateSource } from './record.js'

/** How many characters of a commit the text shows, as git and GitHub abbreviate it. */
const shortCommit = 7

/**
 * `acme/api@3f2a1c9 · deploy/kit` (the repository, the commit abbreviated, the folder);
 * undefined when the source names no repository (a record written by hand).
 */
export function templateSourceText(source: TemplateSource): string | undefined {
  if (!source.repository) return undefined
  const commit = source.commit
    ? `@${/^[0-9a-f]{8,}$/i.test(source.commit) ? source.commit.slice(0, shortCommit) : source.commit}`
    : ''
  return `${source.repository}${commit}${source.path ? ` · ${source.path}` : ''}`
}

/**
 * `<server>/acme/api/tree/<commit>/deploy/kit` when the repository is owner/name (or a URL on
 * the server) and the commit is known; undefined otherwise (another git host has no known page
 * layout). Every part is URL-encoded, so the link is safe to put in markdown.
 */
export function templateSourceUrl(source: TemplateSource, serverUrl: string): string | undefined {
  if (!source.repository || !source.commit) return undefined
  let github: { owner: string; repo: string } | undefined
  try {
    github = parseRepositorySpec(source.repository, serverUrl).github
  } catch {
    return undefined
  }
  const folder = (source.path ?? '').split('/').filter((s) => s !== '' && s !== '.')
  if (!github || folder.includes('..')) return undefined
  const server = serverUrl.replace(/\/+$/, '')
  const segments = [github.owner, github.repo, 'tree', source.commit, ...folder]
  // encodeURIComponent leaves parentheses alone; a markdown link would end at `)`.
  const encode = (s: string): string =>
    encodeURIComponent(s).replace(/\(/g, '%28').replace(/\)/g, '%29')
  return `${server}/${segments.map(encode).join('/')}`
}
