/**
 * Cluster credentials from what GitHub secrets can hold: one kubeconfig with a context per
 * cluster, one kubeconfig per cluster, or a directory of kubeconfig files (kit's layout, the
 * cluster named by the file's `metadata.name` or else its file name); and from kubeconfig
 * files as kubectl finds them (a KUBECONFIG list, merged the way kubectl merges it, or
 * ~/.kube/config). Token, client-certificate and exec-plugin users all work (client-node runs
 * exec plugins itself).
 *
 * client-node's own KubeConfig.loadFromDefault reads a KUBECONFIG list, but not the way kubectl
 * does: a name defined in two files is an error there (kubectl keeps the first), the last
 * file's current-context wins (kubectl: the first that sets one), and a missing file is an
 * error (kubectl skips it). So the list is merged here, on the parsed files.
 *
 * Credential contents never appear in an error: messages name the source and the context,
 * and every token, key and certificate is registered with the redactor before anything else.
 */
import { readdir } from 'node:fs/promises'
import { readFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { basename, delimiter, dirname, isAbsolute, join, resolve } from 'node:path'
import { KubeConfig } from '@kubernetes/client-node'
import { InputError } from '../../errors.js'
import type { Redactor } from '../../secrets/redact.js'
import { loadYamlMapping } from '../../yaml/load.js'
import type { ClusterCredentials, ClusterMatch, CredentialInputs } from '../types.js'

const kubeconfigFile = /\.(ya?ml|conf|kubeconfig|config)$/

interface RawKubeconfig {
  kind?: unknown
  metadata?: { name?: unknown }
  clusters?: { name?: unknown; cluster?: Record<string, unknown> }[]
  contexts?: {
    name?: unknown
    context?: { cluster?: unknown; user?: unknown; namespace?: unknown }
  }[]
  users?: { name?: unknown; user?: Record<string, unknown> }[]
  'current-context'?: unknown
}

/** Which file (or input) each context, cluster and user of a kubeconfig came from. */
type SourceOf = (entry: 'context' | 'cluster' | 'user', name: unknown) => string

/**
 * Builds one KubeConfig per cluster. Throws an InputError for a malformed kubeconfig, a context
 * naming a missing cluster or user, or a cluster defined by two sources.
 */
export async function kubeConfigsFromInputs(
  inputs: CredentialInputs,
  redactor: Redactor
): Promise<ClusterCredentials> {
  const clusters = new Map<string, KubeConfig>()
  const sources = new Map<string, string>()
  const warnings: string[] = []
  const add = (name: string, kc: KubeConfig, source: string) => {
    const other = sources.get(name)
    if (other)
      throw new InputError(
        `cluster "${name}" has credentials in both ${other} and ${source}; keep one`
      )
    clusters.set(name, kc)
    sources.set(name, source)
  }

  if (inputs.kubeconfig !== undefined && inputs.kubeconfig.trim() !== '') {
    const source = 'the kubeconfig input'
    const raw = parseKubeconfig(inputs.kubeconfig, source, redactor)
    for (const ctx of raw.contexts ?? []) {
      const name = String(ctx.name)
      add(name, toKubeConfig(raw, name, source), `${source} (context "${name}")`)
    }
  }
  if (inputs.files) {
    const merged = mergeKubeconfigFiles(inputs.files.paths, inputs.files.from, redactor)
    warnings.push(...merged.warnings)
    for (const ctx of merged.raw.contexts ?? []) {
      const name = String(ctx.name)
      const file = merged.sourceOf('context', name)
      add(name, toKubeConfig(merged.raw, name, file), `${file} (context "${name}")`)
    }
  }
  for (const [cluster, text] of Object.entries(inputs.perCluster ?? {})) {
    const source = `the kubeconfig for cluster "${cluster}"`
    const raw = parseKubeconfig(text, source, redactor)
    add(cluster, toKubeConfig(raw, singleContext(raw, source), source), source)
  }
  if (inputs.directory !== undefined) {
    let entries
    try {
      entries = (await readdir(inputs.directory, { withFileTypes: true })).sort((a, b) =>
        a.name < b.name ? -1 : 1
      )
    } catch (err) {
      throw new InputError(
        `cannot read the kubeconfig directory (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
        {
          file: inputs.directory
        }
      )
    }
    for (const e of entries) {
      if (!e.isFile() || e.name.startsWith('.') || !kubeconfigFile.test(e.name)) continue
      const file = join(inputs.directory, e.name)
      // Relative certificate paths and exec commands are relative to the file (kubectl's rule).
      const raw = parseKubeconfig(
        readFileSync(file, 'utf8'),
        file,
        redactor,
        dirname(resolve(file))
      )
      const name =
        typeof raw.metadata?.name === 'string' && raw.metadata.name !== ''
          ? raw.metadata.name
          : basename(e.name).replace(kubeconfigFile, '')
      add(name, toKubeConfig(raw, singleContext(raw, file), file), file)
    }
  }
  return { clusters, sources, warnings }
}

/**
 * The kubeconfig files kubectl would read: the KUBECONFIG list (split on the platform's
 * delimiter, ':' on Linux and macOS), else ~/.kube/config. `exists` is false when the list is
 * unset and ~/.kube/config does not exist, so a caller with other sources can say so.
 */
export function defaultKubeconfigFiles(env: Readonly<Record<string, string | undefined>>): {
  paths: string[]
  from: string
  fromEnvironment: boolean
} {
  const list = (env.KUBECONFIG ?? '').split(delimiter).filter(Boolean)
  if (list.length > 0) return { paths: list, from: '$KUBECONFIG', fromEnvironment: true }
  const home = env.HOME || homedir()
  return { paths: [join(home, '.kube', 'config')], from: '~/.kube/config', fromEnvironment: false }
}

/**
 * What a credential value that should hold kubeconfig text holds instead, when it is plainly
 * not a kubeconfig: a file path, or base64. One line without a `key: value` pair is never a
 * kubeconfig, so this never refuses one that would parse.
 */
export function notKubeconfigText(value: string): 'a file path' | 'base64' | undefined {
  const t = value.trim()
  if (t === '' || t.includes('\n') || /:(\s|$)/.test(t) || /^[{[]/.test(t)) return undefined
  if (/^[A-Za-z0-9+/]{40,}={0,2}$/.test(t)) return 'base64'
  if (/[\\/]/.test(t) || /^[~.$]/.test(t) || /\.(ya?ml|json|conf|config|kubeconfig)$/.test(t))
    return 'a file path'
  return undefined
}

/**
 * Merges kubeconfig files the way kubectl merges a KUBECONFIG list: contexts, clusters and
 * users by name, the first file to define a name wins; current-context from the first file
 * that sets one. Relative paths in each file (certificate files, token files, exec commands)
 * are resolved against that file's folder first. A file that does not exist is skipped with a
 * warning (kubectl skips it silently); none existing is an error, and so is a file that cannot
 * be read or is not a kubeconfig.
 */
export function mergeKubeconfigFiles(
  paths: readonly string[],
  from: string,
  redactor: Redactor
): { raw: RawKubeconfig; sourceOf: SourceOf; warnings: string[] } {
  const merged: Required<Pick<RawKubeconfig, 'clusters' | 'contexts' | 'users'>> & RawKubeconfig = {
    kind: 'Config',
    clusters: [],
    contexts: [],
    users: []
  }
  const origin = new Map<string, string>()
  const missing: string[] = []
  for (const path of paths) {
    let text: string
    try {
      text = readFileSync(path, 'utf8')
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code
      if (code === 'ENOENT') {
        missing.push(path)
        continue
      }
      throw new InputError(
        `cannot read this kubeconfig file (${code ?? 'error'}), named by ${from}`,
        {
          file: path
        }
      )
    }
    const raw = readKubeconfig(text, path, redactor, dirname(resolve(path)))
    for (const entry of ['clusters', 'contexts', 'users'] as const) {
      const kind = entry.slice(0, -1)
      for (const item of Array.isArray(raw[entry]) ? raw[entry] : []) {
        const key = `${kind}\u0000${String(item?.name)}`
        if (origin.has(key)) continue
        origin.set(key, path)
        ;(merged[entry] as unknown[]).push(item)
      }
    }
    const current = raw['current-context']
    if (merged['current-context'] === undefined && typeof current === 'string' && current !== '')
      merged['current-context'] = current
  }
  const read = paths.length - missing.length
  if (read === 0)
    throw new InputError(
      paths.length === 1
        ? `the kubeconfig file ${paths[0]} (from ${from}) does not exist${paths[0].includes(delimiter) ? `; ${from} takes one file: for a list of files, set KUBECONFIG to the list` : ''}`
        : `none of the kubeconfig files in ${from} exists (${paths.join(', ')})`
    )
  const sourceOf: SourceOf = (entry, name) =>
    origin.get(`${entry}\u0000${String(name)}`) ?? `${from} (${paths.join(delimiter)})`
  checkKubeconfig(merged, sourceOf)
  const warnings = missing.map(
    (p) => `the kubeconfig file ${p} named by ${from} does not exist; the other files are used`
  )
  return { raw: merged, sourceOf, warnings }
}

/** Compares the clusters that have manifests with those that have credentials. */
export function matchClusters(
  manifestClusters: Iterable<string>,
  credentialClusters: Iterable<string>
): ClusterMatch {
  const m = new Set(manifestClusters)
  const c = new Set(credentialClusters)
  return {
    deployable: [...m].filter((x) => c.has(x)).sort(),
    missingCredentials: [...m].filter((x) => !c.has(x)).sort(),
    missingManifests: [...c].filter((x) => !m.has(x)).sort()
  }
}

/**
 * Parses and checks a kubeconfig's structure; registers its secrets first. With `baseDir`,
 * relative paths in it are resolved against that folder (the folder of the file it came from).
 */
function parseKubeconfig(
  text: string,
  source: string,
  redactor: Redactor,
  baseDir?: string
): RawKubeconfig {
  const raw = readKubeconfig(text, source, redactor, baseDir)
  checkKubeconfig(raw, () => source)
  return raw
}

/** The YAML of one kubeconfig: secrets registered, kind checked, relative paths resolved. */
function readKubeconfig(
  text: string,
  source: string,
  redactor: Redactor,
  baseDir: string | undefined
): RawKubeconfig {
  let value: Record<string, unknown>
  try {
    value = loadYamlMapping(text, source).value
  } catch (err) {
    // The parser's message may quote the offending line, which may hold a token: keep the position only.
    const line = err instanceof InputError ? err.where.line : undefined
    throw new InputError(
      `not a valid kubeconfig: YAML syntax error${line ? ` at line ${line}` : ''}`,
      {
        file: source
      }
    )
  }
  const raw = value as RawKubeconfig
  registerSecrets(raw, redactor)
  if (raw.kind !== undefined && raw.kind !== 'Config')
    throw new InputError(`not a kubeconfig: kind is ${JSON.stringify(raw.kind)}, expected Config`, {
      file: source
    })
  return baseDir ? withPathsFrom(raw, baseDir) : raw
}

/**
 * Every context names a cluster and a user that are defined, and every cluster has an
 * http(s) server. `sourceOf` says which file to name for an entry (one, unless merged).
 */
function checkKubeconfig(raw: RawKubeconfig, sourceOf: SourceOf): void {
  for (const field of ['clusters', 'contexts', 'users'] as const)
    if (!Array.isArray(raw[field]) || raw[field].length === 0)
      throw new InputError(`not a valid kubeconfig: "${field}" is missing or empty`, {
        file: sourceOf(field.slice(0, -1) as 'context', undefined)
      })
  const names = (list: { name?: unknown }[]) => new Set(list.map((x) => x?.name))
  const clusterNames = names(raw.clusters ?? [])
  const userNames = names(raw.users ?? [])
  for (const ctx of raw.contexts ?? []) {
    const file = sourceOf('context', ctx?.name)
    if (typeof ctx?.name !== 'string' || ctx.name === '')
      throw new InputError('not a valid kubeconfig: a context has no name', { file })
    if (!clusterNames.has(ctx.context?.cluster))
      throw new InputError(
        `context "${ctx.name}" names cluster ${JSON.stringify(ctx.context?.cluster)}, which is not defined`,
        { file }
      )
    if (!userNames.has(ctx.context?.user))
      throw new InputError(
        `context "${ctx.name}" names user ${JSON.stringify(ctx.context?.user)}, which is not defined`,
        { file }
      )
  }
  for (const c of raw.clusters ?? [])
    if (typeof c?.cluster?.server !== 'string' || !/^https?:\/\//.test(c.cluster.server))
      throw new InputError(`cluster "${String(c?.name)}" has no https:// server address`, {
        file: sourceOf('cluster', c.name)
      })
}

/** The context a single-cluster kubeconfig means: its current context, or its only one. */
function singleContext(raw: RawKubeconfig, source: string): string {
  const contexts = (raw.contexts ?? []).map((c) => String(c.name))
  if (typeof raw['current-context'] === 'string' && raw['current-context'] !== '') {
    if (!contexts.includes(raw['current-context']))
      throw new InputError(`current-context "${raw['current-context']}" is not defined`, {
        file: source
      })
    return raw['current-context']
  }
  if (contexts.length === 1) return contexts[0]
  throw new InputError(
    `holds ${contexts.length} contexts and no current-context; say which one to use`,
    {
      file: source
    }
  )
}

function toKubeConfig(raw: RawKubeconfig, context: string, source: string): KubeConfig {
  const kc = new KubeConfig()
  try {
    // Only this context, its cluster and its user: a kubeconfig of N clusters is then parsed
    // N times in all, not N² (and no KubeConfig holds another cluster's credentials).
    const ctx = raw.contexts?.find((c) => c.name === context)
    const clusters = raw.clusters?.filter((c) => c.name === ctx?.context?.cluster)
    const users = raw.users?.filter((u) => u.name === ctx?.context?.user)
    // JSON is YAML: hand client-node the already checked structure, not the original text.
    kc.loadFromString(
      JSON.stringify({
        ...raw,
        clusters,
        contexts: ctx ? [ctx] : [],
        users,
        'current-context': context
      })
    )
  } catch (err) {
    throw new InputError(
      `not a valid kubeconfig (${err instanceof Error ? err.message.split('\n')[0] : 'parse error'})`,
      {
        file: source
      }
    )
  }
  return kc
}

/**
 * The kubeconfig with its relative paths resolved against `baseDir`, as kubectl resolves them
 * against the file's folder: certificate-authority, client-certificate, client-key, token
 * files, and an exec plugin command that contains a path separator (a bare command name is
 * looked up on PATH).
 */
function withPathsFrom(raw: RawKubeconfig, baseDir: string): RawKubeconfig {
  const fix = (value: unknown): unknown =>
    typeof value === 'string' && value !== '' && !isAbsolute(value)
      ? resolve(baseDir, value)
      : value
  const fixFields = (o: Record<string, unknown> | undefined, fields: string[]) => {
    if (!o || typeof o !== 'object') return o
    const out = { ...o }
    for (const f of fields) if (f in out) out[f] = fix(out[f])
    return out
  }
  return {
    ...raw,
    clusters: Array.isArray(raw.clusters)
      ? raw.clusters.map((c) => ({
          ...c,
          cluster: fixFields(c?.cluster, ['certificate-authority'])
        }))
      : raw.clusters,
    users: Array.isArray(raw.users)
      ? raw.users.map((u) => {
          const user = fixFields(u?.user, [
            'client-certificate',
            'client-key',
            'tokenFile',
            'token-file'
          ])
          const exec = user?.exec as { command?: unknown } | undefined
          if (exec && typeof exec.command === 'string' && /[\\/]/.test(exec.command))
            return { ...u, user: { ...user, exec: { ...exec, command: fix(exec.command) } } }
          return { ...u, user }
        })
      : raw.users
  }
}

/** Every credential value in the kubeconfig, registered so no log or message can show it. */
function registerSecrets(raw: RawKubeconfig, redactor: Redactor): void {
  const visit = (v: unknown, key: string) => {
    if (typeof v === 'string') {
      if (/token|key|secret|password|certificate-data|cert-data|credential/i.test(key))
        redactor.add(v)
      return
    }
    if (Array.isArray(v)) v.forEach((x) => visit(x, key))
    else if (v && typeof v === 'object')
      for (const [k, x] of Object.entries(v))
        visit(x, k === 'value' && key === 'env' ? 'secret' : k)
  }
  for (const u of Array.isArray(raw.users) ? raw.users : []) {
    const user = u?.user ?? {}
    visit(user, 'user')
    // Exec plugin environment values (API keys and the like) are secret too.
    const env = (user.exec as { env?: { value?: unknown }[] } | undefined)?.env
    for (const e of Array.isArray(env) ? env : [])
      if (typeof e?.value === 'string') redactor.add(e.value)
  }
}
