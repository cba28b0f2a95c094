const QUOTE = 0x22
const COMMA = 0x2c
const LF = 0x0a
const CR = 0x0d

/** Whether text[from..] is only empty lines, each ended by `\n` or `\r\n`. */
function blankLines (text: string, from: number): boolean {
  for (let i = from; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c === CR && text.charCodeAt(i + 1) === LF) i++
    else if (c !== LF) return false
  }
  return true
}

/**
 * The fields of a CSV record whose quoted fields are simple: each opens at the start of a field,
 * closes right before a comma or the line end, and holds no `"` and no line break. That is what
 * csv-parse gives for such a record. `text` is the record's bytes as text, with its line end and
 * any blank lines after it. Undefined for anything else (doubled quotes, a line break inside
 * the record, a quote inside an unquoted field, text after a closing quote): csv-parse
 * reads those.
 */
export function csvQuotedLineFields (text: string): string[] | undefined {
  let end = text.indexOf('\n')
  if (end === -1) end = text.length
  else if (!blankLines(text, end + 1)) return undefined
  if (end < text.length && text.charCodeAt(end - 1) === CR) end--
  if (end === 0) return undefined
  const fields: string[] = []
  let start = 0
  for (;;) {
    if (text.charCodeAt(start) === QUOTE) {
      const close = text.indexOf('"', start + 1)
      if (close === -1 || close >= end) return undefined
      fields.push(text.slice(start + 1, close))
      if (close + 1 === end) return fields
      if (text.charCodeAt(close + 1) !== COMMA) return undefined
      start = close + 2
    } else {
      let comma = text.indexOf(',', start)
      if (comma === -1 || comma > end) comma = end
      const field = text.slice(start, comma)
      if (field.includes('"')) return undefined
      fields.push(field)
      if (comma === end) return fields
      start = comma + 1
    }
  }
}
