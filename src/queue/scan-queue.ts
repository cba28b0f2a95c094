import type { ScanJobInfo } from './scan-job-summary.js'

export type QueueJobState = 'waiting' | 'active' | 'delayed' | 'completed' | 'failed'

export const QUEUE_JOB_STATES: readonly QueueJobState[] = ['waiting', 'active', 'delayed', 'completed', 'failed']

/** How a job ended: 'handed_back' puts it back in the queue for another instance (shutdown). */
export type ScanJobOutcome = 'succeeded' | 'failed' | 'cancelled' | 'skipped' | 'handed_back'

/** Live progress of a running job, for the queue dashboard; `progress` is the percentage done. */
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
export type ScanJobProcessor = (id: string, signal: AbortSignal, reportProgress?: (progress: ScanJobProgress) => void) => Promise<ScanJobOutcome>

export interface ScanQueue {
  /** Queues a scan; the job id is the scan id; `info` names the job on the queue dashboard. */
  add(id: string, info?: ScanJobInfo): Promise<void>
  /** Drops the job of a scan that has not started (best effort). */
  remove(id: string): Promise<void>
  counts(): Promise<Record<QueueJobState, number>>
  /** Starts taking jobs. */
  process(processor: ScanJobProcessor): void
  /** Stops taking jobs, gives running ones `graceMs` to finish, then aborts them, and closes. */
  close(graceMs?: number): Promise<void>
  ping(): Promise<void>
  /** Called with the id of a job that the queue gave up on (it stalled too often: its instances kept dying). */
  onJobLost(listener: (id: string) => void): void
}
