/**
 * Deploymentizer cases of the hostile-input corpus: each starts from the valid repository in
 * corpus/manifests-repo (already rendered once, so "nothing written" means "the previous
 * output is byte for byte as it was"), then replaces or adds files, or sets an input.
 * Small hostile files are committed under corpus/deploymentizer/; huge or unportable ones
 * (50 MB, 10,000 levels, alias bombs, names with newlines) are generated here at run time.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseAllDocuments } from 'yaml'

export interface RenderCase {
  readonly name: string
  /** Repository path → file under corpus/deploymentizer/ that replaces (or adds) it. */
  readonly corpus?: Readonly<Record<string, string>>
  /** Anything else done to the repository copy (generated files, odd names, links). */
  readonly prepare?: (repo: string) => void
  /** Action inputs (path is always '.'); kit gets `kitArgs`. */
  readonly inputs?: Readonly<Record<string, string>>
  /** Extra `kit render` arguments; null when the case has no CLI form. */
  readonly kitArgs?: readonly string[] | null
  /** The error must match this: it names the file (and line) or the input. */
  readonly where?: RegExp
  /** The folder that must stay unchanged, when not `<repo>/generated`. */
  readonly guarded?: (repo: string) => string
  /** Environment for `env.*` placeholders (merged over the defaults). */
  readonly env?: Readonly<Record<string, string>>
  /**
   * For inputs whose correct outcome is a render (a leading BOM, placeholder values that try to
   * inject keys): returns the problems found in the written output, instead of expecting an error.
   */
  readonly renders?: (repo: string) => string[]
  /** What a correct render shows, for the report. */
  readonly renderedNote?: string
  /**
   * Each must match somewhere in what the run printed (log, summary): a render reports every
   * problem at once, not only the first (`where` checks the first).
   */
  readonly alsoReports?: readonly RegExp[]
}

const cluster1 = 'clusters/prod-1.yaml'

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

/**
 * The error must start with the file, the line (a number when `line` is 'any', none or any when
 * undefined) and, from kit, a column: `clusters/prod-1.yaml:2:1: ...`; then match `rest`.
 */
function at(file: string, line: number | 'any' | undefined, rest?: RegExp): RegExp {
  const l = line === undefined ? '(:\\d+)?' : line === 'any' ? ':\\d+' : `:${line}`
  return new RegExp(`^${escapeRe(file)}${l}(:\\d+)?: ${rest ? `.*(?:${rest.source})` : ''}`)
}
const template = 'services/api/deployment.yaml'
const webValues = 'services/web/values.yaml'

/** Writes a file, creating its folder. */
function put(repo: string, path: string, content: string | Buffer): void {
  mkdirSync(join(repo, path, '..'), { recursive: true })
  writeFileSync(join(repo, path), content)
}

/** A cluster file under an arbitrary name (the name is the case). */
const clusterNamed =
  (fileName: string) =>
  (repo: string): void =>
    put(repo, `clusters/${fileName}`, 'groups: [production]\n')

/** A service folder under an arbitrary name, holding one valid manifest. */
const serviceNamed =
  (dirName: string) =>
  (repo: string): void =>
    put(
      repo,
      `services/${dirName}/configmap.yaml`,
      'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: odd, namespace: acme}\n'
    )

/** `[[[[...]]]]`, `depth` levels, as the value of `message`. */
function deepFlow(depth: number): string {
  return `message: ${'['.repeat(depth)}${']'.repeat(depth)}\n`
}

/** `- - - - x`, `depth` nested block sequences on one line. */
function deepBlock(depth: number): string {
  return `message: x\nnested:\n  ${'- '.repeat(depth)}x\n`
}

/** The classic "billion laughs": 9 levels of 9 aliases each (9^9 strings when expanded). */
export function aliasBomb(key: string): string {
  const lines = ['a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]']
  for (let i = 1; i < 10; i++)
    lines.push(`a${i}: &a${i} [${Array.from({ length: 9 }, () => `*a${i - 1}`).join(', ')}]`)
  lines.push(`${key}: *a9`)
  return `${lines.join('\n')}\n`
}

/** A 50 MB file of comment lines (valid YAML, only too big). */
export function writeFiftyMegabytes(path: string): void {
  const line = `# ${'x'.repeat(1021)}\n`
  const chunk = line.repeat(1024)
  mkdirSync(join(path, '..'), { recursive: true })
  writeFileSync(path, '')
  for (let i = 0; i < 50; i++) writeFileSync(path, chunk, { flag: 'a' })
}

/**
 * A placeholder value that tries to become structure. The rendered ConfigMap must have
 * exactly the template's keys, one document, and the value back as one string, through a
 * whole-scalar placeholder, an embedded one and an env.* one.
 */
