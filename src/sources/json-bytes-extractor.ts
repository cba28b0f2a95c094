import {
  BACKSLASH, CLOSE_ARRAY, CLOSE_OBJECT, COLON, COMMA, DOT, MAX_DEPTH, MINUS, NINE, ONE, OPEN_ARRAY, OPEN_OBJECT, PLUS, QUOTE, ZERO, isHex, isShortEscape
} from './json-chars.js'
import { propertyKey } from './property-key.js'

const TRUE = Buffer.from('true')
const FALSE = Buffer.from('false')
const NULL = Buffer.from('null')

/** The wanted top-level fields, with the UTF-8 bytes of each name. */
export class WantedFields {
  readonly names: string[]
  readonly bytes: Buffer[]
  readonly set: ReadonlySet<string>
  /** Whether the bytes of each name can stand for it: invalid UTF-8 decodes to U+FFFD, which bytes alone cannot match. */
  readonly comparable: boolean

  constructor (set: ReadonlySet<string>) {
    this.set = set
    this.names = [...set].map(propertyKey)
    this.bytes = this.names.map((name) => Buffer.from(name))
    this.comparable = this.names.every((name) => !/[\uFFFD\uD800-\uDFFF]/.test(name))
  }
}

function skipWhitespace (b: Buffer, i: number, end: number): number {
  while (i < end) {
    const c = b[i]
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) return i
    i++
  }
  return i
}

/** `i` is at an opening quote; returns the index after the closing one, or -1. */
function scanString (b: Buffer, i: number, end: number): number {
  for (let j = i + 1; j < end; j++) {
    const c = b[j]
    if (c > BACKSLASH) continue
    if (c === QUOTE) return j + 1
    if (c < 0x20) return -1
    if (c === BACKSLASH) {
      if (j + 1 >= end) return -1
      const e = b[j + 1]
      if (e === 0x75) {
        if (j + 5 >= end || !(isHex(b[j + 2]) && isHex(b[j + 3]) && isHex(b[j + 4]) && isHex(b[j + 5]))) return -1
        j += 5
      } else if (isShortEscape(e)) {
        j += 1
      } else {
        return -1
      }
    }
  }
  return -1
}

function scanDigits (b: Buffer, i: number, end: number): number {
  const start = i
  while (i < end && b[i] >= ZERO && b[i] <= NINE) i++
  return i === start ? -1 : i
}

export function scanNumber (b: Buffer, i: number, end: number): number {
  if (i < end && b[i] === MINUS) i++
  if (i < end && b[i] === ZERO) i++
  else if ((i = scanDigits(b, i, end)) < 0) return -1
  if (i < end && b[i] === DOT && (i = scanDigits(b, i + 1, end)) < 0) return -1
  if (i < end && (b[i] === 0x65 || b[i] === 0x45)) {
    i++
    if (i < end && (b[i] === PLUS || b[i] === MINUS)) i++
    if ((i = scanDigits(b, i, end)) < 0) return -1
  }
  return i
}

function scanLiteral (b: Buffer, i: number, end: number, literal: Buffer): number {
  if (i + literal.length > end) return -1
  for (let k = 0; k < literal.length; k++) if (b[i + k] !== literal[k]) return -1
  return i + literal.length
}

function scanContainer (b: Buffer, i: number, end: number, depth: number, close: number): number {
  i = skipWhitespace(b, i + 1, end)
  if (i < end && b[i] === close) return i + 1
  for (;;) {
    if (close === CLOSE_OBJECT) {
      if (i >= end || b[i] !== QUOTE || (i = scanString(b, i, end)) < 0) return -1
      i = skipWhitespace(b, i, end)
      if (i >= end || b[i] !== COLON) return -1
      i = skipWhitespace(b, i + 1, end)
    }
    if ((i = scanValue(b, i, end, depth + 1)) < 0) return -1
    i = skipWhitespace(b, i, end)
    if (i >= end) return -1
    const c = b[i]
    if (c === close) return i + 1
    if (c !== COMMA) return -1
    i = skipWhitespace(b, i + 1, end)
  }
}

