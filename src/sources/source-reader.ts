/** Reads the records of one source inside a worker thread. */
export interface SourceReader {
  /** True when records are integers that CEL should see as `int` (they stay JSON numbers in results). */
  readonly integerRecords: boolean
  /** Exactly `count` raw records from `offset`. */
  read(offset: number, count: number): unknown[]
  /** The JSON record of a raw record; throws a record error when it does not decode. */
  decode(raw: unknown): unknown
  /**
   * Only the named top-level fields of a raw record, when the reader can get them more cheaply
   * than decoding it whole; undefined when it cannot for this record (then decode it whole).
   */
  decodeFields?(raw: unknown, fields: ReadonlySet<string>): Record<string, unknown> | undefined
  close(): void
}

/** A record that could not be read, carried from `read` to `decode` so that only that record fails. */
export class UnreadableRecord {
  constructor (readonly message: string) {}
}
