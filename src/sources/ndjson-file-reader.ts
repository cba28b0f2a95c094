import { FileBytes } from './file-bytes.js'
import { extractJsonFields } from './json-field-extractor.js'
import type { FileSourceParams } from './file-source-params.js'
import type { SourceReader } from './source-reader.js'

const BLANK_LINE = /^[ \t\r]*$/

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
    const text = this.#bytes.read(offset, count).toString('utf8')
    let lines = text.split('\n')
    if (lines.length > count) lines = lines.filter((line) => !BLANK_LINE.test(line))
    if (lines.length !== count) {
      throw new Error(`source file ${this.#path} changed while it was scanned: records ${offset}..${offset + count - 1} are not where its index says`)
    }
    return lines
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
