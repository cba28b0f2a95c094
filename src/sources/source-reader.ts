/** Reads the records of one source inside a worker thread. */
export interface SourceReader {
  /** True when records are integers that CEL should see as `int` (they stay JSON numbers in results). */
  readonly integerRecords: boolean
  /** Exactly `count` raw records from `offset`. */
  read(offset: number, count: number): unknown[]
  /** The JSON record of a raw record; throws a record error when it does not decode. */
  decode(raw: unknown): unknown
  close(): void
}

/** A record that could not be read, carried from `read` to `decode` so that only that record fails. */
export class UnreadableRecord {
  constructor (readonly message: string) {}
}
