import { parse } from 'csv-parse/sync'
import { columnConverter, isFiniteDecimalAt, type ColumnConverter } from './csv-column-converter.js'
import { csvParseOptions } from './csv-options.js'
import { csvPlainLines } from './csv-plain-lines.js'
import { csvQuotedLineFields } from './csv-quoted-line.js'
import { FileBytes } from './file-bytes.js'
import { InvalidUtf8Record } from './invalid-utf8-record.js'
import type { FileSourceParams } from './file-source-params.js'
import { csvFieldNumber } from './csv-field-number.js'
import { NumberCompareTest } from './number-compare-test.js'
import { RawLineFilter, type CompareAtom } from './raw-line-filter.js'
import type { RawPredicate } from './raw-predicate.js'
import { propertyKey } from './property-key.js'
import { isRejected, REJECTED, UnreadableRecord, type SourceReader } from './source-reader.js'
import { setOwnProperty } from '../pipeline/own-property.js'

/** A raw CSV record: the text of a line without quotes, the fields csv-parse gave, or why it could not be read. */
type CsvRaw = string | string[] | UnreadableRecord | InvalidUtf8Record

/** The index has already skipped the byte order mark: one at the start of a chunk is data. */
const chunkParseOptions = { ...csvParseOptions, bom: false }

const QUOTE = 0x22
/** A chunk with more records passing its raw filter than this share is read whole. */
const READ_WHOLE = 0.25
const SKIP = 0
const CHECK = 1
const KEEP = 2

/** What decodeFields does with each column, for one set of wanted fields. */
interface Projection {
  wanted: ReadonlySet<string>
  /** Per column: SKIP, CHECK (typed: converted to find bad values, not kept) or KEEP. */
  roles: Uint8Array
  /** Columns after this one are only counted. */
  lastNeeded: number
}

/**
 * CSV rows. Records without any `"`, and records whose quoted fields are simple (no `""`, no line
 * break), are split into fields directly; the other records of a chunk are parsed together by one
 * csv-parse call, and record by record when that fails, so that a bad record fails alone. Typed
 * columns are converted per record.
 */
export class CsvFileReader implements SourceReader {
  readonly integerRecords = false
  readonly #bytes: FileBytes
  readonly #path: string
  readonly #header: string[]
  readonly #converters: Array<ColumnConverter | undefined>
  readonly #stringColumns: ReadonlySet<string>
  /** Per column: 1 for a `number` column. */
  readonly #numberColumns: Uint8Array
  #projection?: Projection

