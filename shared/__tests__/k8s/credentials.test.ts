/** Kubeconfig parsing without a cluster: which values are secret, and clear errors. */
import { describe, expect, it } from '@jest/globals'
import { kubeConfigsFromInputs } from '../../src/k8s/client/credentials.js'
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
