/** kit's one label-selector grammar (Kubernetes'), shared by the deployer and render. */
import { describe, expect, it } from '@jest/globals'
import { matchesSelector, parseSelector } from '../../src/k8s/selector.js'
import * as fleet from '../../src/deploy/fleet/selector.js'

describe('parseSelector', () => {
  it('is the one the fleet re-exports', () => {
    expect(fleet.parseSelector).toBe(parseSelector)
    expect(fleet.matchesSelector).toBe(matchesSelector)
  })

  it.each([
    ['app', [{ key: 'app', op: 'exists' }]],
    ['!app', [{ key: 'app', op: 'notexists' }]],
    ['app=web', [{ key: 'app', op: 'in', values: ['web'] }]],
    ['app==web', [{ key: 'app', op: 'in', values: ['web'] }]],
    ['app!=web', [{ key: 'app', op: 'notin', values: ['web'] }]],
    ['app=', [{ key: 'app', op: 'in', values: [''] }]],
    ['app in (a, b)', [{ key: 'app', op: 'in', values: ['a', 'b'] }]],
    ['app notin (a)', [{ key: 'app', op: 'notin', values: ['a'] }]],
    [
      'example.com/tier=front_end.1',
      [{ key: 'example.com/tier', op: 'in', values: ['front_end.1'] }]
    ],
    [
      'a=1, b in (x,y) ,!c',
      [
        { key: 'a', op: 'in', values: ['1'] },
        { key: 'b', op: 'in', values: ['x', 'y'] },
        { key: 'c', op: 'notexists' }
      ]
    ]
  ])('%s', (text, expected) => {
    expect(parseSelector(text)).toEqual(expected)
  })

  it.each([
    ['', /requirement '' is empty/],
    ['a b', /is not key, !key, key=value, key!=value, key in \(\.\.\.\) or key notin \(\.\.\.\)/],
    ['a=b=c', /invalid value 'b=c' \(a value is empty or at most 63/],
    ['a/b/c=x', /invalid key 'a\/b\/c' \(a key is \[prefix\/\]name/],
    ['Example.com/x', /invalid key 'Example.com\/x'/],
    ['_a=x', /invalid key '_a'/],
    [`a=${'v'.repeat(64)}`, /invalid value/],
    [`${'k'.repeat(64)}`, /invalid key/]
  ])('refuses %j naming the form', (text, message) => {
    expect(() => parseSelector(text)).toThrow(message)
  })

  it('names the selector as the caller calls it', () => {
    expect(() => parseSelector('a=b=c', 'label selector')).toThrow(
      "label selector 'a=b=c': requirement 'a=b=c' has an invalid value 'b=c'"
    )
  })
})

describe('matchesSelector', () => {
  const labels = { region: 'eu', tier: '1', 'example.com/team': 'shop' }
  it.each([
    ['region=eu', true],
    ['region=us', false],
    ['region!=us', true],
    ['zone!=a', true],
    ['zone notin (a)', true],
    ['zone in (a)', false],
    ['region in (us, eu)', true],
    ['tier', true],
    ['!tier', false],
    ['example.com/team=shop,region=eu', true],
    ['example.com/team=shop,region=us', false]
  ])('%s → %s', (text, expected) => {
    expect(matchesSelector(labels, parseSelector(text))).toBe(expected)
  })
})
