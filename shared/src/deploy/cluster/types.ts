/**
 * The contract between the per-cluster deploy engine (this folder) and its callers: the fleet
 * runner (shared/src/deploy/fleet), the deployer action (deployer/) and the CLI (cli/). Callers
 * import from ./index.ts, which exports these types with the functions below.
 *
 * Functions:
 *   deployCluster(target, manifests, options): Promise<ClusterResult>   — ./deploy.ts
 *   deployWithClient(client, manifests, options): Promise<ClusterResult> — same engine, any ClusterClient (fakes)
 *   loadManifestsDir(dir, options?): Promise<Map<cluster, Manifest[]>>   — ../../k8s/manifests.ts
 *   kubeConfigsFromInputs(inputs, redactor): Promise<ClusterCredentials> — ../../k8s/client/credentials.ts
 *   matchClusters(manifestClusters, credentialClusters): ClusterMatch    — ../../k8s/client/credentials.ts
 *   createClusterClient(name, kubeConfig, options?): ClusterClient       — ../../k8s/client/client.ts
 *
 * Pass `redactor` to createClusterClient so exec-plugin tokens are registered, and call
 * `close()` when done. A client's optional `detached(deadlineAt)` is a sibling without the
 * abort signal and the cluster's deadline, bounded by a deadline of its own: the engine rolls
 * back through it, and the fleet settles its records and releases the lock through it, after
 * an abort or once the cluster's time is up.
 */
import type { KubeConfig } from '../../k8s/client/kubeconfig-type.js'
import type { Redactor } from '../../secrets/redact.js'
import type { ClusterSection } from '../fleet/settings.js'
import type { Evidence } from './watch-state.js'

export type { KubeConfig }
export type {
  Manifest,
  CredentialInputs,
  ClusterCredentials,
  ClusterMatch,
  LoadManifestsOptions,
  KubeObject,
  ObjectRef,
  ObjectMeta,
  ClusterClient,
  KubeEvent,
  ListOptions
} from '../../k8s/types.js'
export { KubeApiError, ClusterUnreachableError } from '../../k8s/types.js'

/** A cluster to deploy to: its name and a KubeConfig whose current context points at it. */
export interface ClusterTarget {
  readonly name: string
  readonly kubeConfig: KubeConfig
}

/** The logger the engine writes to (core.info/warning/debug, or a CLI printer). */
export interface DeployLog {
  info(message: string): void
  warning(message: string): void
  debug(message: string): void
}

/** Time, injectable so the wait loop is testable without real sleeps. */
export interface Clock {
  now(): number
  sleep(ms: number, signal?: AbortSignal): Promise<void>
}

/**
 * The engine's options: its view of the request's cluster section (a Pick of it, so nothing
 * is reshaped on the way), and what the caller adds for one run.
 */
export type DeployClusterOptions = Pick<
  ClusterSection,
  | 'dryRun'
  | 'wait'
  | 'timeoutMs'
  | 'failFast'
  | 'rollbackOnFailure'
  | 'waitForLoadBalancers'
  | 'watch'
  | 'statefulStep'
> &
  DeployClusterRun

/** What the caller of the engine adds to the request's settings for one cluster. */
export interface DeployClusterRun {
  /** Labels added to every applied object (the fleet runner's ApplySet part-of label). */
  readonly labels?: Record<string, string>
  /** Annotations added to every applied object (e.g. the deployed commit). */
  readonly annotations?: Record<string, string>
  readonly log: DeployLog
  /** Everything the engine prints or returns goes through this scrubber. */
  readonly redactor: Redactor
  /** Aborts the cluster's deploy (the run was cancelled, the lock was lost, the backstop). */
  readonly signal?: AbortSignal
  /**
   * Epoch ms at which the cluster's time is up (the fleet's cluster deadline, counted from the
   * cluster's start); default: `timeoutMs` after the engine starts. Apply and wait end there;
   * a rollback has until `timeoutMs` after it (see ./rollback.ts).
   */
  readonly deadlineAt?: number
  /** A progress line at least this often while waiting; default 20_000. */
  readonly heartbeatMs?: number
  /** How often to poll status while waiting; default 2_000. */
  readonly pollMs?: number
  readonly clock?: Clock
  /**
   * Awaited once, after the engine's reads and before its first write (dry-run writes included):
   * false stops the deploy there, with nothing written, as `skipped`. It lets a caller's own
   * checks (the fleet's version guard and ApplySet parent) run while the engine reads live state.
   */
  readonly writeGate?: () => Promise<boolean>
}

/** What happened to one object (flux ChangeSet style). */
export type ChangeAction = 'created' | 'configured' | 'unchanged' | 'deleted' | 'failed' | 'skipped'

export interface ChangeEntry {
  readonly kind: string
  readonly namespace?: string
  readonly name: string
  readonly action: ChangeAction
  /** A unified-style diff of live → desired, Secret values redacted (dry run, and changed objects). */
  readonly diff?: string
  /** One line on why (failed/skipped entries, recreated Jobs). */
  readonly message?: string
}

/** One reason a cluster's deploy failed, precise enough to act on. */
export interface Failure {
  /** Kind/namespace/name of the object that failed. */
  readonly object: string
  readonly pod?: string
  readonly container?: string
  readonly reason: string
  readonly message: string
  /** Recent Warning events of the object and its pods, one line each. */
  readonly events: string[]
}

export type ClusterOutcome = 'changed' | 'unchanged' | 'failed' | 'rolled-back' | 'skipped'

export interface ClusterResult {
  readonly cluster: string
  readonly outcome: ClusterOutcome
  readonly changes: ChangeEntry[]
  readonly failures: Failure[]
  readonly durationMs: number
  /** One line, redacted; set for failed, rolled-back and skipped outcomes. */
  readonly reason?: string
  readonly rolledBack?: boolean
  /** Set when the watch window after healthy found the cluster degraded (./watch.ts). */
  readonly degraded?: Degradation
}

export type { Evidence }

/** What the watch window after healthy found: when, and the evidence. */
export interface Degradation {
  /** From healthy (the window's start) to when the evidence was seen. */
  readonly afterMs: number
  readonly evidence: readonly Evidence[]
}
