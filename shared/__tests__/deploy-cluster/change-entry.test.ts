/** Change entries with a diff rendered on first read, and text mapped over them. */
import { describe, expect, it } from '@jest/globals'
import { mapEntryText, withDiffWhenRead } from '../../src/deploy/cluster/change-entry.js'
import type { ChangeEntry } from '../../src/deploy/cluster/types.js'

const base = { kind: 'ConfigMap', namespace: 'app', name: 'cfg', action: 'created' } as const

describe('withDiffWhenRead', () => {
  it('renders on the first read only, and every reader sees a plain property', () => {
    let renders = 0
    const entry = withDiffWhenRead(base, () => `+ rendered ${++renders}`)
    expect(renders).toBe(0)
    expect(Object.keys(entry)).toEqual(['kind', 'namespace', 'name', 'action', 'diff'])
    expect(entry.diff).toBe('+ rendered 1')
    expect(entry.diff).toBe('+ rendered 1')
    expect({ ...entry }).toEqual({ ...base, diff: '+ rendered 1' })
    expect(JSON.parse(JSON.stringify(entry))).toEqual({ ...base, diff: '+ rendered 1' })
    expect(renders).toBe(1)
  })
})

describe('mapEntryText', () => {
  const mask = (s: string) => s.replaceAll('hunter2', '***')

  it.each<[string, ChangeEntry, ChangeEntry]>([
    [
      'a rendered diff and a message',
      { ...base, action: 'configured', diff: '+ pw: hunter2', message: 'saw hunter2' },
      { ...base, action: 'configured', diff: '+ pw: ***', message: 'saw ***' }
    ],
    ['no diff, no message', { ...base, action: 'unchanged' }, { ...base, action: 'unchanged' }],
    [
      'a message only',
      { ...base, action: 'failed', message: 'hunter2 refused' },
      { ...base, action: 'failed', message: '*** refused' }
    ]
  ])('maps %s', (_, entry, expected) => {
    const mapped = mapEntryText(entry, mask)
    expect(mapped).toEqual(expected)
    expect(Object.keys(mapped)).toEqual(Object.keys(expected))
  })

  it('keeps a diff not yet rendered unrendered, and maps it when it is read', () => {
    let renders = 0
    const entry = withDiffWhenRead({ ...base, message: 'hunter2' }, () => {
      renders++
      return '+ pw: hunter2'
    })
    const mapped = mapEntryText(entry, mask)
    expect(renders).toBe(0)
    expect(mapped.message).toBe('***')
    expect(mapped.diff).toBe('+ pw: ***')
    expect(mapped.diff).toBe('+ pw: ***')
    expect(renders).toBe(1)
    // The original still reads unmasked: mapping made a new entry.
    expect(entry.diff).toBe('+ pw: hunter2')
    expect(renders).toBe(1)
  })
})
