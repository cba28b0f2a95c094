import type { SourceReader } from './source-reader.js'

export interface InlineSourceParams {
  type: 'inline'
  records: unknown[]
}

export class InlineSourceReader implements SourceReader {
  readonly integerRecords = false
  readonly #records: unknown[]

  constructor (params: InlineSourceParams) {
    this.#records = params.records
  }

  read (offset: number, count: number): unknown[] {
    if (offset + count > this.#records.length) {
      throw new Error(`inline source has ${this.#records.length} records; records ${offset}..${offset + count - 1} were asked for`)
    }
    return this.#records.slice(offset, offset + count)
  }

  decode (raw: unknown): unknown {
    return raw
  }

  close (): void {}
}
