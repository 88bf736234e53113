/**
 * The deploy option table: every setting of the deployer action and of `kit deploy` / `kit diff`,
 * once. deployer/action.yml's inputs are generated from it (scripts/options-docs.mjs), the
 * action reads it (deployer/src/inputs.ts), the CLI parses and documents it (cli/src/commands/deploy.ts).
 */
import { inventoryNameProblem } from '../deploy/fleet/applyset.js'
import { fleetDefaults, parseClusterLabels, parseKeyValues } from '../deploy/fleet/settings.js'
import { slackNotifyChoices } from '../deploy/fleet/slack.js'
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
import { defineTable, formatDuration, type OptionDraft, type Values } from './table.js'
import type { WatchSettings } from '../deploy/cluster/watch.js'
import { duration, utcTime } from './validate.js'
import {
  metricGateLimits,
  metricGateSettings,
  parseMetricGates,
  parseMetricsToken,
  parseMetricsUrl,
  type MetricGate
} from '../deploy/cluster/metric-gate.js'

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
  slackWebhookUrl: urlOption({
    doc: 'Slack incoming webhook URL (a secret: store it as one). Slack gets a message with a row per cluster, the reason of each failure or rollback and a link to the run; secrets redacted. Masked; never printed.',
    cli: { arg: '<url>' }
  }),
  slackNotify: choiceOption(slackNotifyChoices, 'end', {
    doc: 'When slack-webhook-url is told: start-and-end (a message as the deploy starts and one when it ends), end (when it ends), or failure (only when it failed). A notification that cannot be sent is a warning, never a failed deploy.',
    cli: { arg: '<when>' }
  }),
  json: booleanOption(false, {
    doc: "Print the action's outputs (result, changed, clusters, changed-clusters, failed-clusters, skipped-clusters, cluster-results, drifted, drifted-clusters, degraded-clusters) as JSON.",
    action: false
  }),
  summary: textOption(undefined, {
    doc: 'Also write the markdown summary to this file.',
    action: false,
    cli: { arg: '<file>' }
  }),
  failOnDrift: booleanOption(false, {
    doc: 'With dry-run: fail when any cluster differs from the manifests (drift: an object a deploy would create, change or, with prune, delete). The summary lists the drifted objects per cluster; the outputs drifted and drifted-clusters say which clusters. Nothing is written either way.',
    cli: {
      doc: "Exit 1 when any cluster differs from the manifests (drift: an object a deploy would create, change or, with --prune, delete); --summary's file lists the drifted objects per cluster. kit diff only."
    }
  }),
  metricsUrl: {
    type: 'url',
    doc: 'Base URL of a Prometheus-compatible HTTP API (what comes before /api/v1/query) that metric-gates asks during the watch window; {cluster} stands for the cluster name (e.g. https://prometheus.{cluster}.example.com).',
    default: undefined,
    parse: parseMetricsUrl,
    cli: { arg: '<url>' }
  } satisfies OptionDraft<string | undefined>,
  metricsToken: textOption(undefined, {
    doc: 'Bearer token for metrics-url, usually a secret. Masked; never printed.',
    parse: parseMetricsToken,
    cli: false,
    cliNote: 'read from `KIT_METRICS_TOKEN`, never a flag'
  }),
  metricGates: {
    type: 'lines',
    doc: 'Metric gates, one per line: `<name>: <promql> <op> <number>` with op one of < <= > >= ==, e.g. `errors: sum(rate(http_requests_total{code=~"5..",cluster="{cluster}"}[1m])) / sum(rate(http_requests_total{cluster="{cluster}"}[1m])) < 0.01`. Evaluated every metric-interval during the watch window and at its end; a query that fails, answers no data or NaN, or whose value (every series of it) misses the condition degrades the cluster, which is rolled back. {cluster} inside a label value\'s quotes stands for the cluster name.',
    default: [] as MetricGate[],
    parse: (raw, label) => parseMetricGates(raw, label),
    cli: {
      arg: '<gate>',
      doc: "A metric gate, `<name>: <promql> <op> <number>` with op one of < <= > >= == (repeat the flag for more); evaluated every metric-interval during the watch window and at its end. A query that fails, answers no data or NaN, or whose value (every series of it) misses the condition degrades the cluster, which is rolled back. {cluster} inside a label value's quotes stands for the cluster name."
    }
  } satisfies OptionDraft<MetricGate[]>,
  metricInterval: {
    type: 'duration',
    doc: 'How often the metric gates are evaluated during the watch window (and once at its end); at least 1s.',
    default: 15_000,
    parse: (raw, label) => {
      const ms = duration()(raw, label)
      if (ms < metricGateLimits.minIntervalMs)
        throw new InputError(`${label} must be at least 1s, got ${quoteValue(raw)}`)
      return ms
    },
    cli: { arg: '<dur>' }
  } satisfies OptionDraft<number>,
  watch: durationOption(0, {
    doc: "How long to keep watching each cluster after its rollout is healthy (e.g. 2m; 0 turns it off). The changed workloads' pods, the workloads and their Warning events are followed through the API's watch streams; restarts, OOMKilled or failed containers, lost readiness, image pull failures, fewer available replicas, a failed Job, too many Warning events or a failing metric gate make the cluster degraded, and it is rolled back like a failed rollout. The window counts inside timeout; the next wave starts once every cluster of the previous one has passed its window.",
    cli: { arg: '<dur>' }
  }),
  watchMaxRestarts: integerOption(
    0,
    { min: 0 },
    {
      doc: 'Container restarts tolerated per pod during the watch window (summed over its containers); more is degraded. An OOMKilled container is degraded whatever this says.',
      cli: { arg: '<n>' }
    }
  ),
  watchMaxWarnings: integerOption(
    5,
    { min: 0 },
    {
      doc: 'Warning events tolerated during the watch window, on the objects the deploy changed and their pods (each repeat of an event counts); more is degraded.',
      cli: { arg: '<n>' }
    }
  ),
  statefulStep: booleanOption(true, {
    doc: "Roll a changed StatefulSet's highest ordinal first: kit applies it with a partition so only that pod moves to the new revision, waits until it is Ready (and, with watch, watches it for the window), then applies the manifest as written so the rest follow. A failure there stops the rollout before the other pods and rolls back. Only with wait, for a StatefulSet that already exists, has more than one replica, uses RollingUpdate and sets no partition of its own."
  })
})