function injection(name: string, value: string): RenderCase {
  return {
    name: `placeholder injection: ${name}`,
    prepare: (repo) =>
      put(
        repo,
        cluster1,
        `groups: [production]\nservices:\n  web:\n    values:\n      message: ${JSON.stringify(value)}\n`
      ),
    env: { KIT_CORPUS_INJECT: value },
    renders: (repo) => injectionProblems(repo, value),
    renderedNote: 'one ConfigMap with exactly the template keys; the value stayed one string'
  }
}

function injectionProblems(repo: string, value: string): string[] {
  const problems: string[] = []
  const text = readFileSync(join(repo, 'generated/prod-1/web/configmap-acme-web.yaml'), 'utf8')
  const docs = parseAllDocuments(text)
  if (!Array.isArray(docs) || docs.length !== 1)
    return [`rendered ${Array.isArray(docs) ? docs.length : 0} documents, not 1`]
  const object = docs[0].toJS() as Record<string, Record<string, unknown>>
  const keys = (o: unknown) => Object.keys(o as object).join(',')
  if (keys(object) !== 'apiVersion,kind,metadata,data')
    problems.push(`top-level keys ${keys(object)}`)
  if (keys(object.metadata) !== 'name,namespace')
    problems.push(`metadata keys ${keys(object.metadata)}`)
  if (keys(object.data) !== 'whole,embedded,fromEnv')
    problems.push(`data keys ${keys(object.data)}`)
  if (object.data.whole !== value) problems.push(`whole is ${JSON.stringify(object.data.whole)}`)
  if (object.data.embedded !== `before ${value} after`)
    problems.push(`embedded is ${JSON.stringify(object.data.embedded)}`)
  if (object.data.fromEnv !== value)
    problems.push(`fromEnv is ${JSON.stringify(object.data.fromEnv)}`)
  return problems
}

/** The output of a repository whose cluster file starts with a BOM equals the plain render. */
function sameAsBase(baseOutput: () => string, digest: (dir: string) => string) {
  return (repo: string): string[] =>
    digest(join(repo, 'generated')) === baseOutput()
      ? []
      : ['the output differs from the render without the BOM']
}

