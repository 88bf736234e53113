/**
 * A per-cluster deploy lock: a coordination.k8s.io Lease in the kit-system namespace, so two
 * runs (two workflow runs, a workflow and a laptop) never deploy one cluster at once.
 * Acquisition uses the API server's optimistic concurrency (create fails if it exists, replace
 * fails on a stale resourceVersion), so exactly one of two racing runs wins.
 */
import { KubeApiError, type ClusterClient, type KubeObject } from '../../k8s/types.js'
import type { ClusterDeadline } from './deadline.js'
import type { Clock, DeployLog } from '../cluster/types.js'

/** The namespace kit keeps its per-cluster bookkeeping in (lock, deploy state, ApplySet parent). */
export const kitSystemNamespace = 'kit-system'
export const lockName = 'kit-deploy-lock'
/** Annotation on the Lease describing the holder for humans (run URL, host). */
export const lockHolderAnnotation = 'kit.dev/lock-holder'

/** Raised when the lock stays held by another run past the wait limit. */
export class LockTimeoutError extends Error {
  constructor(
    message: string,
    readonly holder: string
  ) {
    super(message)
    this.name = 'LockTimeoutError'
  }
}

export interface LockOptions {
  /** Unique per run, e.g. `github:owner/repo:1234:1`; the Lease's holderIdentity. */
  readonly identity: string
  /** Who holds it, for the message another run shows (a run URL; never a secret). */
  readonly description: string
  /** How long the lease stays valid without renewal; a crashed run's lock expires after this. */
  readonly leaseSeconds?: number
  /** How long to wait for another run's lock before failing. */
  readonly waitMs: number
  readonly pollMs?: number
  readonly clock: Clock
  readonly log: DeployLog
  readonly signal?: AbortSignal
  /**
   * The cluster's deadline, moved by the time this run waits for another run's lock (the
   * wait has its own limit, `waitMs`).
   */
  readonly deadline?: ClusterDeadline
}

export interface LockHandle {
  /** Aborts when the lock is lost (renewal impossible, or taken over): the deploy must stop. */
  readonly lost: AbortSignal
  /**
   * Stops renewing and deletes the Lease if this run still holds it, through `via` when given
   * (a client with a budget of its own, once the cluster's deadline may have passed).
   */
  release(via?: ClusterClient): Promise<void>
}

/** MicroTime as the API wants it: RFC 3339 with exactly six fractional digits. */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z')
}

/**
 * Creates the kit-system namespace if it is missing (409 means another run, or our own
 * interrupted first attempt, just did).
 */
export async function ensureKitNamespace(client: ClusterClient): Promise<void> {
  try {
    await client.create(
      {
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: { name: kitSystemNamespace, labels: { 'app.kubernetes.io/managed-by': 'kit' } }
      },
      { retryInterrupted: true }
    )
  } catch (err) {
    if (!(err instanceof KubeApiError && err.statusCode === 409)) throw err
  }
}

interface LeaseSpec {
  holderIdentity?: string
  leaseDurationSeconds?: number
  acquireTime?: string
  renewTime?: string
  leaseTransitions?: number
}

function specOf(lease: KubeObject): LeaseSpec {
  return (lease.spec ?? {}) as LeaseSpec
}

/** Whether a Lease has expired: not renewed within its duration (or never held). */
export function leaseExpired(lease: KubeObject, nowMs: number): boolean {
  const spec = specOf(lease)
  if (!spec.holderIdentity) return true
  const renewed = Date.parse(spec.renewTime ?? spec.acquireTime ?? '')
  if (Number.isNaN(renewed)) return true
  return renewed + (spec.leaseDurationSeconds ?? 0) * 1000 < nowMs
}

function describeHolder(lease: KubeObject): string {
  const spec = specOf(lease)
  const who = lease.metadata.annotations?.[lockHolderAnnotation]
  return `${spec.holderIdentity ?? '(none)'}${who && who !== spec.holderIdentity ? ` (${who})` : ''}`
}

/** The Lease's identity: one per cluster, in kit-system. */
const leaseRef = {
  apiVersion: 'coordination.k8s.io/v1',
  kind: 'Lease',
  namespace: kitSystemNamespace,
  name: lockName
}

