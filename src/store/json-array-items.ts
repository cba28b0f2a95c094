const QUOTE = 0x22
const BACKSLASH = 0x5c
const COMMA = 0x2c
const OPEN_BRACKET = 0x5b
const CLOSE_BRACKET = 0x5d
const OPEN_BRACE = 0x7b
const CLOSE_BRACE = 0x7d

/**
 * Where each item of a compact JSON array text (as JSON.stringify makes it: no whitespace) starts
 * and ends, as flat [start, end] pairs, found without parsing the items.
 */
export function jsonArrayItemBounds (text: string): number[] {
  const bounds: number[] = []
  const end = text.length - 1
  if (end < 1 || text.charCodeAt(0) !== OPEN_BRACKET || text.charCodeAt(end) !== CLOSE_BRACKET) throw new SyntaxError('not a JSON array text')
  if (end === 1) return bounds
  let depth = 0
  let start = 1
  for (let i = 1; i < end; i++) {
    const c = text.charCodeAt(i)
    if (c === QUOTE) {
      for (i++; i < end; i++) {
        const s = text.charCodeAt(i)
        if (s === BACKSLASH) i++
        else if (s === QUOTE) break
      }
    } else if (c === OPEN_BRACKET || c === OPEN_BRACE) {
      depth++
    } else if (c === CLOSE_BRACKET || c === CLOSE_BRACE) {
      depth--
    } else if (c === COMMA && depth === 0) {
      bounds.push(start, i)
      start = i + 1
    }
  }
  bounds.push(start, end)
  return bounds
}

/**
 * A compact JSON array text cut into arrays of whole items, each at most `maxChars` long unless it
 * holds a single larger item; a text within the bound comes back as it is.
 */
export function splitJsonArray (text: string, maxChars: number): string[] {
  if (text.length <= maxChars) return [text]
  const bounds = jsonArrayItemBounds(text)
  const parts: string[] = []
  let first = 0
  for (let k = 2; k < bounds.length; k += 2) {
    if (bounds[k + 1] - bounds[first] + 2 > maxChars) {
      parts.push(`[${text.slice(bounds[first], bounds[k - 1])}]`)
      first = k
    }
  }
  parts.push(`[${text.slice(bounds[first], bounds[bounds.length - 1])}]`)
  return parts
}

/** The items of a compact JSON array text as NDJSON: one item a line, each line ended by a newline. */
export function jsonArrayLines (text: string): { lines: string, items: number } {
  const bounds = jsonArrayItemBounds(text)
  let lines = ''
  for (let k = 0; k < bounds.length; k += 2) lines += text.slice(bounds[k], bounds[k + 1]) + '\n'
  return { lines, items: bounds.length / 2 }
}
