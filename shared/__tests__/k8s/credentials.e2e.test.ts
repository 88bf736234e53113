/**
 * Credentials from the three input shapes, used against the real local clusters: one
 * kubeconfig with a context per cluster, one kubeconfig per cluster, and a directory of
 * kubeconfig files (kit layout) including an exec-plugin user.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parse, stringify } from 'yaml'
import { testClusters, testKubeconfigPath } from '../../../testinfra/jest/clusters.js'
import { createClusterClient } from '../../src/k8s/client/client.js'
import { kubeConfigsFromInputs, matchClusters } from '../../src/k8s/client/credentials.js'
import { InputError } from '../../src/errors.js'
import { Redactor } from '../../src/secrets/redact.js'
import type { KubeConfig } from '@kubernetes/client-node'

let dir: string
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'kit-creds-'))
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

async function canReach(name: string, kc: KubeConfig, redactor = new Redactor()): Promise<boolean> {
  const client = createClusterClient(name, kc, {
    redactor,
    retry: { attempts: 1, unreachableAttempts: 1 }
  })
  try {
    return (
      (await client.get({ apiVersion: 'v1', kind: 'Namespace', name: 'default' }))?.metadata
        .name === 'default'
    )
  } finally {
    await client.close()
  }
}

interface RawConfig {
  clusters: { name: string; cluster: Record<string, unknown> }[]
  users: { name: string; user: Record<string, unknown> }[]
  contexts: { name: string; context: Record<string, unknown> }[]
  'current-context'?: string
  metadata?: { name: string }
}

describe('kubeConfigsFromInputs', () => {
  it('takes one kubeconfig with a context per cluster and registers every token', async () => {
    const text = readFileSync(testKubeconfigPath(), 'utf8')
    const redactor = new Redactor()
    const creds = await kubeConfigsFromInputs({ kubeconfig: text }, redactor)
    const names = testClusters().map((c) => c.name)
    expect([...creds.clusters.keys()].sort()).toEqual([...names].sort())
    for (const name of names)
      expect(await canReach(name, creds.clusters.get(name) as KubeConfig)).toBe(true)
    const raw = parse(text) as RawConfig
    for (const u of raw.users)
      expect(redactor.scrub(`token ${String(u.user.token)}`)).toBe('token ***')
    expect(creds.sources.get(names[0])).toBe(`the kubeconfig input (context "${names[0]}")`)
  })

  it('takes one kubeconfig per cluster', async () => {
    const perCluster = Object.fromEntries(
      testClusters().map((c) => [c.name, readFileSync(c.kubeconfigPath, 'utf8')])
    )
    const creds = await kubeConfigsFromInputs({ perCluster }, new Redactor())
    const [first] = testClusters()
    expect(await canReach(first.name, creds.clusters.get(first.name) as KubeConfig)).toBe(true)
  })

  it('reads a directory of kubeconfig files (kit layout) with metadata.name, file names and an exec plugin', async () => {
    const [one, two] = testClusters()
    const kitDir = join(dir, 'kit')
    const { mkdirSync } = await import('node:fs')
    mkdirSync(kitDir)
    // kit's layout: kind Config with metadata.name naming the cluster.
    const first = parse(readFileSync(one.kubeconfigPath, 'utf8')) as RawConfig
    writeFileSync(
      join(kitDir, 'cluster-a.yaml'),
      stringify({ ...first, metadata: { name: 'renamed-one' } })
    )
    // An exec plugin: a tiny script printing an ExecCredential with the cluster's token.
    const second = parse(readFileSync(two.kubeconfigPath, 'utf8')) as RawConfig
    const token = String(second.users[0].user.token)
    const script = join(kitDir, 'get-token.sh')
    writeFileSync(
      script,
      `#!/bin/sh\necho '${JSON.stringify({ apiVersion: 'client.authentication.k8s.io/v1', kind: 'ExecCredential', status: { token } })}'\n`
    )
    chmodSync(script, 0o700)
    second.users[0].user = {
      exec: {
        apiVersion: 'client.authentication.k8s.io/v1',
        command: './get-token.sh',
        interactiveMode: 'Never'
      }
    }
    writeFileSync(join(kitDir, `${two.name}.yaml`), stringify(second))
    writeFileSync(join(kitDir, 'README.md'), 'not a kubeconfig')

    const redactor = new Redactor()
    const creds = await kubeConfigsFromInputs({ directory: kitDir }, redactor)
    expect([...creds.clusters.keys()].sort()).toEqual(['renamed-one', two.name].sort())
    expect(redactor.scrub(token)).not.toBe('***') // not in the file: the exec plugin supplies it
    expect(await canReach('renamed-one', creds.clusters.get('renamed-one') as KubeConfig)).toBe(
      true
    )
    expect(await canReach(two.name, creds.clusters.get(two.name) as KubeConfig, redactor)).toBe(
      true
    )
    // The token the plugin returned is now registered.
    expect(redactor.scrub(`x ${token}`)).toBe('x ***')
  })

  it('refuses a cluster defined twice, and bad kubeconfigs without echoing their content', async () => {
    const text = readFileSync(testClusters()[0].kubeconfigPath, 'utf8')
    const name = testClusters()[0].name
    await expect(
      kubeConfigsFromInputs({ kubeconfig: text, perCluster: { [name]: text } }, new Redactor())
    ).rejects.toThrow(/has credentials in both/)
    const secretish = 'users:\n- name: u\n  user:\n    token: "abc-SECRET-TOKEN\n'
    const err = await kubeConfigsFromInputs({ perCluster: { x: secretish } }, new Redactor()).catch(
      (e: unknown) => e
    )
    expect(err).toBeInstanceOf(InputError)
    expect((err as Error).message).toMatch(
      /the kubeconfig for cluster "x": not a valid kubeconfig: YAML syntax error/
    )
    expect((err as Error).message).not.toContain('SECRET')
    const raw = parse(text) as RawConfig
    raw.contexts[0].context.user = 'nobody'
    await expect(
      kubeConfigsFromInputs({ kubeconfig: stringify(raw) }, new Redactor())
    ).rejects.toThrow(/context "[^"]+" names user "nobody", which is not defined/)
  })

  it('reports clusters with manifests but no credentials, and the reverse', () => {
    expect(matchClusters(['a', 'b', 'c'], ['b', 'c', 'd'])).toEqual({
      deployable: ['b', 'c'],
      missingCredentials: ['a'],
      missingManifests: ['d']
    })
  })
})
