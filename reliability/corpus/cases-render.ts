/**
 * Deploymentizer cases of the hostile-input corpus: each starts from the valid repository in
 * corpus/manifests-repo (already rendered once, so "nothing written" means "the previous
 * output is byte for byte as it was"), then replaces or adds files, or sets an input.
 * Small hostile files are committed under corpus/deploymentizer/; huge or unportable ones
 * (50 MB, 10,000 levels, alias bombs, names with newlines) are generated here at run time.
 */
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs'
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
    injection('leading and trailing spaces', '  padded  ')
  ]
}