export function renderCases(
  baseOutputDigest: () => string,
  digest: (dir: string) => string
): RenderCase[] {
  const fileCase = (name: string, target: string, file: string, where: RegExp): RenderCase => ({
    name,
    corpus: { [target]: file },
    where
  })
  return [
    // Malformed YAML, in every kind of file the repository has.
    fileCase(
      'malformed YAML: unclosed flow sequence (cluster)',
      cluster1,
      'malformed-unclosed-flow.yaml',
      at('clusters/prod-1.yaml', 'any', /invalid YAML/)
    ),
    fileCase(
      'malformed YAML: bad indentation (template)',
      template,
      'malformed-indentation.yaml',
      at('services/api/deployment.yaml', 'any', /invalid YAML/)
    ),
    fileCase(
      'malformed YAML: tab indentation (values)',
      'services/api/values.yaml',
      'malformed-tab-indent.yaml',
      at('services/api/values.yaml', 2, /invalid YAML.*[Tt]ab/)
    ),
    fileCase(
      'malformed YAML: unterminated quote (group)',
      'groups/production.yaml',
      'malformed-unclosed-quote.yaml',
      at('groups/production.yaml', 'any', /invalid YAML/)
    ),
    fileCase(
      'malformed YAML: kit.yaml',
      'kit.yaml',
      'malformed-kit.yaml',
      at('kit.yaml', 'any', /invalid YAML/)
    ),
    fileCase(
      'malformed YAML: image file',
      'images/acme/api/main.yaml',
      'malformed-image-file.yaml',
      at('images/acme/api/main.yaml', 'any', /invalid YAML/)
    ),
    fileCase(
      'malformed YAML: service kit.yaml',
      'services/api/kit.yaml',
      'malformed-service-kit.yaml',
      at('services/api/kit.yaml', 'any')
    ),
    // Duplicate keys: which one wins would be a guess.
    fileCase(
      'duplicate keys (cluster)',
      cluster1,
      'duplicate-keys-cluster.yaml',
      at('clusters/prod-1.yaml', 4, /.*unique/)
    ),
    fileCase(
      'duplicate keys (template)',
      template,
      'duplicate-keys-template.yaml',
      at('services/api/deployment.yaml', 6, /.*unique/)
    ),
    fileCase(
      'duplicate keys (image file: two images)',
      'images/acme/api/main.yaml',
      'duplicate-keys-image-file.yaml',
      at('images/acme/api/main.yaml', 2, /.*unique/)
    ),
    // Alias bombs.
    {
      name: 'alias bomb (values, 9^9 expansion)',
      prepare: (repo) => put(repo, webValues, aliasBomb('message')),
      where: at('services/web/values.yaml', 'any', /.*alias/)
    },
    {
      name: 'alias bomb (template)',
      prepare: (repo) =>
        put(
          repo,
          'services/web/configmap.yaml',
          `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: web, namespace: acme}\n${aliasBomb('data')}`
        ),
      where: at('services/web/configmap.yaml', 'any', /.*alias/)
    },
    // Huge and deep.
    {
      name: '50 MB template file',
      prepare: (repo) => writeFiftyMegabytes(join(repo, 'services/web/huge.yaml')),
      where: at('services/web/huge.yaml', undefined, /.*larger than/)
    },
    {
      name: '10,000 nested flow sequences (values)',
      prepare: (repo) => put(repo, webValues, deepFlow(10_000)),
      where: /^services\/web\/values\.yaml:\d+: .*(nest|deep|depth)/i
    },
    {
      name: '10,000 nested block sequences (values)',
      prepare: (repo) => put(repo, webValues, deepBlock(10_000)),
      where: /^services\/web\/values\.yaml:\d+: .*(nest|deep|depth)/i
    },
    // Encoding.
    fileCase(
      'invalid UTF-8 (Latin-1 byte in values)',
      webValues,
      'invalid-utf8-values.yaml',
      at('services/web/values.yaml', 1, /.*(UTF-8|utf-8|encoding)/)
    ),
    fileCase(
      'invalid UTF-8 (template)',
      'services/web/configmap.yaml',
      'invalid-utf8-template.yaml',
      at('services/web/configmap.yaml', 7, /.*(UTF-8|utf-8|encoding)/)
    ),
    fileCase(
      'NUL byte (values)',
      webValues,
      'nul-byte-values.yaml',
      at('services/web/values.yaml', 1)
    ),
    fileCase(
      'NUL byte (template)',
      'services/web/configmap.yaml',
      'nul-byte-template.yaml',
      at('services/web/configmap.yaml', 'any')
    ),
    {
      name: 'BOM at the start of a cluster file (valid: same output as without)',
      corpus: { [cluster1]: 'bom-cluster.yaml' },
      renders: sameAsBase(baseOutputDigest, digest),
      renderedNote: 'output identical to the render without the BOM'
    },
    fileCase(
      'BOM in the middle of a file',
      cluster1,
      'bom-mid-file.yaml',
      at('clusters/prod-1.yaml', 'any')
    ),
    // Multi-document oddities.
    fileCase(
      'two documents in a cluster file',
      cluster1,
      'multi-doc-cluster.yaml',
      at('clusters/prod-1.yaml', 5, /.*one YAML document/)
    ),
    fileCase(
      'a scalar document in a template',
      'services/api/extra.yaml',
      'multi-doc-scalar.yaml',
      at('services/api/extra.yaml', 5, /.*mapping/)
    ),
    fileCase(
      'a list document in a template',
      'services/api/extra.yaml',
      'multi-doc-list.yaml',
      at('services/api/extra.yaml', 2, /.*mapping/)
    ),
    fileCase(
      'garbage after a document end marker',
      'services/api/values.yaml',
      'multi-doc-after-end.yaml',
      at('services/api/values.yaml', 5)
    ),
    fileCase(
      'an image file of empty documents',
      'images/acme/api/main.yaml',
      'multi-doc-empty-image-file.yaml',
      at('images/acme/api/main.yaml', undefined)
    ),
    // Names that try to leave their folder.
    fileCase(
      "a cluster's group named ../../etc/passwd",
      cluster1,
      'name-group-traversal.yaml',
      /^clusters\/prod-1\.yaml:1: .*'\.\.\/\.\.\/etc\/passwd'/
    ),
    fileCase(
      'a per-service override named ../api',
      cluster1,
      'name-service-traversal.yaml',
      /^clusters\/prod-1\.yaml:3: .*'\.\.\/api'/
    ),
    fileCase(
      'an image source ../../etc',
      'services/api/kit.yaml',
      'name-image-source-traversal.yaml',
      at('services/api/kit.yaml', 1, /.*image/)
    ),
    fileCase(
      'a branch ../../../etc/passwd',
      cluster1,
      'name-branch-traversal.yaml',
      at('clusters/prod-1.yaml', 2, /.*branch/)
    ),
    {
      name: 'a branch %2e%2e/%2e%2e/secrets (encoded, stays in images/)',
      corpus: { [cluster1]: 'name-branch-percent.yaml' },
      where: /images\/acme\/api\/%252e%252e%2F%252e%252e%2Fsecrets\.yaml/
    },
    fileCase(
      'kit.yaml paths.images outside the repository',
      'kit.yaml',
      'paths-images-outside.yaml',
      at('kit.yaml', 2, /.*(inside|outside|repository)/)
    ),
    fileCase(
      'kit.yaml paths.output absolute',
      'kit.yaml',
      'paths-output-absolute.yaml',
      at('kit.yaml', 2, /.*(inside|outside|repository|absolute)/)
    ),
    fileCase(
      'kit.yaml paths.clusters ../../../etc',
      'kit.yaml',
      'paths-clusters-traversal.yaml',
      at('kit.yaml', 2, /.*(inside|outside|repository)/)
    ),
    {
      name: 'cluster file named %2e%2e.yaml',
      prepare: clusterNamed('%2e%2e.yaml'),
      where: at('clusters/%2e%2e.yaml', undefined, /.*'%2e%2e'/)
    },
    {
      name: 'cluster file named ..yaml',
      prepare: clusterNamed('..yaml'),
      where: at('clusters/..yaml', undefined)
    },
    {
      name: 'cluster file named Prod_1.yaml (not a DNS label)',
      prepare: clusterNamed('Prod_1.yaml'),
      where: at('clusters/Prod_1.yaml', undefined)
    },
    {
      name: 'cluster file name with a newline',
      prepare: clusterNamed('prod\n3.yaml'),
      where: /^clusters\/prod\\n3\.yaml/
    },
    {
      name: 'cluster file name of 250 characters',
      prepare: clusterNamed(`${'c'.repeat(245)}.yaml`),
      where: /^clusters\/c{245}\.yaml: .*63/
    },
    {
      name: 'service folder named %2e%2e',
      prepare: serviceNamed('%2e%2e'),
      where: at('services/%2e%2e', undefined)
    },
    {
      name: 'service folder name with a newline',
      prepare: serviceNamed('we\nb'),
      where: /^services\/we\\nb/
    },
    {
      name: 'service folder name of 250 characters',
      prepare: serviceNamed('s'.repeat(250)),
      where: /^services\/s{250}: .*63/
    },
    {
      name: 'template symlinked to /etc/passwd',
      prepare: (repo) => symlinkSync('/etc/passwd', join(repo, 'services/api/passwd.yaml')),
      where: at('services/api/passwd.yaml', undefined, /.*symbolic link/)
    },
    {
      name: 'cluster file symlinked outside the repository',
      prepare: (repo) => symlinkSync(join(repo, '..'), join(repo, 'clusters/outside.yaml')),
      where: at('clusters/outside.yaml', undefined, /.*symbolic link/)
    },
    fileCase(
      'a placeholder in a map key',
      'services/web/configmap.yaml',
      'placeholder-in-key.yaml',
      at('services/web/configmap.yaml', 5, /.*key/)
    ),
    // Selection inputs that look like paths.
    {
      name: "clusters input '../prod-1'",
      inputs: { clusters: '../prod-1' },
      kitArgs: ['--clusters', '../prod-1'],
      where: /'\.\.\/prod-1'/
    },
    {
      name: "clusters input '/etc/passwd'",
      inputs: { clusters: '/etc/passwd' },
      kitArgs: ['--clusters', '/etc/passwd'],
      where: /'\/etc\/passwd'/
    },
    {
      name: "clusters input '%2e%2e'",
      inputs: { clusters: '%2e%2e' },
      kitArgs: ['--clusters', '%2e%2e'],
      where: /'%2e%2e'/
    },
    {
      name: 'clusters input with a newline and ../../x',
      inputs: { clusters: 'prod-1\n../../x' },
      kitArgs: ['--clusters', 'prod-1', '--clusters', '../../x'],
      where: /'\.\.\/\.\.\/x'/
    },
    {
      name: 'clusters input of 300 characters',
      inputs: { clusters: 'p'.repeat(300) },
      kitArgs: ['--clusters', 'p'.repeat(300)],
      where: /cluster/
    },
    {
      name: "services input '../api'",
      inputs: { services: '../api' },
      kitArgs: ['--services', '../api'],
      where: /'\.\.\/api'/
    },
    {
      name: "groups input '../production'",
      inputs: { groups: '../production' },
      kitArgs: ['--groups', '../production'],
      where: /'\.\.\/production'/
    },
    {
      name: "labels input 'region=../../x'",
      inputs: { labels: 'region=../../x' },
      kitArgs: ['--labels', 'region=../../x'],
      where: /region=\.\.\/\.\.\/x/
    },
    {
      name: "path input '../../../../../../etc'",
      inputs: { path: '../../../../../../../etc' },
      kitArgs: null,
      where: /clusters|etc/
    },
    {
      name: "output input '/' (contains the repository)",
      inputs: { output: '/' },
      kitArgs: ['--output', '/'],
      where: /'\/'/
    },
    {
      name: 'output input: a folder kit did not write',
      prepare: (repo) => put(repo, '../foreign/keep-me.txt', 'not kit output\n'),
      inputs: { output: '../foreign' },
      kitArgs: ['--output', '../foreign'],
      guarded: (repo) => join(repo, '../foreign'),
      where: /foreign.*(kit|refus)/
    },
    {
      name: 'output input inside services/',
      inputs: { output: 'services/api' },
      kitArgs: ['--output', 'services/api'],
      guarded: (repo) => join(repo, 'services'),
      where: /services/
    },
    // Placeholder values that try to add keys or documents: they must render as one string.
    injection("': ' (a key)", 'injected: true'),
    injection("'#' (a comment)", 'value # comment: x'),
    injection('a newline and a key', 'line\nkind: Secret'),
    injection('a flow map', '{apiVersion: v1, kind: Secret}'),
    injection("'- ' (a list item)", '- name: x\n- name: y'),
    injection('document markers', '---\nkind: Secret\n...\n---'),
    injection('quotes and a backslash', `'single' "double" \\ end`),
    injection('an anchor and an alias', '&a x\nb: *a'),
    injection('unicode line separators', 'a\u2028b\u2029c\u0085d ü 😀'),
    injection('a placeholder (never evaluated twice)', '${{ env.KIT_CORPUS_SECRET }}'),
    injection('a YAML boolean and number (stay strings)', 'yes'),
    injection('leading and trailing spaces', '  padded  '),
    ...emptyRenderCases(),
    ...imageReferenceCases(),
    ...manyProblemsCases(),
    ...yamlClassCases(baseOutputDigest, digest)
  ]
}

