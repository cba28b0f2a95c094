import type { ParallelConfig } from '../src/parallel/parallel-config.js'
import type { ScanContext, ScanPlanner, ScanPool } from '../src/http/scan-planner.js'
import type { ScanStore } from '../src/store/scan-store.js'
import type { ServiceMetrics } from '../src/metrics/service-metrics.js'
import type { ServiceLog } from '../src/service-log.js'
import type { PartitionPolicy } from '../src/partitions/plan-partitions.js'

export interface ScanConsumerOptions {
  /** The instance's persistent pool. Required. */
  pool: ScanPool
  /** The instance's engine config; per-scan overrides are applied over it. Required. */
  config: ParallelConfig
  /** Required. */
  store: ScanStore
  /** Required. */
  planner: ScanPlanner
  /** Required. */
  context: ScanContext
  /** Required. */
  metrics: ServiceMetrics
  /**
   * Period of progress writes to the store (ms).
   * @defaultValue 250
   */
  progressIntervalMs?: number
  /**
   * Rows per stored page of an aggregate scan.
   * @defaultValue 1000
   */
  aggregatePageSize?: number
  /**
   * Longest run of one attempt (ms); a scan's `timeout_seconds` may lower it.
   * @defaultValue 1 h
   */
  scanTimeoutMs?: number
  /**
   * The scan context of a tenant (e.g. its own data directory).
   * @defaultValue `context` for everyone
   */
  contextFor?: (tenant: string | undefined) => ScanContext
  /**
   * Bytes of results one scan may store; past them it fails with PARASCAN_RESULTS_TOO_LARGE.
   * @defaultValue 64 MiB
   */
  maxScanResultBytes?: number
  /**
   * Longest time one record may spend in the pipeline (ms); past it its thread is ended and the record fails with PARASCAN_RECORD_TIME_LIMIT (`on_error` applies). 0 is no limit.
   * @defaultValue 0
   */
  recordTimeLimitMs?: number
  /**
   * Attempts of one scan that may end with their instance dead; at that many the scan fails with PARASCAN_INSTANCE_CRASHED instead of running again.
   * @defaultValue 1
   */
  maxCrashedAttempts?: number
  /**
   * Scans one tenant may run at once while scans of other tenants wait; past it a job is deferred behind theirs. 0 is no limit.
   * @defaultValue 1
   */
  maxRunningPerTenant?: number
  /**
   * Bytes of results a tenant may keep stored (0: no quota); past them the scan that would store more fails with PARASCAN_STORAGE_QUOTA_EXCEEDED.
   * @defaultValue no quota
   */
  storageQuota?: (tenant: string | undefined) => number
  /**
   * Scan jobs this instance runs at once for tenants that already run one here; a tenant that runs
   * nothing here may start one more (the queue takes one scan job more than this). Partition jobs are
   * taken this many at a time, in queue order.
   * @defaultValue 1
   */
  concurrency?: number
  /**
   * When a scan is split into partitions that every instance takes.
   * @defaultValue never (one job per scan)
   */
  partitionPolicy?: PartitionPolicy
  /**
   * Names this instance in the per-worker metrics of partitioned scans.
   * @defaultValue 'local'
   */
  instance?: string
  /**
   * Runs a partition whose attempt before ended with its instance dead (or its lock lost) in a process of its own.
   * @defaultValue none (on `pool`)
   */
  isolatedPool?: ScanPool
  /**
   * Where the errors it survives are reported.
   * @defaultValue SILENT_LOG (nothing is written)
   */
  log?: ServiceLog
}
