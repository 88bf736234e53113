/**
 * Deployer cases of the hostile-input corpus. Every case's manifests folder also holds a
 * valid Namespace and ConfigMap for kit-e2e-1 with the case's own name and the run's label:
 * after the runs, no cluster may hold any of them (nothing applied, not even on the cluster
 * whose manifests were fine). Hostile manifests go to kit-e2e-2, hostile kubeconfigs come from
 * corpus/kubeconfigs/.
 */
import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { createServer as createHttpsServer } from 'node:https'
import { createServer as createNetServer } from 'node:net'
import { tmpdir } from 'node:os'
import { delimiter, join } from 'node:path'
import { parse, stringify } from 'yaml'
import { testKubeconfigPath } from '../../testinfra/jest/clusters.js'
import { aliasBomb, writeFiftyMegabytes } from './cases-render.js'

export interface DeployCase {
  readonly name: string
  /** Manifests-folder path → file under corpus/deployer/. */
  readonly corpus?: Readonly<Record<string, string>>
  readonly prepare?: (dir: string) => void
  /**
   * The kubeconfig: a file under corpus/kubeconfigs/ given as the `kubeconfig` input (and
   * `kit deploy --kubeconfig`); 'dir:<file>' puts it in a kubeconfig-dir instead (binary
   * content cannot travel in an environment variable). Default: the test clusters' kubeconfig.
   */
  readonly kubeconfig?: string
  readonly inputs?: Readonly<Record<string, string>>
  /** Extra `kit deploy` arguments; null when the case has no CLI form. */
  readonly kitArgs?: readonly string[] | null
  readonly where: RegExp
}

function put(dir: string, path: string, content: string | Buffer): void {
  mkdirSync(join(dir, path, '..'), { recursive: true })
  writeFileSync(join(dir, path), content)
}

const clusterDir =
  (name: string) =>
  (dir: string): void =>
    put(
      dir,
      `${name}/cm.yaml`,
      'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: odd, namespace: default}\n'
    )

