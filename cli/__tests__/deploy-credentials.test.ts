/**
 * Where `kit deploy` / `kit diff` take credentials from: --kubeconfig names one file; without any
 * credential flag, every file of $KUBECONFIG (merged as kubectl merges them, by the same loader
 * the deployer action uses), else ~/.kube/config. Every file's credentials are masked first.
 */
import { afterAll, describe, expect, it } from '@jest/globals'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { delimiter, join } from 'node:path'
import { requestFromArgs } from '../src/commands/deploy.js'

const dir = mkdtempSync(join(tmpdir(), 'kit-cli-credentials-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const kubeconfig = (token: string) =>
  `apiVersion: v1\nkind: Config\nusers:\n- name: u\n  user: {token: ${token}}\n`

async function credentialsOf(args: string[], env: Record<string, string>) {
  const masked: string[] = []
  const { request } = await requestFromArgs(
    ['manifests', '--commit', 'abc', ...args],
    'deploy',
    env,
    (v) => void masked.push(v)
  )
  return { credentials: request.credentials, masked: masked.join('\n') }
}

describe('kit deploy credentials', () => {
  const a = join(dir, 'a')
  const b = join(dir, 'b')
  writeFileSync(a, kubeconfig('token-of-file-a-0001'))
  writeFileSync(b, kubeconfig('token-of-file-b-0002'))

  it('reads every file of the KUBECONFIG list, not only the first, and masks them all', async () => {
    const r = await credentialsOf([], { KUBECONFIG: `${a}${delimiter}${b}`, HOME: dir })
    expect(r.credentials).toEqual({ files: { paths: [a, b], from: '$KUBECONFIG' } })
    expect(r.masked).toContain('token-of-file-a-0001')
    expect(r.masked).toContain('token-of-file-b-0002')
  })

  it('falls back to ~/.kube/config, as kubectl does', async () => {
    const r = await credentialsOf([], { HOME: dir })
    expect(r.credentials).toEqual({
      files: { paths: [join(dir, '.kube', 'config')], from: '~/.kube/config' }
    })
  })

  it('--kubeconfig names one file and wins over KUBECONFIG; other credential flags turn both off', async () => {
    const env = { KUBECONFIG: `${a}${delimiter}${b}`, HOME: dir }
    expect((await credentialsOf(['--kubeconfig', b], env)).credentials).toEqual({
      files: { paths: [b], from: '--kubeconfig' }
    })
    expect((await credentialsOf(['--kubeconfig-dir', dir], env)).credentials).toEqual({
      directory: dir
    })
  })
})
