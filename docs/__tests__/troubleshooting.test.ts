/**
 * docs/troubleshooting.md quotes kit's messages exactly: every fixed part of every quoted
 * message must still be in kit's source, so a reworded error cannot leave the page stale.
 */
import { describe, expect, it } from '@jest/globals'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import * as deployerConstants from '../../deployer/src/constants.js'
import * as deploymentizerConstants from '../../deploymentizer/src/constants.js'
import * as imageDeployerConstants from '../../image-deployer/src/constants.js'

const root = process.cwd()
const page = readFileSync(join(root, 'docs', 'troubleshooting.md'), 'utf8')

/** All TypeScript sources of the actions, the shared library and the CLI, tests excluded. */
function sources(): string {
  const dirs = ['shared/src', 'image-deployer/src', 'deploymentizer/src', 'deployer/src', 'cli/src']
  const texts: string[] = []
  for (const d of dirs) {
    for (const f of readdirSync(join(root, d), { recursive: true }) as string[]) {
      if (f.endsWith('.ts')) texts.push(readFileSync(join(root, d, f), 'utf8'))
    }
  }
  // Join literals split over lines with `+`, and put the input names of the actions'
  // constants.ts in place of `${Inputs.X}`, so a message reads as it does at run time.
  const inputs = new Map<string, string>()
  for (const constants of [imageDeployerConstants, deploymentizerConstants, deployerConstants]) {
    const names = (constants as { Inputs?: Readonly<Record<string, string>> }).Inputs ?? {}
    for (const [key, name] of Object.entries(names)) inputs.set(key, name)
  }
  return texts
    .join('\n')
    .replace(/(['`])\s*\+\s*(['`])/g, '')
    .replace(/\$\{Inputs\.(\w+)\}/g, (whole, key: string) => inputs.get(key) ?? whole)
}

/**
 * The fixed parts of a quoted message: split at <placeholders>, at the `: ` / `; ` joints where
 * kit composes a message from several pieces, and at quotes (a quoted value is often built by
 * a conditional). Parts shorter than 8 characters say too little to check.
 */
function fixedParts(message: string): string[] {
  return message
    .split(/<[^<>]+>/)
    .flatMap((part) => part.split(/: |; |'/))
    .map((part) => part.trim())
    .filter((part) => part.length >= 8)
}

const quoted = [...page.matchAll(/```text\n([\s\S]*?)```/g)].map((m) => m[1].trim())

describe('docs/troubleshooting.md', () => {
  it('covers the ten most likely failures', () => {
    const sections = [...page.matchAll(/^## (\d+)\. /gm)].map((m) => Number(m[1]))
    expect(sections).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
    expect(quoted.length).toBeGreaterThanOrEqual(15)
    // Nearly every quote has parts to check; only ones made of cluster data alone have none.
    expect(quoted.filter((q) => fixedParts(q).length > 0).length).toBeGreaterThanOrEqual(
      quoted.length - 1
    )
  })

  it('splits a message into the parts kit writes literally', () => {
    expect(fixedParts("cluster <c>: unknown group '<g>' (groups: <gs>)")).toEqual(['unknown group'])
    expect(fixedParts('<a>: Timeout: timed out after <n>s: <s>; rolled back')).toEqual([
      'timed out after',
      'rolled back'
    ])
  })

  const code = sources()
  it.each(quoted.map((q) => [q.split('\n')[0].slice(0, 70), q]))(
    'quotes a message kit prints: %s',
    (_title, message) => {
      const parts = fixedParts(message)
      for (const part of parts)
        expect({ part, found: code.includes(part) }).toEqual({ part, found: true })
    }
  )
})
