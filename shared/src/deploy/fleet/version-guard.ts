/**
 * The version guard: each cluster records which manifests commit it runs (a ConfigMap in
 * kit-system), and a run refuses to put an older commit over a newer one unless it says it
 * is a rollback or a redeploy. This answers the classic CD race where a slow, older workflow
 * run finishes after a newer one (kit meant to check commit dates; its check never fired).
 */
import type { ClusterClient, KubeObject } from '../../k8s/types.js'
import { kitSystemNamespace } from './lock.js'

export const stateConfigMapName = 'kit-deploy-state'

/** What a cluster records about its last successful deploy. */
export interface DeployState {
  readonly commit: string
  /** ISO 8601 commit time: the order of commits, independent of when runs happen to finish. */
  readonly commitTime?: string
  readonly runUrl?: string
  /** ISO time the deploy finished. */
  readonly deployedAt?: string
}

/** The commit a run deploys, and whether the run explicitly allows going back in time. */
export interface VersionIntent {
  readonly commit?: string
  readonly commitTime?: string
  readonly rollback: boolean
  readonly redeploy: boolean
}

export type GuardDecision =
  | { readonly allowed: true; readonly note?: string }
  | { readonly allowed: false; readonly reason: string }

function short(commit: string): string {
  return /^[0-9a-f]{40}$/i.test(commit) ? commit.slice(0, 7) : commit
}

/** Decides whether a run may deploy over what the cluster records (pure). */
export function checkVersion(
  recorded: DeployState | undefined,
  intent: VersionIntent
): GuardDecision {
  if (!intent.commit) return { allowed: true, note: 'no commit given: the version guard is off' }
  if (!recorded) return { allowed: true }
  if (recorded.commit === intent.commit) return { allowed: true }
  const was = Date.parse(recorded.commitTime ?? '')
  const now = Date.parse(intent.commitTime ?? '')
  if (Number.isNaN(was) || Number.isNaN(now))
    return {
      allowed: true,
      note: `cannot compare commit times (deployed ${short(recorded.commit)}${recorded.commitTime ? ` at ${recorded.commitTime}` : ''}, this run ${short(intent.commit)}${intent.commitTime ? ` at ${intent.commitTime}` : ''})`
    }
  if (now >= was) return { allowed: true }
  const explicit = intent.rollback ? 'rollback' : intent.redeploy ? 'redeploy' : undefined
  if (explicit)
    return {
      allowed: true,
      note: `${explicit}: deploying commit ${short(intent.commit)} (${intent.commitTime}) over newer ${short(recorded.commit)} (${recorded.commitTime})`
    }
  return {
    allowed: false,
    reason:
      `refused: commit ${short(intent.commit)} (${intent.commitTime}) is older than the deployed ` +
      `commit ${short(recorded.commit)} (${recorded.commitTime}${recorded.runUrl ? `, deployed by ${recorded.runUrl}` : ''}); ` +
      `set rollback or redeploy to deploy it anyway`
  }
}

/** The state ConfigMap's name for an inventory name (see applySetParentNameFor). */
export function stateNameFor(inventory?: string): string {
  return inventory ? `${stateConfigMapName}-${inventory}` : stateConfigMapName
}

/** Reads a cluster's recorded deploy state (undefined before kit's first deploy there). */
export async function readDeployState(
  client: ClusterClient,
  inventory?: string
): Promise<DeployState | undefined> {
  const cm = await client.get({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    namespace: kitSystemNamespace,
    name: stateNameFor(inventory)
  })
  const data = (cm?.data ?? {}) as Record<string, string>
  if (!data.commit) return undefined
  return {
    commit: data.commit,
    commitTime: data.commitTime || undefined,
    runUrl: data.runUrl || undefined,
    deployedAt: data.deployedAt || undefined
  }
}

/**
 * Records a successful deploy. Skipped when the cluster already records this very commit,
 * so an unchanged redeploy writes nothing.
 */
export async function recordDeployState(
  client: ClusterClient,
  previous: DeployState | undefined,
  state: DeployState,
  inventory?: string
): Promise<boolean> {
  if (previous?.commit === state.commit && previous.commitTime === state.commitTime) return false
  const cm: KubeObject = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name: stateNameFor(inventory),
      namespace: kitSystemNamespace,
      labels: { 'app.kubernetes.io/managed-by': 'kit' },
      // The deployed commit as annotations too, for `kubectl describe` and dashboards.
      annotations: {
        'kit.dev/commit': state.commit,
        ...(state.commitTime ? { 'kit.dev/commit-time': state.commitTime } : {}),
        ...(state.runUrl ? { 'kit.dev/run-url': state.runUrl } : {})
      }
    },
    data: {
      commit: state.commit,
      commitTime: state.commitTime ?? '',
      runUrl: state.runUrl ?? '',
      deployedAt: state.deployedAt ?? ''
    }
  }
  await client.apply(cm)
  return true
}
