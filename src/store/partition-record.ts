import type { ScanMetrics } from '../../schemas/scan-status.js'
import type { RecordErrorSample } from '../parallel/types.js'

/**
 * How readers walk a partitioned scan's results: 'unordered' in commit order, 'ordered' by
 * partition index, 'aggregate' reads the rows the finishing step stored.
 */
export type PartitionMode = 'unordered' | 'ordered' | 'aggregate'

export interface PartitionLayout {
  /** Partitions, ≥ 2. */
  partitions: number
  mode: PartitionMode
  /** max_results of the scan: the global cap. */
  cap: number
  /** Records of the source. */
  total: number
}

/** Counters of one partition attempt. */
export interface PartitionCounts {
  processed: number
  matched: number
  skipped: number
}

/** What a partition attempt stores when it commits. */
export interface PartitionCommit extends PartitionCounts {
  /** Results stored (at most the scan's cap). */
  count: number
  /** More results than `count` were produced. */
  truncated: boolean
  /** Skipped records, offsets global. */
  errors: RecordErrorSample[]
  /** The partition's partial aggregate state (aggregate scans). */
  partial?: unknown
  metrics: ScanMetrics | null
}

export type PartitionBeginResult =
  /** `unsettled`: the attempt before this one neither committed nor was handed back (its instance died or lost its lock). */
  | { outcome: 'began', runs: number, unsettled: boolean }
  /** Committed already (a duplicate delivery): nothing to do. */
  | { outcome: 'committed' }
  | { outcome: 'cancelled' }
  /** The scan is gone or finished. */
  | { outcome: 'gone' }

export interface PartitionState extends PartitionCounts {
  index: number
  state: 'queued' | 'running' | 'committed'
  /** Attempts begun. */
  runs: number
  commit?: PartitionCommit
}

/** A stretch of visible results: a committed partition (or the aggregate rows) and how many of its items are admitted. */
export interface ResultEntry {
  /** The stretch: the one asked for, or (ordered scans) the first one after it that admits results. */
  seq: number
  /** Partition index, or -1 for the aggregate rows. */
  part: number
  /** Items admitted under max_results, from the start of the stretch. */
  limit: number
}
