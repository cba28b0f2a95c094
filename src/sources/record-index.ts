import { open, type FileHandle } from 'node:fs/promises'
import { createByteSearch, type ByteSearch } from './byte-search.js'
import { OffsetList } from './offset-list.js'

const LF = 0x0a
const CR = 0x0d
const QUOTE = 0x22
const COMMA = 0x2c
const SPACE = 0x20
const TAB = 0x09

/** Size of each read of the index pass. */
export const INDEX_READ_BYTES = 1024 * 1024
/** Bytes searched per call of the native search: bounds the positions it writes. */
const SEARCH_SLICE_BYTES = 64 * 1024

export interface RecordStarts {
  /** Start of every record, then the end of the last one. */
  offsets: OffsetList
  /** Records found (offsets.length - 1). */
  count: number
}

export class UnterminatedQuoteError extends Error {
  constructor (readonly recordStart: number) {
    super(`a quoted field is not closed (the record starts at byte ${recordStart})`)
  }
}

export interface IndexOptions {
  /**
   * Bytes per read; the pass holds two reads and the positions of one search slice.
   * @defaultValue INDEX_READ_BYTES (1 MiB)
   */
  readBytes?: number
  /**
   * Search with WebAssembly SIMD when the runtime has it; `false` searches with `Buffer.indexOf`.
   * @defaultValue true
   */
  simd?: boolean
}

/** What a format does with the positions of its two bytes in each block. */
interface BlockVisitor {
  readonly a: number
  readonly b: number
  /**
   * `words[first, first + count)` are addresses in `bytes`; an address plus `delta` is a file offset.
   * Returns how many record starts it wrote to `starts` (at most `count`).
   */
  positions (bytes: Uint8Array, words: Int32Array, first: number, count: number, blockStart: number, delta: number, starts: Float64Array): number
  blockEnd (bytes: Uint8Array, blockStart: number, blockEnd: number, delta: number): void
}

async function bomLength (handle: FileHandle): Promise<number> {
  const head = Buffer.alloc(3)
  const { bytesRead } = await handle.read(head, 0, 3, 0)
  return bytesRead === 3 && head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf ? 3 : 0
}

function searchBlock (search: ByteSearch, visitor: BlockVisitor & { offsets: OffsetList }, start: number, end: number, delta: number, out: number, starts: Float64Array): void {
  for (let from = start; from < end; from += SEARCH_SLICE_BYTES) {
    const count = search.positions(from, Math.min(end, from + SEARCH_SLICE_BYTES), out, visitor.a, visitor.b)
    visitor.offsets.append(starts, visitor.positions(search.bytes, search.words, out >> 2, count, start, delta, starts))
  }
  visitor.blockEnd(search.bytes, start, end, delta)
}

/**
 * Reads the file after its byte order mark in order, `readBytes` at a time, straight into the search's
 * memory; the next read runs while the last is searched. Returns the file's size and where it began.
 */
async function scan (file: string, options: IndexOptions, visitor: BlockVisitor & { lineStart: number, offsets: OffsetList }): Promise<number> {
  const handle = await open(file, 'r')
  try {
    const size = options.readBytes ?? INDEX_READ_BYTES
    const slot = Math.ceil(size / 64) * 64
    const out = 2 * slot
    const slice = Math.min(size, SEARCH_SLICE_BYTES)
    const search = createByteSearch(out + 4 * slice, { simd: options.simd })
    const starts = new Float64Array(slice)
    let base = await bomLength(handle)
    visitor.lineStart = base
    let current = 0
    let pending = handle.read(search.bytes, 0, size, base)
    for (;;) {
      const { bytesRead } = await pending
      if (bytesRead === 0) return base
      const start = current * slot
      current ^= 1
      pending = handle.read(search.bytes, current * slot, size, base + bytesRead)
      try {
        searchBlock(search, visitor, start, start + bytesRead, base - start, out, starts)
      } catch (error) {
        await pending.catch(() => undefined)
        throw error
      }
      base += bytesRead
    }
  } finally {
    await handle.close()
  }
}

function isContent (byte: number): boolean {
  return byte !== SPACE && byte !== TAB && byte !== CR
}

function hasContent (bytes: Uint8Array, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (isContent(bytes[i])) return true
  return false
}

