/** Apply order: kind tiers, the kit.dev/depends-on annotation, implicit Namespace/CRD dependencies. */
import { describe, expect, it } from '@jest/globals'
import { InputError } from '../../src/errors.js'
import { parseManifests } from '../../src/k8s/manifests.js'
import { kindRank, KindRank, parseDependsOn, planStages } from '../../src/k8s/order.js'
import type { KubeObject } from '../../src/k8s/types.js'

const stagesOf = (yaml: string) =>
  planStages(parseManifests(yaml, 'm.yaml')).map((s) =>
    s.manifests.map((m) => `${m.object.kind}/${m.object.metadata.name}`)
  )

describe('kindRank', () => {
  it.each([
    ['Namespace', KindRank.NamespacesAndCrds],
    ['CustomResourceDefinition', KindRank.NamespacesAndCrds],
    ['ClusterRole', KindRank.ClusterScoped],
    ['StorageClass', KindRank.ClusterScoped],
    ['ServiceAccount', KindRank.Config],
    ['RoleBinding', KindRank.Config],
    ['ConfigMap', KindRank.Config],
    ['Secret', KindRank.Config],
    ['Service', KindRank.Services],
    ['Deployment', KindRank.Workloads],
    ['Job', KindRank.Workloads],
    ['Ingress', KindRank.Rest],
    ['HorizontalPodAutoscaler', KindRank.Rest],
    ['ValidatingWebhookConfiguration', KindRank.Webhooks]
  ])('%s → tier %i', (kind, rank) => {
    expect(kindRank({ apiVersion: 'v1', kind, metadata: { name: 'x' } })).toBe(rank)
  })

  it('puts an unknown cluster-scoped kind with the cluster-scoped tier when discovery says so', () => {
    const o: KubeObject = {
      apiVersion: 'example.com/v1',
      kind: 'ClusterThing',
      metadata: { name: 'x' }
    }
    expect(kindRank(o)).toBe(KindRank.Rest)
    expect(kindRank(o, () => true)).toBe(KindRank.ClusterScoped)
  })
})

describe('planStages', () => {
  it('orders Namespaces and CRDs, cluster-scoped, config, Services, workloads, the rest, webhooks', () => {
    expect(
      stagesOf(`
{ apiVersion: admissionregistration.k8s.io/v1, kind: ValidatingWebhookConfiguration, metadata: { name: hook } }
---
{ apiVersion: networking.k8s.io/v1, kind: Ingress, metadata: { name: ing } }
---
{ apiVersion: apps/v1, kind: Deployment, metadata: { name: web } }
---
{ apiVersion: v1, kind: Service, metadata: { name: web } }
---
{ apiVersion: v1, kind: ConfigMap, metadata: { name: cfg } }
---
{ apiVersion: rbac.authorization.k8s.io/v1, kind: ClusterRole, metadata: { name: reader } }
---
{ apiVersion: apiextensions.k8s.io/v1, kind: CustomResourceDefinition, metadata: { name: a.example.com } }
`)
    ).toEqual([
      ['CustomResourceDefinition/a.example.com'],
      ['ClusterRole/reader'],
      ['ConfigMap/cfg'],
      ['Service/web'],
      ['Deployment/web'],
      ['Ingress/ing'],
      ['ValidatingWebhookConfiguration/hook']
    ])
  })

  it('applies what an object depends on (kit.dev/depends-on) in an earlier stage, whatever its kind', () => {
    expect(
      stagesOf(`
{ apiVersion: v1, kind: ConfigMap, metadata: { name: after, namespace: app, annotations: { kit.dev/depends-on: "Job/migrate" } } }
---
{ apiVersion: batch/v1, kind: Job, metadata: { name: migrate, namespace: app } }
---
{ apiVersion: apps/v1, kind: Deployment, metadata: { name: web, namespace: app, annotations: { kit.dev/depends-on: "ConfigMap/app/after, Job/migrate" } } }
`)
    ).toEqual([['Job/migrate'], ['ConfigMap/after'], ['Deployment/web']])
  })

  it('makes a namespaced object depend on its Namespace and a custom resource on its CRD', () => {
    const stages = stagesOf(`
{ apiVersion: example.com/v1, kind: Widget, metadata: { name: w, namespace: app, annotations: { kit.dev/depends-on: "ConfigMap/c" } } }
---
{ apiVersion: v1, kind: ConfigMap, metadata: { name: c, namespace: app } }
---
{ apiVersion: v1, kind: Namespace, metadata: { name: app } }
---
{ apiVersion: apiextensions.k8s.io/v1, kind: CustomResourceDefinition, metadata: { name: widgets.example.com }, spec: { group: example.com, names: { kind: Widget } } }
`)
    expect(stages).toEqual([
      ['Namespace/app', 'CustomResourceDefinition/widgets.example.com'],
      ['ConfigMap/c'],
      ['Widget/w']
    ])
  })

  it.each([
    [
      'an unknown reference',
      `{ apiVersion: v1, kind: ConfigMap, metadata: { name: a, annotations: { kit.dev/depends-on: "Secret/missing" } } }`,
      /names Secret\/missing, which is not among this cluster's manifests/
    ],
    [
      'a cycle',
      `{ apiVersion: v1, kind: ConfigMap, metadata: { name: a, annotations: { kit.dev/depends-on: "ConfigMap/b" } } }
---
{ apiVersion: v1, kind: ConfigMap, metadata: { name: b, annotations: { kit.dev/depends-on: "ConfigMap/a" } } }`,
      /dependency cycle: ConfigMap\/a → ConfigMap\/b → ConfigMap\/a/
    ],
    [
      'a self reference',
      `{ apiVersion: v1, kind: ConfigMap, metadata: { name: a, annotations: { kit.dev/depends-on: "ConfigMap/a" } } }`,
      /depends on itself/
    ],
    [
      'a malformed entry',
      `{ apiVersion: v1, kind: ConfigMap, metadata: { name: a, annotations: { kit.dev/depends-on: "just-a-name" } } }`,
      /not Kind\/name/
    ]
  ])('refuses %s with an InputError naming the file', (_name, yaml, message) => {
    expect(() => stagesOf(yaml)).toThrow(InputError)
    expect(() => stagesOf(yaml)).toThrow(message)
    expect(() => stagesOf(yaml)).toThrow(/^m\.yaml:\d+/)
  })

  it('parses comma- and newline-separated references', () => {
    expect(parseDependsOn('Secret/a,\n ConfigMap/ns/b ', { file: 'f', line: 1 })).toEqual([
      { kind: 'Secret', name: 'a' },
      { kind: 'ConfigMap', namespace: 'ns', name: 'b' }
    ])
  })
})
