import createError from '@fastify/error'

export const ConfigError = createError<[string]>('PARASCAN_INVALID_CONFIG', 'Invalid parallel config: %s', 400)
export const InvalidTotalError = createError<[string]>('PARASCAN_INVALID_TOTAL', 'total must be an integer in [0, 2147483647], got %s', 400)
export const TaskModuleError = createError<[string, string]>('PARASCAN_TASK_MODULE', 'Task module %s: %s', 500)
export const FetchFailedError = createError<[number, number, string]>('PARASCAN_FETCH_FAILED', 'fetch(%d, %d) failed: %s', 500)
export const ShortFetchError = createError<[number, number, string]>('PARASCAN_SHORT_FETCH', 'fetch(%d, %d) returned %s', 500)
export const RecordFailedError = createError<[number, string]>('PARASCAN_RECORD_FAILED', 'Record at offset %d failed: %s', 500)
export const ResultEncodingError = createError<[number, number, string]>('PARASCAN_RESULT_NOT_JSON', 'Results of records [%d, %d) cannot be encoded as JSON: %s', 500)
export const WorkerCrashedError = createError<[string, number, number, number]>('PARASCAN_WORKER_CRASHED', 'Worker threads kept exiting while processing records %s: %d exits, more than the limit of %d (%d per thread)', 500)
export const WorkerOutOfMemoryError = createError<[number, string]>('PARASCAN_WORKER_OUT_OF_MEMORY', 'A worker thread ran out of memory: its heap reached max_old_generation_mb = %d %s', 500)
export const RecordTimeLimitError = createError<[number, number]>('PARASCAN_RECORD_TIME_LIMIT', 'Record at offset %d ran longer than record_time_limit_ms = %d; its thread was ended', 500)
export const ScanAbortedError = createError<[string]>('PARASCAN_ABORTED', 'Scan aborted: %s', 499)
export const PoolClosedError = createError('PARASCAN_POOL_CLOSED', 'The pool is closed', 503)

/** Errors that name a record offset carry it as `offset`. */
export function withOffset<E extends Error> (error: E, offset: number): E & { offset: number } {
  return Object.assign(error, { offset })
}
export const ScanStalledError = createError<[string]>('PARASCAN_STALLED', 'Scan stalled: every thread is idle but records %s were never committed', 500)
export const IncompleteScanError = createError<[number, number, string]>('PARASCAN_INCOMPLETE', 'Scan ended with %d of %d records committed: %s', 500)
export const InvalidScanOptionError = createError<[string]>('PARASCAN_INVALID_OPTION', 'Invalid scan option: %s', 400)

/** Attaches the error that led to `error` as its `cause`. */
export function withCause<E extends Error> (error: E, cause: unknown): E {
  if (cause !== undefined) Object.defineProperty(error, 'cause', { value: cause, writable: true, configurable: true })
  return error
}

/** The PARASCAN_ABORTED error of a scan whose signal aborted with `reason`; its name is AbortError. */
export function abortError (reason?: unknown): Error {
  const text = reason instanceof Error ? reason.message : reason === undefined ? 'the signal was aborted' : String(reason)
  const error = withCause(new ScanAbortedError(text), reason)
  error.name = 'AbortError'
  return error
}
