import type { ScanErrorInfo } from '../schemas/scan-status.js'

/**
 * The scan's error. A record that failed on a limit (e.g. PARASCAN_VALUE_TOO_LARGE) fails the scan with
 * that limit's code. A partition runs records from `base` on: a record's offset (and the message
 * naming it) moves from the partition's range to the source.
 */
export function describeScanError (error: unknown, base = 0): ScanErrorInfo {
  const e = error as { code?: unknown, message?: unknown, offset?: unknown, cause?: { code?: unknown } }
  const causeCode = e?.code === 'PARASCAN_RECORD_FAILED' && typeof e.cause?.code === 'string' && e.cause.code.startsWith('PARASCAN_') ? e.cause.code : undefined
  const info: ScanErrorInfo = {
    code: causeCode ?? (typeof e?.code === 'string' ? e.code : 'PARASCAN_SCAN_FAILED'),
    message: typeof e?.message === 'string' ? e.message : String(error)
  }
  if (typeof e?.offset === 'number' && Number.isSafeInteger(e.offset)) {
    info.offset = e.offset + base
    if (base !== 0) info.message = info.message.replace(new RegExp(`(offset |offsets? )${e.offset}\\b`), `$1${info.offset}`)
  }
  return info
}
