import { RecordVisitor } from './index-scan.js'

const LF = 0x0a
const CR = 0x0d
const QUOTE = 0x22
const COMMA = 0x2c

export class UnterminatedQuoteError extends Error {
  constructor (readonly recordStart: number) {
    super(`a quoted field is not closed (the record starts at byte ${recordStart})`)
  }
}

function byteBefore (bytes: Uint8Array, at: number, blockStart: number, previous: number): number {
  return at > blockStart ? bytes[at - 1] : previous
}

/**
 * CSV records, found from the positions of `\n` and `"`: a quote opens a field only at the start of
 * a field (as in RFC 4180), a doubled quote inside one is a quote, line breaks inside one are data,
 * and empty lines are not records.
 */
export class CsvRecordStarts extends RecordVisitor {
  readonly a = LF
  readonly b = QUOTE
  inQuotes = false
  /** File offset of a quote inside a quoted field whose next byte is not seen yet (-1: none). */
  quote = -1
  /** The last byte of the previous block (-1: none). */
  previous = -1

  positions (bytes: Uint8Array, words: Int32Array, first: number, count: number, blockStart: number, blockEnd: number, delta: number, starts: Float64Array): number {
    let lineStart = this.lineStart
    let inQuotes = this.inQuotes
    let quote = this.quote
    const previous = this.previous
    let found = 0
    const last = first + count
    for (let i = first; i < last; i++) {
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
        if (offset !== lineStart && byteBefore(bytes, at, blockStart, previous) !== COMMA) continue
        const next = i + 1 < last ? words[i + 1] : blockEnd
        if (next + 1 < blockEnd && bytes[next] === QUOTE && bytes[next + 1] !== QUOTE) i++
        else inQuotes = true
        continue
      }
      const length = offset - lineStart
      if (length > 1 || (length === 1 && byteBefore(bytes, at, blockStart, previous) !== CR)) starts[found++] = lineStart
      lineStart = offset + 1
    }
    this.lineStart = lineStart
    this.inQuotes = inQuotes
    this.quote = quote
    return found
  }

  blockEnd (bytes: Uint8Array, _blockStart: number, blockEnd: number): void {
    this.previous = bytes[blockEnd - 1]
  }

  lastIsRecord (end: number): boolean {
    if (this.quote !== -1) this.inQuotes = false
    if (this.inQuotes) throw new UnterminatedQuoteError(this.lineStart)
    const length = end - this.lineStart
    return length > 1 || (length === 1 && this.previous !== CR)
  }
}
