/**
 * The deploy option table: every setting of the deployer action and of `kit deploy` / `kit diff`,
 * once. deployer/action.yml's inputs are generated from it (scripts/options-docs.mjs), the
 * action reads it (deployer/src/inputs.ts), the CLI parses and documents it (cli/src/commands/deploy.ts).
 */
import { inventoryNameProblem } from '../deploy/fleet/applyset.js'
import { fleetDefaults, parseClusterLabels, parseKeyValues } from '../deploy/fleet/settings.js'
import type { DeployRequest } from '../deploy/fleet/settings.js'
import type { CredentialInputs } from '../deploy/cluster/types.js'
import { InputError, quoteValue } from '../errors.js'
import {
  booleanOption,
  choiceOption,
  documentOption,
  durationOption,
  integerOption,
  listOption,
  textOption,
  timeOption,
  urlOption
} from './kinds.js'
import { defineTable, type OptionDraft, type Values } from './table.js'
import { utcTime } from './validate.js'

const keyValues = (doc: string): OptionDraft<Record<string, string>> => ({
  type: 'list',
  doc,
  default: {},
  parse: (raw, label) => parseKeyValues(raw, label),
  cli: { arg: '<k=v,..>' }
})

/** The GitHub environment pattern's one placeholder, and its default: one environment per cluster. */
export const environmentPlaceholder = '{cluster}'

/** Refuses a placeholder other than {cluster}, and a name GitHub would refuse as too long. */
function environmentPattern(raw: string, label: string): string {
  const unknown = /\{(?!cluster\})[^}]*\}/.exec(raw)
  if (unknown)
    throw new InputError(
      `${label} knows only the placeholder ${environmentPlaceholder}, got ${quoteValue(unknown[0])}`
    )
  if (raw.length > 255)
    throw new InputError(`${label} is ${raw.length} characters; GitHub allows at most 255`)
  return raw
}

/** The environment pattern of the deploy: environment-prefix p is the same as 'p{cluster}'. */
function environmentOf(v: DeployOptions): string {
  if (v.environmentPrefix === '') return v.environment
  if (v.environment !== environmentPlaceholder)
    throw new InputError(
      `Inputs 'environment' and 'environment-prefix' both name the GitHub environment; set environment: '${v.environmentPrefix}${v.environment}' alone`
    )
  return `${v.environmentPrefix}${environmentPlaceholder}`
}

