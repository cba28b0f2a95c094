/**
 * Lets a task module that runs a whole chunk inside fetch() say which record it is in, so that
 * the main thread's record time limit (record_time_limit_ms) sees a record stuck there as it
 * sees one stuck in process(). Per thread: the runner points it at its stats line before fetch.
 */
let marks: Int32Array | undefined
let index = 0
let chunkStart = 0

/** The runner: the chunk that fetch() is about to run starts at `lo`. */
export function beginChunkMarks (target: Int32Array, at: number, lo: number): void {
  marks = target
  index = at
  chunkStart = lo
}

/** A task module: it is now in the record `i` of the chunk that fetch() was called for. */
export function markRecord (i: number): void {
  if (marks !== undefined) marks[index] = chunkStart + i + 1
}
