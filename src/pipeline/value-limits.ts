/** Byte bounds on what a scan makes out of one record, enforced inside the worker threads. */
export interface ValueLimits {
  /** Largest value of a record between two steps, as JSON in bytes. */
  valueBytes: number
  /** Largest result of one record (what is stored), as JSON in bytes. */
  resultBytes: number
  /** Most groups of an aggregate in one thread, and so in the merged result. */
  groups: number
}

export const DEFAULT_VALUE_LIMITS: Readonly<ValueLimits> = Object.freeze({
  valueBytes: 4 * 1024 * 1024,
  resultBytes: 1024 * 1024,
  groups: 100_000
})
