import { open, type FileHandle } from 'node:fs/promises'
import { createByteSearch, type ByteSearch } from './byte-search.js'
import { OffsetList } from './offset-list.js'

/** Size of each read of the index pass. */
export const INDEX_READ_BYTES = 1024 * 1024
/** Largest `readBytes`. */
const MAX_READ_BYTES = 64 * 1024 * 1024
/** Bytes searched per call of the byte search: bounds the positions it writes. */
export const SEARCH_SLICE_BYTES = 64 * 1024

export interface RecordStarts {
  /** Start of every record, then the end of the last one. */
  offsets: OffsetList
  /** Records found (offsets.length - 1). */
  count: number
}

export interface IndexOptions {
  /**
   * Bytes per read, from 1 to 64 MiB; the pass holds two reads and the positions of one search slice.
   * @defaultValue INDEX_READ_BYTES (1 MiB)
   */
  readBytes?: number
  /**
   * Search with WebAssembly SIMD when the runtime has it; `false` searches with `Buffer.indexOf`.
   * @defaultValue true
   */
  simd?: boolean
}

/** The search of a pass and where in its memory it writes positions (`out`) and keeps state (`state`). */
export interface SearchArea {
  readonly search: ByteSearch
  readonly out: number
  readonly state: number
  /** Record starts found in one slice. */
  readonly starts: Float64Array
}

/** Hands the positions of the visitor's two bytes in [from, end), a slice at a time, to the visitor; the block is [start, end). */
export function visitPositions (area: SearchArea, visitor: RecordVisitor, from: number, start: number, end: number, delta: number): void {
  const { search, out, starts } = area
  for (; from < end; from += SEARCH_SLICE_BYTES) {
    const count = search.positions(from, Math.min(end, from + SEARCH_SLICE_BYTES), out, visitor.a, visitor.b)
    visitor.offsets.append(starts, visitor.positions(search.bytes, search.words, out >> 2, count, start, end, delta, starts))
  }
}

/** What a format does with the positions of its two bytes (`a`, `b`) in each block. */
export abstract class RecordVisitor {
  abstract readonly a: number
  abstract readonly b: number
  readonly offsets = new OffsetList()
  /** File offset where the open record starts. */
  lineStart = 0

  /**
   * `words[first, first + count)` are addresses in `bytes`, within the block [blockStart, blockEnd);
   * an address plus `delta` is a file offset.
   * Returns how many record starts it wrote to `starts` (at most `count`).
   */
  abstract positions (bytes: Uint8Array, words: Int32Array, first: number, count: number, blockStart: number, blockEnd: number, delta: number, starts: Float64Array): number
  abstract blockEnd (bytes: Uint8Array, blockStart: number, blockEnd: number, delta: number): void
  /** Whether the record still open at the end of the file is one. */
  abstract lastIsRecord (end: number): boolean

  /** Finds the records of the block [start, end) of the search's memory; an address plus `delta` is a file offset. */
  visitBlock (area: SearchArea, start: number, end: number, delta: number): void {
    visitPositions(area, this, start, start, end, delta)
    this.blockEnd(area.search.bytes, start, end, delta)
  }

  finish (end: number): RecordStarts {
    if (this.lastIsRecord(end)) this.offsets.push(this.lineStart)
    const count = this.offsets.length
    this.offsets.push(end)
    return { offsets: this.offsets, count }
  }
}

async function bomLength (handle: FileHandle): Promise<number> {
  const head = Buffer.alloc(3)
  const { bytesRead } = await handle.read(head, 0, 3, 0)
  return bytesRead === 3 && head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf ? 3 : 0
}

/**
 * One pass over the file after its byte order mark, `readBytes` at a time, each read going straight
 * into the search's memory and the next one running while the last is searched.
 */
export async function scanRecords (file: string, options: IndexOptions, visitor: RecordVisitor): Promise<RecordStarts> {
  const size = options.readBytes ?? INDEX_READ_BYTES
  if (!Number.isInteger(size) || size < 1 || size > MAX_READ_BYTES) throw new RangeError(`readBytes must be an integer from 1 to ${MAX_READ_BYTES}, not ${size}`)
  const handle = await open(file, 'r')
  try {
    const slot = Math.ceil(size / 64) * 64
    const out = 2 * slot
    const slice = Math.min(size, SEARCH_SLICE_BYTES)
    const state = Math.ceil((out + 4 * slice) / 8) * 8
    const search = createByteSearch(state + 64, { simd: options.simd })
    const area: SearchArea = { search, out, state, starts: new Float64Array(slice) }
    let base = await bomLength(handle)
    visitor.lineStart = base
    let current = 0
    let pending = handle.read(search.bytes, 0, size, base)
    for (;;) {
      const { bytesRead } = await pending
      if (bytesRead === 0) return visitor.finish(base)
      const start = current * slot
      current ^= 1
      pending = handle.read(search.bytes, current * slot, size, base + bytesRead)
      try {
        visitor.visitBlock(area, start, start + bytesRead, base - start)
      } catch (error) {
        // The read in flight must end before the file closes; the visit's error is the one to report.
        await pending.catch(() => undefined)
        throw error
      }
      base += bytesRead
    }
  } finally {
    await handle.close()
  }
}