export function deployCases(): DeployCase[] {
  const bad = (name: string, file: string, where: RegExp): DeployCase => ({
    name,
    corpus: { [`kit-e2e-2/${file}`]: file },
    where
  })
  return [
    bad(
      'malformed YAML',
      'malformed.yaml',
      /kit-e2e-2\/malformed\.yaml:\d+(:\d+)?: .*invalid YAML/
    ),
    bad(
      'duplicate keys',
      'duplicate-keys.yaml',
      /kit-e2e-2\/duplicate-keys\.yaml:8(:\d+)?: .*unique/
    ),
    bad(
      'invalid UTF-8',
      'invalid-utf8.yaml',
      /kit-e2e-2\/invalid-utf8\.yaml:7(:\d+)?: .*(UTF-8|utf-8|encoding)/
    ),
    bad('NUL byte', 'nul-byte.yaml', /kit-e2e-2\/nul-byte\.yaml:7(:\d+)?: /),
    bad(
      'a scalar document',
      'multi-doc-scalar.yaml',
      /kit-e2e-2\/multi-doc-scalar\.yaml:7(:\d+)?: /
    ),
    bad(
      'a List with a string item',
      'list-bad-item.yaml',
      /kit-e2e-2\/list-bad-item\.yaml:7(:\d+)?: /
    ),
    bad(
      'an object without kind',
      'missing-kind.yaml',
      /kit-e2e-2\/missing-kind\.yaml:\d+(:\d+)?: .*kind/
    ),
    bad(
      'metadata.name ../../etc/passwd',
      'name-traversal.yaml',
      /kit-e2e-2\/name-traversal\.yaml:4(:\d+)?: .*name/
    ),
    bad(
      'metadata.namespace ../kube-system',
      'namespace-traversal.yaml',
      /kit-e2e-2\/namespace-traversal\.yaml:5(:\d+)?: .*namespace/
    ),
    bad(
      'the same object twice',
      'duplicate-objects.yaml',
      /kit-e2e-2\/duplicate-objects\.yaml:\d+(:\d+)?: .*(twice|duplicate|more than once|also)/i
    ),
    {
      name: 'alias bomb',
      prepare: (dir) =>
        put(
          dir,
          'kit-e2e-2/bomb.yaml',
          `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\n${aliasBomb('data')}`
        ),
      where: /kit-e2e-2\/bomb\.yaml:\d+(:\d+)?: .*alias/
    },
    {
      name: '50 MB manifest file',
      prepare: (dir) => writeFiftyMegabytes(join(dir, 'kit-e2e-2/huge.yaml')),
      where: /kit-e2e-2\/huge\.yaml(:\d+)?: .*larger than/
    },
    {
      name: '10,000 nested flow maps',
      prepare: (dir) =>
        put(
          dir,
          'kit-e2e-2/deep.yaml',
          `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: d}\ndata: ${'{a: '.repeat(10_000)}x${'}'.repeat(10_000)}\n`
        ),
      where: /kit-e2e-2\/deep\.yaml:\d+(:\d+)?: .*(nest|deep|depth)/i
    },
    {
      name: 'a manifest symlinked outside the folder',
      prepare: (dir) => {
        put(
          dir,
          '../outside/cm.yaml',
          'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: outside, namespace: default}\n'
        )
        mkdirSync(join(dir, 'kit-e2e-2'), { recursive: true })
        symlinkSync(join(dir, '../outside/cm.yaml'), join(dir, 'kit-e2e-2/linked.yaml'))
      },
      where: /kit-e2e-2\/linked\.yaml.*(symbolic|link)/
    },
    // Cluster folder names.
    { name: 'cluster folder %2e%2e', prepare: clusterDir('%2e%2e'), where: /%2e%2e/ },
    {
      name: 'cluster folder with upper case',
      prepare: clusterDir('Kit-E2E-1'),
      where: /Kit-E2E-1/
    },
    {
      name: 'cluster folder name of 200 characters',
      prepare: clusterDir('k'.repeat(200)),
      where: /k{200}.*63/
    },
    {
      name: 'cluster folder name with a newline',
      prepare: clusterDir('kit\ne2e'),
      where: /kit\\ne2e/
    },
    { name: 'cluster folder -rf', prepare: clusterDir('-rf'), where: /-rf/ },
    // The clusters input.
    {
      name: "clusters input '../kit-e2e-1'",
      inputs: { clusters: '../kit-e2e-1' },
      kitArgs: ['--clusters', '../kit-e2e-1'],
      where: /\.\.\/kit-e2e-1/
    },
    {
      name: "clusters input '/etc/passwd'",
      inputs: { clusters: '/etc/passwd' },
      kitArgs: ['--clusters', '/etc/passwd'],
      where: /\/etc\/passwd/
    },
    {
      name: "clusters input '%2e%2e'",
      inputs: { clusters: '%2e%2e' },
      kitArgs: ['--clusters', '%2e%2e'],
      where: /%2e%2e/
    },
    {
      name: 'clusters input with a newline and ../../x',
      inputs: { clusters: 'kit-e2e-1\n../../x' },
      kitArgs: null,
      where: /\.\.\/\.\.\/x/
    },
    {
      name: 'clusters input of 300 characters',
      inputs: { clusters: 'k'.repeat(300) },
      kitArgs: ['--clusters', 'k'.repeat(300)],
      where: /clusters/
    },
    // Kubeconfigs that are not kubeconfigs.
    { name: 'kubeconfig: empty', kubeconfig: 'empty.yaml', where: /kubeconfig|credentials/ },
    {
      name: 'kubeconfig: JSON of the wrong shape',
      kubeconfig: 'wrong-shape.json',
      where: /kubeconfig.*clusters/
    },
    { name: 'kubeconfig: a JSON list', kubeconfig: 'json-list.json', where: /kubeconfig/ },
    { name: 'kubeconfig: a PEM certificate', kubeconfig: 'certificate.pem', where: /kubeconfig/ },
    {
      name: 'kubeconfig: binary',
      kubeconfig: 'dir:binary.bin',
      where: /kit-e2e-1\.yaml.*kubeconfig/
    },
    {
      name: 'kubeconfig: a Secret manifest',
      kubeconfig: 'wrong-kind.yaml',
      where: /kubeconfig.*kind/
    },
    {
      name: 'kubeconfig without the context asked for',
      kubeconfig: 'no-such-context.yaml',
      where: /kit-e2e-1.*(credential|context|kubeconfig)/
    },
    {
      name: 'kubeconfig context pointing to a missing user',
      kubeconfig: 'missing-user.yaml',
      where: /user.*ghost/
    },
    {
      name: 'kubeconfig context pointing to a missing cluster',
      kubeconfig: 'missing-cluster.yaml',
      where: /cluster.*kit-e2e-1/
    },
    {
      name: 'kubeconfig server file:///etc/passwd',
      kubeconfig: 'file-server.yaml',
      where: /server/
    },
    {
      name: 'kubeconfig-dir that does not exist',
      inputs: { 'kubeconfig-dir': '/nonexistent/kubeconfigs', kubeconfig: '' },
      kitArgs: null,
      where: /\/nonexistent\/kubeconfigs/
    },
    // The same object twice once namespaces are defaulted, and strategies that need wait.
    {
      name: 'one object with an implicit and an explicit default namespace',
      prepare: (dir) =>
        put(
          dir,
          'kit-e2e-2/twice.yaml',
          'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: twice}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: twice, namespace: default}\n'
        ),
      where:
        /kit-e2e-2\/twice\.yaml:\d+(:\d+)?: duplicate object ConfigMap\/default\/twice.*context's namespace "default"/
    },
    {
      name: 'fast-rollback without wait',
      inputs: { strategy: 'fast-rollback', wait: 'false' },
      kitArgs: ['--strategy', 'fast-rollback', '--no-wait'],
      where: /fast-rollback strategy needs wait/
    },
    {
      name: 'a fast-rollback Deployment without wait',
      prepare: (dir) =>
        put(
          dir,
          'kit-e2e-2/fr.yaml',
          'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: fr\n  namespace: default\n  annotations: {kit.dev/strategy: fast-rollback}\nspec:\n  selector: {matchLabels: {app: fr}}\n  template:\n    metadata: {labels: {app: fr}}\n    spec: {containers: [{name: fr, image: registry.example/fr:1}]}\n'
        ),
      inputs: { wait: 'false' },
      kitArgs: ['--no-wait'],
      where: /fast-rollback Deployments \(fr\) need wait/
    },
    {
      name: 'kubeconfigs naming an unset variable',
      inputs: { kubeconfigs: 'kit-e2e-1=KIT_CORPUS_UNSET', kubeconfig: '' },
      kitArgs: null,
      where: /kubeconfigs.*KIT_CORPUS_UNSET/
    },
    ...clusterAccessCases(),
    ...yamlClassDeployCases()
  ]
}

