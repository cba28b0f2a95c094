import type { ScanRequest } from '../../schemas/scan-request.js'
import type { MemoryPartitions } from './memory-partitions.js'
import type { StoredKey, StoredScan } from './scan-journal.js'
import type { ScanRecord } from './scan-record.js'
import type { StoredCharge } from './storage-charge.js'

/** One scan of the embedded store. */
export interface MemoryScanEntry {
  record: ScanRecord
  /** Undefined once the journal has it and the scan has ended: read back when asked for. */
  request?: ScanRequest
  cancelRequested: boolean
  crashes: number
  key?: StoredKey
  expiry?: NodeJS.Timeout
  partitions?: MemoryPartitions
  /** The record readers see while the end of the scan is not yet durable: as it was before. */
  shown?: ScanRecord
}

/** A running partitioned scan. */
export type PartitionedEntry = MemoryScanEntry & { partitions: MemoryPartitions }

/** What the journal keeps of a scan; `charges`: its storage charges (kept when it ends). */
export function storedScan (entry: MemoryScanEntry, charges: StoredCharge[] = []): StoredScan {
  return {
    record: entry.record,
    cancelRequested: entry.cancelRequested,
    crashes: entry.crashes,
    ...(entry.key === undefined ? {} : { key: entry.key }),
    ...(entry.partitions === undefined ? {} : { partitions: entry.partitions.toJSON() }),
    ...(charges.length === 0 ? {} : { charges })
  }
}
