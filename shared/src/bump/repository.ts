import { InputError, quoteValue } from '../errors.js'

/** The manifests repository a bump writes to. */
export interface RepositorySpec {
  /** The URL git fetches and pushes (never carries credentials). */
  readonly gitUrl: string
  /** Set when the repository is on GitHub (or GitHub Enterprise): needed by the API transport and pull requests. */
  readonly github?: { readonly owner: string; readonly repo: string }
}

const namePart = /^[A-Za-z0-9_.-]+$/

/**
 * Reads the `repository` input: `owner/name` (on `serverUrl`, github.com by default), a URL on
 * that server, or any other git URL (git transport only). A URL holding a user or password is
 * refused: tokens belong in the token input, never in a remote URL.
 */
export function parseRepositorySpec(
  text: string,
  serverUrl = 'https://github.com',
  what = 'repository'
): RepositorySpec {
  const raw = text.trim()
  const server = serverUrl.replace(/\/+$/, '')
  const short = /^([^/\s]+)\/([^/\s]+?)(?:\.git)?$/.exec(raw)
  if (short && !raw.includes(':')) {
    const [, owner, repo] = short
    if (!namePart.test(owner) || !namePart.test(repo) || owner.startsWith('.'))
      throw new InputError(`${what} ${quoteValue(text)} is not owner/name`)
    return { gitUrl: `${server}/${owner}/${repo}.git`, github: { owner, repo } }
  }
  let url: URL
  try {
    if (raw.length > 2048 || /\s/.test(raw)) throw new Error('not a URL')
    url = new URL(raw)
  } catch {
    throw new InputError(
      `${what} ${quoteValue(text)} is neither owner/name nor a URL (expected e.g. acme/manifests or https://git.example.com/acme/manifests.git)`
    )
  }
  if (url.username || url.password)
    throw new InputError(
      `${what} URL must not contain credentials; pass the token in the token input`
    )
  if (!['https:', 'http:', 'file:'].includes(url.protocol))
    throw new InputError(
      `${what} ${quoteValue(text)}: only https, http and file URLs are supported`
    )
  const onServer = `${url.protocol}//${url.host}` === new URL(server).origin
  const path = /^\/([^/]+)\/([^/]+?)(?:\.git)?\/?$/.exec(url.pathname)
  return {
    gitUrl: raw,
    github: onServer && path ? { owner: path[1], repo: path[2] } : undefined
  }
}