export const deployOptions = defineTable({
  manifests: textOption(fleetDefaults.manifests, {
    doc: "Directory of manifests: <dir>/<cluster>/**/*.yaml (the deploymentizer's output), or kit's original layout with manifests/<cluster>/ and namespaces/<cluster>/.",
    cli: { positional: true, arg: '<dir>' }
  }),
  kubeconfig: documentOption({
    doc: 'One kubeconfig with a context per cluster (context name = cluster name), usually a secret: its content, not a path. Without any credential input, the files of $KUBECONFIG are used (as setup actions like azure/k8s-set-context leave it), merged as kubectl merges them. Masked; never printed.',
    cli: {
      arg: '<file>',
      doc: 'A kubeconfig file with a context per cluster (context name = cluster name). Default: every file of $KUBECONFIG, merged as kubectl merges them, else ~/.kube/config, unless --kubeconfigs or --kubeconfig-dir is given.'
    }
  }),
  kubeconfigs: documentOption({
    doc: "One kubeconfig per cluster: lines of `cluster=ENV_NAME` where the environment variable (set from a secret with `env:`) holds that cluster's kubeconfig, or a JSON object of cluster → ENV_NAME or kubeconfig text. Masked; never printed.",
    cli: { arg: '<spec>' }
  }),
  kubeconfigDir: textOption('', {
    doc: "Directory of kubeconfig files, one cluster each (kit layout: the cluster is the file's metadata.name, else its file name).",
    cli: { arg: '<dir>' }
  }),
  clusters: listOption({
    doc: 'Cluster names or globs to deploy (comma or newline separated); empty means every cluster with manifests.',
    cli: { arg: '<a,b,glob*>' }
  }),
  selector: textOption(undefined, {
    doc: 'Kubernetes label selector; only manifests whose labels match are deployed (e.g. `app in (web,api)`), and prune deletes only live objects whose labels match.',
    cli: { arg: '<sel>' }
  }),
  dryRun: booleanOption(false, {
    doc: 'Change nothing; show a per-object diff against each live cluster (server-side dry run), Secret values redacted, and what prune would delete.',
    cli: false,
    cliNote: '`kit diff` is the dry run'
  }),
  wait: booleanOption(true, {
    doc: 'Wait until every applied object is healthy (per-kind rules, fail-fast on pod failures).'
  }),
  timeout: durationOption(fleetDefaults.timeoutMs, {
    doc: "Per-cluster time limit for all of a cluster's work (lock, discovery, apply, wait, prune), e.g. 10m, 90s, 1h30m. Waiting for another run's lock adds at most lock-timeout; a rollback after a failure gets one more timeout.",
    cli: { arg: '<dur>' }
  }),
  concurrency: integerOption(
    fleetDefaults.concurrency,
    { min: 1, max: 100 },
    { doc: 'How many clusters deploy at once.', cli: { arg: '<n>' } }
  ),
  waves: listOption({
    lines: true,
    separator: /[\n;]/,
    doc: 'Ordered waves, one per line (or separated by `;`), each a comma-separated list of cluster names or globs (e.g. `staging-*`, then `prod-eu-1`, then `prod-*`). A failed wave stops the later ones; clusters no line matches deploy in a last wave.',
    cli: { arg: '<w1;w2;..>' }
  }),
  waveLabel: textOption(undefined, {
    doc: 'Cluster label whose values order the waves (numeric when all values are numbers). Labels come from the render index (<manifests>/index.json) and cluster-labels.',
    cli: { arg: '<label>' }
  }),
  clusterLabels: {
    type: 'text',
    doc: 'Extra cluster labels for wave-label, as JSON ({"cluster":{"wave":"1"}}) or lines `cluster: key=value, key=value`.',
    default: new Map<string, Record<string, string>>(),
    parse: (raw, label) => parseClusterLabels(raw, label),
    cli: { arg: '<spec>' }
  } satisfies OptionDraft<Map<string, Record<string, string>>>,
  prune: booleanOption(false, {
    doc: 'Delete objects kit deployed to a cluster earlier that are no longer in its manifests (ApplySet inventory; nothing else is ever touched) and, with a selector, whose live labels match it. Refuses an empty manifest set; never runs after a failed deploy.'
  }),
  pruneMax: integerOption(
    fleetDefaults.pruneMax,
    { min: 0 },
    {
      doc: 'Most objects prune may delete per cluster; above it nothing is pruned and the cluster fails.',
      cli: { arg: '<n>' }
    }
  ),
  pruneAllowKinds: listOption({
    doc: 'Protected kinds prune may delete anyway (Namespace, PersistentVolumeClaim, CustomResourceDefinition are protected).',
    cli: { arg: '<k,..>' }
  }),
  rollbackOnFailure: booleanOption(true, {
    doc: "When a cluster's rollout fails, restore what ran before and wait until it is healthy again.",
    cli: { renamedFrom: ['no-rollback'] }
  }),
  strategy: choiceOption(['rolling-update', 'fast-rollback'] as const, 'rolling-update', {
    doc: 'rolling-update (update Deployments in place) or fast-rollback (a new Deployment per version, Services switched once it is healthy, previous versions kept for instant rollback). Single Deployments opt in with the annotation `kit.dev/strategy: fast-rollback`.',
    cli: { arg: '<s>' }
  }),
  fastRollbackKeep: integerOption(
    fleetDefaults.fastRollbackKeep,
    { min: 0, max: 20 },
    { doc: 'Previous fast-rollback versions kept running per Deployment.', cli: { arg: '<n>' } }
  ),
  lockTimeout: durationOption(fleetDefaults.lockTimeoutMs, {
    doc: "How long to wait for another run's deploy lock on a cluster before failing that cluster.",
    cli: { arg: '<dur>' }
  }),
  commit: textOption(undefined, {
    doc: 'The manifests commit being deployed (recorded on each cluster; defaults to GITHUB_SHA).',
    cli: {
      arg: '<sha>',
      doc: 'The manifests commit being deployed (recorded on each cluster; default: git HEAD of the manifests folder).'
    }
  }),
  commitTime: timeOption({
    doc: 'Commit time (ISO 8601) for the version guard; defaults to `git log` of the commit in the manifests checkout.',
    parse: utcTime,
    cli: { arg: '<iso>' }
  }),
  rollback: booleanOption(false, {
    doc: 'This run deliberately deploys an older commit (a rollback); the version guard allows it.'
  }),
  redeploy: booleanOption(false, {
    doc: 'This run deliberately redeploys an older commit; the version guard allows it.'
  }),
  failFastGrace: durationOption(fleetDefaults.failFastGraceMs, {
    doc: 'How long a pod failure (ImagePullBackOff, CrashLoopBackOff, ...) must persist before the rollout is failed.',
    cli: { arg: '<dur>' }
  }),
  failFastThreshold: integerOption(
    fleetDefaults.failFastThreshold,
    { min: 0 },
    {
      doc: 'Failing pods of the new revision needed to fail a workload; 0 means max(1, 25% of replicas).',
      cli: { arg: '<n>' }
    }
  ),
  unschedulableTimeout: durationOption(fleetDefaults.unschedulableMs, {
    doc: 'How long a pod may stay unschedulable before the rollout fails.',
    cli: { arg: '<dur>' }
  }),
  waitForLoadBalancers: booleanOption(false, {
    doc: 'Treat Services of type LoadBalancer as healthy only once they have an address.'
  }),
  inventory: textOption('', {
    doc: "Name of this deploy's inventory on each cluster: the ApplySet parent kit-system/kit-applyset-<name> (what prune may delete) and the version record kit-system/kit-deploy-state-<name>. Empty uses kit-applyset and kit-deploy-state. Give separate pipelines deploying to the same clusters different names.",
    cli: { arg: '<name>' },
    parse: (raw, label) => {
      const problem = inventoryNameProblem(raw)
      if (problem) throw new InputError(`${label} ${problem}, got ${quoteValue(raw)}`)
      return raw
    }
  }),
  labels: keyValues(
    'Extra labels on every applied object (key=value, comma or newline separated).'
  ),
  annotations: keyValues(
    'Extra annotations on every applied object (key=value, comma or newline separated).'
  ),
  githubDeployments: booleanOption(false, {
    doc: 'Create a GitHub Deployment per cluster environment with in_progress / success / failure statuses (needs token with deployments write).',
    cli: false,
    cliNote: 'GitHub-only'
  }),
  token: textOption(undefined, {
    doc: 'GitHub token for github-deployments.',
    defaultText: '${{ github.token }}',
    cli: false,
    cliNote: 'GitHub-only'
  }),
  environment: textOption(environmentPlaceholder, {
    doc: "The GitHub environment of each cluster's deployment (github-deployments); {cluster} stands for the cluster's name. In a job with its own environment (a wave's gate), set that name here: the deployments go there instead of creating an unprotected environment per cluster.",
    parse: environmentPattern,
    cli: false,
    cliNote: 'GitHub-only'
  }),
  environmentPrefix: textOption('', {
    doc: "Put before each cluster's environment name: k8s- is the same as environment: 'k8s-{cluster}'. Set one of the two.",
    cli: false,
    cliNote: 'GitHub-only'
  }),
  webhookUrl: urlOption({
    doc: "URL that receives one POST with the run's result as JSON when the deploy ends (secrets redacted). Masked.",
    cli: { arg: '<url>' }
  }),
  json: booleanOption(false, {
    doc: "Print the action's outputs (result, changed, clusters, changed-clusters, failed-clusters, skipped-clusters, cluster-results) as JSON.",
    action: false
  }),
  summary: textOption(undefined, {
    doc: 'Also write the markdown summary to this file.',
    action: false,
    cli: { arg: '<file>' }
  })
})

