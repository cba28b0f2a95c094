import { parse } from 'csv-parse/sync'
import { columnConverter, type ColumnConverter } from './csv-column-converter.js'
import { csvParseOptions } from './csv-options.js'
import { FileBytes } from './file-bytes.js'
import type { FileSourceParams } from './file-source-params.js'
import { UnreadableRecord, type SourceReader } from './source-reader.js'

/** CSV rows: parsed with csv-parse per chunk in the worker, then typed per record. */
export class CsvFileReader implements SourceReader {
  readonly integerRecords = false
  readonly #bytes: FileBytes
  readonly #path: string
  readonly #header: string[]
  readonly #converters: Array<ColumnConverter | undefined>

  constructor (params: FileSourceParams) {
    this.#bytes = new FileBytes(params)
    this.#path = params.path
    this.#header = params.header ?? []
    this.#converters = this.#header.map((name) => {
      const type = params.columns?.[name]
      return type === undefined || type === 'string' ? undefined : columnConverter(name, type)
    })
  }

  read (offset: number, count: number): Array<string[] | UnreadableRecord> {
    const bytes = this.#bytes.read(offset, count)
    try {
      const rows = parse(bytes, csvParseOptions) as string[][]
      if (rows.length === count) return rows
    } catch {
      // one bad record must fail alone: parse record by record below
    }
    const base = this.#bytes.offsetOf(offset)
    const rows: Array<string[] | UnreadableRecord> = []
    for (let i = 0; i < count; i++) {
      const record = bytes.subarray(this.#bytes.offsetOf(offset + i) - base, this.#bytes.offsetOf(offset + i + 1) - base)
      try {
        const parsed = parse(record, csvParseOptions) as string[][]
        rows.push(parsed.length === 1 ? parsed[0] : new UnreadableRecord(`the record holds ${parsed.length} CSV rows`))
      } catch (error) {
        rows.push(new UnreadableRecord((error as Error).message))
      }
    }
    return rows
  }

  decode (raw: unknown): Record<string, unknown> {
    if (raw instanceof UnreadableRecord) throw new Error(`${this.#path}: not valid CSV: ${raw.message}`)
    const fields = raw as string[]
    const header = this.#header
    if (fields.length !== header.length) throw new Error(`${this.#path}: the row has ${fields.length} fields, the header has ${header.length}`)
    const record: Record<string, unknown> = {}
    for (let i = 0; i < header.length; i++) {
      const convert = this.#converters[i]
      try {
        record[header[i]] = convert === undefined ? fields[i] : convert(fields[i])
      } catch (error) {
        throw new Error(`${this.#path}: ${(error as Error).message}`)
      }
    }
    return record
  }

  close (): void {
    this.#bytes.close()
  }
}
