import type { RawLineFilter } from './raw-line-filter.js'
import type { RawPredicate } from './raw-predicate.js'

/** In place of a record that a raw filter ruled out: it is never decoded. */
export const REJECTED: unique symbol = Symbol('rejected')

/**
 * Whether a raw record is REJECTED. Raw records are never symbols, and a typeof test stays a type
 * check in optimized code where `===` between a string or number and a symbol calls a builtin.
 */
export function isRejected (raw: unknown): raw is typeof REJECTED {
  return typeof raw === 'symbol'
}

/** Reads the records of one source inside a worker thread. */
export interface SourceReader {
  /** True when records are integers that CEL should see as `int` (they stay JSON numbers in results). */
  readonly integerRecords: boolean
  /** Exactly `count` raw records from `offset`, in an array that the next read may fill again. */
  read(offset: number, count: number): unknown[]
  /** The JSON record of a raw record; throws a record error when it does not decode. */
  decode(raw: unknown): unknown
  /**
   * Only the named top-level fields of a raw record, when the reader can get them more cheaply
   * than decoding it whole; undefined when it cannot for this record (then decode it whole).
   */
  decodeFields?(raw: unknown, fields: ReadonlySet<string>): Record<string, unknown> | undefined
  /** A filter of raw bytes implied by `predicate`, when this format has one. */
  rawFilter?(predicate: RawPredicate): RawLineFilter | undefined
  /**
   * As read, with REJECTED in place of every record that `filter` rules out. With `positions`
   * (a hint: the records are about to go through decodeFields), raw records may be positions
   * that stay valid only until the next read.
   */
  readFiltered?(offset: number, count: number, filter: RawLineFilter | undefined, positions?: boolean): unknown[]
  close(): void
}

/** A record that could not be read, carried from `read` to `decode` so that only that record fails. */
export class UnreadableRecord {
  constructor (readonly message: string) {}
}
