import {
  BACKSLASH, CLOSE_ARRAY, CLOSE_OBJECT, COLON, COMMA, DOT, MAX_DEPTH, MINUS, NINE, OPEN_ARRAY, OPEN_OBJECT, PLUS, QUOTE, ZERO, isHex, isShortEscape
} from './json-chars.js'

/** Set by scanString: whether the last string scanned holds an escape. */
let escaped = false
/** Whether the text holds a backslash or a control character; without either, strings end at the next quote. */
let scanStringsByCharacter = true

/** A control character before the last one (a last one, like the \r of CRLF, is outside any string). */
// eslint-disable-next-line no-control-regex -- JSON forbids raw control characters in strings
const CONTROL_CHARACTER = /[\u0000-\u001f](?!$)/

function skipWhitespace (text: string, i: number): number {
  for (;;) {
    const c = text.charCodeAt(i)
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) return i
    i++
  }
}

/** `i` is at an opening quote; returns the index after the closing one, or -1. */
function scanString (text: string, i: number): number {
  escaped = false
  if (!scanStringsByCharacter) {
    const end = text.indexOf('"', i + 1)
    return end === -1 ? -1 : end + 1
  }
  for (let j = i + 1; j < text.length; j++) {
    const c = text.charCodeAt(j)
    if (c === QUOTE) return j + 1
    if (c < 0x20) return -1
    if (c === BACKSLASH) {
      escaped = true
      const e = text.charCodeAt(j + 1)
      if (e === 0x75) {
        if (!(isHex(text.charCodeAt(j + 2)) && isHex(text.charCodeAt(j + 3)) && isHex(text.charCodeAt(j + 4)) && isHex(text.charCodeAt(j + 5)))) return -1
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

function scanDigits (text: string, i: number): number {
  const start = i
  while (text.charCodeAt(i) >= ZERO && text.charCodeAt(i) <= NINE) i++
  return i === start ? -1 : i
}

function scanNumber (text: string, i: number): number {
  if (text.charCodeAt(i) === MINUS) i++
  if (text.charCodeAt(i) === ZERO) i++
  else if ((i = scanDigits(text, i)) < 0) return -1
  if (text.charCodeAt(i) === DOT && (i = scanDigits(text, i + 1)) < 0) return -1
  const e = text.charCodeAt(i)
  if (e === 0x65 || e === 0x45) {
    i++
    const sign = text.charCodeAt(i)
    if (sign === PLUS || sign === MINUS) i++
    if ((i = scanDigits(text, i)) < 0) return -1
  }
  return i
}

function scanLiteral (text: string, i: number, literal: string): number {
  return text.startsWith(literal, i) ? i + literal.length : -1
}

function scanContainer (text: string, i: number, depth: number, close: number): number {
  i = skipWhitespace(text, i + 1)
  if (text.charCodeAt(i) === close) return i + 1
  for (;;) {
    if (close === CLOSE_OBJECT) {
      if (text.charCodeAt(i) !== QUOTE || (i = scanString(text, i)) < 0) return -1
      i = skipWhitespace(text, i)
      if (text.charCodeAt(i) !== COLON) return -1
      i = skipWhitespace(text, i + 1)
    }
    if ((i = scanValue(text, i, depth + 1)) < 0) return -1
    i = skipWhitespace(text, i)
    const c = text.charCodeAt(i)
    if (c === close) return i + 1
    if (c !== COMMA) return -1
    i = skipWhitespace(text, i + 1)
  }
}

/** Returns the index after the JSON value that starts at `i`, or -1 when it is not valid JSON. */
function scanValue (text: string, i: number, depth: number): number {
  const c = text.charCodeAt(i)
  if (c === QUOTE) return scanString(text, i)
  if (c === OPEN_OBJECT || c === OPEN_ARRAY) return depth >= MAX_DEPTH ? -1 : scanContainer(text, i, depth, c === OPEN_OBJECT ? CLOSE_OBJECT : CLOSE_ARRAY)
  if (c === MINUS || (c >= ZERO && c <= NINE)) return scanNumber(text, i)
  if (c === 0x74) return scanLiteral(text, i, 'true')
  if (c === 0x66) return scanLiteral(text, i, 'false')
  if (c === 0x6e) return scanLiteral(text, i, 'null')
  return -1
}

const POWERS_OF_TEN = Array.from({ length: 23 }, (_, k) => 10 ** k)

/**
 * A JSON number already checked by scanNumber. Up to 15 digits and no exponent, digits / 10^k is
 * exact in both operands, so one division rounds correctly, as JSON.parse does (Clinger's fast
 * path); otherwise Number() of the text.
 */
function numberOf (text: string, start: number, end: number): number {
  let i = start
  const negative = text.charCodeAt(i) === MINUS
  if (negative) i++
  let digits = 0
  let mantissa = 0
  let fraction = -1
  for (; i < end; i++) {
    const c = text.charCodeAt(i)
    if (c === DOT) {
      fraction = 0
      continue
    }
    if (c < ZERO || c > NINE || ++digits > 15) return Number(text.slice(start, end))
    mantissa = mantissa * 10 + (c - ZERO)
    if (fraction >= 0) fraction++
  }
  const value = fraction > 0 ? mantissa / POWERS_OF_TEN[fraction] : mantissa
  return negative ? -value : value
}

function valueOf (text: string, start: number, end: number, stringEscaped: boolean): unknown {
  const c = text.charCodeAt(start)
  if (c === QUOTE && !stringEscaped) return text.slice(start + 1, end - 1)
  if (c === MINUS || (c >= ZERO && c <= NINE)) return numberOf(text, start, end)
  if (c === 0x74) return true
  if (c === 0x66) return false
  if (c === 0x6e) return null
  return JSON.parse(text.slice(start, end))
}

let wantedList: string[] = []
let wantedListOf: ReadonlySet<string> | undefined

/** The wanted key spelled by text[start, end), without building the key string. */
function wantedKeyAt (text: string, start: number, end: number, wanted: ReadonlySet<string>): string | undefined {
  if (wantedListOf !== wanted) {
    wantedList = [...wanted]
    wantedListOf = wanted
  }
  const length = end - start
  for (const key of wantedList) if (key.length === length && text.startsWith(key, start)) return key
  return undefined
}

/**
 * The named top-level members of the JSON object in `text`, without building the rest: what
 * JSON.parse(text) would give for them (the last of duplicate keys wins, absent keys stay absent).
 * Returns undefined when `text` is not a JSON object, or anything this scanner does not accept:
 * then the caller parses it whole. It never accepts text that JSON.parse refuses.
 * `wanted` must not hold "__proto__".
 */
export function extractJsonFields (text: string, wanted: ReadonlySet<string>): Record<string, unknown> | undefined {
  let i = skipWhitespace(text, 0)
  if (text.charCodeAt(i) !== OPEN_OBJECT) return undefined
  scanStringsByCharacter = text.includes('\\') || CONTROL_CHARACTER.test(text)
  const out: Record<string, unknown> = {}
  i = skipWhitespace(text, i + 1)
  if (text.charCodeAt(i) !== CLOSE_OBJECT) {
    for (;;) {
      if (text.charCodeAt(i) !== QUOTE) return undefined
      const keyEnd = scanString(text, i)
      if (keyEnd < 0) return undefined
      const keyEscaped = escaped
      const key = keyEscaped ? JSON.parse(text.slice(i, keyEnd)) as string : wantedKeyAt(text, i + 1, keyEnd - 1, wanted)
      i = text.charCodeAt(keyEnd) === COLON ? keyEnd : skipWhitespace(text, keyEnd)
      if (text.charCodeAt(i) !== COLON) return undefined
      let start = i + 1
      let c = text.charCodeAt(start)
      if (c <= 0x20) {
        start = skipWhitespace(text, start)
        c = text.charCodeAt(start)
      }
      const end = c === QUOTE ? scanString(text, start) : c >= ZERO && c <= NINE ? scanNumber(text, start) : scanValue(text, start, 1)
      if (end < 0) return undefined
      if (key !== undefined && (!keyEscaped || wanted.has(key))) out[key] = valueOf(text, start, end, escaped)
      c = text.charCodeAt(end)
      i = end
      if (c <= 0x20) {
        i = skipWhitespace(text, end)
        c = text.charCodeAt(i)
      }
      if (c === CLOSE_OBJECT) break
      if (c !== COMMA) return undefined
      i++
      if (text.charCodeAt(i) <= 0x20) i = skipWhitespace(text, i)
    }
  }
  return skipWhitespace(text, i + 1) === text.length ? out : undefined
}
