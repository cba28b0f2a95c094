import { DOT, isDigit, MINUS, PLUS } from './decimal-chars.js'
import { numberOf } from './json-bytes-extractor.js'

const LF = 0x0a
const CR = 0x0d
const QUOTE = 0x22
const COMMA = 0x2c
/** Digits that Number() reads as a finite double whatever they are (as the `number` column converter). */
const MAX_PLAIN_DECIMAL = 300

/** The value of b[from, to) when it is `[+-]digits[.digits]` (what a `number` column reads as Number() does), else NaN. */
function plainDecimal (b: Buffer, from: number, to: number): number {
  if (to - from > MAX_PLAIN_DECIMAL || to <= from || !isDigit(b[to - 1])) return NaN
  let i = from
  const sign = b[i]
  if (sign === PLUS || sign === MINUS) i++
  if (i >= to || !isDigit(b[i])) return NaN
  let dot = false
  for (let k = i + 1; k < to - 1; k++) {
    const c = b[k]
    if (isDigit(c)) continue
    if (c !== DOT || dot) return NaN
    dot = true
  }
  const value = numberOf(b, i, to)
  return sign === MINUS ? -value : value
}

/**
 * The number that a `number` column gives for field `column` of the CSV record b[start, end)
 * (with its line end and any empty lines after it), read from the bytes: NaN when the field is
 * not a plain decimal, or when a `"` comes before its end (quoting moves fields). The last
 * column is read backwards from the record's end, so quotes in the fields before it do not matter.
 */
export function csvFieldNumber (b: Buffer, start: number, end: number, column: number, last: boolean): number {
  if (last) {
    let to = end
    while (to > start && (b[to - 1] === LF || b[to - 1] === CR)) to--
    let from = to
    while (from > start) {
      const c = b[from - 1]
      if (c === COMMA) break
      if (c === QUOTE || c === LF) return NaN
      from--
    }
    return from === start && column > 0 ? NaN : plainDecimal(b, from, to)
  }
  let from = start
  for (let k = 0; k < column; k++) {
    while (from < end && b[from] !== COMMA) {
      if (b[from] === QUOTE || b[from] === LF) return NaN
      from++
    }
    if (from++ >= end) return NaN
  }
  let to = from
  while (to < end) {
    const c = b[to]
    if (c === COMMA || c === LF || c === CR) break
    if (c === QUOTE) return NaN
    to++
  }
  return plainDecimal(b, from, to)
}
