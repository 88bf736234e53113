import { describe, expect, it } from '@jest/globals'
import { Redactor } from '../../src/secrets/redact.js'

describe('Redactor', () => {
  it('masks a multi-line secret and each of its lines', () => {
    const r = new Redactor()
    r.add('line-one-secret\nline-two-secret')
    expect(r.scrub('a line-two-secret b')).toBe('a *** b')
  })

  it('masks structured text only as a whole with addWhole, so its ordinary lines stay readable', () => {
    const r = new Redactor()
    const kubeconfig =
      'apiVersion: v1\nkind: Config\nusers:\n- user:\n    token: s3cr3t-token-value'
    r.addWhole(kubeconfig)
    r.add('s3cr3t-token-value')
    expect(r.scrub('kind: ConfigMap\napiVersion: v1')).toBe('kind: ConfigMap\napiVersion: v1')
    expect(r.scrub('token s3cr3t-token-value leaked')).toBe('token *** leaked')
    expect(r.scrub(`dump:\n${kubeconfig}`)).toBe('dump:\n***')
  })

  it('ignores values too short to mask without shredding every log line', () => {
    const r = new Redactor()
    r.add('on')
    r.addWhole('1')
    expect(r.scrub('on 1')).toBe('on 1')
  })

  it('masks a value registered after earlier scrubs, the longer of two overlapping ones whole', () => {
    const r = new Redactor()
    r.add('token-abc')
    expect(r.scrub('x token-abc-extended y')).toBe('x ***-extended y')
    r.add('token-abc-extended')
    expect(r.scrub('x token-abc-extended y')).toBe('x *** y')
    expect(r.values()).toEqual(['token-abc-extended', 'token-abc'])
  })
})
