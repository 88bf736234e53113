import { describe, expect, it } from '@jest/globals'
import { matchesSelector, parseSelector } from '../../src/deploy/fleet/selector.js'

describe('label selectors', () => {
  const labels = { app: 'web', 'app.kubernetes.io/part-of': 'shop', tier: 'front-end' }
  it.each([
    ['app=web', true],
    ['app==web', true],
    ['app = web', true],
    ['app!=web', false],
    ['app!=api', true],
    ['missing!=x', true],
    ['tier in (front-end, back-end)', true],
    ['tier notin (front-end)', false],
    ['missing notin (a)', true],
    ['app.kubernetes.io/part-of=shop', true],
    ['app', true],
    ['!app', false],
    ['!missing', true],
    ['app=web,tier in (back-end)', false],
    ['app=web, tier in (front-end,x), !missing', true]
  ])('%s → %s', (selector, expected) => {
    expect(matchesSelector(labels, parseSelector(selector))).toBe(expected)
  })
  it.each([
    ['app=we b', /is not key/],
    ['app in (a b)', /invalid value 'a b'/],
    ['-bad=x', /invalid key '-bad'/],
    ['app=web,', /is empty/]
  ])('refuses %s, naming the requirement', (selector, message) => {
    expect(() => parseSelector(selector)).toThrow(message)
  })
})
