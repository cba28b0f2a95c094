import { closeSync, fstatSync, openSync, readSync } from 'node:fs'
import type { FileSourceParams } from './file-source-params.js'
import { InvalidUtf8Record } from './invalid-utf8-record.js'
import { invalidUtf8Records } from './utf8-check.js'

/**
 * Positional reads of whole records from a source file, in one thread: the file descriptor is
 * opened once and each call reads only the byte range of the records asked for.
 */
export class FileBytes {
  readonly #params: FileSourceParams
  readonly #offsets: Float64Array
  #fd: number
  #buffer = Buffer.allocUnsafe(64 * 1024)

  constructor (params: FileSourceParams) {
    this.#params = params
    this.#offsets = new Float64Array(params.offsets)
    try {
      this.#fd = openSync(params.realpath, 'r')
    } catch (error) {
      throw new Error(`source file ${params.path} cannot be opened: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`)
    }
    const stat = fstatSync(this.#fd)
    if (stat.size !== params.size || stat.mtimeMs !== params.mtimeMs) {
      closeSync(this.#fd)
      this.#fd = -1
      throw new Error(`source file ${params.path} changed after the scan was planned (size ${params.size} → ${stat.size})`)
    }
  }

  /** Offset in the file of record `index` (index == count gives the end of the last record). */
  offsetOf (index: number): number {
    return this.#offsets[index]
  }

  /** The bytes of records [offset, offset + count), in a buffer reused by the next call. */
  read (offset: number, count: number): Buffer {
    if (offset < 0 || count < 0 || offset + count > this.#params.count) {
      throw new Error(`source file ${this.#params.path} has ${this.#params.count} records; records ${offset}..${offset + count - 1} were asked for`)
    }
    const start = this.#offsets[offset]
    const length = this.#offsets[offset + count] - start
    if (this.#buffer.length < length) this.#buffer = Buffer.allocUnsafe(Math.max(length, this.#buffer.length * 2))
    let done = 0
    while (done < length) {
      const n = readSync(this.#fd, this.#buffer, done, length - done, start + done)
      if (n === 0) throw new Error(`source file ${this.#params.path} was truncated while it was scanned (no data at byte ${start + done})`)
      done += n
    }
    return this.#buffer.subarray(0, length)
  }

  /**
   * The records of `bytes` (records [offset, offset + count), as read) that hold bytes that are not
   * UTF-8, by index in the chunk; undefined when there are none (one native check of the chunk).
   */
  invalidUtf8 (bytes: Buffer, offset: number, count: number): Map<number, InvalidUtf8Record> | undefined {
    const base = this.#offsets[offset]
    const bad = invalidUtf8Records(bytes, count, (i) => this.#offsets[offset + i] - base)
    if (bad === undefined) return undefined
    const records = new Map<number, InvalidUtf8Record>()
    for (const [i, at] of bad) records.set(i, InvalidUtf8Record.at(bytes, base, at))
    return records
  }

  close (): void {
    if (this.#fd >= 0) closeSync(this.#fd)
    this.#fd = -1
  }
}
