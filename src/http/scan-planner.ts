import type { ScanRequest } from '../../schemas/scan-request.js'
import type { ResultBatch, ScanSummary, ScanTask, StreamOptions } from '../parallel/types.js'
import type { ScanContext, ScanPlan } from '../pipeline/index.js'

export type { ScanContext, ScanPlan }

/** Turns a scan request into what the pool runs (the scan pipeline). */
export interface ScanPlanner {
  /** Submit-time checks; throws a 400/422 error naming the bad field. */
  validateScan(request: ScanRequest, ctx: ScanContext): Promise<void>
  planScan(request: ScanRequest, ctx: ScanContext): Promise<ScanPlan>
}

/** The part of WorkStealingPool that the service uses. */
export interface ScanPool {
  stream(total: number, task: ScanTask, options: StreamOptions): Promise<ScanSummary>
  close(): Promise<void>
}

export type { ResultBatch }