/** The Lease's renewal period and default duration: a crashed run's lock expires after this. */
const defaultLeaseSeconds = 60

/**
 * Takes the cluster's deploy lock, waiting up to `waitMs` while another run holds it, and
 * keeps it renewed until released. An expired lease (its holder crashed or was cancelled) is
 * taken over.
 */
export async function acquireLock(
  client: ClusterClient,
  options: LockOptions
): Promise<LockHandle> {
  const held = await takeLease(client, options)
  return keepRenewed(client, held, options)
}

/** The Lease as this run writes it: held by `options.identity`, over `base` when it exists. */
function leaseBody(
  options: LockOptions,
  base: KubeObject | undefined,
  transitions: number
): KubeObject {
  return {
    apiVersion: leaseRef.apiVersion,
    kind: leaseRef.kind,
    metadata: {
      ...(base?.metadata ?? {}),
      name: lockName,
      namespace: kitSystemNamespace,
      annotations: {
        ...(base?.metadata.annotations ?? {}),
        [lockHolderAnnotation]: options.description
      }
    },
    spec: {
      holderIdentity: options.identity,
      leaseDurationSeconds: options.leaseSeconds ?? defaultLeaseSeconds,
      acquireTime: microTime(options.clock.now()),
      renewTime: microTime(options.clock.now()),
      leaseTransitions: transitions
    }
  }
}

/**
 * Creates the Lease blind: the usual case (nobody holds the lock) costs one request, and a
 * missing kit-system namespace is created only when the create says so. A create cut off
 * mid-request is retried: if the first one did land, the retry's 409 leads to reading the
 * Lease, which names this run as holder, and takeLease takes it.
 */
async function createLease(client: ClusterClient, options: LockOptions): Promise<KubeObject> {
  const createOptions = { retryInterrupted: true }
  try {
    return await client.create(leaseBody(options, undefined, 0), createOptions)
  } catch (err) {
    if (!isStatus(err, 404)) throw err
    await ensureKitNamespace(client)
    return client.create(leaseBody(options, undefined, 0), createOptions)
  }
}

/**
 * Holds the Lease, waiting while another run does; fails with LockTimeoutError after waitMs.
 * The time spent waiting moves the cluster's deadline (and only that time).
 */
async function takeLease(client: ClusterClient, options: LockOptions): Promise<KubeObject> {
  let waited: (() => void) | undefined
  try {
    return await pollLease(client, options, () => {
      waited ??= options.deadline?.waiting(options.waitMs)
    })
  } finally {
    waited?.()
  }
}

/** The loop of takeLease; `waiting()` is called when another run is found holding the lock. */
async function pollLease(
  client: ClusterClient,
  options: LockOptions,
  waiting: () => void
): Promise<KubeObject> {
  const { clock, log } = options
  const pollMs = options.pollMs ?? 2000
  const started = clock.now()
  let announced = false
  let tryCreate = true
  for (;;) {
    options.signal?.throwIfAborted()
    if (tryCreate) {
      try {
        return await createLease(client, options)
      } catch (err) {
        // It exists: see who holds it.
        if (!isStatus(err, 409)) throw err
      }
    }
    const live = await client.get(leaseRef)
    tryCreate = !live
    if (!live) continue
    const held = await takeOverIfFree(client, live, options)
    if (held) return held
    if (leaseExpired(live, clock.now())) continue
    const waited = clock.now() - started
    if (waited >= options.waitMs) throw lockTimeout(client, live, waited)
    if (!announced) {
      log.info(`waiting for the deploy lock held by ${describeHolder(live)}`)
      announced = true
      waiting()
    }
    await clock.sleep(Math.min(pollMs, options.waitMs - waited), options.signal)
  }
}

/**
 * Replaces the live Lease with this run's when this run holds it already or it has expired;
 * undefined when another run holds it, or won the race between our read and our write.
 */
