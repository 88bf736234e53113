import { describe, expect, it } from '@jest/globals'
import {
  kubeconfigSecrets,
  parseClusterLabels,
  parseKeyValues,
  parseKubeconfigsInput,
  runIdentity
} from '../../shared/src/deploy/fleet/settings.js'

const kubeconfig = `apiVersion: v1
kind: Config
clusters:
- name: a
  cluster: {server: 'https://127.0.0.1:6443'}
users:
- name: a
  user:
    token: tok-abcdef-123456
    exec:
      command: aws
      args: [eks, get-token, --cluster-name, secret-cluster]
      env: [{name: AWS_PROFILE, value: prod-profile}]
contexts:
- name: a
  context: {cluster: a, user: a}
`

describe('parseKubeconfigsInput', () => {
  const env = { KC_A: 'kubeconfig-a', KC_B: 'kubeconfig-b', EMPTY: '' }
  it('reads cluster=ENV_NAME lines', () => {
    expect(parseKubeconfigsInput('a=KC_A\n# comment\n b = KC_B \n', env)).toEqual({
      a: 'kubeconfig-a',
      b: 'kubeconfig-b'
    })
  })
  it('reads a JSON map of env names or literal kubeconfigs', () => {
    expect(parseKubeconfigsInput(JSON.stringify({ a: 'KC_A', c: kubeconfig }), env)).toEqual({
      a: 'kubeconfig-a',
      c: kubeconfig
    })
  })
  it.each([
    [
      'a=KC_MISSING',
      "kubeconfigs: cluster 'a' names environment variable KC_MISSING, which is not set or empty"
    ],
    [
      'a=EMPTY',
      "kubeconfigs: cluster 'a' names environment variable EMPTY, which is not set or empty"
    ],
    ['a=apiVersion: v1', "kubeconfigs: line 1 must be 'cluster=ENV_NAME'"],
    ['a=KC_A\na=KC_B', "kubeconfigs: cluster 'a' is listed twice"],
    ['{"a": "token: secret-value-here', 'kubeconfigs: looks like JSON but does not parse']
  ])('refuses %j without echoing values', (text, message) => {
    let thrown: Error | undefined
    try {
      parseKubeconfigsInput(text, env)
    } catch (e) {
      thrown = e as Error
    }
    expect(thrown?.message).toContain(message)
    expect(thrown?.message).not.toContain('secret-value-here')
  })
})

describe('kubeconfigSecrets', () => {
  it('finds every credential string under users, not the server or names', () => {
    const found = kubeconfigSecrets(kubeconfig)
    expect(found).toEqual(
      expect.arrayContaining(['tok-abcdef-123456', 'secret-cluster', 'prod-profile', 'get-token'])
    )
    expect(found).not.toContain('https://127.0.0.1:6443')
  })
  it('returns nothing (the caller masks the whole text) for unparseable input', () => {
    expect(kubeconfigSecrets('{{{ not yaml')).toEqual([])
  })
})

describe('labels and cluster labels', () => {
  it('parses key=value lists', () => {
    expect(parseKeyValues('team=web, tier=front\nx=a=b', 'labels')).toEqual({
      team: 'web',
      tier: 'front',
      x: 'a=b'
    })
    expect(() => parseKeyValues('novalue', 'labels')).toThrow("labels: 'novalue' must be key=value")
  })
  it('parses cluster labels from lines or JSON', () => {
    expect(parseClusterLabels('prod-1: wave=2, region=eu\nstaging: wave=1')).toEqual(
      new Map([
        ['prod-1', { wave: '2', region: 'eu' }],
        ['staging', { wave: '1' }]
      ])
    )
    expect(parseClusterLabels('{"a":{"wave":"1"}}')).toEqual(new Map([['a', { wave: '1' }]]))
    expect(() => parseClusterLabels('{"a":{"wave":1}}')).toThrow(
      "the labels of cluster 'a' must be an object of strings"
    )
  })
})

describe('runIdentity', () => {
  it('names the GitHub run and links to it', () => {
    const id = runIdentity({
      GITHUB_RUN_ID: '42',
      GITHUB_RUN_ATTEMPT: '2',
      GITHUB_REPOSITORY: 'o/r',
      GITHUB_JOB: 'deploy',
      GITHUB_SERVER_URL: 'https://github.com'
    })
    expect(id.runUrl).toBe('https://github.com/o/r/actions/runs/42/attempts/2')
    expect(id.identity).toMatch(/^o\/r#42\.2\/deploy-[0-9a-f]{6}$/)
  })
  it('is unique per local process run', () => {
    expect(runIdentity({}).identity).not.toBe(runIdentity({}).identity)
    expect(runIdentity({}).description).toMatch(/^kit deploy by .+@.+ \(pid \d+\)$/)
  })
})
