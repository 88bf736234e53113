/**
 * Parsing shared by the deployer action's inputs and `kit deploy`'s flags, so both accept
 * exactly the same forms and give the same errors. Pure: the environment is passed in.
 */
import { randomBytes } from 'node:crypto'
import { hostname, userInfo } from 'node:os'
import { InputError } from '../../errors.js'
import type { CredentialInputs } from '../cluster/types.js'
import type { Strategy } from './fast-rollback.js'
import type { WatchSettings } from '../cluster/watch.js'
import type { SlackNotify } from './slack.js'
import type { VersionIntent } from './version-guard.js'
import { loadYamlDocuments } from '../../yaml/load.js'
import { Redactor } from '../../secrets/redact.js'

/** Defaults shared by the action inputs and the CLI flags. */
export const fleetDefaults = {
  manifests: 'generated',
  timeoutMs: 10 * 60_000,
  concurrency: 5,
  pruneMax: 50,
  fastRollbackKeep: 2,
  lockTimeoutMs: 5 * 60_000,
  failFastGraceMs: 30_000,
  failFastThreshold: 0,
  unschedulableMs: 120_000
} as const

const envNamePattern = /^[A-Za-z_][A-Za-z0-9_]*$/

/**
 * `kubeconfigs`: one kubeconfig per cluster. Either lines of `cluster=ENV_NAME` (the kubeconfig
 * is in that environment variable, typically set from a secret with `env:`), or a JSON map of
 * cluster → environment variable name or kubeconfig text. The result maps cluster → text.
 * Errors name the cluster and the variable, never a value.
 */
export function parseKubeconfigsInput(
  text: string,
  env: Readonly<Record<string, string | undefined>>,
  inputName = 'kubeconfigs'
): Record<string, string> {
  const trimmed = text.trim()
  if (trimmed === '') return {}
  const out: Record<string, string> = {}
  const fromEnv = (cluster: string, name: string): string => {
    const value = env[name]
    if (value === undefined || value.trim() === '')
      throw new InputError(
        `${inputName}: cluster '${cluster}' names environment variable ${name}, which is not set or empty`
      )
    return value
  }
  if (trimmed.startsWith('{')) {
    let map: unknown
    try {
      map = JSON.parse(trimmed)
    } catch {
      // Never echo the text: it may hold credentials.
      throw new InputError(
        `${inputName}: looks like JSON but does not parse (expected {"cluster": "ENV_NAME or kubeconfig"})`
      )
    }
    if (typeof map !== 'object' || map === null || Array.isArray(map))
      throw new InputError(
        `${inputName}: the JSON must be an object of cluster → ENV_NAME or kubeconfig text`
      )
    for (const [cluster, value] of Object.entries(map as Record<string, unknown>)) {
      if (typeof value !== 'string' || value.trim() === '')
        throw new InputError(
          `${inputName}: the value for cluster '${cluster}' must be a non-empty string`
        )
      out[cluster] = envNamePattern.test(value.trim()) ? fromEnv(cluster, value.trim()) : value
    }
    return out
  }
  trimmed.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim()
    if (line === '' || line.startsWith('#')) return
    const m = line.match(/^([^=\s]+)\s*=\s*(\S+)$/)
    if (!m || !envNamePattern.test(m[2]))
      throw new InputError(
        `${inputName}: line ${i + 1} must be 'cluster=ENV_NAME' (the kubeconfig goes in that environment variable)`
      )
    if (out[m[1]] !== undefined)
      throw new InputError(`${inputName}: cluster '${m[1]}' is listed twice`)
    out[m[1]] = fromEnv(m[1], m[2])
  })
  return out
}

/** `key=value` pairs, one per line or comma-separated (labels and annotations inputs). */
export function parseKeyValues(text: string, inputName: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const raw of text.split(/[\n,]/)) {
    const item = raw.trim()
    if (item === '') continue
    const eq = item.indexOf('=')
    if (eq <= 0) throw new InputError(`${inputName}: '${item}' must be key=value`)
    out[item.slice(0, eq).trim()] = item.slice(eq + 1).trim()
  }
  return out
}

/**
 * `cluster-labels`: a JSON object of cluster → labels, or lines `cluster: key=value, key=value`.
 */
