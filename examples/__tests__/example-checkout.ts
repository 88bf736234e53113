/**
 * A checkout of examples/manifests-repo for a suite that applies it to the shared test clusters:
 * its namespace `shop` renamed to one unique to the run, so suites running at the same time (and
 * leftovers of an earlier run) never share objects.
 *
 * The rename covers the repository-owned templates (services/) and the service-owned copies
 * (service-templates/). A copy must match its record, so each record is written again for the
 * renamed files, with the record module the image-deployer writes it with: the checkout then
 * looks as if api's builds had shipped the renamed templates.
 */
import {
  cpSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parse } from 'yaml'
import {
  defaultServiceTemplatesDir,
  readTemplateRecord,
  recordFor,
  renderTemplateRecord,
  templateSetFolder
} from '../../shared/src/service-templates/record.js'

const example = join(process.cwd(), 'examples', 'manifests-repo')

/** Renames the namespace in one file: its `name: shop` and `namespace: shop` lines. */
function rename(file: string, namespace: string): void {
  const text = readFileSync(file, 'utf8')
  writeFileSync(file, text.replace(/^(\s*)(namespace|name): shop$/gm, `$1$2: ${namespace}`))
}

function yamlFiles(dir: string): string[] {
  return (readdirSync(dir, { recursive: true, encoding: 'utf8' }) as string[]).filter((f) =>
    f.endsWith('.yaml')
  )
}

/** Renames the namespace in every service-owned copy and records each copy again. */
function renameServiceOwned(dir: string, namespace: string): void {
  const kit = parse(readFileSync(join(dir, 'kit.yaml'), 'utf8')) as {
    paths?: { serviceTemplates?: string }
  }
  const templatesDir = kit.paths?.serviceTemplates ?? defaultServiceTemplatesDir
  const root = join(dir, templatesDir)
  if (!existsSync(root)) return
  for (const service of readdirSync(root)) {
    for (const entry of readdirSync(join(root, service))) {
      if (!entry.endsWith('.yaml')) continue // a record; its copy is the folder beside it
      const recordPath = join(root, service, entry)
      const record = readTemplateRecord(readFileSync(recordPath, 'utf8'), recordPath)
      const copy = join(dir, templateSetFolder(templatesDir, service, record.branch))
      const files = Object.keys(record.files).map((path) => {
        rename(join(copy, path), namespace)
        return { path, content: readFileSync(join(copy, path), 'utf8') }
      })
      writeFileSync(recordPath, renderTemplateRecord(recordFor(record, files)))
    }
  }
}

/** A fresh copy of the example in a temporary folder, its namespace renamed to `namespace`. */
export function exampleCheckout(prefix: string, namespace: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  cpSync(example, dir, { recursive: true })
  rmSync(join(dir, 'generated'), { recursive: true, force: true })
  for (const f of yamlFiles(join(dir, 'services'))) rename(join(dir, 'services', f), namespace)
  renameServiceOwned(dir, namespace)
  return dir
}
