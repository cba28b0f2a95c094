const LF = 0x0a
const CR = 0x0d
const QUOTE = 0x22

/**
 * The records of a chunk that holds no `"` at all, as the text of each line without its line
 * end: what csv-parse would read, since without quotes a record is a line and a field is the text
 * between commas. Lines that are empty or only `\r` are skipped, like the record index skips them
 * (a `\r` ends a line only right before `\n`: the last line of a file keeps a trailing one, as
 * csv-parse does). Undefined when the chunk holds a quote or not exactly `count` records.
 */
export function csvPlainLines (bytes: Buffer, count: number): string[] | undefined {
  if (bytes.indexOf(QUOTE) !== -1) return undefined
  const text = bytes.toString('utf8')
  let lines = text.split('\n')
  if (lines[lines.length - 1] === '') lines.pop()
  if (text.includes('\r')) {
    const last = lines.length - 1
    const terminated = text.charCodeAt(text.length - 1) === LF
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i]
      if (line.charCodeAt(line.length - 1) === CR && (i < last || terminated || line.length === 1)) lines[i] = line.slice(0, -1)
    }
  }
  if (lines.length !== count) lines = lines.filter((line) => line !== '')
  return lines.length === count ? lines : undefined
}