/**
 * Clusters that cannot be worked with, and credentials in the wrong form. kit-e2e-1's canary is
 * sent to an API server that accepts connections and never answers, to a TLS server whose
 * certificate the kubeconfig does not trust, and to the real kit-e2e-1 with a token it refuses:
 * each must fail with its cause (within the cluster's timeout), applying nothing. A KUBECONFIG
 * list (or any path) given where kubeconfig text belongs is refused with what to use instead.
 */
function clusterAccessCases(): DeployCase[] {
  const servers = accessServers()
  const file = (name: string, text: string): string => {
    writeFileSync(join(servers.dir, name), text)
    return join(servers.dir, name)
  }
  const hang = oneCluster(`https://127.0.0.1:${servers.silent}`, {
    'insecure-skip-tls-verify': true
  })
  const untrusted = oneCluster(`https://127.0.0.1:${servers.tls}`, {
    'certificate-authority-data': Buffer.from(servers.otherCa).toString('base64')
  })
  const refused = withWrongToken(readFileSync(testKubeconfigPath(), 'utf8'))
  const list = ['/home/runner/.kube/config', '/home/runner/work/_temp/eks'].join(delimiter)
  return [
    // The API server that never answers: 5 s of timeout, not 5 attempts × 30 s.
    {
      name: 'API server that never answers (timeout 5s)',
      inputs: { kubeconfig: hang, timeout: '5s' },
      kitArgs: ['--kubeconfig', file('hang.yaml', hang), '--timeout', '5s'],
      where:
        /the cluster's timeout of 5s was reached: requests to https:\/\/127\.0\.0\.1:\d+ timed out/
    },
    // The untrusted certificate.
    {
      name: 'a self-signed server certificate the kubeconfig does not trust',
      inputs: { kubeconfig: untrusted },
      kitArgs: ['--kubeconfig', file('untrusted.yaml', untrusted)],
      where:
        /TLS verification failed: the certificate of https:\/\/127\.0\.0\.1:\d+ is not signed by the CA/
    },
    // The refused credential.
    {
      name: 'a token the cluster refuses (401)',
      inputs: { kubeconfig: refused },
      kitArgs: ['--kubeconfig', file('refused.yaml', refused)],
      where: /refused the credentials of user "[^"]+"/
    },
    // KUBECONFIG lists (and paths) where kubeconfig text belongs.
    {
      name: 'a KUBECONFIG list in the kubeconfig input',
      inputs: { kubeconfig: list },
      kitArgs: null,
      where: /Input 'kubeconfig' holds a file path, not a kubeconfig.*KUBECONFIG.*kubeconfig-dir/
    },
    {
      name: 'a KUBECONFIG list given to kit deploy --kubeconfig',
      kitArgs: ['--kubeconfig', list],
      inputs: { kubeconfig: list },
      where: /(does not exist.*set KUBECONFIG to the list)|(holds a file path)/
    },
    {
      name: 'a base64-encoded kubeconfig in the kubeconfig input',
      inputs: { kubeconfig: Buffer.from(refused).toString('base64') },
      kitArgs: null,
      where: /Input 'kubeconfig' looks base64-encoded/
    }
  ]
}