class NdjsonLines implements BlockVisitor {
  readonly a = LF
  readonly b = LF
  readonly offsets = new OffsetList()
  lineStart = 0
  /** Whether the part of the open line before this block holds more than spaces, tabs and \r. */
  carried = false

  positions (bytes: Uint8Array, words: Int32Array, first: number, count: number, blockStart: number, delta: number, starts: Float64Array): number {
    let lineStart = this.lineStart
    let found = 0
    for (let i = first; i < first + count; i++) {
      const newline = words[i]
      const from = lineStart - delta
      if (from >= blockStart && from < newline && isContent(bytes[from])) starts[found++] = lineStart
      else if (this.#hasContent(bytes, from, newline, blockStart)) starts[found++] = lineStart
      lineStart = newline + 1 + delta
    }
    this.lineStart = lineStart
    return found
  }

  #hasContent (bytes: Uint8Array, from: number, to: number, blockStart: number): boolean {
    return from >= blockStart ? hasContent(bytes, from, to) : this.carried || hasContent(bytes, blockStart, to)
  }

  blockEnd (bytes: Uint8Array, blockStart: number, blockEnd: number, delta: number): void {
    this.carried = this.#hasContent(bytes, this.lineStart - delta, blockEnd, blockStart)
  }
}

/** One streaming pass over an NDJSON file: where each line that holds more than spaces, tabs and \r starts. */
export async function indexNdjson (file: string, options: IndexOptions = {}): Promise<RecordStarts> {
  const lines = new NdjsonLines()
  const end = await scan(file, options, lines)
  if (lines.carried) lines.offsets.push(lines.lineStart)
  const count = lines.offsets.length
  lines.offsets.push(end)
  return { offsets: lines.offsets, count }
}

class CsvRecords implements BlockVisitor {
  readonly a = LF
  readonly b = QUOTE
  readonly offsets = new OffsetList()
  lineStart = 0
  inQuotes = false
  /** File offset of a quote inside a quoted field whose next byte is not seen yet (-1: none). */
  quote = -1
  /** The last byte of the previous block (-1: none). */
  previous = -1

  positions (bytes: Uint8Array, words: Int32Array, first: number, count: number, blockStart: number, delta: number, starts: Float64Array): number {
    let lineStart = this.lineStart
    let inQuotes = this.inQuotes
    let quote = this.quote
    let found = 0
    for (let i = first; i < first + count; i++) {
      const at = words[i]
      const offset = at + delta
      const byte = bytes[at]
      if (inQuotes) {
        if (quote === -1) {
          if (byte === QUOTE) quote = offset
          continue
        }
        const doubled = byte === QUOTE && offset === quote + 1
        quote = -1
        if (doubled) continue
        inQuotes = false
      }
      if (byte === QUOTE) {
        if (offset === lineStart || this.#before(bytes, at, blockStart) === COMMA) inQuotes = true
        continue
      }
      const length = offset - lineStart
      if (length > 1 || (length === 1 && this.#before(bytes, at, blockStart) !== CR)) starts[found++] = lineStart
      lineStart = offset + 1
    }
    this.lineStart = lineStart
    this.inQuotes = inQuotes
    this.quote = quote
    return found
  }

  #before (bytes: Uint8Array, at: number, blockStart: number): number {
    return at > blockStart ? bytes[at - 1] : this.previous
  }

  blockEnd (bytes: Uint8Array, _blockStart: number, blockEnd: number): void {
    this.previous = bytes[blockEnd - 1]
  }
}

/**
 * One streaming pass over a CSV file: where each record starts, honouring quoted fields that
 * hold line breaks (a quote opens a field only at the start of a field, as in RFC 4180; a
 * doubled quote inside one is a quote). Empty lines are skipped. The header is record 0.
 */
export async function indexCsv (file: string, options: IndexOptions = {}): Promise<RecordStarts> {
  const records = new CsvRecords()
  const end = await scan(file, options, records)
  if (records.quote !== -1) records.inQuotes = false
  if (records.inQuotes) throw new UnterminatedQuoteError(records.lineStart)
  const length = end - records.lineStart
  if (length > 1 || (length === 1 && records.previous !== CR)) records.offsets.push(records.lineStart)
  const count = records.offsets.length
  records.offsets.push(end)
  return { offsets: records.offsets, count }
}
