/** Input and output names, exactly as in action.yml (a test keeps the two equal). */
export const Inputs = {
  path: 'path',
  output: 'output',
  clusters: 'clusters',
  groups: 'groups',
  labels: 'labels',
  services: 'services',
  shardSize: 'shard-size',
  dryRun: 'dry-run',
  check: 'check'
} as const

export const Outputs = {
  clusters: 'clusters',
  matrix: 'matrix',
  index: 'index',
  rendered: 'rendered',
  hash: 'hash',
  upToDate: 'up-to-date'
} as const
