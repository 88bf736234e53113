/**
 * A per-cluster deploy lock: a coordination.k8s.io Lease in the kit-system namespace, so two
 * runs (two workflow runs, a workflow and a laptop) never deploy one cluster at once.
 * Acquisition uses the API server's optimistic concurrency (create fails if it exists, replace
 * fails on a stale resourceVersion), so exactly one of two racing runs wins.
 */
import { KubeApiError, type ClusterClient, type KubeObject } from '../../k8s/types.js'
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
}

export interface LockHandle {
  /** Aborts when the lock is lost (renewal impossible, or taken over): the deploy must stop. */
  readonly lost: AbortSignal
  /** Stops renewing and deletes the Lease if this run still holds it. */
  release(): Promise<void>
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

/**
 * Takes the cluster's deploy lock, waiting up to `waitMs` while another run holds it, and
 * keeps it renewed until released. An expired lease (its holder crashed or was cancelled) is
 * taken over.
 */
export async function acquireLock(
  client: ClusterClient,
  options: LockOptions
): Promise<LockHandle> {
  const leaseSeconds = options.leaseSeconds ?? 60
  const pollMs = options.pollMs ?? 2000
  const { clock, log } = options
  const ref = {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    namespace: kitSystemNamespace,
    name: lockName
  }
  const started = clock.now()
  let announced = false
  const desired = (base: KubeObject | undefined, transitions: number): KubeObject => ({
    apiVersion: ref.apiVersion,
    kind: ref.kind,
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
      leaseDurationSeconds: leaseSeconds,
      acquireTime: microTime(clock.now()),
      renewTime: microTime(clock.now()),
      leaseTransitions: transitions
    }
  })

  // Created blind first: the usual case (nobody holds the lock) costs one request, and a
  // missing kit-system namespace is created only when the create says so. A create cut off
  // mid-request is retried: if the first one did land, the retry's 409 leads to reading the
  // Lease, which names this run as holder, and the loop below takes it.
  const createOptions = { retryInterrupted: true }
  const create = async (): Promise<KubeObject> => {
    try {
      return await client.create(desired(undefined, 0), createOptions)
    } catch (err) {
      if (!(err instanceof KubeApiError && err.statusCode === 404)) throw err
      await ensureKitNamespace(client)
      return client.create(desired(undefined, 0), createOptions)
    }
  }
  let held: KubeObject | undefined
  let tryCreate = true
  while (!held) {
    options.signal?.throwIfAborted()
    if (tryCreate) {
      try {
        held = await create()
        continue
      } catch (err) {
        // It exists: see who holds it.
        if (!(err instanceof KubeApiError && err.statusCode === 409)) throw err
      }
    }
    const live = await client.get(ref)
    tryCreate = !live
    if (!live) continue
    try {
      if (specOf(live).holderIdentity === options.identity || leaseExpired(live, clock.now())) {
        if (specOf(live).holderIdentity && specOf(live).holderIdentity !== options.identity)
          log.warning(`taking over the expired deploy lock of ${describeHolder(live)}`)
        held = await client.replace(desired(live, (specOf(live).leaseTransitions ?? 0) + 1))
      }
    } catch (err) {
      // Another run won the race between our read and our write: read again.
      if (!(err instanceof KubeApiError && err.statusCode === 409)) throw err
    }
    if (held || leaseExpired(live, clock.now())) continue
    const waited = clock.now() - started
    if (waited >= options.waitMs) {
      const spec = specOf(live)
      throw new LockTimeoutError(
        `cluster ${client.cluster} is locked by another deploy: ${describeHolder(live)}, ` +
          `holding it since ${spec.acquireTime ?? '?'} (last renewed ${spec.renewTime ?? '?'}); ` +
          `waited ${Math.round(waited / 1000)}s (lock-timeout)`,
        spec.holderIdentity ?? ''
      )
    }
    if (!announced) {
      log.info(`waiting for the deploy lock held by ${describeHolder(live)}`)
      announced = true
    }
    await clock.sleep(Math.min(pollMs, options.waitMs - waited), options.signal)
  }

  const lost = new AbortController()
  let current: KubeObject = held
  let lastRenewed = clock.now()
  let stopped = false
  const renew = async (): Promise<void> => {
    try {
      const next = structuredClone(current)
      ;(next.spec as LeaseSpec).renewTime = microTime(clock.now())
      current = await client.replace(next)
      lastRenewed = clock.now()
    } catch (err) {
      if (err instanceof KubeApiError && err.statusCode === 409) {
        const live = await client.get(ref).catch(() => undefined)
        if (live && specOf(live).holderIdentity === options.identity) {
          current = live
          return
        }
        lost.abort(
          new Error(
            `lost the deploy lock of ${client.cluster} to ${live ? describeHolder(live) : 'nobody'}`
          )
        )
        return
      }
      log.warning(
        `could not renew the deploy lock: ${err instanceof Error ? err.message : String(err)}`
      )
      if (clock.now() - lastRenewed > leaseSeconds * 1000)
        lost.abort(new Error(`the deploy lock of ${client.cluster} expired: renewals failed`))
    }
  }
  let renewing: Promise<void> = Promise.resolve()
  const timer = setInterval(
    () => {
      if (stopped || lost.signal.aborted) return
      renewing = renewing.then(renew)
    },
    Math.max(1000, (leaseSeconds * 1000) / 3)
  )
  // Renewal must never keep a finished process alive on its own.
  timer.unref()
  return {
    lost: lost.signal,
    async release() {
      stopped = true
      clearInterval(timer)
      await renewing
      // Deleted only if it is still the very Lease this run last wrote (one request; a 409
      // means another run holds it now, and it is left alone).
      try {
        await client.delete(ref, {
          preconditions: {
            uid: current.metadata.uid,
            resourceVersion: current.metadata.resourceVersion
          }
        })
      } catch (err) {
        if (!(err instanceof KubeApiError && err.statusCode === 409)) throw err
      }
    }
  }
}
