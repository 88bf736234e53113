/**
 * Kubeconfig parsing without a cluster: which values are secret, clear errors, and kubeconfig
 * files merged the way kubectl merges a KUBECONFIG list.
 */
import { afterAll, describe, expect, it } from '@jest/globals'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { delimiter, join } from 'node:path'
import { KubeConfig } from '@kubernetes/client-node'
import {
  defaultKubeconfigFiles,
  kubeConfigsFromInputs,
  mergeKubeconfigFiles,
  notKubeconfigText
} from '../../src/k8s/client/credentials.js'
import { Redactor } from '../../src/secrets/redact.js'

const kubeconfig = (
  users: string,
  contexts = '- name: east\n  context: { cluster: east, user: u }',
  extra = ''
) => `
apiVersion: v1
kind: Config
clusters:
- name: east
  cluster: { server: "https://east.example.com", certificate-authority-data: Q0EtREFUQQ== }
users:
${users}
contexts:
${contexts}
${extra}`

describe('kubeConfigsFromInputs (parsing)', () => {
  it('registers client keys, certificates, tokens and exec env values, and nothing public', async () => {
    const redactor = new Redactor()
    await kubeConfigsFromInputs(
      {
        kubeconfig: kubeconfig(`- name: u
  user:
    client-certificate-data: Q0VSVC1EQVRBLTEyMw==
    client-key-data: S0VZLURBVEEtNDU2
    exec:
      apiVersion: client.authentication.k8s.io/v1
      command: aws
      args: [eks, get-token]
      env: [{ name: AWS_SECRET_ACCESS_KEY, value: wJalrXUtnFEMI-secret }]`)
      },
      redactor
    )
    expect(redactor.scrub('Q0VSVC1EQVRBLTEyMw== S0VZLURBVEEtNDU2 wJalrXUtnFEMI-secret')).toBe(
      '*** *** ***'
    )
    expect(redactor.scrub('https://east.example.com Q0EtREFUQQ==')).toBe(
      'https://east.example.com Q0EtREFUQQ=='
    )
  })

  it('names each cluster after its context and keeps the context as current', async () => {
    const creds = await kubeConfigsFromInputs(
      {
        kubeconfig: kubeconfig(
          '- name: u\n  user: { token: abcdef123456 }',
          '- name: east\n  context: { cluster: east, user: u, namespace: team }\n- name: east-again\n  context: { cluster: east, user: u }'
        )
      },
      new Redactor()
    )
    expect([...creds.clusters.keys()]).toEqual(['east', 'east-again'])
    expect(creds.clusters.get('east-again')?.getCurrentContext()).toBe('east-again')
    expect(creds.clusters.get('east')?.getContextObject('east')?.namespace).toBe('team')
  })

  it('gives each cluster only its own context, cluster and user', async () => {
    const creds = await kubeConfigsFromInputs(
      {
        kubeconfig: kubeconfig(
          '- name: u\n  user: { token: abcdef123456 }\n- name: w\n  user: { token: ghijkl789012 }',
          '- name: east\n  context: { cluster: east, user: u }\n- name: west\n  context: { cluster: west, user: w }',
          'current-context: east'
        ).replace(
          'clusters:\n',
          'clusters:\n- name: west\n  cluster: { server: "https://west.example.com" }\n'
        )
      },
      new Redactor()
    )
    const west = creds.clusters.get('west')
    expect(west?.getContexts().map((c) => c.name)).toEqual(['west'])
    expect(west?.getClusters().map((c) => c.server)).toEqual(['https://west.example.com'])
    expect(west?.getUsers().map((u) => u.token)).toEqual(['ghijkl789012'])
    expect(west?.getCurrentContext()).toBe('west')
    expect(creds.clusters.get('east')?.getCurrentUser()?.token).toBe('abcdef123456')
  })

  it.each([
    [
      'a non-Config kind',
      { perCluster: { a: 'kind: Secret\n' } },
      /kind is "Secret", expected Config/
    ],
    [
      'no users',
      {
        perCluster: {
          a: 'kind: Config\nclusters: [{ name: c, cluster: { server: "https://x" } }]\ncontexts: [{ name: c, context: { cluster: c, user: u } }]\n'
        }
      },
      /"users" is missing or empty/
    ],
    [
      'several contexts and no current-context',
      {
        perCluster: {
          a: kubeconfig(
            '- name: u\n  user: { token: abcdef123456 }',
            '- name: one\n  context: { cluster: east, user: u }\n- name: two\n  context: { cluster: east, user: u }'
          )
        }
      },
      /holds 2 contexts and no current-context/
    ],
    [
      'an unknown current-context',
      {
        perCluster: {
          a: kubeconfig(
            '- name: u\n  user: { token: abcdef123456 }',
            undefined,
            'current-context: west'
          )
        }
      },
      /current-context "west" is not defined/
    ],
    [
      'a cluster without a server',
      {
        perCluster: {
          a: 'kind: Config\nclusters: [{ name: c, cluster: {} }]\nusers: [{ name: u, user: {} }]\ncontexts: [{ name: c, context: { cluster: c, user: u } }]\n'
        }
      },
      /cluster "c" has no https:\/\/ server address/
    ],
    [
      'a missing directory',
      { directory: '/nonexistent/kit-kubeconfigs' },
      /cannot read the kubeconfig directory \(ENOENT\)/
    ]
  ])('refuses %s', async (_name, inputs, message) => {
    await expect(kubeConfigsFromInputs(inputs, new Redactor())).rejects.toThrow(message)
  })
})

