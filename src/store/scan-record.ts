import type { PartitionsSummary, Progress, ScanErrorInfo, ScanMetrics, ScanStatusName } from '../../schemas/scan-status.js'
import type { RecordErrorSample } from '../parallel/types.js'

/** What the store keeps about one scan. */
export interface ScanRecord {
  id: string
  status: ScanStatusName
  created_at: string
  started_at: string | null
  finished_at: string | null
  expires_at: string | null
  progress: Progress
  result: { count: number, truncated: boolean }
  error: ScanErrorInfo | null
  errors: RecordErrorSample[]
  metrics: ScanMetrics | null
  /** Id of the attempt whose results are visible; null while queued. */
  attempt: string | null
  /** Tenant that submitted the scan (API keys on); only it can see the scan. */
  tenant?: string
  /** Where the partitions of a partitioned scan are; progress and result then sum over them. */
  partitions?: PartitionsSummary
  /** A cancel of the running scan was asked for (not part of the status document). */
  cancelRequested?: boolean
  /** The store's Idempotency-Key entry that names this scan; deleting the scan forgets it. */
  idempotency_key?: string
}

/** The fields a running attempt updates while it runs. */
export interface ScanProgressUpdate {
  progress: Progress
  result: { count: number, truncated: boolean }
}

/** The fields an attempt sets when it ends. */
export interface ScanOutcome extends ScanProgressUpdate {
  status: 'succeeded' | 'failed' | 'cancelled'
  error: ScanErrorInfo | null
  errors: RecordErrorSample[]
  metrics: ScanMetrics | null
}

export const FINISHED_STATUSES: ReadonlySet<ScanStatusName> = new Set(['succeeded', 'failed', 'cancelled'])

export function emptyProgress (total: number): Progress {
  return { total, processed: 0, matched: 0, skipped: 0, fraction: total === 0 ? 1 : 0, records_per_second: 0, eta_seconds: null }
}
