import { FileBytes } from './file-bytes.js'
import { InvalidUtf8Record } from './invalid-utf8-record.js'
import { extractJsonFieldsFromBytes, WantedFields } from './json-bytes-extractor.js'
import { extractJsonFields } from './json-field-extractor.js'
import { memberNumber } from './json-member-number.js'
import { NumberCompareTest } from './number-compare-test.js'
import type { FileSourceParams } from './file-source-params.js'
import { RawLineFilter, type AtomSpelling } from './raw-line-filter.js'
import type { RawPredicate } from './raw-predicate.js'
import { REJECTED, type SourceReader } from './source-reader.js'

const BLANK_LINE = /^[ \t\r]*$/
const LF = 0x0a
const CR = 0x0d
const SPACE = 0x20
const TAB = 0x09
const BACKSLASH = 0x5c
const OPEN_OBJECT = 0x7b
/** A chunk with more lines passing its raw filter than this share is decoded whole. */
const DECODE_WHOLE = 0.25

/** Text that JSON writes without escapes; U+FFFD is kept out as well (it once stood for bytes that are not UTF-8). */
function literal (text: string): boolean {
  return !JSON.stringify(text).includes('\\') && !text.includes('\uFFFD')
}

/**
 * In a line without a backslash every string is written as its own UTF-8 bytes, so the record of
 * such a line has a top-level string `value` only when the line holds `"value"` (the needle
 * leaves out the opening quote, a frequent byte that slows the search down).
 */
export function ndjsonSpelling (atom: Extract<RawPredicate, { kind: 'equals' | 'contains' }>): AtomSpelling | undefined {
  if (!literal(atom.field) || !literal(atom.value)) return undefined
  const json = JSON.stringify(atom.value)
  const text = atom.kind === 'contains' ? json.slice(1, -1) : atom.value === '' ? json : json.slice(1)
  return text === '' ? undefined : { needle: Buffer.from(text), key: Buffer.from(JSON.stringify(atom.field)) }
}

/** NDJSON records: read as text lines in the worker, parsed one by one so a bad line fails alone. */
export class NdjsonFileReader implements SourceReader {
  readonly integerRecords = false
  readonly #bytes: FileBytes
  readonly #path: string
  /** The chunk of the last readFiltered with positions: its bytes and the file offset of its first byte. */
  #chunk: Buffer = Buffer.alloc(0)
  #chunkBase = 0
  #chunkFirst = 0
  #wanted?: WantedFields

  constructor (params: FileSourceParams) {
    this.#bytes = new FileBytes(params)
    this.#path = params.path
  }

  read (offset: number, count: number): unknown[] {
    const bytes = this.#bytes.read(offset, count)
    return this.#lines(bytes, offset, count, this.#bytes.invalidUtf8(bytes, offset, count))
  }

