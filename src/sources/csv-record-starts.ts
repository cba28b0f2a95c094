import { RecordVisitor, SEARCH_SLICE_BYTES, visitPositions, type SearchArea } from './index-scan.js'

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

  /**
   * With WebAssembly, the search finds the record ends itself (`\n` outside quotes, see
   * csv-record-ends-wasm.ts); from a quote that does not open a field where RFC 4180 has one open on,
   * the rest of the block takes the positions of `\n` and `"`.
   */
  override visitBlock (area: SearchArea, start: number, end: number, delta: number): void {
    const { search, out, state } = area
    if (search.csvRecordEnds === undefined) return super.visitBlock(area, start, end, delta)
    const { bytes, words } = search
    const at = state >> 2
    const inside = this.inQuotes && this.quote === -1
    const mayOpen = this.inQuotes ? this.previous === QUOTE || this.previous === COMMA : this.lineStart === start + delta || this.previous === COMMA
    words[at] = words[at + 1] = inside ? -1 : 0
    words[at + 2] = mayOpen ? 1 : 0
    words[at + 3] = 0
    for (let from = start; from < end; from += SEARCH_SLICE_BYTES) {
      const to = Math.min(end, from + SEARCH_SLICE_BYTES)
      const count = search.csvRecordEnds(from, to, out, state)
      this.offsets.append(area.starts, this.recordEnds(bytes, words, out >> 2, count, start, delta, area.starts))
      const stop = words[at + 4]
      if (stop < to) {
        if (stop > start) this.quoteStateAt(bytes, words[at] !== 0, stop, start, delta)
        visitPositions(area, this, stop, start, end, delta)
        return this.blockEnd(bytes, start, end)
      }
    }
    this.quoteStateAt(bytes, words[at] !== 0, end, start, delta)
    this.blockEnd(bytes, start, end)
  }

  /** The quote state before address `at`, from whether it lies inside quotes: outside just after a quote, that quote closed a field and may yet be doubled. */
  private quoteStateAt (bytes: Uint8Array, inside: boolean, at: number, blockStart: number, delta: number): void {
    const closedBefore = !inside && byteBefore(bytes, at, blockStart, this.previous) === QUOTE
    this.inQuotes = inside || closedBefore
    this.quote = closedBefore ? at - 1 + delta : -1
  }

  /** Record starts from the addresses of `\n` outside quotes. */
  private recordEnds (bytes: Uint8Array, words: Int32Array, first: number, count: number, blockStart: number, delta: number, starts: Float64Array): number {
    let lineStart = this.lineStart
    const previous = this.previous
    let found = 0
    for (let i = first; i < first + count; i++) {
      const at = words[i]
      const length = at + delta - lineStart
      if (length > 1 || (length === 1 && byteBefore(bytes, at, blockStart, previous) !== CR)) starts[found++] = lineStart
      lineStart = at + delta + 1
    }
    this.lineStart = lineStart
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
