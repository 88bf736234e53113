/**
 * Writes rendered files on background threads, so the main thread renders the next cluster
 * while the file system creates this one's files. Creating a file is mostly kernel time (tens
 * of microseconds each, 20,000 files for a large fleet); done inline it doubled a render.
 *
 * Each job is one cluster: its files go into `root`, every directory created once. With
 * `compareRoot`, a file whose content there is already identical is not written at all (a
 * re-render that changes a few images writes a few files). Jobs are bounded in flight, so
 * memory holds a couple of clusters' files, never the fleet's.
 */
import { availableParallelism } from 'node:os'
import { Worker } from 'node:worker_threads'

/** One cluster's files to write. */
export interface WriteJob {
  /** Absolute folder the paths are relative to. */
  readonly root: string
  /** Absolute folder holding the previous version of the same paths, if any. */
  readonly compareRoot?: string
  /** Relative path and content of each file. */
  readonly files: readonly (readonly [string, string])[]
}

/** What a worker reports for a job. */
interface JobResult {
  readonly id: number
  readonly written?: number
  readonly unchanged?: number
  readonly error?: string
}

/**
 * The worker's code (CommonJS, run with `eval`: the bundles are single files, so the worker
 * cannot be a module of its own). Synchronous calls: on its own thread that is the cheapest way
 * to make a file, and the thread has nothing else to do.
 */
const workerSource = `
const { parentPort } = require('node:worker_threads')
const fs = require('node:fs')
const path = require('node:path')
const { O_RDONLY, O_NOFOLLOW } = fs.constants

// True when every folder from root down to dir is a real folder, not a link (cached per job):
// content seen through a link is not in the output folder and must not count as unchanged.
function realFolder(dir, root, checked) {
  if (dir === root) return true
  let ok = checked.get(dir)
  if (ok === undefined) {
    let stat
    try {
      stat = fs.lstatSync(dir)
    } catch {}
    ok = Boolean(stat && stat.isDirectory()) && realFolder(path.dirname(dir), root, checked)
    checked.set(dir, ok)
  }
  return ok
}

function sameContent(file, content) {
  let fd
  try {
    fd = fs.openSync(file, O_RDONLY | (O_NOFOLLOW || 0))
  } catch {
    return false
  }
  try {
    const stat = fs.fstatSync(fd)
    if (!stat.isFile() || stat.size !== Buffer.byteLength(content)) return false
    const buffer = Buffer.allocUnsafe(stat.size)
    let read = 0
    while (read < stat.size) {
      const n = fs.readSync(fd, buffer, read, stat.size - read, read)
      if (n === 0) return false
      read += n
    }
    return buffer.toString('utf8') === content
  } finally {
    fs.closeSync(fd)
  }
}

parentPort.on('message', (job) => {
  try {
    const made = new Set()
    const checked = new Map()
    let written = 0
    let unchanged = 0
    for (let i = 0; i < job.files.length; i++) {
      const [rel, content] = job.files[i]
      const old = job.compareRoot === undefined ? undefined : path.join(job.compareRoot, rel)
      if (old !== undefined && realFolder(path.dirname(old), job.compareRoot, checked) && sameContent(old, content)) {
        unchanged++
        continue
      }
      const file = path.join(job.root, rel)
      const dir = path.dirname(file)
      if (!made.has(dir)) {
        fs.mkdirSync(dir, { recursive: true })
        made.add(dir)
      }
      fs.writeFileSync(file, content)
      written++
    }
    parentPort.postMessage({ id: job.id, written, unchanged })
  } catch (err) {
    parentPort.postMessage({ id: job.id, error: err && err.message ? err.message : String(err) })
  }
})
`

/** Threads used: two keep a second core busy beside the renderer; more rarely pay off. */
export const defaultWriterThreads = Math.max(1, Math.min(2, availableParallelism()))

interface Slot {
  readonly worker: Worker
  inFlight: number
}

/** A small pool of writer threads with bounded jobs in flight. */
export class WritePool {
  private slots: Slot[] = []
  private nextId = 1
  private readonly pending = new Map<number, Slot>()
  private waiters: (() => void)[] = []
  private failure: Error | undefined
  /** Totals over every finished job. */
  written = 0
  unchanged = 0

  constructor(
    private readonly threads = defaultWriterThreads,
    /** Jobs queued per thread before submit waits. */
    private readonly depth = 2
  ) {}

  /**
   * Queues a job; resolves once it is accepted (at once, or when a job in flight finishes).
   * Throws the first failure of any earlier job.
   */
  async submit(job: WriteJob): Promise<void> {
    this.throwIfFailed()
    while (this.pending.size >= this.threads * this.depth) {
      await new Promise<void>((resolve) => this.waiters.push(resolve))
      this.throwIfFailed()
    }
    if (this.slots.length < this.threads) this.slots.push(this.spawn())
    const slot = this.slots.reduce((a, b) => (b.inFlight < a.inFlight ? b : a))
    const id = this.nextId++
    slot.inFlight++
    this.pending.set(id, slot)
    slot.worker.postMessage({ id, ...job })
  }

  /** Waits for every job; throws the first failure. */
  async drain(): Promise<void> {
    while (this.pending.size > 0) await new Promise<void>((resolve) => this.waiters.push(resolve))
    this.throwIfFailed()
  }

  /** Stops the threads (jobs still in flight are abandoned; call drain() first to keep them). */
  async close(): Promise<void> {
    const slots = this.slots
    this.slots = []
    await Promise.all(slots.map((s) => s.worker.terminate()))
    this.pending.clear()
    this.wake()
  }

  private spawn(): Slot {
    const worker = new Worker(workerSource, { eval: true })
    const slot: Slot = { worker, inFlight: 0 }
    worker.on('message', (result: JobResult) => this.finished(result))
    worker.on('error', (err) => {
      this.failure ??= err
      for (const [id, s] of this.pending) if (s === slot) this.pending.delete(id)
      this.wake()
    })
    return slot
  }

  private finished(result: JobResult): void {
    const slot = this.pending.get(result.id)
    if (!slot) return
    this.pending.delete(result.id)
    slot.inFlight--
    if (result.error !== undefined) this.failure ??= new Error(result.error)
    this.written += result.written ?? 0
    this.unchanged += result.unchanged ?? 0
    this.wake()
  }

  private wake(): void {
    const waiters = this.waiters
    this.waiters = []
    for (const w of waiters) w()
  }

  private throwIfFailed(): void {
    if (this.failure) throw this.failure
  }
}
