import { constants } from 'node:fs'
import { open, unlink, type FileHandle } from 'node:fs/promises'
import { join } from 'node:path'
import type { ResultPages } from './result-pages.js'
import { PageIndex } from './page-index.js'
import { syncDir, stateDirError } from './state-dir-files.js'

/** Indexes of page files not being written, kept for the next read. */
const CACHED_INDEXES = 1024
const FIRST_READ_BYTES = 64 * 1024
const MAX_READ_BYTES = 16 * 1024 * 1024

interface Writer {
  handle: Promise<FileHandle>
  /** Bytes of the pages appended so far: reads stop there. */
  size: number
  index: PageIndex
  chain: Promise<void>
  dropped: boolean
  /** Opening the file failed: every append fails with it. */
  failure?: unknown
}

/**
 * Result pages in files of a state directory, one file per name and one page a line, appended
 * without waiting for the disk until `seal`. Only a sparse index of each file is in memory.
 */
export class FileResultPages implements ResultPages {
  readonly #dir: string
  readonly #label: string
  readonly #writers = new Map<string, Writer>()
  readonly #indexes = new Map<string, PageIndex>()
  readonly #pending = new Set<Promise<unknown>>()
  /** A file was created since the directory was last made durable. */
  #dirty = false

  /** `label` names the directory in errors (`PARASCAN_STATE_DIR (path)`). */
  constructor (dir: string, label: string) {
    this.#dir = dir
    this.#label = label
  }

  #path (name: string): string {
    return join(this.#dir, `${name}.pages`)
  }

  #writer (name: string): Writer {
    const writer = this.#writers.get(name)
    if (writer !== undefined) return writer
    const handle = open(this.#path(name), constants.O_RDWR | constants.O_CREAT, 0o600)
    const created: Writer = { handle, size: 0, index: new PageIndex(), chain: Promise.resolve(), dropped: false }
    created.chain = handle.then(async (fh) => {
      created.size = (await fh.stat()).size
      this.#dirty = true
      if (created.size > 0) await this.#lines(fh, created.index, Number.MAX_SAFE_INTEGER, 1, created.size)
    }).catch((error: unknown) => {
      if (this.#writers.get(name) === created) this.#writers.delete(name)
      created.failure = error
    })
    this.#writers.set(name, created)
    this.#indexes.delete(name)
    return created
  }

  async append (name: string, pages: string[]): Promise<void> {
    if (pages.length === 0) return
    const writer = this.#writer(name)
    const lines = pages.map((page) => page.includes('\n') ? page.replaceAll('\n', ' ') : page)
    const data = Buffer.from(lines.join('\n') + '\n')
    const run = writer.chain.then(async () => {
      if (writer.dropped) return
      if (writer.failure !== undefined) throw stateDirError(this.#label, 'cannot write results', writer.failure)
      const fh = await writer.handle
      try {
        await fh.write(data, 0, data.length, writer.size)
      } catch (error) {
        await fh.truncate(writer.size).catch(() => {})
        throw stateDirError(this.#label, 'cannot write results', error)
      }
      let offset = writer.size
      for (const line of lines) {
        offset += Buffer.byteLength(line) + 1
        writer.index.passed(writer.index.pages + 1, offset)
      }
      writer.size = offset
    })
    writer.chain = run.catch(() => {})
    await run
  }

  /** Makes the file durable and closes it; its index stays for reads. */
  async seal (name: string): Promise<void> {
    const writer = this.#writers.get(name)
    if (writer === undefined) return
    await writer.chain
    if (writer.failure !== undefined) throw stateDirError(this.#label, 'cannot write results', writer.failure)
    const fh = await writer.handle
    try {
      await fh.sync()
      if (this.#dirty) {
        this.#dirty = false
        await syncDir(this.#dir)
      }
    } catch (error) {
      this.#dirty = true
      throw stateDirError(this.#label, 'cannot write results', error)
    }
    if (this.#writers.get(name) !== writer) return
    this.#writers.delete(name)
    this.#remember(name, writer.index)
    await fh.close().catch(() => {})
  }

  async read (name: string, from: number, count: number): Promise<string[]> {
    if (count <= 0) return []
    const writer = this.#writers.get(name)
    if (writer?.dropped === true) return []
    const index = writer?.index ?? this.#cached(name)
    const limit = writer?.size ?? Infinity
    let fh: FileHandle
    try {
      fh = await open(this.#path(name), 'r')
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return []
      throw stateDirError(this.#label, 'cannot read results', error)
    }
    try {
      return await this.#lines(fh, index, from, count, limit)
    } catch (error) {
      throw stateDirError(this.#label, 'cannot read results', error)
    } finally {
      await fh.close().catch(() => {})
    }
  }

  /** Lines `from`..`from+count-1` of the file, read from the index's nearest point; extends the index on the way. */
  async #lines (fh: FileHandle, index: PageIndex, from: number, count: number, limit: number): Promise<string[]> {
    let [page, pos] = index.seek(from)
    const out: string[] = []
    const parts: Buffer[] = []
    let size = FIRST_READ_BYTES
    while (out.length < count && pos < limit) {
      const buffer = Buffer.allocUnsafe(Math.min(size, limit - pos))
      const { bytesRead } = await fh.read(buffer, 0, buffer.length, pos)
      if (bytesRead === 0) break
      const data = buffer.subarray(0, bytesRead)
      let start = 0
      for (let nl = data.indexOf(10); nl !== -1 && out.length < count; nl = data.indexOf(10, start)) {
        if (page >= from) {
          parts.push(data.subarray(start, nl))
          out.push(Buffer.concat(parts).toString('utf8'))
        }
        parts.length = 0
        page++
        index.passed(page, pos + nl + 1)
        start = nl + 1
      }
      if (page >= from && start < bytesRead) parts.push(data.subarray(start))
      if (start === 0) size = Math.min(size * 2, MAX_READ_BYTES)
      pos += bytesRead
    }
    return out
  }

  #cached (name: string): PageIndex {
    const index = this.#indexes.get(name) ?? new PageIndex()
    this.#remember(name, index)
    return index
  }

  #remember (name: string, index: PageIndex): void {
    this.#indexes.delete(name)
    if (this.#indexes.size >= CACHED_INDEXES) this.#indexes.delete(this.#indexes.keys().next().value!)
    this.#indexes.set(name, index)
  }

  drop (name: string): void {
    this.#indexes.delete(name)
    const writer = this.#writers.get(name)
    this.#writers.delete(name)
    let done: Promise<unknown>
    if (writer === undefined) {
      done = unlink(this.#path(name)).catch(() => {})
    } else {
      writer.dropped = true
      done = writer.chain.then(async () => { await (await writer.handle).close() }).catch(() => {})
        .then(async () => { await unlink(this.#path(name)).catch(() => {}) })
    }
    this.#pending.add(done)
    void done.finally(() => this.#pending.delete(done))
  }

  /** Stops writing: pages not sealed may be lost, which a restart allows for. */
  async close (): Promise<void> {
    const writers = [...this.#writers.values()]
    this.#writers.clear()
    await Promise.all(writers.map(async (writer) => {
      await writer.chain
      await (await writer.handle).close()
    }).map(async (closing) => await closing.catch(() => {})))
    await Promise.all([...this.#pending])
  }
}
