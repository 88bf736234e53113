/**
 * The shapes every Kubernetes-facing part of kit shares: an object as plain data, a reference
 * to one, and the small cluster-client interface the engine talks through. Pure: no client
 * library here, so the cores stay table-testable with an in-memory fake.
 */
import type { KubeConfig } from './client/kubeconfig-type.js'

/** Object metadata as kit reads and writes it (a subset of ObjectMeta; the rest passes through). */
export interface ObjectMeta {
  name: string
  namespace?: string
  labels?: Record<string, string>
  annotations?: Record<string, string>
  uid?: string
  resourceVersion?: string
  generation?: number
  creationTimestamp?: string
  deletionTimestamp?: string
  ownerReferences?: {
    apiVersion: string
    kind: string
    name: string
    uid: string
    controller?: boolean
  }[]
  managedFields?: unknown[]
  [key: string]: unknown
}

/**
 * A Kubernetes object as plain JSON data. Structurally assignable to client-node's
 * KubernetesObject, but with the identity fields required (kit never handles anonymous objects).
 */
export interface KubeObject {
  apiVersion: string
  kind: string
  metadata: ObjectMeta
  [key: string]: unknown
}

/** Identifies one object: group/version, kind, namespace (absent for cluster-scoped), name. */
export interface ObjectRef {
  readonly apiVersion: string
  readonly kind: string
  readonly namespace?: string
  readonly name: string
}

/** What list calls may filter on. */
export interface ListOptions {
  readonly namespace?: string
  readonly labelSelector?: string
  readonly fieldSelector?: string
}

/** One change of a watched collection, as the API's watch stream sends it. */
export interface WatchEvent {
  /** BOOKMARK carries only a resourceVersion; ERROR carries a Status (410: the version is gone). */
  readonly type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR'
  readonly object: KubeObject
}

/** What a watch stream follows, and from when. */
export interface WatchRequest extends ListOptions {
  /**
   * Changes after this version (the last event's or bookmark's). Unset: the stream starts with
   * the collection as it is now, one ADDED event per object.
   */
  readonly resourceVersion?: string
  /** The server ends the stream after this many seconds. */
  readonly timeoutSeconds?: number
  /** Ends the stream: its iteration then finishes without an error. */
  readonly signal?: AbortSignal
}

/** A core/v1 Event reduced to what failure reports need. */
export interface KubeEvent {
  readonly type: string
  readonly reason: string
  readonly message: string
  readonly involvedObject: { kind: string; name: string; namespace?: string; uid?: string }
  readonly count: number
  /** ISO time of the last occurrence (lastTimestamp, eventTime or firstTimestamp). */
  readonly lastTime: string
}

/** How a delete propagates to dependents (the API's propagationPolicy). */
export type PropagationPolicy = 'Foreground' | 'Background' | 'Orphan'

/** Delete only this very object: a mismatch fails with 409 Conflict and deletes nothing. */
export interface DeletePreconditions {
  readonly uid?: string
  readonly resourceVersion?: string
}

/**
 * The only way kit code talks to a cluster. The client-node adapter implements it with
 * retries for transient errors; tests implement it in memory. Every method throws a
 * KubeApiError for API answers and a ClusterUnreachableError when the cluster cannot be reached.
 */
export interface ClusterClient {
  /** The cluster's name, for messages. */
  readonly cluster: string
  /** Where namespaced objects without a namespace go (the context's namespace; 'default' when absent). */
  readonly defaultNamespace?: string
  /** The live object, or undefined when it does not exist (404). */
  get(ref: ObjectRef): Promise<KubeObject | undefined>
  /** Objects of one kind (items carry apiVersion and kind). */
  list(apiVersion: string, kind: string, options?: ListOptions): Promise<KubeObject[]>
  /**
   * Server-side apply with field manager 'kit' and force (kit owns the fields it sets).
   * With dryRun the server computes the result without persisting it (dryRun=All).
   * If `object.metadata.resourceVersion` is set it is a precondition (409 on mismatch).
   */
  apply(object: KubeObject, options?: { dryRun?: boolean }): Promise<KubeObject>
  /**
   * Plain create (POST); 409 AlreadyExists when it exists. A create interrupted mid-request
   * (reset, timeout) may or may not have happened, so it is retried only with
   * `retryInterrupted`, which a caller sets when it treats a 409 as "it exists; look at it".
   */
  create(
    object: KubeObject,
    options?: { dryRun?: boolean; retryInterrupted?: boolean }
  ): Promise<KubeObject>
  /** Full replace (PUT), with the object's resourceVersion as precondition when set. */
  replace(object: KubeObject): Promise<KubeObject>
  /**
   * Deletes; resolves false when the object was already gone. With preconditions, a 409
   * Conflict when the live object is not that uid/resourceVersion.
   */
  delete(
    ref: ObjectRef,
    options?: {
      propagationPolicy?: PropagationPolicy
      dryRun?: boolean
      preconditions?: DeletePreconditions
    }
  ): Promise<boolean>
  /** Events in a namespace, optionally only those about one object (by kind and name). */
  listEvents(
    namespace: string,
    involved?: { kind: string; name: string; uid?: string }
  ): Promise<KubeEvent[]>
  /**
   * A watch stream (`?watch=1`, bookmarks asked for): opening it is retried like a read; the
   * events then arrive in order until the server ends the stream (its iteration finishes), the
   * connection breaks (it throws), or the request's signal, the client's signal or its deadline
   * ends it (it finishes). Optional: fakes without streams leave it out.
   */
  watch?(
    apiVersion: string,
    kind: string,
    request: WatchRequest
  ): Promise<AsyncIterable<WatchEvent>>
  /** Whether a kind is namespaced, from API discovery; throws a KubeApiError 404 for unknown kinds. */
  isNamespaced(apiVersion: string, kind: string): Promise<boolean>
  /** Forgets cached discovery (after CRDs were created). */
  resetDiscovery(): void
  /**
   * The same client (same connections and discovery) without the abort signal and the deadline
   * it was created with, bounded instead by `deadlineAt` (epoch ms; none when omitted), so a
   * deploy that was aborted or ran out of time can still roll back, settle its records and
   * release its lock, within a budget of their own. Optional: clients without a signal or a
   * deadline need not implement it.
   */
  detached?(deadlineAt?: number): ClusterClient
}

