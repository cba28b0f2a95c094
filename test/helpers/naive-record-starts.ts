import { UnterminatedQuoteError, type RecordStarts } from '../../src/sources/record-index.js'

const LF = 0x0a
const CR = 0x0d
const QUOTE = 0x22
const COMMA = 0x2c

function bom (bytes: Uint8Array): number {
  return bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0
}

/** Where each line holding more than spaces, tabs and \r starts, one byte at a time. */
export function naiveNdjson (bytes: Uint8Array): number[] {
  const starts: number[] = []
  let lineStart = bom(bytes)
  let content = false
  for (let i = lineStart; i < bytes.length; i++) {
    if (bytes[i] === LF) {
      if (content) starts.push(lineStart)
      lineStart = i + 1
      content = false
    } else if (bytes[i] !== 0x20 && bytes[i] !== 0x09 && bytes[i] !== CR) {
      content = true
    }
  }
  if (content) starts.push(lineStart)
  return [...starts, bytes.length]
}

/** Where each CSV record starts (quotes open at a field's start, "" inside is a quote, empty lines skipped). */
export function naiveCsv (bytes: Uint8Array): number[] {
  const starts: number[] = []
  const record = (from: number, to: number) => {
    if (to - from > 1 || (to - from === 1 && bytes[from] !== CR)) starts.push(from)
  }
  let lineStart = bom(bytes)
  let inQuotes = false
  for (let i = lineStart; i < bytes.length; i++) {
    const byte = bytes[i]
    if (inQuotes) {
      if (byte === QUOTE && bytes[i + 1] === QUOTE) i++
      else if (byte === QUOTE) inQuotes = false
    } else if (byte === QUOTE) {
      if (i === lineStart || bytes[i - 1] === COMMA) inQuotes = true
    } else if (byte === LF) {
      record(lineStart, i)
      lineStart = i + 1
    }
  }
  if (inQuotes) throw new UnterminatedQuoteError(lineStart)
  record(lineStart, bytes.length)
  return [...starts, bytes.length]
}

/** The byte-at-a-time CSV reference, or the unclosed quote it finds. */
export function naiveCsvOrError (bytes: Uint8Array): number[] | UnterminatedQuoteError {
  try {
    return naiveCsv(bytes)
  } catch (error) {
    return error as UnterminatedQuoteError
  }
}

export function offsetsOf (index: RecordStarts): number[] {
  return Array.from({ length: index.count + 1 }, (_, i) => index.offsets.get(i))
}
