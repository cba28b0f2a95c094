/**
 * Lets a task module that runs a whole chunk inside fetch() say which record it is in, so that
 * the main thread's record time limit (record_time_limit_ms) sees a record stuck there as it
 * sees one stuck in process(). Per thread: the runner points it at its stats line before fetch;
 * until then it points at a word of its own. A module reads the three fields once per chunk and
 * marks each record with one plain store, `marks[index] = base + i`.
 */
export interface RecordMarks {
  /** marks[index] = base + i marks the record i of the chunk (base is 1 + its first offset). */
  marks: Int32Array
  index: number
  base: number
}

export const recordMarks: RecordMarks = { marks: new Int32Array(1), index: 0, base: 1 }

/** The runner: the chunk that fetch() is about to run starts at `lo`. */
export function beginChunkMarks (target: Int32Array, at: number, lo: number): void {
  recordMarks.marks = target
  recordMarks.index = at
  recordMarks.base = lo + 1
}
