/**
 * kit's one canonical JSON. The applied hash (kit.dev/applied-hash) and the fast-rollback
 * deploy id hash it, so its output for manifests must never change: the vectors below were
 * computed by the two implementations it replaced (k8s/change.ts and fast-rollback.ts, kept
 * verbatim below as `fromChange` and `fromFastRollback`) before they were merged.
 */
import { describe, expect, it } from '@jest/globals'
import { canonicalJson } from '../../src/data/canonical-json.js'
import { appliedHash, canonicalJson as fromChangeModule } from '../../src/k8s/change.js'
import {
  canonicalJson as fromFastRollbackModule,
  deployIdOf
} from '../../src/deploy/fleet/fast-rollback.js'
import type { KubeObject } from '../../src/k8s/types.js'
import { loadYamlDocuments } from '../../src/yaml/load.js'

/** The applied hash's copy, as it was. */
function fromChange(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null'
  if (Array.isArray(value)) return `[${value.map((v) => fromChange(v ?? null)).join(',')}]`
  const record = value as Record<string, unknown>
  const members = Object.keys(record)
    .filter((k) => record[k] !== undefined)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${fromChange(record[k])}`)
  return `{${members.join(',')}}`
}

/** The deploy id's copy, as it was. */
function fromFastRollback(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(fromFastRollback).join(',')}]`
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${fromFastRollback(v)}`).join(',')}}`
  }
  return JSON.stringify(value) as string
}

const fixtureYaml = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
  labels: { app: web, app.kubernetes.io/part-of: shop }
  annotations:
    kit.dev/strategy: fast-rollback
    note: "quotes \\" and \\\\ backslash, tab\\t, unicode é ☃ 😀"
spec:
  replicas: 3
  revisionHistoryLimit: 0
  paused: false
  progressDeadlineSeconds: 600
  selector: { matchLabels: { app: web } }
  strategy: { type: RollingUpdate, rollingUpdate: { maxSurge: 25%, maxUnavailable: 0 } }
  template:
    metadata:
      labels: { app: web }
    spec:
      terminationGracePeriodSeconds: 30
      nodeSelector: null
      containers:
        - name: web
          image: registry.example.com/shop/web:1.2.3@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
          args: ["--port=8080", "--ratio", "0.5", ""]
          ports: [{ containerPort: 8080, protocol: TCP }]
          env:
            - { name: B, value: "2" }
            - { name: A, value: "1" }
            - { name: EMPTY, value: "" }
          resources:
            limits: { cpu: 500m, memory: 256Mi }
            requests: { cpu: 0.25, memory: 1e3 }
          readinessProbe: { httpGet: { path: /healthz, port: 8080 }, periodSeconds: 5, failureThreshold: -1 }
      tolerations: []
      volumes: [{ name: cfg, configMap: { name: cfg, items: [] } }]
---
apiVersion: v1
kind: Service
metadata: { name: web, namespace: shop }
spec:
  selector: { app: web }
  ports: [{ port: 80, targetPort: 8080, name: http }]
  sessionAffinityConfig: {}
---
apiVersion: v1
kind: ConfigMap
metadata: { name: cfg, namespace: shop, annotations: { kit.dev/applied-hash: 0000000000000000 } }
data:
  "Zeta": "upper"
  "alpha": "lower"
  "_under": "x"
  "a.b": "dots"
  "é": "latin"
  "😀": "astral key"
  "ｚ": "fullwidth"
  "10": "ten"
  "9": "nine"
  big: "12345678901234567890"
  multi: |
    line one
    line two
---
apiVersion: v1
kind: Secret
metadata: { name: db, namespace: shop }
type: Opaque
stringData: { password: hunter2 }
data: { token: c2VjcmV0 }
---
apiVersion: example.com/v1
kind: Widget
metadata: { name: w, namespace: shop }
spec:
  int: 42
  negative: -7
  float: 3.14159
  exp: 6.02e23
  small: 1.0e-7
  hugeInt: 123456789012345678901234567890
  maxSafe: 9007199254740993
  negZero: -0
  inf: .inf
  nan: .nan
  octal: 0o17
  hex: 0x1F
  yes: true
  no: false
  nothing: null
  tilde: ~
  nested: [[1, [2, [3, {}]]], [], {}]
