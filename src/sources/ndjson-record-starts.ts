import { RecordVisitor } from './index-scan.js'

const LF = 0x0a
const CR = 0x0d
const SPACE = 0x20
const TAB = 0x09

function isContent (byte: number): boolean {
  return byte !== SPACE && byte !== TAB && byte !== CR
}

function hasContent (bytes: Uint8Array, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (isContent(bytes[i])) return true
  return false
}

/** Whether the line from `from` to `to` holds content; where it began before this block, `carried` says for that part. */
function lineHasContent (bytes: Uint8Array, from: number, to: number, blockStart: number, carried: boolean): boolean {
  return from >= blockStart ? hasContent(bytes, from, to) : carried || hasContent(bytes, blockStart, to)
}

/** NDJSON records: lines that hold more than spaces, tabs and \r, found from the positions of `\n`. */
export class NdjsonRecordStarts extends RecordVisitor {
  readonly a = LF
  readonly b = LF
  /** Whether the part of the open line before this block holds more than spaces, tabs and \r. */
  carried = false

  positions (bytes: Uint8Array, words: Int32Array, first: number, count: number, blockStart: number, _blockEnd: number, delta: number, starts: Float64Array): number {
    let lineStart = this.lineStart
    const carried = this.carried
    let found = 0
    for (let i = first; i < first + count; i++) {
      const newline = words[i]
      const from = lineStart - delta
      if (from >= blockStart && from < newline && isContent(bytes[from])) starts[found++] = lineStart
      else if (lineHasContent(bytes, from, newline, blockStart, carried)) starts[found++] = lineStart
      lineStart = newline + 1 + delta
    }
    this.lineStart = lineStart
    return found
  }

  blockEnd (bytes: Uint8Array, blockStart: number, blockEnd: number, delta: number): void {
    this.carried = lineHasContent(bytes, this.lineStart - delta, blockEnd, blockStart, this.carried)
  }

  lastIsRecord (): boolean {
    return this.carried
  }
}
