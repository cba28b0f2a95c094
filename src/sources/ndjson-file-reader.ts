import { FileBytes } from './file-bytes.js'
import { extractJsonFields } from './json-field-extractor.js'
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

/** Text that JSON writes without escapes, and that invalid UTF-8 (decoded as U+FFFD) cannot fake. */
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

  constructor (params: FileSourceParams) {
    this.#bytes = new FileBytes(params)
    this.#path = params.path
  }

  read (offset: number, count: number): string[] {
    return this.#lines(this.#bytes.read(offset, count), offset, count)
  }

  #lines (bytes: Buffer, offset: number, count: number): string[] {
    let lines = bytes.toString('utf8').split('\n')
    if (lines.length > count) lines = lines.filter((line) => !BLANK_LINE.test(line))
    if (lines.length !== count) throw this.#moved(offset, count)
    return lines
  }

  #moved (offset: number, count: number): Error {
    return new Error(`source file ${this.#path} changed while it was scanned: records ${offset}..${offset + count - 1} are not where its index says`)
  }

  /**
   * Lines without a backslash must hold the bytes of the strings that the predicate compares;
   * lines with one, and lines that do not start with `{`, pass. An atom whose field name occurs
   * nowhere in a chunk rules out nothing there, so that a misspelt field still fails every record.
   */
  rawFilter (predicate: RawPredicate): RawLineFilter | undefined {
    return RawLineFilter.compile(predicate, ndjsonSpelling, { escape: BACKSLASH, opener: OPEN_OBJECT })
  }

  readFiltered (offset: number, count: number, filter: RawLineFilter): unknown[] {
    const bytes = this.#bytes.read(offset, count)
    if (!filter.begin(bytes)) return this.#lines(bytes, offset, count)
    const files = this.#bytes
    const base = files.offsetOf(offset)
    const out = new Array<unknown>(count)
    let passed = 0
    let start = 0
    for (let i = 0; i < count; i++) {
      const end = files.offsetOf(offset + i + 1) - base
      if (filter.pass(start, end)) {
        out[i] = start
        passed++
      } else {
        out[i] = REJECTED
      }
      start = end
    }
    filter.end(count, passed)
    if (passed === 0) return out
    if (passed > count * DECODE_WHOLE) {
      const lines = this.#lines(bytes, offset, count)
      for (let i = 0; i < count; i++) if (out[i] !== REJECTED) out[i] = lines[i]
      return out
    }
    for (let i = 0; i < count; i++) {
      if (out[i] === REJECTED) continue
      const from = out[i] as number
      let to = files.offsetOf(offset + i + 1) - base
      for (let c = bytes[to - 1]; to > from && (c === LF || c === CR || c === SPACE || c === TAB); c = bytes[to - 1]) to--
      if (to === from) throw this.#moved(offset, count)
      out[i] = bytes.toString('utf8', from, to)
    }
    return out
  }

  decode (raw: unknown): unknown {
    try {
      return JSON.parse(raw as string)
    } catch (error) {
      throw new Error(`${this.#path}: not valid JSON: ${(error as Error).message}`)
    }
  }

  decodeFields (raw: unknown, fields: ReadonlySet<string>): Record<string, unknown> | undefined {
    return extractJsonFields(raw as string, fields)
  }

  close (): void {
    this.#bytes.close()
  }
}
