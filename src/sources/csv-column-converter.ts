import type { ColumnType } from './file-source-params.js'
import { DOT, isDigit, MINUS, PLUS } from './decimal-chars.js'

export type ColumnConverter = (text: string) => unknown

const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/
const INTEGER = /^[+-]?\d+$/

/** Whether `text` is `[+-]digits[.digits]` with a digit on both ends: the common case of NUMBER, needing no trim. */
function isPlainDecimal (text: string): boolean {
  return isPlainDecimalAt(text, 0, text.length)
}

/** Digits that Number() reads as a finite double whatever they are. */
const MAX_PLAIN_DECIMAL = 300

/**
 * Whether text[start, end) is a plain decimal (see isPlainDecimal) short enough to be finite:
 * then a `number` column accepts it, and the text need not be cut out to be checked.
 */
export function isFiniteDecimalAt (text: string, start: number, end: number): boolean {
  return end - start <= MAX_PLAIN_DECIMAL && isPlainDecimalAt(text, start, end)
}

function isPlainDecimalAt (text: string, start: number, end: number): boolean {
  const last = end - 1
  if (last < start || !isDigit(text.charCodeAt(last))) return false
  let i = start
  const first = text.charCodeAt(start)
  if (first === PLUS || first === MINUS) i++
  if (!isDigit(text.charCodeAt(i))) return false
  let dot = false
  for (i++; i < last; i++) {
    const c = text.charCodeAt(i)
    if (isDigit(c)) continue
    if (c !== DOT || dot) return false
    dot = true
  }
  return true
}

function fail (column: string, text: string, type: string): never {
  throw new Error(`column "${column}": ${JSON.stringify(text.length > 40 ? text.slice(0, 40) + '…' : text)} is not ${type}`)
}

/** Converts the text of a typed CSV column; an empty value of a typed column is null. */
export function columnConverter (column: string, type: ColumnType): ColumnConverter {
  switch (type) {
    case 'string':
      return (text) => text
    case 'number':
      return (text) => {
        if (isPlainDecimal(text)) {
          const value = Number(text)
          if (Number.isFinite(value)) return value
        }
        const t = text.trim()
        if (t === '') return null
        if (!NUMBER.test(t)) fail(column, text, 'a number')
        const value = Number(t)
        return Number.isFinite(value) ? value : fail(column, text, 'a finite number')
      }
    case 'integer':
      return (text) => {
        const t = text.trim()
        if (t === '') return null
        const value = Number(t)
        return INTEGER.test(t) && Number.isSafeInteger(value) ? value : fail(column, text, 'an integer within ±(2^53-1)')
      }
    case 'boolean':
      return (text) => {
        switch (text.trim().toLowerCase()) {
          case '': return null
          case 'true': case '1': return true
          case 'false': case '0': return false
          default: return fail(column, text, 'a boolean (true, false, 1 or 0)')
        }
      }
    case 'json':
      return (text) => {
        if (text.trim() === '') return null
        try {
          return JSON.parse(text)
        } catch {
          return fail(column, text, 'valid JSON')
        }
      }
  }
}
