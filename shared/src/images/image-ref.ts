import { InputError, quoteValue } from '../errors.js'

/**
 * A container image reference split into its parts, as the OCI distribution spec and Docker
 * define them: `[registry/]repository[:tag][@digest]`.
 */
export interface ImageRef {
  /** The registry host (with port), or undefined when the reference names none (Docker Hub). */
  readonly registry?: string
  /** The path inside the registry, e.g. `acme/api` (lowercase components). */
  readonly repository: string
  readonly tag?: string
  /** `algorithm:hex`, e.g. `sha256:...`. */
  readonly digest?: string
}

// The grammar from the distribution reference spec, one piece per constant so each is checkable.
const pathComponent = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/
const hostPart =
  /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]+)?$/
const tagPattern = /^[\w][\w.-]{0,127}$/
const digestPattern = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}$/
const maxNameLength = 255

/** The Docker Hub host names every client treats as the same registry. */
const dockerHub = 'docker.io'

/**
 * Parses an image reference. Throws an InputError that says which part is wrong and what the
 * expected form is, e.g. an uppercase repository or a tag with a `/` (a branch name used raw,
 * the original kit's bug with `feature/x`).
 */
export function parseImageRef(text: string, what = 'image'): ImageRef {
  const fail = (why: string): never => {
    throw new InputError(
      `${what} ${quoteValue(text)} is not a valid image reference: ${why} (expected [registry/]repository[:tag][@sha256:digest])`
    )
  }
  if (text === '') fail('it is empty')
  // Anywhere, leading and trailing included: a reference is written where it was read (a
  // manifest, an image file), so a space trimmed here would still reach the kubelet.
  if (/\s/.test(text)) fail('it contains whitespace')

  let rest = text
  let digest: string | undefined
  const at = rest.indexOf('@')
  if (at >= 0) {
    digest = rest.slice(at + 1)
    rest = rest.slice(0, at)
    if (!digestPattern.test(digest)) fail(`digest ${quoteValue(digest)} is malformed`)
    // The reference grammar allows any algorithm, but registries and the kubelet know only
    // sha256 and sha512: anything else would be committed and then fail every pull.
    const algorithm = digest.slice(0, digest.indexOf(':'))
    if (algorithm !== 'sha256' && algorithm !== 'sha512')
      fail(`digest algorithm ${quoteValue(algorithm)} is not one registries use (sha256 or sha512)`)
    if (algorithm === 'sha256' && !/^sha256:[a-f0-9]{64}$/.test(digest))
      fail(`a sha256 digest has 64 lowercase hex characters, got ${quoteValue(digest)}`)
    if (algorithm === 'sha512' && !/^sha512:[a-f0-9]{128}$/.test(digest))
      fail(`a sha512 digest has 128 lowercase hex characters, got ${quoteValue(digest)}`)
  }

  // The tag is after the last ':' that comes after the last '/' (a registry port also has ':').
  let tag: string | undefined
  const lastSlash = rest.lastIndexOf('/')
  const colon = rest.indexOf(':', lastSlash + 1)
  if (colon >= 0) {
    tag = rest.slice(colon + 1)
    rest = rest.slice(0, colon)
    if (!tagPattern.test(tag))
      fail(
        `tag ${quoteValue(tag)} may hold only letters, digits, '_', '.' and '-' (at most 128, not starting with '.' or '-')`
      )
  }

  if (rest.length > maxNameLength) fail(`the name is longer than ${maxNameLength} characters`)
  const parts = rest.split('/')
  let registry: string | undefined
  // Docker's rule: the first component is a registry when it looks like a host.
  if (
    parts.length > 1 &&
    (parts[0].includes('.') || parts[0].includes(':') || parts[0] === 'localhost')
  ) {
    registry = parts.shift()
    if (!hostPart.test(registry as string))
      fail(`registry ${quoteValue(registry as string)} is not a host[:port]`)
  }
  for (const component of parts) {
    if (component === '') fail('the repository has an empty path component')
    if (!pathComponent.test(component))
      fail(
        `repository component ${quoteValue(component)} must be lowercase letters and digits separated by '.', '_', '__' or '-'`
      )
  }
  return { registry, repository: parts.join('/'), tag, digest }
}

