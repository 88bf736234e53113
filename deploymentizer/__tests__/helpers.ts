import { cpSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, relative, sep } from 'node:path'
import { fileURLToPath } from 'node:url'

export const here = dirname(fileURLToPath(import.meta.url))
export const fixtureRepo = join(here, 'fixtures/manifests')
export const goldenDir = join(here, 'golden')
/** The build environment the fixture's Secret reads (fake values). */
export const fixtureEnv = { DB_PASSWORD: 's3cret-pass', API_TOKEN: 'tok-1234567890' }

/** A throwaway workspace holding a copy of the fixture repository at `manifests/`. */
export function workspaceWithFixture(): string {
  const ws = mkdtempSync(join(tmpdir(), 'kit-deploymentizer-'))
  cpSync(fixtureRepo, join(ws, 'manifests'), { recursive: true })
  return ws
}

/** Every file under a folder, path → content. */
export function readTree(dir: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const d of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!d.isFile()) continue
    const full = join(d.parentPath, d.name)
    out[relative(dir, full).split(sep).join('/')] = readFileSync(full, 'utf8')
  }
  return out
}
