/** Change detection and diff rendering, with Secret values and last-applied annotations redacted. */
import { describe, expect, it } from '@jest/globals'
import { parse } from 'yaml'
import {
  comparable,
  isChanged,
  redactForDisplay,
  renderDiff,
  unifiedDiff
} from '../../src/k8s/diff.js'
import type { KubeObject } from '../../src/k8s/types.js'

const obj = (yaml: string) => parse(yaml) as KubeObject

describe('isChanged', () => {
  const live = obj(`
apiVersion: v1
kind: ConfigMap
metadata: { name: a, uid: u1, resourceVersion: "5", generation: 1, creationTimestamp: "2026-01-01T00:00:00Z", managedFields: [{ manager: kit }] }
data: { k: v }
`)
  it('ignores server-managed metadata and status', () => {
    const predicted = obj(`
apiVersion: v1
kind: ConfigMap
metadata: { name: a, uid: u1, resourceVersion: "6", generation: 2, creationTimestamp: "2026-01-01T00:00:00Z", managedFields: [{ manager: kit }, { manager: other }] }
data: { k: v }
status: { x: 1 }
`)
    expect(isChanged(live, predicted)).toBe(false)
  })
  it('sees a changed value, an added label, and a missing live object', () => {
    expect(isChanged(live, { ...live, data: { k: 'w' } })).toBe(true)
    expect(isChanged(live, { ...live, metadata: { ...live.metadata, labels: { a: 'b' } } })).toBe(
      true
    )
    expect(isChanged(undefined, live)).toBe(true)
  })
  it('strips what comparable() drops', () => {
    expect(Object.keys(comparable(live).metadata)).toEqual(['name'])
  })
})

describe('renderDiff', () => {
  it('shows changed lines with context', () => {
    const a = obj(
      '{ apiVersion: v1, kind: ConfigMap, metadata: { name: a }, data: { one: "1", two: "2" } }'
    )
    const b = obj(
      '{ apiVersion: v1, kind: ConfigMap, metadata: { name: a }, data: { one: "1", two: "3" } }'
    )
    const diff = renderDiff(a, b)
    expect(diff).toContain("-   two: '2'")
    expect(diff).toContain("+   two: '3'")
    expect(diff).toContain("    one: '1'")
  })

  it('shows only what changed when the server orders keys differently from the manifest', () => {
    const live = obj(
      '{ metadata: { namespace: web, name: a }, apiVersion: v1, kind: ConfigMap, data: { two: "2", one: "1" } }'
    )
    const desired = obj(
      '{ apiVersion: v1, kind: ConfigMap, metadata: { name: a, namespace: web }, data: { one: "1", two: "3", three: "3" } }'
    )
    const changed = renderDiff(live, desired)
      .split('\n')
      .filter((l) => l.startsWith('-') || l.startsWith('+'))
    expect(changed).toEqual(["-   two: '2'", "+   two: '3'", "+   three: '3'"])
  })

  it('never shows Secret values, and marks which keys change', () => {
    const live = obj(
      `{ apiVersion: v1, kind: Secret, metadata: { name: s, annotations: { kubectl.kubernetes.io/last-applied-configuration: '{"data":{"password":"b2xkLXNlY3JldA=="}}' } }, data: { password: b2xkLXNlY3JldA==, user: YWRtaW4= } }`
    )
    const desired = obj(
      `{ apiVersion: v1, kind: Secret, metadata: { name: s }, data: { password: bmV3LXNlY3JldA==, user: YWRtaW4= } }`
    )
    const diff = renderDiff(live, desired)
    for (const secret of [
      'b2xkLXNlY3JldA==',
      'bmV3LXNlY3JldA==',
      'YWRtaW4=',
      'old-secret',
      'new-secret'
    ])
      expect(diff).not.toContain(secret)
    expect(diff).toContain('-   password: <redacted>')
    expect(diff).toContain('+   password: <redacted, changed>')
    expect(diff).not.toMatch(/[-+] {3}user/)
    expect(diff).toContain('<redacted>')
  })

  it('redacts stringData and the last-applied annotation for display', () => {
    const shown = redactForDisplay(
      obj(
        `{ apiVersion: v1, kind: Secret, metadata: { name: s, annotations: { kubectl.kubernetes.io/last-applied-configuration: "{secret}" } }, stringData: { token: abc123 } }`
      )
    )
    expect(shown.stringData).toEqual({ token: '<redacted>' })
    expect(shown.metadata.annotations).toEqual({
      'kubectl.kubernetes.io/last-applied-configuration': '<redacted>'
    })
  })

  it('shows a new object as all additions', () => {
    const diff = renderDiff(
      undefined,
      obj('{ apiVersion: v1, kind: ConfigMap, metadata: { name: a } }')
    )
    expect(
      diff
        .split('\n')
        .slice(1)
        .every((l) => l.startsWith('+ '))
    ).toBe(true)
  })
})

describe('unifiedDiff', () => {
  it('keeps only context lines around changes and marks gaps', () => {
    const a = Array.from({ length: 20 }, (_, i) => `line ${i}`)
    const b = [...a]
    b[10] = 'changed'
    const out = unifiedDiff(a, b, 1).split('\n')
    expect(out).toEqual(['@@', '  line 9', '- line 10', '+ changed', '  line 11'])
  })
  it('is empty for equal input', () => {
    expect(unifiedDiff(['a'], ['a'])).toBe('')
  })
})
