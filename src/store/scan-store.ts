import type { ScanRequest } from '../../schemas/scan-request.js'
import type { ScanErrorInfo, ScanStatusName } from '../../schemas/scan-status.js'
import type { ScanOutcome, ScanProgressUpdate, ScanRecord } from './scan-record.js'
import type { PartitionBeginResult, PartitionCommit, PartitionCounts, PartitionLayout, PartitionState, ResultEntry } from './partition-record.js'
import type { StorageCharge, StorageUsage } from './storage-charge.js'

export type CancelResult =
  | { outcome: 'cancelled' }
  | { outcome: 'signalled' }
  | { outcome: 'finished', status: ScanStatusName }

export type RemoveResult = { outcome: 'removed' } | { outcome: 'active', status: ScanStatusName }

/** Bounds on queued scans that create() enforces atomically. */
export interface QueueAdmission {
  /** Most scans queued in all. */
  maxQueued: number
  /** Most scans queued by the record's tenant. */
  maxQueuedPerTenant: number
}

/** 'queue_full' and 'tenant_queue_full': the scan was not created; 'exists': a scan with this id was there already and is left as it is. */
export type CreateOutcome = 'created' | 'exists' | 'queue_full' | 'tenant_queue_full'

export interface BeginResult {
  record: ScanRecord
  /** The attempt that ran before this one (its pages are gone), or null. */
  previousAttempt: string | null
  /** A cancel was asked for before this attempt began. */
  cancelRequested: boolean
  /** Attempts of this scan that ended with their instance dead (Redis store; 0 in memory). */
  crashedAttempts: number
}

export interface ListOptions {
  status?: ScanStatusName
  /** Only scans of this tenant. */
  tenant?: string
  limit: number
  /** Only scans older than this id (ids sort by creation time). */
  before?: string
}

/**
 * Status and results of scans. Every write of an attempt is fenced by its
 * attempt id: once another attempt has begun, the old one can no longer
 * change the status or add results.
 */
export interface ScanStore extends PartitionedScanStore {
  /** Creates a queued scan, unless `admission` is given and the queue is full (in all or for the record's tenant). */
  create(record: ScanRecord, request: ScanRequest, admission?: QueueAdmission): Promise<CreateOutcome>
  get(id: string): Promise<ScanRecord | undefined>
  getRequest(id: string): Promise<ScanRequest | undefined>
  /** Newest first. */
  list(options: ListOptions): Promise<ScanRecord[]>
  /**
   * Makes `attempt` the visible attempt of a queued or running scan; undefined when the scan is gone
   * or finished. With `maxRunningPerTenant` (> 0), 'busy' (and nothing changed) when the scan's
   * tenant already runs that many scans while scans of other tenants wait.
   */
  begin(id: string, attempt: string, startedAt: string): Promise<BeginResult | undefined>
  begin(id: string, attempt: string, startedAt: string, maxRunningPerTenant: number): Promise<BeginResult | 'busy' | undefined>
  update(id: string, attempt: string, update: ScanProgressUpdate): Promise<boolean>
  appendPages(id: string, attempt: string, pages: string[]): Promise<boolean>
  finish(id: string, attempt: string, outcome: ScanOutcome, finishedAt: string): Promise<boolean>
  /** The attempt stops without an outcome and its instance lives (a hand-back at shutdown): the next attempt does not count it as crashed. */
  release(id: string, attempt: string): Promise<void>
  /** Fails a queued or running scan whatever its attempt (its job was lost); false when it had already finished. */
  abandon(id: string, error: ScanErrorInfo, finishedAt: string): Promise<boolean>
  /** Cancels a queued scan at once, signals a running one (on any instance). */
  cancel(id: string, finishedAt: string): Promise<CancelResult | undefined>
  remove(id: string): Promise<RemoveResult | undefined>
  /** Result pages `from`..`from+count-1` of an attempt, as JSON array texts. */
  readPages(id: string, attempt: string, from: number, count: number): Promise<string[]>
  /** Called with the id of every scan whose cancel is requested, from any instance. */
  onCancelRequest(listener: (id: string) => void): void
  /**
   * Books `bytes` of results of `unit` (a scan id, or `partitionUnit(id, part)`) written by `attempt`
   * as stored by `tenant`, unless that takes the tenant past `quota` bytes (0: no quota); a unit's bytes
   * of an earlier attempt are dropped first. Negative `bytes` give back bytes of the same attempt.
   * A scan's bytes stop counting when it is deleted or its retention is over.
   */
  chargeStorage(tenant: string | undefined, unit: string, attempt: string, bytes: number, quota: number): Promise<StorageCharge>
  /** Bytes of results `tenant` stores now. */
  storageUsage(tenant: string | undefined): Promise<StorageUsage>
  /** Stores `value` under `key` unless the key exists; returns the value already stored, or undefined. */
  claimIdempotencyKey(key: string, value: string): Promise<string | undefined>
  ping(): Promise<void>
  close(): Promise<void>
}

/**
 * A scan split into partitions. Every call of a partition attempt is fenced by its attempt id and
 * by the scan still running: a superseded or late attempt changes nothing.
 */
export interface PartitionedScanStore {
  /** Turns the running attempt `attempt` of a scan into a partitioned scan; false when that attempt is no longer current. */
  planPartitions(id: string, attempt: string, layout: PartitionLayout): Promise<boolean>
  beginPartition(id: string, part: number, attempt: string): Promise<PartitionBeginResult>
  /** Adds result pages to the attempt; they stay invisible until it commits. */
  appendPartitionPages(id: string, part: number, attempt: string, pages: string[]): Promise<boolean>
  updatePartition(id: string, part: number, attempt: string, counts: PartitionCounts): Promise<boolean>
  /** Makes the attempt's pages visible (the commit log) and stores its counters; false when fenced off or cancelled. */
  commitPartition(id: string, part: number, attempt: string, commit: PartitionCommit): Promise<boolean>
  partitionStates(id: string): Promise<PartitionState[]>
  /** Ends a running partitioned scan (first caller wins); `rows` are the pages of an aggregate's final rows. */
  finishPartitioned(id: string, outcome: ScanOutcome, finishedAt: string, rows: string[]): Promise<boolean>
  /** The `seq`-th stretch of visible results, or undefined when it is not (yet) there. */
  resultEntry(id: string, seq: number): Promise<ResultEntry | undefined>
  /** Pages `from`..`from+count-1` of a stretch. */
  readEntryPages(id: string, part: number, from: number, count: number): Promise<string[]>
}
