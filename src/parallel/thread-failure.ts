import { FetchFailedError, RecordFailedError, ResultEncodingError, ShortFetchError, TaskModuleError, withCause, withOffset } from './errors.js'
import type { FailureData } from './worker-protocol.js'

/** The catalogue error for a failure a thread reported. */
export function toScanError (failure: FailureData, moduleUrl: string): Error {
  const cause = failure.cause
  switch (failure.kind) {
    case 'fetch':
      return withOffset(withCause(new FetchFailedError(failure.offset, failure.count, failure.detail), cause), failure.offset)
    case 'short':
      return withOffset(new ShortFetchError(failure.offset, failure.count, failure.detail), failure.offset)
    case 'record':
      return withOffset(withCause(new RecordFailedError(failure.offset, failure.detail), cause), failure.offset)
    case 'json':
      return withOffset(withCause(new ResultEncodingError(failure.offset, failure.offset + failure.count, failure.detail), cause), failure.offset)
    default:
      return withCause(new TaskModuleError(moduleUrl, failure.detail), cause)
  }
}