  constructor (params: FileSourceParams) {
    this.#bytes = new FileBytes(params)
    this.#path = params.path
    this.#header = (params.header ?? []).map(propertyKey)
    this.#converters = this.#header.map((name) => {
      const type = params.columns !== undefined && Object.hasOwn(params.columns, name) ? params.columns[name] : undefined
      return type === undefined || type === 'string' ? undefined : columnConverter(name, type)
    })
    this.#stringColumns = new Set(this.#header.filter((_, i) => this.#converters[i] === undefined))
    this.#numberColumns = Uint8Array.from(this.#header, (name) => params.columns !== undefined && Object.hasOwn(params.columns, name) && params.columns[name] === 'number' ? 1 : 0)
  }

  read (offset: number, count: number): CsvRaw[] {
    const bytes = this.#bytes.read(offset, count)
    return this.#withInvalid(this.#rows(bytes, offset, count), this.#bytes.invalidUtf8(bytes, offset, count))
  }

  #withInvalid (rows: unknown[], invalid: Map<number, InvalidUtf8Record> | undefined): CsvRaw[] {
    if (invalid !== undefined) for (const [i, record] of invalid) rows[i] = record
    return rows as CsvRaw[]
  }

  /**
   * The value of a text column is a run of the record's bytes (quotes add `""` only for a `"`), so
   * a record whose column equals or contains a text without `"` holds its bytes. Typed columns and
   * columns the header lacks rule out nothing.
   */
  rawFilter (predicate: RawPredicate): RawLineFilter | undefined {
    return RawLineFilter.compile(predicate, (atom) => {
      if (!this.#stringColumns.has(atom.field) || atom.value === '' || atom.value.includes('"') || atom.value.includes('\uFFFD')) return undefined
      return { needle: Buffer.from(atom.value) }
    }, { compare: (atom) => this.#compareTest(atom) })
  }

  /** A comparison of a `number` column with a number: its field's plain decimal, read from the bytes. */
  #compareTest (atom: CompareAtom): NumberCompareTest | undefined {
    const column = this.#header.indexOf(atom.field)
    if (column === -1 || this.#numberColumns[column] !== 1) return undefined
    const last = column === this.#header.length - 1
    return new NumberCompareTest(atom, (b, start, end) => csvFieldNumber(b, start, end, column, last))
  }

  readFiltered (offset: number, count: number, filter: RawLineFilter | undefined): unknown[] {
    const bytes = this.#bytes.read(offset, count)
    const invalid = this.#bytes.invalidUtf8(bytes, offset, count)
    if (filter === undefined || !filter.begin(bytes)) return this.#withInvalid(this.#rows(bytes, offset, count), invalid)
    const files = this.#bytes
    const base = files.offsetOf(offset)
    const out = new Array<unknown>(count)
    let passed = 0
    let start = 0
    for (let i = 0; i < count; i++) {
      const end = files.offsetOf(offset + i + 1) - base
      const pass = filter.pass(start, end)
      out[i] = pass ? undefined : REJECTED
      if (pass) passed++
      start = end
    }
    filter.end(count, passed)
    if (passed > 0 && passed > count * READ_WHOLE) {
      const rows = this.#rows(bytes, offset, count)
      for (let i = 0; i < count; i++) if (!isRejected(out[i])) out[i] = rows[i]
    } else if (passed > 0) {
      for (let i = 0; i < count; i++) {
        if (isRejected(out[i])) continue
        out[i] = this.#row(bytes.subarray(files.offsetOf(offset + i) - base, files.offsetOf(offset + i + 1) - base))
      }
    }
    return this.#withInvalid(out, invalid)
  }

  /** One record's bytes (with its line end and any blank lines after it) as read would give it. */
  #row (bytes: Buffer): CsvRaw {
    const line = csvPlainLines(bytes, 1)
    if (line !== undefined) return line[0]
    const fields = csvQuotedLineFields(bytes.toString('utf8'))
    if (fields !== undefined) return fields
    try {
      const parsed = parse(bytes, chunkParseOptions) as string[][]
      return parsed.length === 1 ? parsed[0] : new UnreadableRecord(`the record holds ${parsed.length} CSV rows`)
    } catch (error) {
      return new UnreadableRecord((error as Error).message)
    }
  }

  #rows (bytes: Buffer, offset: number, count: number): CsvRaw[] {
    const lines = csvPlainLines(bytes, count)
    if (lines !== undefined) return lines
    const base = this.#bytes.offsetOf(offset)
    const start = (i: number) => this.#bytes.offsetOf(offset + i) - base
    const rows = new Array<CsvRaw>(count)
    const quoted: number[] = []
    let runStart = 0
    const plainRun = (end: number) => {
      if (runStart === end) return
      const run = csvPlainLines(bytes.subarray(start(runStart), start(end)), end - runStart)
      for (let i = runStart; i < end; i++) {
        if (run === undefined) quoted.push(i)
        else rows[i] = run[i - runStart]
      }
    }
    let quote = bytes.indexOf(QUOTE)
    for (let i = 0; i < count && quote !== -1; i++) {
      const end = start(i + 1)
      if (quote >= end) continue
      plainRun(i)
      const fields = csvQuotedLineFields(bytes.toString('utf8', start(i), end))
      if (fields === undefined) quoted.push(i)
      else rows[i] = fields
      runStart = i + 1
      quote = bytes.indexOf(QUOTE, end)
    }
    plainRun(count)
    if (quoted.length > 0) this.#parseRecords(bytes, quoted, start, rows)
    return rows
  }

  /** Parses the records `indexes` of the chunk with one csv-parse call, or one call per record when that fails. */
  #parseRecords (bytes: Buffer, indexes: number[], start: (i: number) => number, rows: CsvRaw[]): void {
    const record = (i: number) => bytes.subarray(start(i), start(i + 1))
    try {
      const parsed = parse(indexes.length === rows.length ? bytes : Buffer.concat(indexes.map(record)), chunkParseOptions) as string[][]
      if (parsed.length === indexes.length) {
        indexes.forEach((i, k) => { rows[i] = parsed[k] })
        return
      }
    } catch {
      // one bad record must fail alone: parse record by record below
    }
    for (const i of indexes) {
      try {
        const parsed = parse(record(i), chunkParseOptions) as string[][]
        rows[i] = parsed.length === 1 ? parsed[0] : new UnreadableRecord(`the record holds ${parsed.length} CSV rows`)
      } catch (error) {
        rows[i] = new UnreadableRecord((error as Error).message)
      }
    }
  }

  decode (raw: unknown): Record<string, unknown> {
    if (raw instanceof InvalidUtf8Record) throw raw.error(this.#path)
    if (raw instanceof UnreadableRecord) throw new Error(`${this.#path}: not valid CSV: ${raw.message}`)
    const fields = typeof raw === 'string' ? raw.split(',') : raw as string[]
    const header = this.#header
    if (fields.length !== header.length) throw new Error(`${this.#path}: the row has ${fields.length} fields, the header has ${header.length}`)
    const record: Record<string, unknown> = {}
    for (let i = 0; i < header.length; i++) {
      const convert = this.#converters[i]
      try {
        setOwnProperty(record, header[i], convert === undefined ? fields[i] : convert(fields[i]))
      } catch (error) {
        throw new Error(`${this.#path}: ${(error as Error).message}`)
      }
    }
    return record
  }

  /**
   * The wanted columns of a row, without building the others. Every typed column is still
   * converted, so a row that decode refuses is refused here too (undefined: decode it whole).
   */
  decodeFields (raw: unknown, wanted: ReadonlySet<string>): Record<string, unknown> | undefined {
    if (raw instanceof UnreadableRecord || raw instanceof InvalidUtf8Record) return undefined
    const projection = this.#projectionOf(wanted)
    return typeof raw === 'string' ? this.#projectLine(raw, projection) : this.#projectFields(raw as string[], projection)
  }

  #projectionOf (wanted: ReadonlySet<string>): Projection {
    if (this.#projection?.wanted === wanted) return this.#projection
    const roles = new Uint8Array(this.#header.length)
    let lastNeeded = -1
    this.#header.forEach((name, i) => {
      roles[i] = wanted.has(name) ? KEEP : this.#converters[i] === undefined ? SKIP : CHECK
      if (roles[i] !== SKIP) lastNeeded = i
    })
    this.#projection = { wanted, roles, lastNeeded }
    return this.#projection
  }

  #project (out: Record<string, unknown>, column: number, role: number, text: string): boolean {
    const convert = this.#converters[column]
    if (convert === undefined) {
      out[this.#header[column]] = text
      return true
    }
    try {
      const value = convert(text)
      if (role === KEEP) out[this.#header[column]] = value
      return true
    } catch {
      return false
    }
  }

  #projectLine (line: string, projection: Projection): Record<string, unknown> | undefined {
    const { roles, lastNeeded } = projection
    const out: Record<string, unknown> = {}
    let column = 0
    let start = 0
    for (; column <= lastNeeded; column++) {
      const comma = line.indexOf(',', start)
      const end = comma === -1 ? line.length : comma
      const role = roles[column]
      if (role !== SKIP && !(role === CHECK && this.#numberColumns[column] === 1 && isFiniteDecimalAt(line, start, end)) &&
        !this.#project(out, column, role, line.slice(start, end))) return undefined
      if (comma === -1) return column + 1 === roles.length ? out : undefined
      start = comma + 1
    }
    for (; column < roles.length; column++) {
      const comma = line.indexOf(',', start)
      if (comma === -1) return column + 1 === roles.length ? out : undefined
      start = comma + 1
    }
    return undefined
  }

  #projectFields (fields: string[], projection: Projection): Record<string, unknown> | undefined {
    const { roles, lastNeeded } = projection
    if (fields.length !== roles.length) return undefined
    const out: Record<string, unknown> = {}
    for (let column = 0; column <= lastNeeded; column++) {
      if (roles[column] !== SKIP && !this.#project(out, column, roles[column], fields[column])) return undefined
    }
    return out
  }

  close (): void {
    this.#bytes.close()
  }
}