/**
 * When a cluster's work must be done. Read before every request attempt, since it may move:
 * waiting for another run's deploy lock adds the time waited.
 */
export interface Deadline {
  /** Epoch ms. */
  at(): number
  /** What the deadline is, for messages: "the cluster's timeout of 10s". */
  readonly what: string
}

/** An answer from the API server that is an error (status code and the Status reason). */
export class KubeApiError extends Error {
  constructor(
    message: string,
    readonly statusCode: number,
    /** The Status object's `reason`, e.g. NotFound, AlreadyExists, Conflict, Invalid. */
    readonly reason: string = '',
    /** Field causes from an Invalid status (field path and message), for immutable-field handling. */
    readonly causes: readonly { field?: string; message?: string; reason?: string }[] = [],
    /** Seconds the server asked us to wait (Retry-After on 429/503). */
    readonly retryAfterSeconds?: number
  ) {
    super(message)
    this.name = 'KubeApiError'
  }
}

/**
 * The cluster's work cannot go on, whatever object it concerns: the cluster could not be
 * reached after retries (connection refused, DNS, timeouts), its certificate is not trusted,
 * it refused the credentials (401), or the cluster's time ran out. `reason` says which.
 */
export class ClusterUnreachableError extends Error {
  constructor(
    message: string,
    readonly cluster: string,
    readonly reason: ClusterFailureReason = 'Unreachable'
  ) {
    super(message)
    this.name = 'ClusterUnreachableError'
  }
}

/** Why a cluster's work stopped as a whole (a Failure's `reason` for the cluster). */
export type ClusterFailureReason =
  'Unreachable' | 'TLSVerificationFailed' | 'Unauthorized' | 'DeadlineExceeded'

/** One object to apply, with where it came from (for error annotations). */
export interface Manifest {
  readonly object: KubeObject
  readonly source: { readonly file: string; readonly line: number }
}

/** Where cluster credentials come from (one or more may be given; they are merged). */
export interface CredentialInputs {
  /** One kubeconfig text with a context per cluster (cluster name = context name). */
  readonly kubeconfig?: string
  /** One kubeconfig text per cluster (cluster name → text; its current context is used). */
  readonly perCluster?: Readonly<Record<string, string>>
  /**
   * A directory of kubeconfig files (kit layout): each *.yaml / *.yml / *.conf / *.kubeconfig
   * file is one cluster, named by its `metadata.name` or else by its file name without extension.
   */
  readonly directory?: string
  /**
   * Kubeconfig files merged the way kubectl merges a KUBECONFIG list (the first file to set a
   * context, cluster or user by name wins; current-context from the first file that sets it),
   * then read like `kubeconfig`: a context per cluster. A missing file is skipped with a
   * warning; all of them missing is an error.
   */
  readonly files?: { readonly paths: readonly string[]; readonly from: string }
}

export interface ClusterCredentials {
  /** Cluster name → a KubeConfig whose current context is that cluster. */
  readonly clusters: Map<string, KubeConfig>
  /** Cluster name → where its credentials came from (for messages; never the content). */
  readonly sources: Map<string, string>
  /** What the caller should warn about (kubeconfig files of a list that do not exist). */
  readonly warnings: readonly string[]
}

/** Clusters compared between the manifests and the credentials. */
export interface ClusterMatch {
  /** Clusters with both manifests and credentials, sorted. */
  readonly deployable: string[]
  /** Clusters with manifests but no credentials (report: cannot deploy). */
  readonly missingCredentials: string[]
  /** Clusters with credentials but no manifests (report: nothing to deploy). */
  readonly missingManifests: string[]
}

/** Options of loadManifestsDir. */
export interface LoadManifestsOptions {
  /** Only these clusters (others are not read). */
  readonly clusters?: readonly string[]
}
