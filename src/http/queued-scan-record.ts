import type { ScanRequest } from '../../schemas/scan-request.js'
import { emptyProgress, type ScanRecord } from '../store/scan-record.js'

/** Who and what a new scan's record names besides its request. */
export interface NewScan {
  id: string
  createdAt: string
  tenant?: string
  /** The Idempotency-Key as stored (prefixed with the tenant when there is one). */
  idempotencyKey?: string
}

/** The record of a scan just submitted: queued, with the total of records known before it runs. */
export function queuedScanRecord (request: ScanRequest, scan: NewScan): ScanRecord {
  return {
    id: scan.id,
    status: 'queued',
    created_at: scan.createdAt,
    started_at: null,
    finished_at: null,
    expires_at: null,
    progress: emptyProgress(knownTotal(request)),
    result: { count: 0, truncated: false },
    error: null,
    errors: [],
    metrics: null,
    attempt: null,
    ...(scan.tenant === undefined ? {} : { tenant: scan.tenant }),
    ...(scan.idempotencyKey === undefined ? {} : { idempotency_key: scan.idempotencyKey })
  }
}

function knownTotal (request: ScanRequest): number {
  if (request.source.type === 'range') return Math.max(0, request.source.end - request.source.start)
  if (request.source.type === 'inline') return request.source.records.length
  return 0
}