/** A kubeconfig with one context, kit-e2e-1, for `server`. */
function oneCluster(server: string, tls: Record<string, unknown>): string {
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'corpus-entry', cluster: { server, ...tls } }],
    users: [{ name: 'corpus-user', user: { token: 'corpus-kubeconfig-token-5b8e1d' } }],
    contexts: [{ name: 'kit-e2e-1', context: { cluster: 'corpus-entry', user: 'corpus-user' } }],
    'current-context': 'kit-e2e-1'
  })
}

/** The test clusters' kubeconfig, every user's credential replaced by a token no cluster knows. */
function withWrongToken(text: string): string {
  const config = parse(text) as { users?: { name: string; user: unknown }[] }
  for (const u of config.users ?? []) u.user = { token: 'corpus-kubeconfig-token-5b8e1d' }
  return stringify(config)
}

let started: ReturnType<typeof startAccessServers> | undefined

/** The servers, started once per process. */
function accessServers(): ReturnType<typeof startAccessServers> {
  started ??= startAccessServers()
  return started
}

/**
 * A TCP server that accepts connections and never answers, and an HTTPS server with a
 * self-signed certificate, on ports found free when the cases are built (the cases are plain
 * data, built synchronously): both listen long before a case runs, and neither keeps the
 * process alive. Also a certificate of another CA, for the kubeconfig that trusts the wrong one.
 */
function startAccessServers(): { silent: number; tls: number; otherCa: string; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'kit-corpus-access-'))
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }))
  const cert = (cn: string) => {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '2',
        '-keyout',
        join(dir, `${cn}.key`),
        '-out',
        join(dir, `${cn}.crt`),
        '-subj',
        `/CN=${cn}`,
        '-addext',
        'subjectAltName=IP:127.0.0.1'
      ],
      { stdio: 'ignore' }
    )
    return {
      cert: readFileSync(join(dir, `${cn}.crt`), 'utf8'),
      key: readFileSync(join(dir, `${cn}.key`), 'utf8')
    }
  }
  const [silent, tls] = freePorts(2)
  createNetServer(() => {})
    .listen(silent, '127.0.0.1')
    .unref()
  const own = cert('corpus-server')
  createHttpsServer(own, (_req, res) => res.end('{}'))
    .listen(tls, '127.0.0.1')
    .unref()
  return { silent, tls, otherCa: cert('corpus-other-ca').cert, dir }
}

/** Ports free right now, found by a short-lived child process (this must stay synchronous). */
function freePorts(n: number): number[] {
  const script = `const net=require('net');const s=[];let left=${n};for(let i=0;i<${n};i++){const v=net.createServer();s.push(v);v.listen(0,'127.0.0.1',()=>{if(--left===0){console.log(s.map(x=>x.address().port).join(' '));s.forEach(x=>x.close())}})}`
  return execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' })
    .trim()
    .split(' ')
    .map(Number)
}

/**
 * Tags kit does not know, and merge keys that are not maps, in a manifest to apply: refused
 * with file and line before any cluster is touched (a valid merge key is applied merged: see
 * shared/__tests__/yaml/file-kinds.test.ts).
 */
function yamlClassDeployCases(): DeployCase[] {
  const manifest =
    (file: string, lines: string[]): DeployCase['prepare'] =>
    (dir) =>
      put(
        dir,
        `kit-e2e-2/${file}`,
        [
          'apiVersion: v1',
          'kind: ConfigMap',
          'metadata: {name: t, namespace: default}',
          ...lines,
          ''
        ].join('\n')
      )
  return [
    {
      name: 'unknown YAML tag !!js/function',
      prepare: manifest('js-tag.yaml', [
        'data:',
        '  run: !!js/function "function () { return 1 }"'
      ]),
      where: /kit-e2e-2\/js-tag\.yaml:5(:\d+)?: .*YAML tag !!js\/function is not accepted/
    },
    {
      name: 'unknown YAML tag !Ref (a custom tag)',
      prepare: manifest('custom-tag.yaml', ['data: !Ref Data']),
      where: /kit-e2e-2\/custom-tag\.yaml:4(:\d+)?: .*YAML tag !Ref is not accepted/
    },
    {
      name: 'YAML tag !!binary in a Secret',
      prepare: (dir) =>
        put(
          dir,
          'kit-e2e-2/binary.yaml',
          'apiVersion: v1\nkind: Secret\nmetadata: {name: b, namespace: default}\ndata:\n  key: !!binary aGVsbG8=\n'
        ),
      where: /kit-e2e-2\/binary\.yaml:5(:\d+)?: .*YAML tag !!binary is not accepted/
    },
    {
      name: 'a merge key (<<) whose source is not a map',
      prepare: manifest('bad-merge.yaml', ['data:', '  <<: [just, text]']),
      where: /kit-e2e-2\/bad-merge\.yaml:5(:\d+)?: .*merge key \(<<\) takes a mapping/
    }
  ]
}
