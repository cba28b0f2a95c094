import type { ScanErrorInfo } from '../schemas/scan-status.js'
import { ScanFailedError } from '../src/errors.js'
import { codeOf, isServiceCode } from '../src/error-codes.js'
import { RecordFailedError } from '../src/parallel/errors.js'

const RECORD_FAILED = codeOf(RecordFailedError)

/**
 * The scan's error. A record that failed on a limit (e.g. PARASCAN_VALUE_TOO_LARGE) fails the scan with
 * that limit's code; an error without a catalogue code (a plug-in's, Redis's) is a PARASCAN_SCAN_FAILED.
 * A partition runs records from `base` on: a record's offset (and the message naming it) moves from
 * the partition's range to the source.
 */
export function describeScanError (error: unknown, base = 0): ScanErrorInfo {
  const e = error as { code?: unknown, message?: unknown, offset?: unknown, cause?: { code?: unknown } }
  const message = typeof e?.message === 'string' ? e.message : String(error)
  const cause = e?.cause?.code
  const code = isServiceCode(cause) && e.code === RECORD_FAILED ? cause : isServiceCode(e?.code) ? e.code : new ScanFailedError(message).code
  const info: ScanErrorInfo = { code, message }
  if (typeof e?.offset === 'number' && Number.isSafeInteger(e.offset)) {
    info.offset = e.offset + base
    if (base !== 0) info.message = info.message.replace(new RegExp(`(offset |offsets? )${e.offset}\\b`), `$1${info.offset}`)
  }
  return info
}