export type DeployOptions = Values<typeof deployOptions>

/** What each front-end resolves itself: credentials (text vs files), the commit and its time. */
export interface DeployFrontEnd {
  readonly credentials: CredentialInputs
  readonly commit?: string
  readonly commitTime?: string
  readonly dryRun: boolean
}

/** The request both front-ends run, from the table's values, in its sections. */
export function deployRequest(v: DeployOptions, front: DeployFrontEnd): DeployRequest {
  return {
    manifests: v.manifests,
    credentials: front.credentials,
    fleet: {
      clusters: v.clusters,
      selector: v.selector,
      concurrency: v.concurrency,
      waves: v.waves,
      waveLabel: v.waveLabel,
      clusterLabels: v.clusterLabels
    },
    cluster: {
      dryRun: front.dryRun,
      wait: v.wait,
      timeoutMs: v.timeout,
      failFast: {
        graceMs: v.failFastGrace,
        unschedulableMs: v.unschedulableTimeout,
        threshold: v.failFastThreshold
      },
      rollbackOnFailure: v.rollbackOnFailure,
      waitForLoadBalancers: v.waitForLoadBalancers,
      prune: { enabled: v.prune, max: v.pruneMax, allowKinds: v.pruneAllowKinds },
      strategy: v.strategy,
      fastRollbackKeep: v.fastRollbackKeep,
      lock: { waitMs: v.lockTimeout },
      version: {
        commit: front.commit,
        commitTime: front.commitTime,
        rollback: v.rollback,
        redeploy: v.redeploy
      },
      inventory: v.inventory,
      labels: v.labels,
      annotations: v.annotations
    },
    notify: {
      githubDeployments: v.githubDeployments,
      token: v.token,
      environmentPrefix: '',
      environment: environmentOf(v),
      webhookUrl: v.webhookUrl
    }
  }
}
