/** Replica counts an autoscaler owns: which workloads an HPA of the run scales, and what is applied. */
import { describe, expect, it } from '@jest/globals'
import { parse } from 'yaml'
import {
  autoscaledNotice,
  autoscaledWorkloads,
  scaleTargetKey,
  withAutoscaledReplicas
} from '../../src/deploy/cluster/autoscaled.js'
import { appliedHashAnnotation } from '../../src/k8s/change.js'
import { describeRef, keyOf } from '../../src/k8s/identity.js'
import type { KubeObject } from '../../src/k8s/types.js'

const obj = (yaml: string) => parse(yaml) as KubeObject

const workload = (kind: string, name: string, ns = 'app', replicas: number | null = 2) =>
  obj(
    `{ apiVersion: ${kind === 'Widget' ? 'example.com/v1' : 'apps/v1'}, kind: ${kind}, metadata: { name: ${name}, namespace: ${ns} }, spec: { ${replicas === null ? '' : `replicas: ${replicas},`} selector: {} } }`
  )

const hpa = (target: string, ns = 'app', apiVersion = 'autoscaling/v2') =>
  obj(
    `{ apiVersion: ${apiVersion}, kind: HorizontalPodAutoscaler, metadata: { name: h, namespace: ${ns} }, spec: { scaleTargetRef: ${target}, minReplicas: 1, maxReplicas: 5 } }`
  )

describe('scaleTargetKey', () => {
  it.each([
    [
      'autoscaling/v2 → its target in its namespace',
      hpa('{ apiVersion: apps/v1, kind: Deployment, name: web }'),
      'apps|Deployment|app|web'
    ],
    [
      'autoscaling/v1 alike',
      hpa('{ apiVersion: apps/v1, kind: StatefulSet, name: db }', 'app', 'autoscaling/v1'),
      'apps|StatefulSet|app|db'
    ],
    [
      'the version of the target does not matter, its group does',
      hpa('{ apiVersion: apps/v1beta2, kind: Deployment, name: web }'),
      'apps|Deployment|app|web'
    ],
    [
      'a custom resource with a scale subresource',
      hpa('{ apiVersion: example.com/v1, kind: Widget, name: w }'),
      'example.com|Widget|app|w'
    ],
    [
      'no apiVersion: the core group, as the autoscaler reads it',
      hpa('{ kind: Deployment, name: web }'),
      '|Deployment|app|web'
    ],
    ['no scaleTargetRef → nothing', hpa('null'), undefined],
    ['no name → nothing', hpa('{ apiVersion: apps/v1, kind: Deployment }'), undefined],
    ['no kind → nothing', hpa('{ apiVersion: apps/v1, name: web }'), undefined],
    [
      'not an HPA → nothing',
      obj(
        '{ apiVersion: apps/v1, kind: Deployment, metadata: { name: x, namespace: app }, spec: { scaleTargetRef: { apiVersion: apps/v1, kind: Deployment, name: web } } }'
      ),
      undefined
    ],
    [
      'an HPA-named kind of another group → nothing',
      hpa('{ apiVersion: apps/v1, kind: Deployment, name: web }', 'app', 'example.com/v1'),
      undefined
    ]
  ])('%s', (_name, object, expected) => {
    expect(scaleTargetKey(object)).toBe(expected)
  })
})