/** Returns the index after the JSON value that starts at `i`, or -1 when it is not valid JSON. */
function scanValue (b: Buffer, i: number, end: number, depth: number): number {
  if (i >= end) return -1
  const c = b[i]
  if (c === QUOTE) return scanString(b, i, end)
  if (c === OPEN_OBJECT || c === OPEN_ARRAY) return depth >= MAX_DEPTH ? -1 : scanContainer(b, i, end, depth, c === OPEN_OBJECT ? CLOSE_OBJECT : CLOSE_ARRAY)
  if (c === MINUS || (c >= ZERO && c <= NINE)) return scanNumber(b, i, end)
  if (c === 0x74) return scanLiteral(b, i, end, TRUE)
  if (c === 0x66) return scanLiteral(b, i, end, FALSE)
  if (c === 0x6e) return scanLiteral(b, i, end, NULL)
  return -1
}

const POWERS_OF_TEN = Array.from({ length: 23 }, (_, k) => 10 ** k)

/** A JSON number already checked by scanNumber, read as JSON.parse reads it (see json-field-extractor.ts). */
export function numberOf (b: Buffer, start: number, end: number): number {
  let i = start
  const negative = b[i] === MINUS
  if (negative) i++
  let digits = 0
  let mantissa = 0
  let fraction = -1
  for (; i < end; i++) {
    const c = b[i]
    if (c === DOT) {
      fraction = 0
      continue
    }
    if (c < ZERO || c > NINE || ++digits > 15) return Number(b.toString('latin1', start, end))
    mantissa = mantissa * 10 + (c - ZERO)
    if (fraction >= 0) fraction++
  }
  const value = fraction > 0 ? mantissa / POWERS_OF_TEN[fraction] : mantissa
  return negative ? -value : value
}

/** A value other than a string, already checked. */
function valueOf (b: Buffer, start: number, end: number): unknown {
  const c = b[start]
  if (c === MINUS || (c >= ZERO && c <= NINE)) return numberOf(b, start, end)
  if (c === 0x74) return true
  if (c === 0x66) return false
  if (c === 0x6e) return null
  return JSON.parse(b.toString('utf8', start, end))
}

/** The wanted name whose bytes are b[start, end), without decoding them. */
function wantedKeyAt (b: Buffer, start: number, end: number, wanted: WantedFields): string | undefined {
  const length = end - start
  const keys = wanted.bytes
  for (let k = 0; k < keys.length; k++) {
    const key = keys[k]
    if (key.length !== length) continue
    let i = 0
    while (i < length && b[start + i] === key[i]) i++
    if (i === length) return wanted.names[k]
  }
  return undefined
}

/**
 * `i` is at an opening quote: the index after the closing one when the string holds neither a
 * backslash nor a control character, else -1 (scanString then decides).
 */
function scanPlainString (b: Buffer, i: number, end: number): number {
  for (let j = i + 1; j < end; j++) {
    const c = b[j]
    if (c > BACKSLASH) continue
    if (c === QUOTE) return j + 1
    if (c < 0x20 || c === BACKSLASH) return -1
  }
  return -1
}

/** scanNumber in one loop per part: the numbers of most lines are read here. */
function scanNumberFast (b: Buffer, start: number, end: number): number {
  let i = start
  let c = b[i]
  if (c === MINUS) c = b[++i]
  if (c === ZERO) {
    c = b[++i]
  } else {
    if (!(c >= ONE && c <= NINE)) return -1
    do c = b[++i]; while (c >= ZERO && c <= NINE)
  }
  if (c === DOT) {
    c = b[++i]
    if (!(c >= ZERO && c <= NINE)) return -1
    do c = b[++i]; while (c >= ZERO && c <= NINE)
  }
  if (c === 0x65 || c === 0x45) return scanNumber(b, start, end)
  return i < end ? i : -1
}

