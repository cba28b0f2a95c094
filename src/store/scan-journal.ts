import type { ScanRequest } from '../../schemas/scan-request.js'
import type { ScanRecord } from './scan-record.js'
import type { LogEntry, StoredPart, StoredPartitions } from './memory-partitions.js'
import type { StoredCharge } from './storage-charge.js'

/** An Idempotency-Key entry that names a scan. */
export interface StoredKey {
  key: string
  value: string
  /** When it was claimed (ms since the epoch): it lives PARASCAN_RETENTION from then. */
  claimedAt: number
}

/** What a state directory keeps of one scan, besides its request and its result pages. */
export interface StoredScan {
  record: ScanRecord
  cancelRequested: boolean
  /** Attempts that ended with their process dead. */
  crashes: number
  key?: StoredKey
  partitions?: StoredPartitions
  /** Bytes of results charged to the tenant's storage quota, by charge unit (a scan that ended). */
  charges?: StoredCharge[]
}

/** A change of one scan: a line of its journal. */
export type ScanChange =
  | { t: 'record', record: ScanRecord, cancelRequested: boolean, crashes: number }
  | { t: 'partitions', partitions: StoredPartitions }
  | { t: 'part', part: StoredPart, log?: LogEntry, charge?: StoredCharge }

/**
 * Where the embedded store writes what it accepts before it answers. Each call takes its
 * argument as it is at the call (later changes to the objects are not written).
 */
export interface ScanJournal {
  created(scan: StoredScan, request: ScanRequest): Promise<void>
  /** `seal`: pages names made durable before the change is. */
  changed(id: string, change: ScanChange, seal?: string[]): Promise<void>
  /** The scan has ended: its journal is rewritten as one line. */
  ended(scan: StoredScan, seal?: string[]): Promise<void>
  removed(id: string): Promise<void>
  request(id: string): Promise<ScanRequest | undefined>
  close(): Promise<void>
}
