export type QueueJobState = 'waiting' | 'active' | 'delayed' | 'completed' | 'failed'

export const QUEUE_JOB_STATES: readonly QueueJobState[] = ['waiting', 'active', 'delayed', 'completed', 'failed']

/**
 * How a job ended: 'handed_back' puts it back in the queue for another instance (shutdown);
 * 'deferred' puts it back for a moment, behind the others (its tenant already runs its share).
 */
export type ScanJobOutcome = 'succeeded' | 'failed' | 'cancelled' | 'skipped' | 'handed_back' | 'deferred'

/** How long a deferred job waits before it can be taken again (ms). */
export const DEFER_MS = 500

/** Runs one scan; `signal` aborts when the instance shuts down and its grace period has run out. */
export type ScanJobProcessor = (id: string, signal: AbortSignal) => Promise<ScanJobOutcome>

export interface ScanQueue {
  /** Queues a scan; the job id is the scan id. */
  add(id: string): Promise<void>
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
