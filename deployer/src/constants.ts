/**
 * Every input and output name of the deployer action, once (mirrors action.yml; a test
 * checks that the two agree).
 */
export const Inputs = {
  Manifests: 'manifests',
  Kubeconfig: 'kubeconfig',
  Kubeconfigs: 'kubeconfigs',
  KubeconfigDir: 'kubeconfig-dir',
  Clusters: 'clusters',
  Selector: 'selector',
  DryRun: 'dry-run',
  Wait: 'wait',
  Timeout: 'timeout',
  Concurrency: 'concurrency',
  Waves: 'waves',
  WaveLabel: 'wave-label',
  ClusterLabels: 'cluster-labels',
  Prune: 'prune',
  PruneMax: 'prune-max',
  PruneAllowKinds: 'prune-allow-kinds',
  RollbackOnFailure: 'rollback-on-failure',
  Strategy: 'strategy',
  FastRollbackKeep: 'fast-rollback-keep',
  LockTimeout: 'lock-timeout',
  Commit: 'commit',
  CommitTime: 'commit-time',
  Rollback: 'rollback',
  Redeploy: 'redeploy',
  FailFastGrace: 'fail-fast-grace',
  FailFastThreshold: 'fail-fast-threshold',
  UnschedulableTimeout: 'unschedulable-timeout',
  WaitForLoadBalancers: 'wait-for-load-balancers',
  Inventory: 'inventory',
  Labels: 'labels',
  Annotations: 'annotations',
  GithubDeployments: 'github-deployments',
  Token: 'token',
  EnvironmentPrefix: 'environment-prefix',
  WebhookUrl: 'webhook-url'
} as const

export const Outputs = {
  Result: 'result',
  Clusters: 'clusters',
  Changed: 'changed',
  Failed: 'failed',
  Skipped: 'skipped'
} as const
