import type { ScanStatusDocument, ScanStatusName, ScanSummaryDocument } from '../../schemas/scan-status.js'
import type { ScanRecord } from '../store/scan-record.js'

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
  return { ...fields, result: { ...fields.result, partial: isPartial(record.status) } }
}