/** The reference as text, parts in their canonical order. */
export function formatImageRef(ref: ImageRef): string {
  return (
    (ref.registry ? `${ref.registry}/` : '') +
    ref.repository +
    (ref.tag ? `:${ref.tag}` : '') +
    (ref.digest ? `@${ref.digest}` : '')
  )
}

/** The names the parts of a reference are given under (inputs or flags), for messages. */
export interface ImageRefPartNames {
  readonly registry: string
  readonly repository: string
  readonly tag: string
  readonly digest: string
}

/**
 * Builds a reference from separate parts (the registry + repository + tag inputs). A repository
 * that already names a registry is accepted when `registry` is empty. Each part is checked on
 * its own first, so an error names the part that is wrong (`names`: how the caller calls them).
 */
export function imageRefFromParts(
  parts: {
    registry?: string
    repository: string
    tag?: string
    digest?: string
  },
  names: ImageRefPartNames = {
    registry: 'registry',
    repository: 'repository',
    tag: 'tag',
    digest: 'digest'
  }
): ImageRef {
  const registry = parts.registry?.replace(/\/+$/, '')
  if (registry && !hostPart.test(registry))
    throw new InputError(
      `${names.registry} ${quoteValue(parts.registry as string)} is not a registry host[:port] (e.g. ghcr.io)`
    )
  const repository = parseImageRef(parts.repository, names.repository)
  if (repository.tag || repository.digest)
    throw new InputError(
      `${names.repository} ${quoteValue(parts.repository)} must not carry a tag or digest (set ${names.tag} or ${names.digest})`
    )
  if (parts.tag && !tagPattern.test(parts.tag))
    throw new InputError(
      `${names.tag} ${quoteValue(parts.tag)} may hold only letters, digits, '_', '.' and '-' (at most 128, not starting with '.' or '-')`
    )
  const base = registry ? `${registry}/${parts.repository}` : parts.repository
  const text = base + (parts.tag ? `:${parts.tag}` : '') + (parts.digest ? `@${parts.digest}` : '')
  return parseImageRef(text, names.digest && parts.digest ? names.digest : 'image')
}

/**
 * The registry and repository in the form every client resolves them to, so `nginx`,
 * `docker.io/nginx` and `index.docker.io/library/nginx` compare equal.
 */
export function canonicalRepository(ref: ImageRef): string {
  let registry = ref.registry ?? dockerHub
  if (registry === 'index.docker.io' || registry === 'registry-1.docker.io') registry = dockerHub
  const repository =
    registry === dockerHub && !ref.repository.includes('/')
      ? `library/${ref.repository}`
      : ref.repository
  return `${registry}/${repository}`
}

/** True when both references name the same repository (tag and digest ignored). */
export function sameRepository(a: ImageRef, b: ImageRef): boolean {
  return canonicalRepository(a) === canonicalRepository(b)
}

/**
 * `existing` moved to the tag and digest of `target`, keeping the name exactly as the file
 * spelled it (like `kustomize edit set image`): `nginx:1` stays `nginx`, not `docker.io/library/nginx`.
 */
export function retagImage(existing: ImageRef, target: ImageRef): ImageRef {
  return {
    registry: existing.registry,
    repository: existing.repository,
    tag: target.tag,
    digest: target.digest
  }
}

/** The last repository component: the default folder name under `images/`. */
export function defaultImageName(ref: ImageRef): string {
  const parts = ref.repository.split('/')
  return parts[parts.length - 1]
}

/** The version a person reads in a commit title: the tag, else the short digest. */
export function imageVersion(ref: ImageRef): string {
  if (ref.tag) return ref.tag
  if (ref.digest) return ref.digest.slice(0, ref.digest.indexOf(':') + 13)
  return 'latest'
}
