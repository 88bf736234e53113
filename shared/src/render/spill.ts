/**
 * Text kept on disk instead of in memory until the end of a run: each cluster's serialised
 * index entry is written here as soon as the cluster is rendered and read back once, when the
 * index is written. A render over hundreds of clusters then holds a few numbers per cluster.
 * The file lives in the system temp folder and is removed by dispose().
 */
import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** Where one text was put. */
export interface SpillRef {
  readonly offset: number
  readonly length: number
}

export class SpillFile {
  private dir: string | undefined
  private fd: number | undefined
  private size = 0

  /** Appends a text; returns where to read it back. */
  put(text: string): SpillRef {
    if (this.fd === undefined) {
      this.dir = mkdtempSync(join(tmpdir(), 'kit-render-'))
      this.fd = openSync(join(this.dir, 'spill'), 'w+', 0o600)
    }
    const bytes = Buffer.from(text, 'utf8')
    let done = 0
    while (done < bytes.length)
      done += writeSync(this.fd, bytes, done, bytes.length - done, this.size + done)
    const ref = { offset: this.size, length: bytes.length }
    this.size += bytes.length
    return ref
  }

  /** Reads back a text put earlier. */
  read(ref: SpillRef): string {
    if (this.fd === undefined) throw new Error('nothing was spilled')
    const bytes = Buffer.allocUnsafe(ref.length)
    let done = 0
    while (done < ref.length) {
      const n = readSync(this.fd, bytes, done, ref.length - done, ref.offset + done)
      if (n === 0) throw new Error('the spill file is shorter than expected')
      done += n
    }
    return bytes.toString('utf8')
  }

  /** Closes and removes the file. Safe to call more than once. */
  dispose(): void {
    if (this.fd !== undefined) closeSync(this.fd)
    if (this.dir !== undefined) rmSync(this.dir, { recursive: true, force: true })
    this.fd = undefined
    this.dir = undefined
    this.size = 0
  }
}
