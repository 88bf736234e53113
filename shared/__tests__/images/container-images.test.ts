import { describe, expect, it } from '@jest/globals'
import {
  forEachContainerImage,
  holdsNoContainerImage,
  isContainerImageKey
} from '../../src/images/container-images.js'

describe('isContainerImageKey', () => {
  it.each([
    [['spec', 'containers', 0], 'image', true],
    [['spec', 'template', 'spec', 'initContainers', 3], 'image', true],
    [['spec', 'ephemeralContainers', 0], 'image', true],
    [['spec', 'containers', 0], 'name', false],
    [['spec', 'containers'], 'image', false],
    [['spec', 'sidecars', 0], 'image', false],
    [['containers', 'x'], 'image', false],
    [[], 'image', false]
  ])('%j . %s → %s', (parent, key, expected) => {
    expect(isContainerImageKey(parent, key)).toBe(expected)
  })
})

describe('forEachContainerImage', () => {
  const found = (value: unknown, at: (string | number)[] = []) => {
    const out: [string, unknown][] = []
    forEachContainerImage(value, at, (path, image) => out.push([path.join('.'), image]))
    return out
  }

  it('finds the images of a CronJob, at any depth, and nothing else', () => {
    const cron = {
      spec: {
        jobTemplate: {
          spec: {
            template: {
              spec: {
                initContainers: [{ name: 'i', image: 'busybox' }],
                containers: [{ name: 'a', image: 'r/a:1' }, { name: 'b' }],
                volumes: [{ name: 'v', image: { reference: 'not a container' } }]
              }
            }
          }
        }
      },
      metadata: { annotations: { image: 'x' } }
    }
    expect(found(cron)).toEqual([
      ['spec.jobTemplate.spec.template.spec.initContainers.0.image', 'busybox'],
      ['spec.jobTemplate.spec.template.spec.containers.0.image', 'r/a:1']
    ])
  })

  it('starts from the path it is given (a placeholder deep in a template)', () => {
    expect(found([{ name: 'a', image: 1 }], ['spec', 'containers'])).toEqual([
      ['spec.containers.0.image', 1]
    ])
    expect(found('r/a:1', ['spec', 'containers', 0, 'image'])).toEqual([
      ['spec.containers.0.image', 'r/a:1']
    ])
  })
})

describe('holdsNoContainerImage', () => {
  it.each([
    [['metadata', 'annotations'], true],
    [['spec', 'containers', 0, 'env'], true],
    [['spec', 'template', 'spec', 'initContainers', 1, 'resources', 'limits'], true],
    [['spec', 'containers', 0, 'image'], false],
    [['spec', 'containers', 0], false],
    [['spec', 'template'], false],
    [['data', 'x'], false]
  ])('%j → %s', (path, expected) => {
    expect(holdsNoContainerImage(path)).toBe(expected)
  })
})
