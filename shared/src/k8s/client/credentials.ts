/**
 * Cluster credentials from what GitHub secrets can hold: one kubeconfig with a context per
 * cluster, one kubeconfig per cluster, or a directory of kubeconfig files (kit's layout, the
 * cluster named by the file's `metadata.name` or else its file name). Token, client-certificate
 * and exec-plugin users all work (client-node runs exec plugins itself).
 *
 * Credential contents never appear in an error: messages name the source and the context,
 * and every token, key and certificate is registered with the redactor before anything else.
 */
import { readdir } from 'node:fs/promises'
import { readFileSync } from 'node:fs'
import { basename, dirname, isAbsolute, join, resolve } from 'node:path'
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
      const raw = parseKubeconfig(readFileSync(file, 'utf8'), file, redactor)
      const name =
        typeof raw.metadata?.name === 'string' && raw.metadata.name !== ''
          ? raw.metadata.name
          : basename(e.name).replace(kubeconfigFile, '')
      // Relative certificate paths and exec commands are relative to the file (kubectl's rule).
      add(name, toKubeConfig(raw, singleContext(raw, file), file, dirname(resolve(file))), file)
    }
  }
  return { clusters, sources }
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

/** Parses and checks a kubeconfig's structure; registers its secrets first. */
function parseKubeconfig(text: string, source: string, redactor: Redactor): RawKubeconfig {
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
  for (const field of ['clusters', 'contexts', 'users'] as const)
    if (!Array.isArray(raw[field]) || raw[field].length === 0)
      throw new InputError(`not a valid kubeconfig: "${field}" is missing or empty`, {
        file: source
      })
  const names = (list: { name?: unknown }[]) => new Set(list.map((x) => x.name))
  const clusterNames = names(raw.clusters ?? [])
  const userNames = names(raw.users ?? [])
  for (const ctx of raw.contexts ?? []) {
    if (typeof ctx.name !== 'string' || ctx.name === '')
      throw new InputError('not a valid kubeconfig: a context has no name', { file: source })
    if (!clusterNames.has(ctx.context?.cluster))
      throw new InputError(
        `context "${ctx.name}" names cluster ${JSON.stringify(ctx.context?.cluster)}, which is not defined`,
        {
          file: source
        }
      )
    if (!userNames.has(ctx.context?.user))
      throw new InputError(
        `context "${ctx.name}" names user ${JSON.stringify(ctx.context?.user)}, which is not defined`,
        {
          file: source
        }
      )
  }
  for (const c of raw.clusters ?? [])
    if (typeof c.cluster?.server !== 'string' || !/^https?:\/\//.test(c.cluster.server))
      throw new InputError(`cluster "${String(c.name)}" has no https:// server address`, {
        file: source
      })
  return raw
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

function toKubeConfig(
  raw: RawKubeconfig,
  context: string,
  source: string,
  baseDir?: string
): KubeConfig {
  const kc = new KubeConfig()
  try {
    // Only this context, its cluster and its user: a kubeconfig of N clusters is then parsed
    // N times in all, not N² (and no KubeConfig holds another cluster's credentials).
    const ctx = raw.contexts?.find((c) => c.name === context)
    const clusters = raw.clusters?.filter((c) => c.name === ctx?.context?.cluster)
    const ownUsers = raw.users?.filter((u) => u.name === ctx?.context?.user)
    const users = baseDir ? ownUsers?.map((u) => withExecCommandFrom(u, baseDir)) : ownUsers
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
    if (baseDir) kc.makePathsAbsolute(baseDir)
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
 * kubectl resolves an exec plugin command that contains a path separator against the
 * kubeconfig's directory (client-node's makePathsAbsolute leaves it alone).
 */
function withExecCommandFrom(
  u: NonNullable<RawKubeconfig['users']>[number],
  baseDir: string
): NonNullable<RawKubeconfig['users']>[number] {
  const exec = u.user?.exec as { command?: unknown } | undefined
  if (
    !exec ||
    typeof exec.command !== 'string' ||
    !exec.command.includes('/') ||
    isAbsolute(exec.command)
  )
    return u
  return { ...u, user: { ...u.user, exec: { ...exec, command: resolve(baseDir, exec.command) } } }
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