export function parseClusterLabels(
  text: string,
  inputName = 'cluster-labels'
): Map<string, Record<string, string>> {
  const out = new Map<string, Record<string, string>>()
  const trimmed = text.trim()
  if (trimmed === '') return out
  if (trimmed.startsWith('{')) {
    let map: unknown
    try {
      map = JSON.parse(trimmed)
    } catch (err) {
      throw new InputError(
        `${inputName}: invalid JSON: ${err instanceof Error ? err.message : String(err)}`
      )
    }
    for (const [cluster, labels] of Object.entries(map as Record<string, unknown>)) {
      if (
        typeof labels !== 'object' ||
        labels === null ||
        Object.values(labels).some((v) => typeof v !== 'string')
      )
        throw new InputError(
          `${inputName}: the labels of cluster '${cluster}' must be an object of strings`
        )
      out.set(cluster, labels as Record<string, string>)
    }
    return out
  }
  for (const raw of trimmed.split(/\r?\n/)) {
    const line = raw.trim()
    if (line === '' || line.startsWith('#')) continue
    const colon = line.indexOf(':')
    if (colon <= 0)
      throw new InputError(`${inputName}: '${line}' must be 'cluster: key=value, key=value'`)
    out.set(line.slice(0, colon).trim(), parseKeyValues(line.slice(colon + 1), inputName))
  }
  return out
}

/**
 * Every credential-like string in a kubeconfig (everything under `users`: tokens, keys,
 * certificates, passwords, exec arguments and env values), for masking. A text that does
 * not parse is masked whole by the caller; nothing here throws.
 */
export function kubeconfigSecrets(text: string): string[] {
  const out: string[] = []
  const walk = (v: unknown): void => {
    if (typeof v === 'string') out.push(v)
    else if (Array.isArray(v)) v.forEach(walk)
    else if (v && typeof v === 'object') Object.values(v).forEach(walk)
  }
  try {
    for (const doc of loadYamlDocuments(text, 'kubeconfig')) {
      const users = (doc.value as { users?: { user?: unknown }[] } | null)?.users
      if (Array.isArray(users)) users.forEach((u) => walk(u?.user))
    }
  } catch {
    // Unparseable: the caller masks the whole text; the loader reports the error without content.
  }
  return out.filter((s) => s.length >= 6)
}

/**
 * Registers a credential input (a kubeconfig, a token, a URL with a secret in it) with the
 * redactor and returns the strings the runner should mask too. A kubeconfig is masked by its
 * credential strings plus the whole text, never line by line: its ordinary lines
 * (`apiVersion: v1`) would otherwise be starred out of every log and summary. Text that is not
 * a kubeconfig is masked line by line, as the runner masks multi-line secrets.
 */
export function registerCredential(redactor: Redactor, value: string): string[] {
  const found = kubeconfigSecrets(value)
  if (found.length > 0) redactor.addWhole(value)
  else redactor.add(value)
  const parts = found.length > 0 ? found : value.split(/\r?\n/).map((l) => l.trim())
  const masked = parts.filter((v) => v.length >= Redactor.minLength)
  for (const v of masked) redactor.add(v)
  return masked
}

/** Who a run is: a unique lock identity, a human description, and the run's URL. */
export interface RunIdentity {
  readonly identity: string
  readonly description: string
  readonly runUrl?: string
  readonly repository?: string
}

/** The run identity from GitHub's environment, or the user and host for a local run. */
export function runIdentity(env: Readonly<Record<string, string | undefined>>): RunIdentity {
  const suffix = randomBytes(3).toString('hex')
  if (env.GITHUB_RUN_ID && env.GITHUB_REPOSITORY) {
    const server = env.GITHUB_SERVER_URL ?? 'https://github.com'
    const attempt = env.GITHUB_RUN_ATTEMPT ?? '1'
    const runUrl = `${server}/${env.GITHUB_REPOSITORY}/actions/runs/${env.GITHUB_RUN_ID}/attempts/${attempt}`
    return {
      identity: `${env.GITHUB_REPOSITORY}#${env.GITHUB_RUN_ID}.${attempt}${env.GITHUB_JOB ? `/${env.GITHUB_JOB}` : ''}-${suffix}`,
      description: runUrl,
      runUrl,
      repository: env.GITHUB_REPOSITORY
    }
  }
  let user = 'unknown'
  try {
    user = userInfo().username
  } catch {
    // No passwd entry (containers): keep 'unknown'.
  }
  const who = `${user}@${hostname()}`
  return {
    identity: `kit-cli:${who}:${process.pid}-${suffix}`,
    description: `kit deploy by ${who} (pid ${process.pid})`
  }
}