describe('kubeconfig files merged as kubectl merges a KUBECONFIG list', () => {
  const dirs: string[] = []
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true })
  })
  /** Writes `files` (name → text) in a new folder and returns their paths. */
  const write = (files: Record<string, string>): string[] => {
    const dir = mkdtempSync(join(tmpdir(), 'kit-kubeconfigs-'))
    dirs.push(dir)
    return Object.entries(files).map(([name, text]) => {
      mkdirSync(join(dir, name, '..'), { recursive: true })
      writeFileSync(join(dir, name), text)
      return join(dir, name)
    })
  }
  const file = (o: {
    clusters?: string
    users?: string
    contexts?: string
    current?: string
  }): string =>
    [
      'apiVersion: v1',
      'kind: Config',
      o.clusters ? `clusters:\n${o.clusters}` : '',
      o.users ? `users:\n${o.users}` : '',
      o.contexts ? `contexts:\n${o.contexts}` : '',
      o.current ? `current-context: ${o.current}` : ''
    ].join('\n')

  it('keeps the first definition of every name and the first current-context, as kubectl does', async () => {
    const paths = write({
      'a/config': file({
        clusters: '- name: east\n  cluster: { server: "https://east-from-a" }',
        users: '- name: u\n  user: { token: token-from-file-a }',
        contexts: '- name: east\n  context: { cluster: east, user: u }'
      }),
      'b/config': file({
        clusters:
          '- name: east\n  cluster: { server: "https://east-from-b" }\n- name: west\n  cluster: { server: "https://west-from-b" }',
        users: '- name: u\n  user: { token: token-from-file-b }',
        contexts:
          '- name: east\n  context: { cluster: west, user: u }\n- name: west\n  context: { cluster: west, user: u }',
        current: 'west'
      }),
      'c/config': file({
        clusters: '- name: south\n  cluster: { server: "https://south-from-c" }',
        users: '- name: s\n  user: { token: token-from-file-c }',
        contexts: '- name: south\n  context: { cluster: south, user: s }',
        current: 'south'
      })
    })
    const redactor = new Redactor()
    const creds = await kubeConfigsFromInputs({ files: { paths, from: '$KUBECONFIG' } }, redactor)
    expect([...creds.clusters.keys()]).toEqual(['east', 'west', 'south'])
    // Context east, cluster east and user u come from the first file that defines them.
    const east = creds.clusters.get('east')
    expect(east?.getCurrentCluster()?.server).toBe('https://east-from-a')
    expect(east?.getCurrentUser()?.token).toBe('token-from-file-a')
    // West's context is in file b only, but user u is file a's.
    expect(creds.clusters.get('west')?.getCurrentCluster()?.server).toBe('https://west-from-b')
    expect(creds.clusters.get('west')?.getCurrentUser()?.token).toBe('token-from-file-a')
    expect(creds.sources.get('west')).toBe(`${paths[1]} (context "west")`)
    expect(creds.warnings).toEqual([])
    // Every file's credentials are registered, also those the merge left out.
    expect(redactor.scrub('token-from-file-b token-from-file-c')).toBe('*** ***')
  })

  it("takes current-context from the first file that sets one (what kit's single-file sources read)", () => {
    const paths = write({
      one: file({ clusters: '- name: x\n  cluster: { server: "https://x" }' }),
      two: file({
        users: '- name: u\n  user: {}',
        contexts: '- name: x\n  context: { cluster: x, user: u }',
        current: 'x'
      }),
      three: file({ current: 'other' })
    })
    const merged = mergeKubeconfigFiles(paths, '$KUBECONFIG', new Redactor())
    expect(merged.raw['current-context']).toBe('x')
  })

  it("resolves each file's relative paths against its own folder", async () => {
    const [first, second] = write({
      'one/config': file({
        clusters:
          '- name: a\n  cluster: { server: "https://a", certificate-authority: certs/ca.crt }',
        users:
          '- name: ua\n  user: { client-certificate: me.crt, client-key: me.key, exec: { apiVersion: client.authentication.k8s.io/v1, command: ./bin/get-token } }',
        contexts: '- name: a\n  context: { cluster: a, user: ua }'
      }),
      'two/config': file({
        clusters:
          '- name: b\n  cluster: { server: "https://b", certificate-authority: /etc/ca.crt }',
        users:
          '- name: ub\n  user: { exec: { apiVersion: client.authentication.k8s.io/v1, command: aws } }',
        contexts: '- name: b\n  context: { cluster: b, user: ub }'
      })
    })
    const merged = mergeKubeconfigFiles([first, second], '$KUBECONFIG', new Redactor())
    const one = join(first, '..')
    expect(merged.raw.clusters?.map((c) => c.cluster?.['certificate-authority'])).toEqual([
      join(one, 'certs/ca.crt'),
      '/etc/ca.crt'
    ])
    const ua = merged.raw.users?.[0].user as Record<string, unknown>
    expect([ua['client-certificate'], ua['client-key']]).toEqual([
      join(one, 'me.crt'),
      join(one, 'me.key')
    ])
    expect((ua.exec as { command: string }).command).toBe(join(one, 'bin/get-token'))
    // A bare command is looked up on PATH, as kubectl does.
    expect((merged.raw.users?.[1].user?.exec as { command: string }).command).toBe('aws')
  })

  it('skips a missing file with a warning, and refuses a list where none exists', async () => {
    const [real] = write({
      config: file({
        clusters: '- name: a\n  cluster: { server: "https://a" }',
        users: '- name: u\n  user: {}',
        contexts: '- name: a\n  context: { cluster: a, user: u }'
      })
    })
    const creds = await kubeConfigsFromInputs(
      { files: { paths: ['/nonexistent/kit-a', real], from: '$KUBECONFIG' } },
      new Redactor()
    )
    expect([...creds.clusters.keys()]).toEqual(['a'])
    expect(creds.warnings).toEqual([
      'the kubeconfig file /nonexistent/kit-a named by $KUBECONFIG does not exist; the other files are used'
    ])
    await expect(
      kubeConfigsFromInputs(
        { files: { paths: ['/nonexistent/kit-a', '/nonexistent/kit-b'], from: '$KUBECONFIG' } },
        new Redactor()
      )
    ).rejects.toThrow(
      'none of the kubeconfig files in $KUBECONFIG exists (/nonexistent/kit-a, /nonexistent/kit-b)'
    )
    await expect(
      kubeConfigsFromInputs(
        { files: { paths: ['/nonexistent/kit-a'], from: '--kubeconfig' } },
        new Redactor()
      )
    ).rejects.toThrow('the kubeconfig file /nonexistent/kit-a (from --kubeconfig) does not exist')
  })

  it('names the file that holds a broken context, even when its user is defined in another', async () => {
    const paths = write({
      users: file({ users: '- name: u\n  user: {}' }),
      contexts: file({
        clusters: '- name: a\n  cluster: { server: "https://a" }',
        contexts:
          '- name: a\n  context: { cluster: a, user: u }\n- name: b\n  context: { cluster: a, user: ghost }'
      })
    })
    await expect(
      kubeConfigsFromInputs({ files: { paths, from: '$KUBECONFIG' } }, new Redactor())
    ).rejects.toMatchObject({
      message: expect.stringContaining('context "b" names user "ghost", which is not defined'),
      where: { file: paths[1] }
    })
  })

  it("client-node's own list loading does not merge this way (why kit merges the files itself)", () => {
    const paths = write({
      a: file({
        clusters: '- name: east\n  cluster: { server: "https://a" }',
        users: '- name: u\n  user: {}',
        contexts: '- name: east\n  context: { cluster: east, user: u }'
      }),
      b: file({
        clusters: '- name: east\n  cluster: { server: "https://b" }',
        users: '- name: v\n  user: {}',
        contexts: '- name: west\n  context: { cluster: east, user: v }'
      })
    })
    const saved = process.env.KUBECONFIG
    process.env.KUBECONFIG = paths.join(delimiter)
    try {
      // kubectl keeps the first "east"; client-node refuses the second.
      expect(() => new KubeConfig().loadFromDefault()).toThrow('Duplicate cluster: east')
    } finally {
      if (saved === undefined) delete process.env.KUBECONFIG
      else process.env.KUBECONFIG = saved
    }
  })
})

