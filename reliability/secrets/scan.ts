/**
 * The secret-leak scan: known secret values are planted in a real end-to-end flow, then every
 * stream, file and git object the flow produced is searched for each of them — raw, in base64
 * (at any byte alignment, standard and URL-safe alphabets), URL-encoded, JSON-escaped and, for
 * multi-line values, line by line. A leak is reported by WHERE it was found and which planted
 * secret (by label) in which form, never by the value itself.
 */
import { execFile } from 'node:child_process'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'
import { promisify } from 'node:util'

const run = promisify(execFile)

/** A value the flow must never show, with a label that may be printed instead of it. */
export interface PlantedSecret {
  readonly label: string
  readonly value: string
}

/** One searchable form of a planted secret. */
export interface Needle {
  readonly label: string
  readonly form: string
  readonly text: string
}

/** A place a planted secret was found: never carries the secret. */
export interface Leak {
  readonly where: string
  readonly line: number
  readonly secret: string
  readonly form: string
}

/** Shorter fragments would match by chance (hex digits of a commit id, a common word). */
const minNeedle = 10

/**
 * Every form a value could take in output: raw; each line of a multi-line value (PEM armour
 * lines excepted, they are not secret); JSON-escaped; URL-encoded (component and form style);
 * base64 and base64url at the three byte alignments a value can have inside a larger encoded
 * blob (the characters that depend on neighbouring bytes are dropped).
 */
export function needlesFor(secret: PlantedSecret): Needle[] {
  const out = new Map<string, Needle>()
  const add = (form: string, text: string): void => {
    if (text.length >= minNeedle && !out.has(text))
      out.set(text, { label: secret.label, form, text })
  }
  const v = secret.value
  add('raw', v)
  const lines = v.split(/\r?\n/).map((l) => l.trim())
  if (lines.length > 1)
    lines.forEach((l, i) => {
      if (!/^-----(BEGIN|END) /.test(l)) add(`line ${i + 1}`, l)
    })
  add('JSON-escaped', JSON.stringify(v).slice(1, -1))
  add('URL-encoded', encodeURIComponent(v))
  add('form-encoded', encodeURIComponent(v).replace(/%20/g, '+'))
  const bytes = Buffer.from(v, 'utf8')
  for (let shift = 0; shift < 3; shift++) {
    const encoded = Buffer.concat([Buffer.alloc(shift), bytes]).toString('base64')
    // Drop the group holding the filler bytes and the last group (it depends on what follows).
    const middle = encoded.slice(shift === 0 ? 0 : 4, -4)
    add(`base64 (alignment ${shift})`, middle)
    add(`base64url (alignment ${shift})`, middle.replace(/\+/g, '-').replace(/\//g, '_'))
  }
  add('base64', bytes.toString('base64'))
  return [...out.values()]
}

/** Collects what was scanned and what was found, stage by stage. */
export class LeakScanner {
  private readonly needles: Needle[]
  scanned = 0
  readonly leaks: Leak[] = []
  /** Files deliberately not scanned (the rendered Secret manifests), for the report. */
  readonly excluded: string[] = []

  constructor(secrets: readonly PlantedSecret[]) {
    this.needles = secrets.flatMap(needlesFor)
  }

  /** Adds secrets learned later (e.g. the values a changed Secret takes). */
  plant(secrets: readonly PlantedSecret[]): void {
    this.needles.push(...secrets.flatMap(needlesFor))
  }

  /** Searches one stream or file's text; `where` names it in the report. */
  scanText(where: string, text: string | Buffer): void {
    this.scanned++
    const s = typeof text === 'string' ? text : text.toString('utf8')
    for (const n of this.needles) {
      let at = s.indexOf(n.text)
      while (at >= 0) {
        const line = s.slice(0, at).split('\n').length
        this.leaks.push({ where, line, secret: n.label, form: n.form })
        at = s.indexOf(n.text, at + n.text.length)
      }
    }
  }

  /**
   * Scans every file under `dir` (symlinks not followed); `skip` returns a reason to leave a
   * file out (the rendered Secret manifests), recorded in `excluded`.
   */
  scanDir(dir: string, label: string, skip?: (path: string, text: string) => boolean): number {
    let files = 0
    const walk = (d: string): void => {
      for (const entry of readdirSync(d, { withFileTypes: true })) {
        const full = join(d, entry.name)
        if (entry.isDirectory()) walk(full)
        else if (entry.isFile()) {
          if (statSync(full).size > 64 * 1024 * 1024) continue
          const text = readFileSync(full)
          const rel = relative(dir, full)
          if (skip?.(rel, text.toString('utf8'))) {
            this.excluded.push(`${label}/${rel}`)
            continue
          }
          files++
          this.scanText(`${label}/${rel}`, text)
        }
      }
    }
    walk(dir)
    return files
  }

  /**
   * Scans a git repository as git sees it: every commit with its patch on every ref
   * (`git log -p --all`), every object in the object database, reachable or not
   * (`git cat-file --batch-all-objects --batch`, so zlib and packs do not hide anything), and
   * the repository's own text files (config, refs, logs, hooks).
   */
  async scanGitRepo(gitDir: string, label: string): Promise<void> {
    const git = async (args: string[]): Promise<string> =>
      (await run('git', ['--git-dir', gitDir, ...args], { maxBuffer: 512 * 1024 * 1024 })).stdout
    this.scanText(
      `${label} (git log -p --all)`,
      await git(['log', '-p', '--all', '--format=fuller'])
    )
    this.scanText(
      `${label} (git cat-file --batch-all-objects)`,
      await git(['cat-file', '--batch-all-objects', '--batch', '--unordered'])
    )
    this.scanDir(gitDir, `${label} (files)`, (path) => /^objects\//.test(path))
  }

  /** `text` with every planted form replaced by `***`, so a failure message may quote output. */
  scrub(text: string): string {
    let out = text
    for (const n of [...this.needles].sort((a, b) => b.text.length - a.text.length))
      out = out.split(n.text).join('***')
    return out
  }

  /** Leaks as printable lines: where, which secret (label) and in which form, never the value. */
  describe(leaks: readonly Leak[] = this.leaks): string[] {
    return leaks.map((l) => `${l.where}:${l.line}: ${l.secret} (${l.form})`)
  }
}

/** True for a rendered manifest file holding exactly one object of kind Secret. */
export function isSecretManifest(text: string): boolean {
  const docs = text.split(/^---\s*$/m).filter((d) => d.trim() !== '')
  return docs.length === 1 && /^kind:\s*Secret\s*$/m.test(docs[0])
}