  /** The text of each record, or an InvalidUtf8Record for those of `invalid`. */
  #lines (bytes: Buffer, offset: number, count: number, invalid: Map<number, InvalidUtf8Record> | undefined): unknown[] {
    let lines: unknown[] = bytes.toString('utf8').split('\n')
    if (lines.length > count) lines = lines.filter((line) => !BLANK_LINE.test(line as string))
    if (lines.length !== count) throw this.#moved(offset, count)
    if (invalid !== undefined) for (const [i, record] of invalid) lines[i] = record
    return lines
  }

  #moved (offset: number, count: number): Error {
    return new Error(`source file ${this.#path} changed while it was scanned: records ${offset}..${offset + count - 1} are not where its index says`)
  }

  /**
   * Lines without a backslash must hold the bytes of the strings that the predicate compares;
   * lines with one, and lines that do not start with `{`, pass. An atom whose field name occurs
   * nowhere in a chunk rules out nothing there, so that a misspelt field still fails every record.
   * A comparison with a number reads the member's number from the line's bytes.
   */
  rawFilter (predicate: RawPredicate): RawLineFilter | undefined {
    return RawLineFilter.compile(predicate, ndjsonSpelling, {
      escape: BACKSLASH,
      opener: OPEN_OBJECT,
      compare: (atom) => {
        if (!literal(atom.field)) return undefined
        const key = Buffer.from(atom.field)
        return new NumberCompareTest(atom, (b, start, end) => memberNumber(b, start, end, key))
      }
    })
  }

  /**
   * With `positions`, a record is its index in the file (a number) instead of its text, valid
   * until the next read: decodeFields then reads it straight from the chunk's bytes, and only the
   * values of the wanted fields become strings.
   */
  readFiltered (offset: number, count: number, filter: RawLineFilter | undefined, positions = false): unknown[] {
    const bytes = this.#bytes.read(offset, count)
    const invalid = this.#bytes.invalidUtf8(bytes, offset, count)
    const filtering = filter !== undefined && filter.begin(bytes)
    if (!filtering && !positions) return this.#lines(bytes, offset, count, invalid)
    const files = this.#bytes
    const base = files.offsetOf(offset)
    const out = new Array<unknown>(count)
    let passed = 0
    let start = 0
    for (let i = 0; i < count; i++) {
      const end = files.offsetOf(offset + i + 1) - base
      if (!filtering || (filter as RawLineFilter).pass(start, end)) {
        out[i] = offset + i
        passed++
      } else {
        out[i] = REJECTED
      }
      start = end
    }
    if (filtering) (filter as RawLineFilter).end(count, passed)
    if (invalid !== undefined) for (const [i, record] of invalid) out[i] = record
    if (positions) {
      this.#chunk = bytes
      this.#chunkBase = base
      this.#chunkFirst = offset
      return out
    }
    if (passed === 0) return out
    if (passed > count * DECODE_WHOLE) {
      const lines = this.#lines(bytes, offset, count, undefined)
      for (let i = 0; i < count; i++) if (typeof out[i] === 'number') out[i] = lines[i]
      return out
    }
    for (let i = 0; i < count; i++) if (typeof out[i] === 'number') out[i] = this.#lineAt(bytes, base, offset + i, offset, count)
    return out
  }

  /** The text of record `index` in `bytes` (which start at file offset `base`), without its line end. */
  #lineAt (bytes: Buffer, base: number, index: number, offset: number, count: number): string {
    const from = this.#bytes.offsetOf(index) - base
    let to = this.#bytes.offsetOf(index + 1) - base
    for (let c = bytes[to - 1]; to > from && (c === LF || c === CR || c === SPACE || c === TAB); c = bytes[to - 1]) to--
    if (to === from) throw this.#moved(offset, count)
    return bytes.toString('utf8', from, to)
  }

  /** The text of a raw record: itself, or the line of a position from readFiltered. */
  #text (raw: unknown): string {
    if (typeof raw !== 'number') return raw as string
    const index = raw - this.#chunkFirst
    return this.#lineAt(this.#chunk, this.#chunkBase, raw, this.#chunkFirst, index + 1)
  }

  decode (raw: unknown): unknown {
    if (raw instanceof InvalidUtf8Record) throw raw.error(this.#path)
    try {
      return JSON.parse(this.#text(raw))
    } catch (error) {
      throw new Error(`${this.#path}: not valid JSON: ${(error as Error).message}`)
    }
  }

  decodeFields (raw: unknown, fields: ReadonlySet<string>): Record<string, unknown> | undefined {
    if (typeof raw !== 'number') return raw instanceof InvalidUtf8Record ? undefined : extractJsonFields(raw as string, fields)
    let wanted = this.#wanted
    if (wanted?.set !== fields) wanted = this.#wanted = new WantedFields(fields)
    if (!wanted.comparable) return extractJsonFields(this.#text(raw), fields)
    const files = this.#bytes
    return extractJsonFieldsFromBytes(this.#chunk, files.offsetOf(raw) - this.#chunkBase, files.offsetOf(raw + 1) - this.#chunkBase, wanted)
  }

  close (): void {
    this.#bytes.close()
  }
}