describe('defaultKubeconfigFiles and notKubeconfigText', () => {
  it('reads the KUBECONFIG list (empty entries ignored), else ~/.kube/config', () => {
    expect(
      defaultKubeconfigFiles({ KUBECONFIG: `/a${delimiter}${delimiter}/b`, HOME: '/h' })
    ).toEqual({
      paths: ['/a', '/b'],
      from: '$KUBECONFIG',
      fromEnvironment: true
    })
    expect(defaultKubeconfigFiles({ KUBECONFIG: '', HOME: '/h' })).toEqual({
      paths: ['/h/.kube/config'],
      from: '~/.kube/config',
      fromEnvironment: false
    })
  })

  it.each([
    ['/home/runner/.kube/config', 'a file path'],
    ['~/.kube/config', 'a file path'],
    ['./kubeconfig.yaml', 'a file path'],
    ['kubeconfig.yaml', 'a file path'],
    ['C:\\Users\\me\\.kube\\config', 'a file path'],
    ['$RUNNER_TEMP/kubeconfig', 'a file path'],
    [
      Buffer.from('apiVersion: v1\nkind: Config\nclusters: []\nusers: []\n').toString('base64'),
      'base64'
    ],
    ['apiVersion: v1', undefined],
    ['{"apiVersion":"v1"}', undefined],
    ['apiVersion: v1\nkind: Config\n', undefined],
    ['', undefined]
  ])('%j is %s', (value, kind) => {
    expect(notKubeconfigText(value)).toBe(kind)
  })
})
