import type { ParallelConfig } from '../parallel/parallel-config.js'
import type { ScanQueue } from '../queue/scan-queue.js'
import type { QueueAdmission, ScanStore } from '../store/scan-store.js'
import type { ServiceLog } from '../service-log.js'
import type { ScanLimits } from './scan-limits.js'
import type { ScanContext, ScanPlanner } from './scan-planner.js'

export interface ScanServiceOptions {
  /** Required. */
  store: ScanStore
  /** Required. */
  queue: ScanQueue
  /** Required. */
  planner: ScanPlanner
  /** Required. */
  context: ScanContext
  /** The instance's engine config: per-scan `parallel` overrides must stay within it. Required. */
  config: ParallelConfig
  /**
   * Bounds on each scan request.
   * @defaultValue `new ScanLimits()`
   */
  limits?: ScanLimits
  /**
   * Bounds on queued scans; past them a submit is a 429.
   * @defaultValue 10000 in all, 1000 per tenant
   */
  admission?: QueueAdmission
  /**
   * Seconds in the Retry-After header of a 429 for a full queue.
   * @defaultValue 5
   */
  queueFullRetryAfterSeconds?: number
  /**
   * The scan context of a tenant (e.g. its own data directory).
   * @defaultValue `context` for everyone
   */
  contextFor?: (tenant: string | undefined) => ScanContext
  /**
   * Bytes of items in one results page; a page holds at least one item.
   * @defaultValue 8 MiB
   */
  maxPageBytes?: number
  /** Bytes of results a tenant may keep stored (0: no quota); at it, a submit is a 429. Default: no quota. */
  storageQuota?: (tenant: string | undefined) => number
  /**
   * Where the errors it survives are reported.
   * @defaultValue SILENT_LOG (nothing is written)
   */
  log?: ServiceLog
}