async function takeOverIfFree(
  client: ClusterClient,
  live: KubeObject,
  options: LockOptions
): Promise<KubeObject | undefined> {
  const holder = specOf(live).holderIdentity
  if (holder !== options.identity && !leaseExpired(live, options.clock.now())) return undefined
  try {
    if (holder && holder !== options.identity)
      options.log.warning(`taking over the expired deploy lock of ${describeHolder(live)}`)
    return await client.replace(leaseBody(options, live, (specOf(live).leaseTransitions ?? 0) + 1))
  } catch (err) {
    // Another run won the race between our read and our write: read again.
    if (!isStatus(err, 409)) throw err
    return undefined
  }
}

function lockTimeout(client: ClusterClient, live: KubeObject, waited: number): LockTimeoutError {
  const spec = specOf(live)
  return new LockTimeoutError(
    `cluster ${client.cluster} is locked by another deploy: ${describeHolder(live)}, ` +
      `holding it since ${spec.acquireTime ?? '?'} (last renewed ${spec.renewTime ?? '?'}); ` +
      `waited ${Math.round(waited / 1000)}s (lock-timeout)`,
    spec.holderIdentity ?? ''
  )
}

/**
 * Renews the held Lease every third of its duration until released. `lost` aborts when the
 * Lease was taken over, or renewals failed for longer than its duration.
 */
function keepRenewed(client: ClusterClient, held: KubeObject, options: LockOptions): LockHandle {
  const { clock } = options
  const leaseSeconds = options.leaseSeconds ?? defaultLeaseSeconds
  const lost = new AbortController()
  let current: KubeObject = held
  let lastRenewed = clock.now()
  let stopped = false
  const periodMs = Math.max(1000, (leaseSeconds * 1000) / 3)
  const renew = async (): Promise<void> => {
    // Each renewal is bounded by its period, not by the cluster's deadline: the lock is kept
    // while a rollback runs after that deadline, and a renewal to a cluster that stopped
    // answering never holds up the release.
    const via = client.detached?.(Date.now() + periodMs) ?? client
    try {
      const next = structuredClone(current)
      ;(next.spec as LeaseSpec).renewTime = microTime(clock.now())
      current = await via.replace(next)
      lastRenewed = clock.now()
    } catch (err) {
      if (isStatus(err, 409)) {
        const taken = await stillOurs(via, options.identity)
        if (taken.ours) current = taken.live
        else lost.abort(new Error(`lost the deploy lock of ${client.cluster} to ${taken.holder}`))
        return
      }
      options.log.warning(
        `could not renew the deploy lock: ${err instanceof Error ? err.message : String(err)}`
      )
      if (clock.now() - lastRenewed > leaseSeconds * 1000)
        lost.abort(new Error(`the deploy lock of ${client.cluster} expired: renewals failed`))
    }
  }
  let renewing: Promise<void> = Promise.resolve()
  const timer = setInterval(() => {
    if (stopped || lost.signal.aborted) return
    renewing = renewing.then(renew)
  }, periodMs)
  // Renewal must never keep a finished process alive on its own.
  timer.unref()
  return {
    lost: lost.signal,
    async release(via) {
      stopped = true
      clearInterval(timer)
      await renewing
      await deleteIfUnchanged(via ?? client, current)
    }
  }
}

/** After a renewal's 409: the Lease as it is now, and whether this run still holds it. */
async function stillOurs(
  client: ClusterClient,
  identity: string
): Promise<{ ours: true; live: KubeObject } | { ours: false; holder: string }> {
  const live = await client.get(leaseRef).catch(() => undefined)
  if (live && specOf(live).holderIdentity === identity) return { ours: true, live }
  return { ours: false, holder: live ? describeHolder(live) : 'nobody' }
}

/**
 * Deletes the Lease only if it is still the very one this run last wrote (one request; a 409
 * means another run holds it now, and it is left alone).
 */
async function deleteIfUnchanged(client: ClusterClient, current: KubeObject): Promise<void> {
  try {
    await client.delete(leaseRef, {
      preconditions: {
        uid: current.metadata.uid,
        resourceVersion: current.metadata.resourceVersion
      }
    })
  } catch (err) {
    if (!isStatus(err, 409)) throw err
  }
}

function isStatus(err: unknown, statusCode: number): err is KubeApiError {
  return err instanceof KubeApiError && err.statusCode === statusCode
}
