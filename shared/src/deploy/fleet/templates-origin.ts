/**
 * What the deployer takes from the render index (`<manifests>/index.json`, written by the
 * deploymentizer): each cluster's labels, for label-based waves, and which service each output
 * file belongs to with, for a service that owns its templates, where they came from — so the
 * summary can link a changed object back to the service repository's folder and commit.
 *
 * Pure: run-deploy.ts reads the file and the manifests; this module only reads their content.
 * The index is data from disk (perhaps an older kit's, perhaps edited): every field is checked,
 * and what does not fit is left out rather than trusted. A folder without a kit index gives
 * nothing, and the deploy goes on as it would without one.
 */
import { posix, relative, sep } from 'node:path'
import { provenanceKeys } from '../../images/image-file.js'
import type { TemplateSource } from '../../service-templates/record.js'
import { templateSourceUrl } from '../../service-templates/link.js'
import type { Manifest } from '../../k8s/types.js'
import type { IndexTemplates } from '../../render/index-file.js'
import { changeKey, type FleetRow, type TemplatesOrigin } from './types.js'

/** The service an output file was rendered for, and its own templates when it has them. */
export interface FileService {
  readonly service: string
  /** Absent for a service rendered from the manifests repository's `services/<service>/`. */
  readonly templates?: TemplatesOrigin
}

/** What the deployer uses of the render index. */
export interface IndexFacts {
  /** Cluster → its labels. */
  readonly labels: Map<string, Record<string, string>>
  /**
   * Cluster → output file (`<cluster>/<service>/<file>.yaml`, relative to the manifests
   * folder, as the index lists it) → its service.
   */
  readonly files: Map<string, Map<string, FileService>>
  /** Whether any service of any cluster owns its templates (else nothing is looked up). */
  readonly serviceOwned: boolean
}

/** An index that says nothing. */
export function emptyIndexFacts(): IndexFacts {
  return { labels: new Map(), files: new Map(), serviceOwned: false }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v)
}

/** The strings of a record, others left out. */
function strings(v: unknown): Record<string, string> {
  if (!isRecord(v)) return {}
  return Object.fromEntries(
    Object.entries(v).filter((e): e is [string, string] => typeof e[1] === 'string')
  )
}

/** The index's entry of a service that owns its templates, as the deploymentizer writes it. */
type ServiceOwned = Extract<IndexTemplates, { readonly origin: 'service' }>

/** A service's `templates` entry when it says the service owns them; undefined otherwise. */
function serviceTemplates(service: string, t: unknown): TemplatesOrigin | undefined {
  if (!isRecord(t) || t.origin !== 'service') return undefined
  if (typeof t.dir !== 'string' || typeof t.branch !== 'string') return undefined
  const given = strings(t.source)
  const source: Record<string, string> = {}
  for (const k of [...provenanceKeys, 'path'] as const) if (given[k]) source[k] = given[k]
  // Typed as the index's own entry: a field renamed there fails to compile here.
  const entry: Pick<ServiceOwned, 'branch' | 'dir' | 'source'> = {
    branch: t.branch,
    dir: t.dir,
    source: source as TemplateSource
  }
  return { service, ...entry }
}

/** The facts of an index file's text; a text that is not kit's index gives none. */
export function parseIndexFacts(text: string): IndexFacts {
  const facts = emptyIndexFacts()
  let index: unknown
  try {
    index = JSON.parse(text)
  } catch {
    return facts
  }
  if (!isRecord(index) || index.kind !== 'KitRenderIndex' || !isRecord(index.clusters)) return facts
  let serviceOwned = false
  for (const [cluster, c] of Object.entries(index.clusters)) {
    if (!isRecord(c)) continue
    facts.labels.set(cluster, strings(c.labels))
    const files = new Map<string, FileService>()
    for (const [service, s] of Object.entries(isRecord(c.services) ? c.services : {})) {
      if (!isRecord(s) || !Array.isArray(s.files)) continue
      const templates = serviceTemplates(service, s.templates)
      if (templates) serviceOwned = true
      const entry: FileService = templates ? { service, templates } : { service }
      for (const f of s.files) if (typeof f === 'string') files.set(f, entry)
    }
    facts.files.set(cluster, files)
  }
  return { ...facts, serviceOwned }
}

/** Cluster → changeKey of an object → where its service's own templates came from. */
export type ObjectTemplates = ReadonlyMap<string, ReadonlyMap<string, TemplatesOrigin>>

/**
 * Which objects about to be deployed were rendered from a service's own templates: each
 * manifest's file (relative to `dir`, the manifests folder) is looked up in the index. Objects
 * whose manifest names no namespace are keyed without one (the engine defaults it; withTemplates
 * matches them either way). `serverUrl` is the GitHub server the links point at.
 */
export function objectTemplates(
  manifests: ReadonlyMap<string, readonly Manifest[]>,
  facts: IndexFacts,
  dir: string,
  serverUrl: string
): ObjectTemplates {
  const out = new Map<string, Map<string, TemplatesOrigin>>()
  if (!facts.serviceOwned) return out
  // One linked origin per service entry, shared by its objects.
  const linked = new Map<TemplatesOrigin, TemplatesOrigin>()
  const link = (t: TemplatesOrigin): TemplatesOrigin => {
    let l = linked.get(t)
    if (!l) {
      const url = templateSourceUrl(t.source, serverUrl)
      l = url ? { ...t, url } : t
      linked.set(t, l)
    }
    return l
  }
  for (const [cluster, list] of manifests) {
    const files = facts.files.get(cluster)
    if (!files) continue
    const byObject = new Map<string, TemplatesOrigin>()
    for (const m of list) {
      const file = relative(dir, m.source.file).split(sep).join(posix.sep)
      const templates = files.get(file)?.templates
      if (!templates) continue
      const { kind, metadata } = m.object
      byObject.set(
        changeKey({ kind, namespace: metadata.namespace, name: metadata.name ?? '' }),
        link(templates)
      )
    }
    if (byObject.size > 0) out.set(cluster, byObject)
  }
  return out
}

/**
 * The row with `templates` set for each created or configured object rendered from a
 * service's own templates; the row itself when there is none (so a fleet without service-owned
 * templates reports exactly as it would without this).
 */
export function withTemplates(row: FleetRow, origins: ObjectTemplates): FleetRow {
  const byObject = origins.get(row.cluster)
  if (!byObject) return row
  const found: Record<string, TemplatesOrigin> = {}
  for (const c of row.changes) {
    if (c.action !== 'created' && c.action !== 'configured') continue
    const key = changeKey(c)
    const origin = byObject.get(key) ?? byObject.get(changeKey({ ...c, namespace: undefined }))
    if (origin) found[key] = origin
  }
  return Object.keys(found).length > 0 ? { ...row, templates: found } : row
}
