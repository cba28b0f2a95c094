import type { ScanRequest } from '../../schemas/scan-request.js'
import { CONFIG_KEYS, type ParallelConfig } from '../parallel/parallel-config.js'
import { NumberOutOfRangeError, ScanValidationError, withFieldErrors } from '../errors.js'
import { jsonDepth } from './json-depth.js'
import { nonFiniteNumberPath } from './non-finite-number.js'

/** Deepest nesting accepted in an inline record. */
export const MAX_RECORD_DEPTH = 128

/** Refuses an inline record nested deeper than MAX_RECORD_DEPTH, naming the first such record. */
export function checkRecordDepth (request: ScanRequest): void {
  if (request.source.type !== 'inline') return
  const records = request.source.records
  for (let i = 0; i < records.length; i++) {
    if (jsonDepth(records[i], MAX_RECORD_DEPTH) > MAX_RECORD_DEPTH) {
      const path = `source.records[${i}]`
      const message = `nested deeper than ${MAX_RECORD_DEPTH} levels`
      throw withFieldErrors(new ScanValidationError(`${path}: ${message}`), [{ path, message }])
    }
  }
}

/** Refuses an inline record holding a number that is not a finite double (such as `1e400`), naming the first one. */
export function checkInlineNumbers (request: ScanRequest): void {
  if (request.source.type !== 'inline') return
  const path = nonFiniteNumberPath(request.source.records, 'source.records')
  if (path === undefined) return
  const message = 'a number out of the range of a double (about ±1.8e308)'
  throw withFieldErrors(new NumberOutOfRangeError(`${path}: ${message}`), [{ path, message }])
}

/** Refuses `parallel` overrides that `config` (the instance's engine config) does not allow, naming the field. */
export function checkParallelOverrides (request: ScanRequest, config: ParallelConfig): void {
  const overrides = request.parallel
  if (overrides === undefined) return
  const limit = config.max_workers
  if (overrides.max_workers !== undefined && overrides.max_workers > limit) {
    const message = `must be at most ${limit} (this instance's max_workers)`
    throw withFieldErrors(new ScanValidationError(`parallel.max_workers ${message}`), [{ path: 'parallel.max_workers', message }])
  }
  try {
    config.with(overrides)
  } catch (error) {
    const text = (error as Error).message.replace(/^Invalid parallel config: /, '')
    const key = CONFIG_KEYS.find((name) => text.startsWith(name)) ?? ''
    const path = key === '' ? 'parallel' : `parallel.${key}`
    throw withFieldErrors(new ScanValidationError(`${path}: ${text}`), [{ path, message: text }])
  }
}
