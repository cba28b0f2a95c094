import type { ScanStatusDocument, ScanStatusName, ScanSummaryDocument } from '../../schemas/scan-status.js'
import type { ScanRecord } from '../store/scan-record.js'
import type { RecordErrorSample } from '../parallel/types.js'
import { isServiceCode } from '../error-codes.js'
import { RecordFailedError } from '../parallel/errors.js'

const RECORD_FAILED = new RecordFailedError(0, '').code

/** A status document without its links: where a scan is read from is the HTTP layer's business. */
export type ScanStatus = Omit<ScanStatusDocument, 'links'>

/** A list item without its links. */
export type ScanSummary = Omit<ScanSummaryDocument, 'links'>

/** A failed or cancelled scan's results are what it stored before it stopped. */
export function isPartial (status: ScanStatusName): boolean {
  return status === 'failed' || status === 'cancelled'
}

/** What clients see of a scan: its record without the fields kept for the service itself. */
export function scanStatus (record: ScanRecord): ScanStatus {
  const { attempt: _attempt, tenant: _tenant, idempotency_key: _key, cancelRequested: _cancel, ...fields } = record
  return { ...fields, result: { ...fields.result, partial: isPartial(record.status) }, errors: record.errors.map(sampleWithCode) }
}

/** A sample's code as the catalogue knows it: a code of no catalogue (a plug-in's own), or none (stored by an older version), is PARASCAN_RECORD_FAILED. */
function sampleWithCode (sample: RecordErrorSample): RecordErrorSample {
  return isServiceCode(sample.code) ? sample : { ...sample, code: RECORD_FAILED }
}