/**
 * Renders of nothing: no services (an empty or missing services folder, a misspelt
 * `paths.services`), a selection that selects nothing, a cluster left with no files. Each must
 * fail, naming the folder or setting, and leave the previous output as it was: a render of
 * nothing would otherwise delete it with exit 0.
 */
function emptyRenderCases(): RenderCase[] {
  const empty = (repo: string): void => {
    rmSync(join(repo, 'services'), { recursive: true })
    mkdirSync(join(repo, 'services'))
  }
  return [
    {
      name: 'zero services: an empty services folder',
      prepare: empty,
      where: /^no services in 'services\/'/
    },
    {
      name: 'zero services: no services folder',
      prepare: (repo) => rmSync(join(repo, 'services'), { recursive: true }),
      where: /^no services folder: 'services\/' does not exist/
    },
    {
      name: 'zero services: paths.services misspelt',
      prepare: (repo) => put(repo, 'kit.yaml', 'paths:\n  services: servics\n'),
      where: at('kit.yaml', 2, /paths\.services: folder 'servics\/' does not exist/)
    },
    {
      name: 'zero services: paths.groups misspelt',
      prepare: (repo) => put(repo, 'kit.yaml', 'paths:\n  groups: grups\n'),
      where: at('kit.yaml', 2, /paths\.groups: folder 'grups\/' does not exist/)
    },
    {
      name: 'empty selection: a group no cluster is in',
      prepare: (repo) => put(repo, 'groups/lonely.yaml', 'branch: main\n'),
      inputs: { groups: 'lonely' },
      kitArgs: ['--groups', 'lonely'],
      where: /group 'lonely' has no clusters/
    },
    {
      name: 'empty selection: a service disabled on every selected cluster',
      prepare: (repo) =>
        put(
          repo,
          'groups/production.yaml',
          'branch: main\nvalues:\n  replicas: 3\nservices:\n  web:\n    enabled: false\n'
        ),
      inputs: { services: 'web' },
      kitArgs: ['--services', 'web'],
      where:
        /the selected service web renders no files on any selected cluster: web: disabled by groups\/production\.yaml/
    },
    {
      name: 'a cluster left with no files (every service disabled)',
      prepare: (repo) =>
        put(
          repo,
          'clusters/prod-2.yaml',
          'groups: [production]\nservices:\n  api: {enabled: false}\n  web: {enabled: false}\n'
        ),
      where: at(
        'clusters/prod-2.yaml',
        undefined,
        /cluster prod-2: renders no files .*enabled: false/
      )
    }
  ]
}