/** Strings of up to this many bytes, all ASCII, are taken from a table of those read before. */
const INTERNED_LENGTH = 32
const INTERN_SLOTS = 1024
const interned: string[] = new Array<string>(INTERN_SLOTS).fill('')

/** The string of the bytes b[start, end) (no escapes): a field such as a type or a country is decoded once. */
function plainStringOf (b: Buffer, start: number, end: number): string {
  const length = end - start
  if (length > INTERNED_LENGTH) return b.toString('utf8', start, end)
  let hash = length
  for (let k = start; k < end; k++) {
    const c = b[k]
    if (c >= 0x80) return b.toString('utf8', start, end)
    hash = (Math.imul(hash, 31) + c) | 0
  }
  const slot = (hash ^ (hash >>> 11)) & (INTERN_SLOTS - 1)
  const known = interned[slot]
  if (known.length === length) {
    let k = 0
    while (k < length && known.charCodeAt(k) === b[start + k]) k++
    if (k === length) return known
  }
  return (interned[slot] = b.toString('latin1', start, end))
}

/**
 * extractJsonFields (json-field-extractor.ts) on the UTF-8 bytes b[start, end) of a line, without
 * decoding it: only the values of wanted fields become strings. Same results: what JSON.parse of
 * the decoded line gives for the wanted members, or undefined for anything this scanner does not
 * accept (then the caller parses the line whole). Needs `wanted.comparable`.
 */
export function extractJsonFieldsFromBytes (b: Buffer, start: number, end: number, wanted: WantedFields): Record<string, unknown> | undefined {
  let i = skipWhitespace(b, start, end)
  if (i >= end || b[i] !== OPEN_OBJECT) return undefined
  const out: Record<string, unknown> = {}
  i = skipWhitespace(b, i + 1, end)
  if (i < end && b[i] !== CLOSE_OBJECT) {
    for (;;) {
      if (i >= end || b[i] !== QUOTE) return undefined
      let keyEnd = scanPlainString(b, i, end)
      let key: string | undefined
      if (keyEnd >= 0) {
        key = wantedKeyAt(b, i + 1, keyEnd - 1, wanted)
      } else {
        if ((keyEnd = scanString(b, i, end)) < 0) return undefined
        key = JSON.parse(b.toString('utf8', i, keyEnd)) as string
        if (!wanted.set.has(key)) key = undefined
      }
      i = keyEnd < end && b[keyEnd] === COLON ? keyEnd : skipWhitespace(b, keyEnd, end)
      if (i >= end || b[i] !== COLON) return undefined
      let from = i + 1
      let c = from < end ? b[from] : -1
      if (c <= 0x20) {
        from = skipWhitespace(b, from, end)
        c = from < end ? b[from] : -1
      }
      let to: number
      if (c === QUOTE) {
        to = scanPlainString(b, from, end)
        if (to >= 0) {
          if (key !== undefined) out[key] = plainStringOf(b, from + 1, to - 1)
        } else {
          if ((to = scanString(b, from, end)) < 0) return undefined
          if (key !== undefined) out[key] = JSON.parse(b.toString('utf8', from, to))
        }
      } else {
        to = (c >= ZERO && c <= NINE) || c === MINUS ? scanNumberFast(b, from, end) : scanValue(b, from, end, 1)
        if (to < 0) return undefined
        if (key !== undefined) out[key] = valueOf(b, from, to)
      }
      i = to
      c = i < end ? b[i] : -1
      if (c <= 0x20) {
        i = skipWhitespace(b, i, end)
        c = i < end ? b[i] : -1
      }
      if (c === CLOSE_OBJECT) break
      if (c !== COMMA) return undefined
      i = skipWhitespace(b, i + 1, end)
    }
  }
  if (i >= end) return undefined
  return skipWhitespace(b, i + 1, end) === end ? out : undefined
}
