import { existsSync } from 'node:fs'
import { mkdir, readdir, readFile, rm, rmdir, writeFile } from 'node:fs/promises'
import { dirname, join, relative, resolve } from 'node:path'
import type { RepoSnapshot, RepoTarget } from '../bump/index.js'
import { InputError } from '../errors.js'

/**
 * A local folder as a bump target: files are read and written in place (for a laptop or
 * another CI system that commits by itself). There is no concurrent writer, so no conflicts,
 * and no commit: the result's commit is empty.
 */
export class WorkingCopyTarget implements RepoTarget {
  readonly description: string
  readonly branchName = ''
  private readonly root: string

  constructor(root: string) {
    this.root = resolve(root)
    this.description = this.root
  }

  async open(): Promise<RepoSnapshot> {
    const root = this.root
    const inside = (path: string): string => {
      const full = resolve(root, path)
      if (relative(root, full).startsWith('..')) throw new InputError(`${path} is outside ${root}`)
      return full
    }
    return {
      head: 'working-copy',
      read: async (paths) =>
        new Map(
          await Promise.all(
            paths.map(async (p): Promise<[string, string | undefined]> => {
              const full = inside(p)
              return [p, existsSync(full) ? await readFile(full, 'utf8') : undefined]
            })
          )
        ),
      list: async () => {
        const entries = await readdir(root, { recursive: true, withFileTypes: true })
        return entries
          .filter((e) => e.isFile())
          .map((e) => relative(root, join(e.parentPath, e.name)))
          .filter((p) => !p.startsWith('.git/'))
      },
      write: async (changes) => {
        for (const c of changes) {
          const full = inside(c.path)
          if (c.after === undefined) {
            await rm(full, { force: true })
            await removeEmptied(dirname(full), root)
            continue
          }
          await mkdir(dirname(full), { recursive: true })
          await writeFile(full, c.after)
        }
        return { kind: 'written', commit: '' }
      }
    }
  }
}

/**
 * Removes `dir` and its parents while they are empty, stopping below `root`: the folder looks
 * as a checkout of the commit would, where git keeps no empty folder.
 */
async function removeEmptied(dir: string, root: string): Promise<void> {
  for (let d = dir; d !== root && !relative(root, d).startsWith('..'); d = dirname(d)) {
    const entries = await readdir(d).catch(() => undefined)
    if (entries === undefined || entries.length > 0) return
    await rmdir(d)
  }
}
