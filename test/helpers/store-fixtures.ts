import { emptyProgress, type ScanOutcome, type ScanRecord } from '../../src/store/scan-record.js'
import { newScanId } from '../../src/store/scan-id.js'

/** A request of 10 records, as the store keeps it. */
export const request = { source: { type: 'range' as const, start: 0, end: 10 }, pipeline: [], ordered: false, on_error: 'fail' as const }

/** A queued scan of `request`. */
export function record (fields: Partial<ScanRecord> = {}): ScanRecord {
  return {
    id: newScanId(), status: 'queued', created_at: new Date().toISOString(), started_at: null, finished_at: null, expires_at: null,
    progress: emptyProgress(10), result: { count: 0, truncated: false }, error: null, errors: [], metrics: null, attempt: null, ...fields
  }
}

/** How an attempt of `request` ends, with `count` results. */
export function outcome (status: 'succeeded' | 'failed' | 'cancelled', count = 4): ScanOutcome {
  return { status, progress: { ...emptyProgress(10), processed: 10, matched: 10, fraction: 1 }, result: { count, truncated: false }, error: null, errors: [], metrics: null }
}
