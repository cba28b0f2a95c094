import { CLOSE_ARRAY, CLOSE_OBJECT, COLON, COMMA, DOT, MINUS, NINE, OPEN_ARRAY, OPEN_OBJECT, PLUS, QUOTE, ZERO } from './json-chars.js'
import { numberOf, scanNumber } from './json-bytes-extractor.js'

function isSpace (c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09
}

/** `i` is at a `{` or `[`: the index after its closing bracket, or -1. Brackets in strings do not count. */
function skipContainer (b: Buffer, i: number, end: number): number {
  let depth = 0
  for (; i < end; i++) {
    const c = b[i]
    if (c === QUOTE) {
      i++
      while (i < end && b[i] !== QUOTE) i++
    } else if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
      depth++
    } else if ((c === CLOSE_OBJECT || c === CLOSE_ARRAY) && --depth === 0) {
      return i + 1
    }
  }
  return -1
}

function sameBytes (b: Buffer, at: number, key: Buffer): boolean {
  for (let k = 0; k < key.length; k++) if (b[at + k] !== key[k]) return false
  return true
}

function isNumberByte (c: number): boolean {
  return (c >= ZERO && c <= NINE) || c === DOT || c === MINUS || c === PLUS || c === 0x65 || c === 0x45
}

/**
 * The number of `key` when it is the last member of the object and its value a number, read
 * backwards from the line's closing `}`; NaN otherwise. That `}` closes the top-level object,
 * so the member before it is a top-level one, and the last of its name.
 */
function lastMemberNumber (b: Buffer, start: number, end: number, key: Buffer): number {
  let i = end - 1
  while (i > start && isSpace(b[i])) i--
  if (b[i] !== CLOSE_OBJECT) return NaN
  i--
  while (i > start && isSpace(b[i])) i--
  const to = i + 1
  while (i > start && isNumberByte(b[i])) i--
  const from = i + 1
  while (i > start && isSpace(b[i])) i--
  if (from === to || b[i] !== COLON) return NaN
  i--
  while (i > start && isSpace(b[i])) i--
  const name = i - key.length
  if (name - 1 <= start || b[i] !== QUOTE || b[name - 1] !== QUOTE || !sameBytes(b, name, key)) return NaN
  const first = b[from]
  if (first !== MINUS && (first < ZERO || first > NINE)) return NaN
  return scanNumber(b, from, to) === to ? numberOf(b, from, to) : NaN
}

/**
 * The number that JSON.parse gives to the last top-level member named `key` (its UTF-8 bytes) of
 * the object on the line b[start, end), read without decoding or validating the line. Only for a
 * line without a backslash: every `"` then opens or closes a string. NaN when the line holds no
 * such member, when its value is not a JSON number, or when the line is not an object as far as
 * this reads it. For a line that is not valid JSON the answer means nothing.
 */
export function memberNumber (b: Buffer, start: number, end: number, key: Buffer): number {
  const last = lastMemberNumber(b, start, end, key)
  if (!Number.isNaN(last)) return last
  let i = start
  while (i < end && isSpace(b[i])) i++
  if (i >= end || b[i] !== OPEN_OBJECT) return NaN
  i++
  while (i < end && isSpace(b[i])) i++
  let from = -1
  let to = -1
  while (i < end && b[i] === QUOTE) {
    const name = i + 1
    i = name
    while (i < end && b[i] !== QUOTE) i++
    if (i >= end) return NaN
    const match = i - name === key.length && sameBytes(b, name, key)
    i++
    while (i < end && isSpace(b[i])) i++
    if (i >= end || b[i] !== COLON) return NaN
    i++
    while (i < end && isSpace(b[i])) i++
    if (i >= end) return NaN
    const value = i
    const c = b[i]
    if (c === QUOTE) {
      i++
      while (i < end && b[i] !== QUOTE) i++
      if (i++ >= end) return NaN
    } else if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
      if ((i = skipContainer(b, i, end)) < 0) return NaN
    } else {
      while (i < end) {
        const d = b[i]
        if (d === COMMA || d === CLOSE_OBJECT || d === CLOSE_ARRAY || isSpace(d)) break
        i++
      }
    }
    if (match) {
      from = value
      to = i
    }
    while (i < end && isSpace(b[i])) i++
    if (i >= end) return NaN
    if (b[i] === CLOSE_OBJECT) {
      if (from < 0) return NaN
      const first = b[from]
      if (first !== MINUS && (first < ZERO || first > NINE)) return NaN
      return scanNumber(b, from, to) === to ? numberOf(b, from, to) : NaN
    }
    if (b[i] !== COMMA) return NaN
    i++
    while (i < end && isSpace(b[i])) i++
  }
  return NaN
}