export type DeployOptions = Values<typeof deployOptions>

/**
 * The watch window's settings (../deploy/cluster/watch.ts), with the metric gates it evaluates.
 * Refused up front when the window cannot run: without wait nothing says when the rollout is
 * healthy, and a window as long as timeout never fits in it.
 */
function watchSettings(v: DeployOptions): WatchSettings {
  if (v.watch > 0 && !v.wait)
    throw new InputError(
      "'watch' needs wait: true: the window starts when the rollout is healthy, and only the wait finds that out"
    )
  if (v.watch > 0 && v.watch >= v.timeout)
    throw new InputError(
      `'watch' (${formatDuration(v.watch)}) must be shorter than 'timeout' (${formatDuration(v.timeout)}): the window counts inside each cluster's timeout, after the rollout became healthy`
    )
  const metrics = metricGateSettings({ ...v, watchMs: v.watch })
  return {
    windowMs: v.watch,
    maxRestarts: v.watchMaxRestarts,
    maxWarnings: v.watchMaxWarnings,
    ...(metrics ? { metrics } : {})
  }
}

/** What each front-end resolves itself: credentials (text vs files), the commit and its time. */
export interface DeployFrontEnd {
  readonly credentials: CredentialInputs
  readonly commit?: string
  readonly commitTime?: string
  readonly dryRun: boolean
}

/** The request both front-ends run, from the table's values, in its sections. */
export function deployRequest(v: DeployOptions, front: DeployFrontEnd): DeployRequest {
  // A deploy corrects drift instead of reporting it: failing it on drift would fail every
  // deploy that changes anything.
  if (v.failOnDrift && !front.dryRun)
    throw new InputError(
      "'fail-on-drift' needs a dry run (the deployer's dry-run: true, or kit diff): a deploy changes what differs instead of reporting it"
    )
  return {
    manifests: v.manifests,
    credentials: front.credentials,
    fleet: {
      clusters: v.clusters,
      selector: v.selector,
      concurrency: v.concurrency,
      waves: v.waves,
      waveLabel: v.waveLabel,
      clusterLabels: v.clusterLabels,
      failOnDrift: v.failOnDrift
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
      watch: watchSettings(v),
      statefulStep: v.statefulStep,
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
      webhookUrl: v.webhookUrl,
      slackWebhookUrl: v.slackWebhookUrl,
      slackNotify: v.slackNotify
    }
  }
}
