import { open } from 'node:fs/promises'
import { OffsetList } from './offset-list.js'

const LF = 0x0a
const CR = 0x0d
const QUOTE = 0x22
const COMMA = 0x2c
const SPACE = 0x20
const TAB = 0x09

/** Size of each read of the index pass. */
export const INDEX_READ_BYTES = 4 * 1024 * 1024

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
  /** Bytes per read. Default: INDEX_READ_BYTES (4 MiB). */
  readBytes?: number
}

/** Reads the file in order, `readBytes` at a time; the next read runs while `visit` works on the last. */
async function scan (file: string, options: IndexOptions, visit: (chunk: Buffer, base: number) => void): Promise<number> {
  const handle = await open(file, 'r')
  try {
    const size = options.readBytes ?? INDEX_READ_BYTES
    const buffers = [Buffer.allocUnsafe(size), Buffer.allocUnsafe(size)]
    let base = 0
    let current = 0
    let pending = handle.read(buffers[0], 0, size, 0)
    for (;;) {
      const { bytesRead } = await pending
      if (bytesRead === 0) return base
      const chunk = buffers[current].subarray(0, bytesRead)
      current ^= 1
      pending = handle.read(buffers[current], 0, size, base + bytesRead)
      try {
        visit(chunk, base)
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

function bomLength (file: string): Promise<number> {
  return open(file, 'r').then(async (handle) => {
    try {
      const head = Buffer.alloc(3)
      const { bytesRead } = await handle.read(head, 0, 3, 0)
      return bytesRead === 3 && head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf ? 3 : 0
    } finally {
      await handle.close()
    }
  })
}

/** One streaming pass over an NDJSON file: where each non-blank line starts. */
export async function indexNdjson (file: string, options: IndexOptions = {}): Promise<RecordStarts> {
  const offsets = new OffsetList()
  const bom = await bomLength(file)
  let lineStart = bom
  let hasContent = false
  const end = await scan(file, options, (chunk, base) => {
    let pos = Math.max(0, bom - base)
    while (pos < chunk.length) {
      if (!hasContent) {
        const byte = chunk[pos]
        if (byte === SPACE || byte === TAB || byte === CR) {
          pos++
          continue
        }
        if (byte === LF) {
          pos++
          lineStart = base + pos
          continue
        }
        hasContent = true
      }
      const newline = chunk.indexOf(LF, pos)
      if (newline === -1) break
      offsets.push(lineStart)
      lineStart = base + newline + 1
      hasContent = false
      pos = newline + 1
    }
  })
  if (hasContent) offsets.push(lineStart)
  const count = offsets.length
  offsets.push(end)
  return { offsets, count }
}

/**
 * One streaming pass over a CSV file: where each record starts, honouring quoted fields that
 * hold line breaks (a quote opens a field only at the start of a field, as in RFC 4180; a
 * doubled quote inside one is a quote). Empty lines are skipped. The header is record 0.
 */
export async function indexCsv (file: string, options: IndexOptions = {}): Promise<RecordStarts> {
  const offsets = new OffsetList()
  const bom = await bomLength(file)
  let lineStart = bom
  let inQuotes = false
  let quoteAtChunkEnd = false
  let previous = -1
  const end = await scan(file, options, (chunk, base) => {
    let pos = Math.max(0, bom - base)
    if (quoteAtChunkEnd) {
      quoteAtChunkEnd = false
      if (chunk[0] === QUOTE) pos = 1
      else inQuotes = false
    }
    let nextQuote = -2
    let nextNewline = -2
    while (pos < chunk.length) {
      if (nextQuote !== -1 && nextQuote < pos) nextQuote = chunk.indexOf(QUOTE, pos)
      if (inQuotes) {
        if (nextQuote === -1) break
        if (nextQuote + 1 === chunk.length) {
          quoteAtChunkEnd = true
          break
        }
        if (chunk[nextQuote + 1] === QUOTE) {
          pos = nextQuote + 2
        } else {
          inQuotes = false
          pos = nextQuote + 1
        }
        continue
      }
      if (nextNewline !== -1 && nextNewline < pos) nextNewline = chunk.indexOf(LF, pos)
      if (nextQuote !== -1 && (nextNewline === -1 || nextQuote < nextNewline)) {
        const before = nextQuote > 0 ? chunk[nextQuote - 1] : previous
        if (base + nextQuote === lineStart || before === COMMA) inQuotes = true
        pos = nextQuote + 1
        continue
      }
      if (nextNewline === -1) break
      const length = base + nextNewline - lineStart
      const before = nextNewline > 0 ? chunk[nextNewline - 1] : previous
      if (length > 1 || (length === 1 && before !== CR)) offsets.push(lineStart)
      lineStart = base + nextNewline + 1
      pos = nextNewline + 1
    }
    previous = chunk[chunk.length - 1]
  })
  if (quoteAtChunkEnd) inQuotes = false
  if (inQuotes) throw new UnterminatedQuoteError(lineStart)
  const length = end - lineStart
  if (length > 1 || (length === 1 && previous !== CR)) offsets.push(lineStart)
  const count = offsets.length
  offsets.push(end)
  return { offsets, count }
}
