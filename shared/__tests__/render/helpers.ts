import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, relative, sep } from 'node:path'

/** A small manifests repository most tests start from: one group, two clusters, one service. */
export const baseRepo: Record<string, string> = {
  'groups/prod.yaml': 'branch: main\nvalues:\n  replicas: 3\n',
  'clusters/a.yaml': 'groups: [prod]\nlabels:\n  region: eu\n',
  'clusters/b.yaml': 'groups: [prod]\nlabels:\n  region: us\n',
  'services/api/kit.yaml': 'image: acme/api\n',
  'services/api/values.yaml': 'replicas: 1\n',
  'services/api/deployment.yaml': [
    'apiVersion: apps/v1',
    'kind: Deployment',
    'metadata:',
    '  name: api',
    '  namespace: apps',
    'spec:',
    '  replicas: ${{ values.replicas }}',
    '  template:',
    '    spec:',
    '      containers:',
    '        - name: api',
    '          image: ${{ image }}',
    ''
  ].join('\n'),
  'images/acme/api/main.yaml': 'image: r.example/acme/api:main-1\n'
}

/** Writes files into a fresh temp folder; returns its path. */
export function makeRepo(files: Record<string, string | undefined>): string {
  const root = mkdtempSync(join(tmpdir(), 'kit-render-test-'))
  for (const [path, text] of Object.entries(files)) {
    if (text === undefined) continue
    mkdirSync(dirname(join(root, path)), { recursive: true })
    writeFileSync(join(root, path), text)
  }
  return root
}

/** Every file under a folder, path → content, with forward slashes. */
export function readTree(dir: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const d of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!d.isFile()) continue
    const full = join(d.parentPath, d.name)
    out[relative(dir, full).split(sep).join('/')] = readFileSync(full, 'utf8')
  }
  return out
}

export function removeAll(...dirs: string[]): void {
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
}
