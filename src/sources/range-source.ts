import type { FieldError } from '../errors.js'
import type { SourceReader } from './source-reader.js'

/** The largest number of records of a scan (the engine's limit). */
export const MAX_RANGE_RECORDS = 2 ** 31 - 1

export interface RangeSourceParams {
  type: 'range'
  start: number
  end: number
}

export function checkRangeSource (spec: { start: number, end: number }): FieldError[] {
  if (spec.end < spec.start) return [{ path: 'source.end', message: `must be >= start (${spec.start})` }]
  if (spec.end - spec.start > MAX_RANGE_RECORDS) {
    return [{ path: 'source.end', message: `end - start must be at most ${MAX_RANGE_RECORDS}` }]
  }
  return []
}

export class RangeSourceReader implements SourceReader {
  readonly integerRecords = true
  readonly #start: number

  constructor (params: RangeSourceParams) {
    this.#start = params.start
  }

  /** The array of the last read: the next read of as many records fills it again (its caller is done with it by then). */
  #out: number[] = []

  read (offset: number, count: number): number[] {
    const out = this.#out.length === count ? this.#out : (this.#out = new Array<number>(count))
    const first = this.#start + offset
    for (let i = 0; i < count; i++) out[i] = first + i
    return out
  }

  decode (raw: unknown): unknown {
    return raw
  }

  close (): void {}
}
