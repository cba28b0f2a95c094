import type { ScanJobInfo } from './scan-job-summary.js'

export type QueueJobState = 'waiting' | 'active' | 'delayed' | 'completed' | 'failed'

/**
 * How a job ended: 'handed_back' puts it back in the queue for another instance (shutdown);
 * 'waiting' parks a scan's job until its partition jobs are done, then it runs again;
 * 'deferred' puts it back for a moment, behind the others (its tenant already runs its share).
 */
export type ScanJobOutcome = 'succeeded' | 'failed' | 'cancelled' | 'skipped' | 'handed_back' | 'waiting' | 'deferred'

/** How long a deferred job waits before it can be taken again (ms). */
export const DEFER_MS = 500

/** One partition of a scan, as its job carries it: records [start, end). */
export interface PartitionJob {
  id: string
  /** The scan's tenant. */
  tenant?: string
  part: number
  partitions: number
  start: number
  end: number
}

/** What a scan's job can do with its partition jobs. */
export interface ScanJobFlow {
  /** The scan's tenant, as the job was added. */
  readonly tenant: string | undefined
  /** The job added partition jobs on an earlier run: this run finishes the partitioned scan. */
  readonly partitioned: boolean
  /**
   * Adds `partitions` as child jobs of the scan's job, unless it has children already (or
   * `partitions` is null), and parks the scan's job until they are done. True: parked (return
   * 'waiting'); false: no child is left to wait for.
   */
  waitForPartitions(partitions: PartitionJob[] | null): Promise<boolean>
}

/** Live progress of a running scan job, for the queue dashboard; `progress` is the percentage done. */
export interface ScanJobProgress {
  progress: number
  processed: number
  total: number
  matched: number
  skipped: number
  records_per_second: number
  eta_seconds: number | null
}

/**
 * Runs one scan; `signal` aborts when the instance shuts down and its grace period has run out;
 * `reportProgress` passes its progress to the queue (throttled there), as often as it likes.
 */
export type ScanJobProcessor = (id: string, signal: AbortSignal, flow: ScanJobFlow, reportProgress?: (progress: ScanJobProgress) => void) => Promise<ScanJobOutcome>

/** Runs one partition; `reportProgress` shows its fraction done on the queue dashboard. */
export type PartitionJobProcessor = (job: PartitionJob, signal: AbortSignal, reportProgress: (fraction: number) => Promise<void>) => Promise<ScanJobOutcome>

export interface ScanQueue {
  /** Queues a scan; the job id is the scan id; `info` names the job on the queue dashboard. */
  add(id: string, info?: ScanJobInfo): Promise<void>
  /** Drops the job of a scan that has not started, with its partition jobs (best effort). */
  remove(id: string): Promise<void>
  /** Drops the partition jobs of a scan that have not started (best effort); the running ones go on. */
  dropPartitions(id: string): Promise<void>
  counts(): Promise<Record<QueueJobState, number>>
  /** Starts taking scan jobs, and partition jobs when `partitions` is given; either may end 'deferred'. */
  process(processor: ScanJobProcessor, partitions?: PartitionJobProcessor): void
  /** Stops taking jobs, gives running ones `graceMs` to finish, then aborts them, and closes. */
  close(graceMs?: number): Promise<void>
  ping(): Promise<void>
  /** Called with the id of a scan whose job (or one of its partition jobs) the queue gave up on (it stalled too often: its instances kept dying). */
  onJobLost(listener: (id: string) => void): void
}
