import type { DataFile } from './data-path.js'
import { indexCsv, indexNdjson, type RecordStarts } from './record-index.js'

export interface RecordIndex {
  /** count + 1 Float64 byte offsets, shared with the worker threads (not copied). */
  offsets: SharedArrayBuffer
  count: number
}

export interface RecordIndexCacheOptions {
  /**
   * Indexes kept.
   * @defaultValue 16
   */
  maxEntries?: number
  /**
   * Bytes of offsets kept, all entries together.
   * @defaultValue 512 MiB
   */
  maxBytes?: number
}

function toIndex (starts: RecordStarts, skipHeader: boolean): RecordIndex {
  const from = skipHeader && starts.count > 0 ? 1 : 0
  return { offsets: starts.offsets.toShared(from), count: starts.count - from }
}

/**
 * Record indexes of source files, built once per (real path, size, mtime, inode, ctime, format) and shared
 * by every scan of that file; concurrent requests for the same file wait for one build.
 */
export class RecordIndexCache {
  readonly #entries = new Map<string, { index: Promise<RecordIndex>, bytes: number }>()
  readonly #maxEntries: number
  readonly #maxBytes: number

  constructor (options: RecordIndexCacheOptions = {}) {
    this.#maxEntries = options.maxEntries ?? 16
    this.#maxBytes = options.maxBytes ?? 512 * 1024 * 1024
  }

  get (file: DataFile, format: 'ndjson' | 'csv'): Promise<RecordIndex> {
    const key = `${format}\0${file.realpath}\0${file.size}\0${file.mtimeMs}\0${file.ino}\0${file.ctimeMs}`
    const cached = this.#entries.get(key)
    if (cached !== undefined) {
      this.#entries.delete(key)
      this.#entries.set(key, cached)
      return cached.index
    }
    const entry = {
      index: (format === 'csv' ? indexCsv(file.realpath) : indexNdjson(file.realpath)).then((starts) => toIndex(starts, format === 'csv')),
      bytes: 0
    }
    this.#entries.set(key, entry)
    entry.index.then((index) => {
      entry.bytes = index.offsets.byteLength
      this.#evict()
    }, () => this.#entries.delete(key))
    return entry.index
  }

  #evict (): void {
    let bytes = 0
    for (const entry of this.#entries.values()) bytes += entry.bytes
    for (const [key, entry] of this.#entries) {
      if (this.#entries.size <= 1 || (this.#entries.size <= this.#maxEntries && bytes <= this.#maxBytes)) break
      bytes -= entry.bytes
      this.#entries.delete(key)
    }
  }

  get size (): number {
    return this.#entries.size
  }

  clear (): void {
    this.#entries.clear()
  }
}

/** The cache used by planScan. */
export const recordIndexCache = new RecordIndexCache()