`

const manifests = (): KubeObject[] =>
  loadYamlDocuments(fixtureYaml, 'fixture.yaml').map((d) => d.value as KubeObject)

describe('canonicalJson', () => {
  it('is the one function change.ts and fast-rollback.ts export', () => {
    expect(fromChangeModule).toBe(canonicalJson)
    expect(fromFastRollbackModule).toBe(canonicalJson)
  })

  it.each([
    [
      { b: 1, a: { d: [1, { y: 2, x: 1 }], c: null } },
      '{"a":{"c":null,"d":[1,{"x":1,"y":2}]},"b":1}'
    ],
    [{}, '{}'],
    [[], '[]'],
    ['text', '"text"'],
    ['quote " backslash \\ newline \n', '"quote \\" backslash \\\\ newline \\n"'],
    ['é ☃ 😀', '"é ☃ 😀"'],
    [0, '0'],
    [-0, '0'],
    [1.5, '1.5'],
    [1e21, '1e+21'],
    [1e-7, '1e-7'],
    [NaN, 'null'],
    [Infinity, 'null'],
    [true, 'true'],
    [false, 'false'],
    [null, 'null'],
    // Keys sort by UTF-16 code units: digits, upper case, '_', lower case, then non-ASCII
    // (an astral character's surrogates sort before U+E000..U+FFFF, e.g. fullwidth letters).
    [
      { b: 1, B: 2, _: 3, '10': 4, '9': 5, é: 6, '😀': 7, ｚ: 8, a: 9 },
      '{"10":4,"9":5,"B":2,"_":3,"a":9,"b":1,"é":6,"😀":7,"ｚ":8}'
    ],
    // Members whose value is undefined are left out at every level.
    [{ a: undefined, b: 'x', c: { d: undefined } }, '{"b":"x","c":{}}'],
    // The one difference between the two copies it replaced (never in a manifest): an undefined
    // array element is null here, as in JSON.stringify; the deploy id's copy wrote `[,"x"]`.
    [[undefined, 'x'], '[null,"x"]']
  ])('%j → %s', (value, expected) => {
    expect(canonicalJson(value)).toBe(expected)
  })

  it('keeps every deploy id and applied hash of real manifests (fixed vectors)', () => {
    expect(
      manifests().map((o) => [o.kind, deployIdOf(o), appliedHash(o), canonicalJson(o).length])
    ).toEqual([
      ['Deployment', '22a8ca1b', '22a8ca1bed21e36a', 1195],
      ['Service', 'c0983a1a', 'c0983a1a159f0735', 196],
      ['ConfigMap', '4ff32e1e', '7254d8e2ab12d345', 318],
      ['Secret', '56eee322', '00f323541089d03d', 159],
      ['Widget', 'b04fc058', 'b04fc058998633c6', 362]
    ])
  })

  it('writes numbers as the YAML loader reads them', () => {
    expect(canonicalJson(manifests()[4])).toBe(
      '{"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"w","namespace":"shop"},"spec":{"exp":6.02e+23,"float":3.14159,"hex":31,"hugeInt":1.2345678901234568e+29,"inf":null,"int":42,"maxSafe":9007199254740992,"nan":null,"negZero":0,"negative":-7,"nested":[[1,[2,[3,{}]]],[],{}],"no":false,"nothing":null,"octal":15,"small":1e-7,"tilde":null,"yes":true}}'
    )
  })

  it('equals both former copies on every manifest and on random JSON data', () => {
    // A small deterministic generator (xorshift) of JSON values: objects, arrays, strings
    // (ASCII, escapes, non-ASCII, astral), numbers (ints, floats, extremes), booleans, null.
    let seed = 0x2545f491
    const rand = (n: number): number => {
      seed ^= seed << 13
      seed ^= seed >>> 17
      seed ^= seed << 5
      return (seed >>> 0) % n
    }
    const chars = ['a', 'Z', '0', '_', '-', '.', '/', '"', '\\', '\n', 'é', '☃', '😀', 'ｚ', ' ']
    const text = (): string =>
      Array.from({ length: rand(6) }, () => chars[rand(chars.length)]).join('')
    const numbers = [0, -0, 1, -1, 42, 0.1, 1e21, 1e-7, 2 ** 53 + 1, -3.5e-300, Number.MAX_VALUE]
    const value = (depth: number): unknown => {
      switch (depth > 4 ? rand(4) : rand(6)) {
        case 0:
          return text()
        case 1:
          return numbers[rand(numbers.length)]
        case 2:
          return [true, false, null][rand(3)]
        case 3:
          return rand(1000) * (rand(2) ? 1 : -1)
        case 4:
          return Array.from({ length: rand(4) }, () => value(depth + 1))
        default:
          return Object.fromEntries(
            Array.from({ length: rand(5) }, () => [text(), value(depth + 1)])
          )
      }
    }
    const corpus = [...manifests(), ...Array.from({ length: 2000 }, () => value(0))]
    for (const v of corpus) {
      const text = canonicalJson(v)
      expect(text).toBe(fromChange(v))
      expect(text).toBe(fromFastRollback(v))
      expect(JSON.parse(text)).toEqual(JSON.parse(JSON.stringify(v)))
    }
  })
})