/** Which clusters a run deploys, and in what order: the fleet's section of a request. */
export interface FleetSection {
  /** Cluster names or globs; empty means every cluster that has manifests. */
  readonly clusters: readonly string[]
  /** A Kubernetes label selector: only manifests whose labels match are deployed. */
  readonly selector?: string
  readonly concurrency: number
  /** Ordered wave entries (names/globs), or empty. */
  readonly waves: readonly string[]
  /** Cluster label that orders waves (used when `waves` is empty). */
  readonly waveLabel?: string
  /** Cluster labels (from the render index and the cluster-labels input). */
  readonly clusterLabels: ReadonlyMap<string, Readonly<Record<string, string>>>
  /** With a dry run: a cluster that differs from the manifests fails the run (./drift.ts). */
  readonly failOnDrift?: boolean
}

/**
 * What each cluster's pipeline does: the cluster pipeline runs this section as it is (plus who
 * runs it), and the engine's options are a Pick of it.
 */
export interface ClusterSection {
  readonly dryRun: boolean
  readonly wait: boolean
  readonly timeoutMs: number
  /**
   * Pod fail-fast: a failing waiting reason must persist graceMs (or the container restart
   * twice); an Unschedulable pod fails after unschedulableMs; the workload is Degraded when at
   * least `threshold` pods of its new revision fail (0 means max(1, 25% of desired)).
   */
  readonly failFast: { graceMs: number; unschedulableMs: number; threshold: number }
  readonly rollbackOnFailure: boolean
  readonly waitForLoadBalancers?: boolean
  /** The watch window after healthy (../cluster/watch.ts); absent or 0 ms: none. */
  readonly watch?: WatchSettings
  /**
   * A changed StatefulSet rolls its highest ordinal first, through a partition
   * (../cluster/stateful-step.ts); absent: true.
   */
  readonly statefulStep?: boolean
  readonly prune: {
    readonly enabled: boolean
    readonly max: number
    readonly allowKinds: readonly string[]
  }
  readonly strategy: Strategy
  /** Previous fast-rollback versions kept per Deployment. */
  readonly fastRollbackKeep: number
  /** How long to wait for another run's lock on the cluster. */
  readonly lock: { readonly waitMs: number }
  /** The commit deployed, for the version guard and the cluster's version record. */
  readonly version: VersionIntent
  /** Inventory name (ApplySet parent and version record); '' or undefined for kit's default. */
  readonly inventory?: string
  /** Extra labels / annotations on every applied object. */
  readonly labels?: Readonly<Record<string, string>>
  readonly annotations?: Readonly<Record<string, string>>
}

/** What the front-end does around the run: GitHub Deployments and the webhook. */
export interface NotifySection {
  readonly githubDeployments: boolean
  readonly token?: string
  readonly environmentPrefix: string
  /**
   * The GitHub environment of each cluster's deployment, `{cluster}` standing for the cluster
   * (after environmentPrefix); unset: one environment per cluster.
   */
  readonly environment?: string
  readonly webhookUrl?: string
  /** A Slack incoming webhook (a credential) and when it is told (./slack.ts). */
  readonly slackWebhookUrl?: string
  readonly slackNotify?: SlackNotify
}

/**
 * Everything one deploy run is asked to do: what the action inputs and the CLI flags parse into
 * (shared/src/options/deploy.ts), in sections passed down as they are: `fleet` to the fleet
 * runner, `cluster` to each cluster's pipeline (the engine takes a Pick of it).
 */
export interface DeployRequest {
  readonly manifests: string
  readonly credentials: CredentialInputs
  readonly fleet: FleetSection
  readonly cluster: ClusterSection
  readonly notify: NotifySection
}
