import { describe, expect, it } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gitCommitTime, gitHead } from '../../src/deploy/fleet/commit.js'

const git = (cwd: string, ...args: string[]): string =>
  execFileSync('git', args, {
    cwd,
    encoding: 'utf8',
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: 't',
      GIT_AUTHOR_EMAIL: 't@example.com',
      GIT_COMMITTER_NAME: 't',
      GIT_COMMITTER_EMAIL: 't@example.com',
      GIT_COMMITTER_DATE: '2026-11-20T10:00:00Z',
      GIT_AUTHOR_DATE: '2026-11-20T10:00:00Z'
    }
  }).trim()

describe('gitHead', () => {
  it('gives the commit and commit time of HEAD from a folder inside a checkout', async () => {
    const repo = mkdtempSync(join(tmpdir(), 'kit-commit-'))
    try {
      git(repo, 'init', '-q')
      mkdirSync(join(repo, 'generated', 'prod'), { recursive: true })
      writeFileSync(join(repo, 'generated', 'prod', 'a.yaml'), 'kind: ConfigMap\n')
      git(repo, 'add', '.')
      git(repo, 'commit', '-q', '-m', 'first')
      const head = git(repo, 'rev-parse', 'HEAD')
      expect(await gitHead(join(repo, 'generated'))).toEqual({
        commit: head,
        commitTime: '2026-11-20T10:00:00.000Z'
      })
      expect(await gitCommitTime(join(repo, 'generated'), head)).toBe('2026-11-20T10:00:00.000Z')
    } finally {
      rmSync(repo, { recursive: true, force: true })
    }
  })

  it('gives nothing outside a checkout, or in one without commits', async () => {
    const plain = mkdtempSync(join(tmpdir(), 'kit-commit-'))
    try {
      expect(await gitHead(plain)).toBeUndefined()
      git(plain, 'init', '-q')
      expect(await gitHead(plain)).toBeUndefined()
    } finally {
      rmSync(plain, { recursive: true, force: true })
    }
  })
})