/**
 * Image references `kit bump` refuses (shell metacharacters, upper case, whitespace), in every
 * place the render reads one: an image file, a cluster's or group's pin, a container image in a
 * template, and one a placeholder fills in from values.
 */
function imageReferenceCases(): RenderCase[] {
  const imageFile = (why: string, ref: string): RenderCase => ({
    name: `image reference the bump refuses, in an image file: ${why}`,
    prepare: (repo) =>
      put(repo, 'images/acme/api/main.yaml', `# hand-edited\nimage: ${JSON.stringify(ref)}\n`),
    where: at('images/acme/api/main.yaml', 2, /image .* is not a valid image reference/)
  })
  const sidecar = (image: string) =>
    [
      'apiVersion: apps/v1',
      'kind: Deployment',
      'metadata: {name: web, namespace: acme}',
      'spec:',
      '  template:',
      '    spec:',
      '      containers:',
      '        - name: web',
      `          image: ${image}`,
      ''
    ].join('\n')
  return [
    imageFile("';'", 'ghcr.io/acme/api:1;reboot'),
    imageFile("'$(…)'", 'ghcr.io/acme/api:$(id)'),
    imageFile('backticks', 'ghcr.io/acme/api:`id`'),
    imageFile("'|'", 'ghcr.io/acme/api:1|sh'),
    imageFile("'&&'", 'ghcr.io/acme/api:1&&curl'),
    imageFile('a space', 'ghcr.io/acme/api:1 --privileged'),
    imageFile('upper case', 'ghcr.io/Acme/API:1.0.0'),
    {
      name: "image reference the bump refuses, in a cluster's pin: upper case",
      prepare: (repo) =>
        put(
          repo,
          cluster1,
          "groups: [production]\nservices:\n  api:\n    image: 'Ghcr.io/acme/API:1'\n"
        ),
      where: at(
        cluster1,
        4,
        /services\.api\.image 'Ghcr\.io\/acme\/API:1' is not a valid image reference/
      )
    },
    {
      name: "image reference the bump refuses, in a group's pin: '$(…)'",
      prepare: (repo) =>
        put(
          repo,
          'groups/production.yaml',
          "branch: main\nservices:\n  api:\n    images:\n      proxy: 'r.example/proxy:$(id)'\n"
        ),
      where: at(
        'groups/production.yaml',
        5,
        /services\.api\.images\.proxy .* is not a valid image reference/
      )
    },
    {
      name: 'image reference the bump refuses, written in a template: upper case',
      prepare: (repo) => put(repo, 'services/web/deployment.yaml', sidecar("'r.example/Web:1'")),
      where: at(
        'services/web/deployment.yaml',
        9,
        /containers\[0\]\.image 'r\.example\/Web:1' is not a valid/
      )
    },
    {
      name: "image reference the bump refuses, from values through a placeholder: ';'",
      prepare: (repo) => {
        put(repo, 'services/web/deployment.yaml', sidecar('${{ values.image }}'))
        put(repo, webValues, "message: plain\nimage: 'r.example/web:1;reboot'\n")
      },
      where: at(
        'services/web/deployment.yaml',
        9,
        /'values\.image': spec\.template\.spec\.containers\[0\]\.image .* is not a valid image reference/
      )
    }
  ]
}

