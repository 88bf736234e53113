// The record beside a template set: written and read by one module, so the image-deployer and
// the deploymentizer agree on it byte for byte.
import { describe, expect, it } from '@jest/globals'
import {
  contentHash,
  describeChangedFiles,
  readTemplateRecord,
  recordFor,
  renderTemplateRecord,
  templateRecordPath,
  templateSetFolder
} from '../../src/service-templates/record.js'

describe('template records', () => {
  const files = [
    { path: 'values.yaml', content: 'replicas: 2\n' },
    { path: 'deployment.yaml', content: 'kind: Deployment\r\n' }
  ]
  const source = { repository: 'acme/api', commit: '0'.repeat(40), path: 'deploy/kit' }

  it('places the copy and its record side by side, the branch encoded like image files', () => {
    expect(templateSetFolder('./service-templates/', 'api', 'feature/x')).toBe(
      'service-templates/api/feature%2Fx'
    )
    expect(templateRecordPath('service-templates', 'api', 'main')).toBe(
      'service-templates/api/main.yaml'
    )
    expect(templateSetFolder('', 'api', 'main')).toBe('api/main')
  })

  it('reads back what it writes, files sorted and hashed over their exact bytes', () => {
    const record = recordFor({ service: 'api', branch: 'main', image: 'r/api:1', source }, files)
    expect(Object.keys(record.files)).toEqual(['deployment.yaml', 'values.yaml'])
    expect(record.files['deployment.yaml']).toBe(contentHash('kind: Deployment\r\n'))
    expect(record.files['deployment.yaml']).not.toBe(contentHash('kind: Deployment\n'))
    const text = renderTemplateRecord(record)
    expect(readTemplateRecord(text, 'r.yaml')).toEqual({
      ...record,
      source: {
        ...source,
        ref: undefined,
        runUrl: undefined,
        builtAt: undefined,
        committedAt: undefined
      }
    })
    const empty = recordFor({ service: 'api', branch: 'main', source }, [])
    expect(readTemplateRecord(renderTemplateRecord(empty), 'r.yaml').files).toEqual({})
  })

  it('refuses a record that is not the expected shape, naming the file', () => {
    expect(() => readTemplateRecord('service: api\nbranch: main\n', 'x.yaml')).toThrow(
      /x\.yaml.*needs 'files:'/
    )
    expect(() =>
      readTemplateRecord('service: api\nbranch: main\nfiles:\n  a.yaml: md5:1\n', 'x.yaml')
    ).toThrow(/files\.a\.yaml: expected sha256/)
  })

  it('folds a set folder into one entry when describing changed files', () => {
    const changed = [
      'images/api/main.yaml',
      'service-templates/api/main.yaml',
      ...Array.from({ length: 50 }, (_, i) => `service-templates/api/main/f${i}.yaml`)
    ]
    expect(describeChangedFiles(changed, 'service-templates/api/main')).toBe(
      'images/api/main.yaml, service-templates/api/main.yaml, service-templates/api/main/ (50 files)'
    )
    expect(describeChangedFiles(['images/api/main.yaml'], 'service-templates/api/main')).toBe(
      'images/api/main.yaml'
    )
    expect(describeChangedFiles(['a', 'b'])).toBe('a, b')
  })
})
