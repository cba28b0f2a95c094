import type { ScanErrorInfo } from '../schemas/scan-status.js'
import { ScanCancelledError, scanError } from '../src/errors.js'

/** Why a running attempt (of a whole scan or of one partition) was aborted when its scan is cancelled by request. */
export class ScanCancelledSignal extends Error {
  constructor () { super('Cancelled by request') }
}

/** The error a scan cancelled by request ends with. */
export function cancelledError (): ScanErrorInfo {
  return scanError(new ScanCancelledError('by request'))
}