/**
 * A render with several problems reports them all in one run: every missing environment
 * variable and failing placeholder of one object, problems in other files, each once with the
 * clusters it was found on; past 50, a count of the rest.
 */
function manyProblemsCases(): RenderCase[] {
  const secret = (keys: readonly string[]) =>
    [
      'apiVersion: v1',
      'kind: Secret',
      'metadata: {name: many, namespace: acme}',
      'stringData:',
      ...keys.map((k, i) => `  K${i}: \${{ ${k} }}`),
      ''
    ].join('\n')
  return [
    {
      name: 'many problems in one render: missing env variables, a missing value, a bad image file',
      prepare: (repo) => {
        put(
          repo,
          'services/web/secret.yaml',
          secret([
            'env.KIT_CORPUS_MISSING_A',
            'env.KIT_CORPUS_SECRET',
            'env.KIT_CORPUS_MISSING_B',
            'values.nope'
          ])
        )
        put(repo, 'images/acme/api/main.yaml', 'image: ghcr.io/acme/API:1\n')
      },
      // api comes first; its image file is broken on both clusters: one problem, both named.
      where: at(
        'images/acme/api/main.yaml',
        1,
        /clusters prod-1, prod-2, service api: image .*not a valid image reference/
      ),
      alsoReports: [
        /services\/web\/secret\.yaml:5\b.*KIT_CORPUS_MISSING_A is not set/,
        /services\/web\/secret\.yaml:7\b.*KIT_CORPUS_MISSING_B is not set/,
        /services\/web\/secret\.yaml:8\b.*'values\.nope': no value 'nope'/,
        /4 problems/
      ]
    },
    {
      name: 'many problems in one render: 60 missing env variables (50 listed, the rest counted)',
      prepare: (repo) =>
        put(
          repo,
          'services/web/secret.yaml',
          secret(Array.from({ length: 60 }, (_, i) => `env.KIT_CORPUS_MISSING_${i}`))
        ),
      where: at('services/web/secret.yaml', 5, /KIT_CORPUS_MISSING_0 is not set/),
      alsoReports: [
        /KIT_CORPUS_MISSING_49 is not set/,
        /\.\.\. and 10 more problems/,
        /60 problems/
      ]
    }
  ]
}

