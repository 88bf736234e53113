/** Input names, exactly as in action.yml (a test checks they match). */
export const Inputs = {
  repository: 'repository',
  token: 'token',
  image: 'image',
  registry: 'registry',
  imageRepository: 'image-repository',
  tag: 'tag',
  digest: 'digest',
  imageName: 'image-name',
  imagesDir: 'images-dir',
  imageFile: 'image-file',
  branch: 'branch',
  targetBranch: 'target-branch',
  mode: 'mode',
  transport: 'transport',
  values: 'values',
  manifests: 'manifests',
  create: 'create',
  commitMessage: 'commit-message',
  author: 'author',
  committer: 'committer',
  force: 'force',
  dryRun: 'dry-run',
  maxAttempts: 'max-attempts',
  apiUrl: 'api-url',
  sourceRepository: 'source-repository',
  sourceCommit: 'source-commit',
  sourceRef: 'source-ref',
  runUrl: 'run-url',
  builtAt: 'built-at',
  committedAt: 'committed-at'
} as const

/** Output names, exactly as in action.yml. */
export const Outputs = {
  commitSha: 'commit-sha',
  changed: 'changed',
  result: 'result',
  pullRequestUrl: 'pull-request-url',
  files: 'files'
} as const
