import { isUtf8 } from 'node:buffer'
import { open } from 'node:fs/promises'
import { parse } from 'csv-parse/sync'
import { csvParseOptions } from './csv-options.js'
import { firstInvalidUtf8 } from './utf8-check.js'

/** The longest header read. */
export const MAX_HEADER_BYTES = 1024 * 1024

/** Column names of a CSV file's header row (an empty file has none). */
export async function readCsvHeader (file: string): Promise<string[]> {
  const handle = await open(file, 'r')
  let head: Buffer
  try {
    head = Buffer.alloc(MAX_HEADER_BYTES + 1)
    const { bytesRead } = await handle.read(head, 0, head.length, 0)
    head = head.subarray(0, bytesRead)
  } finally {
    await handle.close()
  }
  let rows: Array<{ record: string[], info: { bytes: number } }>
  try {
    rows = parse(head, { ...csvParseOptions, to: 1, info: true }) as unknown as typeof rows
  } catch (error) {
    if (head.length > MAX_HEADER_BYTES) throw new Error(`the header row is longer than ${MAX_HEADER_BYTES} bytes`)
    throw new Error(`the header row is not valid CSV: ${(error as Error).message}`)
  }
  if (rows.length === 0) return []
  const bytes = head.subarray(0, rows[0].info.bytes)
  if (!isUtf8(bytes)) throw new Error(`the header row is not valid UTF-8 (at byte ${firstInvalidUtf8(bytes)})`)
  const header = rows[0].record
  const seen = new Set<string>()
  for (const name of header) {
    if (seen.has(name)) throw new Error(`the header names column ${JSON.stringify(name)} twice`)
    seen.add(name)
  }
  return header
}