/** The first document of a rendered file, as plain data. */
function renderedObject(repo: string, path: string): Record<string, unknown> {
  const docs = parseAllDocuments(readFileSync(join(repo, 'generated', path), 'utf8'))
  return (Array.isArray(docs) ? docs[0] : docs).toJS() as Record<string, unknown>
}

/** The value at a path of plain data. */
function valueAt(value: unknown, path: readonly (string | number)[]): unknown {
  return path.reduce<unknown>((v, k) => (v as Record<string, unknown> | undefined)?.[k], value)
}

/**
 * Problems with a rendered value: each path of `file` must hold its expected value, and no
 * output file may hold a literal merge key (`'<<':`), which means a merge key went unapplied.
 */
function expectRendered(
  checks: Readonly<Record<string, readonly [readonly (string | number)[], unknown][]>>
) {
  return (repo: string): string[] => {
    const problems: string[] = []
    for (const [file, pairs] of Object.entries(checks)) {
      const object = renderedObject(repo, file)
      for (const [path, want] of pairs) {
        const got = valueAt(object, path)
        if (JSON.stringify(got) !== JSON.stringify(want))
          problems.push(
            `${file} ${path.join('.')} is ${JSON.stringify(got)?.slice(0, 80)}, expected ${JSON.stringify(want)?.slice(0, 80)}`
          )
      }
    }
    const out = join(repo, 'generated')
    for (const f of readdirSync(out, { recursive: true, encoding: 'utf8' }))
      if (f.endsWith('.yaml') && /^\s*'?<<'?:/m.test(readFileSync(join(out, f), 'utf8')))
        problems.push(`${f} holds a literal '<<' key`)
    return problems
  }
}

/**
 * YAML merge keys (valid: merged as kubectl and Helm merge them, in every kind of file),
 * tags kit does not know (refused with file and line), and large values (a legal one renders;
 * one past the loader's limits is refused with file, line and the limit).
 */