describe('autoscaledWorkloads', () => {
  const webHpa = hpa('{ apiVersion: apps/v1, kind: Deployment, name: web }')
  it.each([
    ['a Deployment the HPA targets', [workload('Deployment', 'web'), webHpa], ['web']],
    ['the HPA listed first', [webHpa, workload('Deployment', 'web')], ['web']],
    [
      'a StatefulSet and a custom resource',
      [
        workload('StatefulSet', 'db'),
        workload('Widget', 'w'),
        hpa('{ apiVersion: apps/v1, kind: StatefulSet, name: db }'),
        hpa('{ apiVersion: example.com/v1, kind: Widget, name: w }', 'app', 'autoscaling/v1')
      ],
      ['db', 'w']
    ],
    [
      'an HPA in another namespace → no match',
      [
        workload('Deployment', 'web'),
        hpa('{ apiVersion: apps/v1, kind: Deployment, name: web }', 'other')
      ],
      []
    ],
    [
      'an HPA targeting a name not in the set → no effect',
      [workload('Deployment', 'web'), hpa('{ apiVersion: apps/v1, kind: Deployment, name: api }')],
      []
    ],
    [
      'an HPA targeting another kind of the same name → no match',
      [workload('Deployment', 'web'), hpa('{ apiVersion: apps/v1, kind: StatefulSet, name: web }')],
      []
    ],
    [
      'an HPA targeting another group → no match',
      [
        workload('Deployment', 'web'),
        hpa('{ apiVersion: example.com/v1, kind: Deployment, name: web }')
      ],
      []
    ],
    [
      'the manifest sets no spec.replicas → nothing to do',
      [workload('Deployment', 'web', 'app', null), webHpa],
      []
    ],
    [
      'a fast-rollback Deployment (<name>-<id>) is not its base name',
      [workload('Deployment', 'web-0a1b2c3d'), webHpa],
      []
    ],
    [
      'two HPAs on one workload → listed once',
      [workload('Deployment', 'web'), webHpa, webHpa],
      ['web']
    ],
    ['no HPA at all', [workload('Deployment', 'web')], []]
  ])('%s', (_name, objects, expected) => {
    const found = autoscaledWorkloads(objects)
    expect([...found.values()].map((o) => o.metadata.name)).toEqual(expected)
    for (const [key, o] of found) expect(key).toBe(keyOf(o))
  })
})

describe('withAutoscaledReplicas', () => {
  const stamped = (replicas: number | null) => {
    const o = workload('Deployment', 'web', 'app', replicas)
    o.metadata.annotations = { [appliedHashAnnotation]: 'abc' }
    return o
  }
  const autoscaled = autoscaledWorkloads([
    stamped(2),
    hpa('{ apiVersion: apps/v1, kind: Deployment, name: web }')
  ])
  const replicasOf = (o: KubeObject) => (o.spec as { replicas?: number }).replicas

  it.each([
    ['live count kept (the autoscaler scaled to 5)', stamped(2), stamped(5), autoscaled, 5],
    ['live scaled to zero stays zero', stamped(2), stamped(0), autoscaled, 0],
    ['create: the manifest count is the initial one', stamped(2), undefined, autoscaled, 2],
    ['nothing set live yet: the manifest count', stamped(2), stamped(null), autoscaled, 2],
    ['not autoscaled: the manifest count wins', stamped(2), stamped(5), new Map(), 2]
  ])('%s', (_name, desired, live, set, expected) => {
    const out = withAutoscaledReplicas(desired, live, set as ReadonlyMap<string, KubeObject>)
    expect(replicasOf(out)).toBe(expected)
    // The hash is the manifest's as written, so an unchanged redeploy compares equal.
    expect(out.metadata.annotations?.[appliedHashAnnotation]).toBe('abc')
    // Everything else is the manifest's; the manifest itself is not changed.
    expect({ ...out, spec: { ...(out.spec as object), replicas: 2 } }).toEqual(desired)
    expect(replicasOf(desired)).toBe(2)
  })
})

describe('autoscaledNotice', () => {
  it.each([
    [
      1,
      'for 1 workload: Deployment/app/w0; remove spec.replicas from the manifest to silence this'
    ],
    [3, 'for 3 workloads: Deployment/app/w0, Deployment/app/w1, Deployment/app/w2; remove'],
    [
      5,
      'for 5 workloads: Deployment/app/w0, Deployment/app/w1, Deployment/app/w2 and 2 more; remove'
    ]
  ])('names a few of %i', (n, expected) => {
    const workloads = Array.from({ length: n }, (_, i) => workload('Deployment', `w${i}`))
    const text = autoscaledNotice(workloads)
    expect(text).toContain(expected)
    expect(text).toContain("the manifest's spec.replicas is used only on create")
    expect(text).not.toContain(describeRef(workload('Deployment', 'w3')))
  })
})
