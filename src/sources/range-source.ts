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

  /**
   * The array of every read: the next read fills it again (its caller is done with it by then).
   * One array whose elements are generic from the start: the loops that read it and write results
   * into it in place never see another elements kind, whatever the chunk sizes.
   */
  readonly #out: unknown[] = genericArray()

  read (offset: number, count: number): number[] {
    const out = this.#out as number[]
    if (out.length !== count) out.length = count
    const first = this.#start + offset
    for (let i = 0; i < count; i++) out[i] = first + i
    return out
  }

  decode (raw: unknown): unknown {
    return raw
  }

  close (): void {}
}

/** An empty array whose elements kind is already the generic one. */
function genericArray (): unknown[] {
  const out: unknown[] = [null]
  out.length = 0
  return out
}