function yamlClassCases(
  baseOutputDigest: () => string,
  digest: (dir: string) => string
): RenderCase[] {
  const api = 'prod-1/api/deployment-acme-api.yaml'
  const web = 'prod-1/web/configmap-acme-web.yaml'
  const container = ['spec', 'template', 'spec', 'containers', 0]
  const merge = (
    kind: string,
    files: Record<string, string>,
    renders: (repo: string) => string[],
    note: string
  ): RenderCase => ({
    name: `YAML merge key (valid), in ${kind}`,
    prepare: (repo) => {
      for (const [path, text] of Object.entries(files)) put(repo, path, text)
    },
    renders,
    renderedNote: note
  })
  const tag = (
    kind: string,
    file: string,
    text: string,
    line: number,
    shown: string
  ): RenderCase => ({
    name: `unknown YAML tag ${shown}, in ${kind}`,
    prepare: (repo) => put(repo, file, text),
    where: at(file, line, new RegExp(`YAML tag ${escapeRe(shown)} is not accepted`))
  })
  const big = 3 * 1024 * 1024
  const line = 'x'.repeat(big)
  const text = 'line of a large text\n'.repeat(big / 21)
  const env = Array.from({ length: 60_000 }, (_, i) => ({ name: `V${i}`, value: String(i) }))
  return [
    merge(
      'values (an anchor merged into the file, a key of its own winning)',
      {
        'services/api/values.yaml':
          'defaults: &defaults\n  replicas: 2\n  port: 8080\n  message: hello\n<<: *defaults\nport: 9090\nenv:\n  - name: LOG_FORMAT\n    value: json\n'
      },
      expectRendered({ [api]: [[[...container, 'ports', 0, 'containerPort'], 9090]] }),
      'containerPort 9090 (the own key), the rest merged'
    ),
    merge(
      'a group (a list of sources: the first wins)',
      {
        'groups/production.yaml':
          'description: Production follows main.\nbranch: main\nvalues:\n  <<: [{replicas: 4}, {replicas: 40}]\n'
      },
      expectRendered({ [api]: [[['spec', 'replicas'], 4]] }),
      'replicas 4 from the first source'
    ),
    merge(
      'a cluster file',
      {
        [cluster1]:
          'groups: [production]\nlabels: &labels\n  region: eu\nvalues:\n  <<: {replicas: 5}\n'
      },
      expectRendered({ [api]: [[['spec', 'replicas'], 5]] }),
      'replicas 5 on prod-1'
    ),
    merge(
      'kit.yaml',
      { 'kit.yaml': 'defaults:\n  <<: {branch: main, missingImage: error}\n' },
      sameAsBase(baseOutputDigest, digest),
      'output identical to the render with the keys written out'
    ),
    merge(
      "a service's kit.yaml",
      { 'services/api/kit.yaml': '<<: {image: acme/api}\n' },
      sameAsBase(baseOutputDigest, digest),
      'output identical to the render with the key written out'
    ),
    merge(
      'a template (an anchor of the same file, a key of its own winning)',
      {
        'services/web/merged.yaml':
          'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: merged\n  namespace: acme\n  labels: &labels {app: web, tier: front}\ndata:\n  <<: *labels\n  tier: own\n'
      },
      expectRendered({
        'prod-1/web/configmap-acme-merged.yaml': [[['data'], { app: 'web', tier: 'own' }]]
      }),
      'data {app: web, tier: own}'
    ),
    merge(
      'an image file',
      {
        'images/acme/api/main.yaml':
          'x-build: &build\n  image: ghcr.io/acme/api:2.0.0\n  source: {repository: acme/api}\n<<: *build\n'
      },
      expectRendered({ [api]: [[[...container, 'image'], 'ghcr.io/acme/api:2.0.0']] }),
      'the merged image ghcr.io/acme/api:2.0.0'
    ),
    tag(
      'values',
      'services/api/values.yaml',
      'replicas: 2\nport: !!js/function "function () {}"\n',
      2,
      '!!js/function'
    ),
    tag(
      'a group',
      'groups/production.yaml',
      'branch: main\nvalues:\n  replicas: !!python/object:os.system [id]\n',
      3,
      '!!python/object:os.system'
    ),
    tag('a cluster file', cluster1, 'groups: [production]\nlabels: !Ref Labels\n', 2, '!Ref'),
    tag('kit.yaml', 'kit.yaml', 'defaults:\n  branch: !vault secret/branch\n', 2, '!vault'),
    tag(
      "a service's kit.yaml",
      'services/api/kit.yaml',
      'image: !!binary YWNtZS9hcGk=\n',
      1,
      '!!binary'
    ),
    tag(
      'a template',
      template,
      'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: api, namespace: acme}\nspec: !!set {a, b}\n',
      4,
      '!!set'
    ),
    tag(
      'an image file',
      'images/acme/api/main.yaml',
      'image: ghcr.io/acme/api:1.0.0\nsource:\n  builtAt: !!timestamp 2026-01-01\n',
      3,
      '!!timestamp'
    ),
    {
      name: 'large legal value: a 3 MiB string in values (renders)',
      prepare: (repo) => put(repo, webValues, `message: ${line}\n`),
      renders: expectRendered({
        [web]: [
          [['data', 'whole'], line],
          [['data', 'embedded'], `before ${line} after`]
        ]
      }),
      renderedNote: 'the 3 MiB string, whole and embedded'
    },
    {
      name: 'large legal value: a 3 MiB multi-line text in values (renders)',
      prepare: (repo) => put(repo, webValues, `message: |\n${text.replace(/^(?=.)/gm, '  ')}`),
      renders: (repo) => [
        ...expectRendered({ [web]: [[['data', 'whole'], text]] })(repo),
        ...(readFileSync(join(repo, 'generated', web), 'utf8').includes('\n  whole: |\n')
          ? []
          : ['data.whole is not written as a literal block'])
      ],
      renderedNote: 'the 3 MiB text, as a literal block'
    },
    {
      name: 'large legal value: a list of 60,000 items in values (renders)',
      prepare: (repo) =>
        put(
          repo,
          'services/api/values.yaml',
          `replicas: 2\nport: 8080\nmessage: hello\nenv:\n${env.map((e) => `  - {name: ${e.name}, value: "${e.value}"}\n`).join('')}`
        ),
      renders: expectRendered({ [api]: [[[...container, 'env'], env]] }),
      renderedNote: 'all 60,000 items'
    },
    {
      name: 'a values file just over the 4 MiB limit',
      prepare: (repo) => put(repo, webValues, `message: ${'x'.repeat(4 * 1024 * 1024)}\n`),
      where: at(webValues, 1, /larger than the 4 MiB limit/)
    },
    {
      name: 'values whose aliases expand past 16 MiB',
      prepare: (repo) =>
        put(
          repo,
          webValues,
          `message: &m "${'x'.repeat(2 * 1024 * 1024)}"\ncopies: [${Array(8).fill('*m').join(', ')}]\n`
        ),
      where: at(webValues, 1, /expands to more than 16 MiB/)
    }
  ]
}
