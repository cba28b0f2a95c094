import type { Redis } from 'ioredis'
import type { ServiceLog } from '../service-log.js'

export interface BullmqScanQueueOptions {
  /** Connection of the Queue; not closed by BullMQ, closed by close() unless `sharedConnection`. Required. */
  connection: Redis
  /**
   * `connection` belongs to someone else (e.g. the scan store) who closes it.
   * @defaultValue false
   */
  sharedConnection?: boolean
  /**
   * Connection of the Worker (needs `maxRetriesPerRequest: null`); closed by close().
   * @defaultValue a duplicate of `connection`
   */
  workerConnection?: Redis
  /**
   * BullMQ key prefix.
   * @defaultValue 'parascan'
   */
  prefix?: string
  /**
   * Queue name.
   * @defaultValue 'scans'
   */
  name?: string
  /**
   * Jobs run at the same time by this instance.
   * @defaultValue 1
   */
  concurrency?: number
  /**
   * Partition jobs run at the same time by this instance.
   * @defaultValue `concurrency`
   */
  partitionConcurrency?: number
  /**
   * Lock of a running job; a dead instance's job is taken over after about this long (ms).
   * @defaultValue 30000
   */
  lockDurationMs?: number
  /**
   * How long finished jobs are kept (ms).
   * @defaultValue 24 h
   */
  retentionMs?: number
  /**
   * Shortest time between two job progress writes of a running scan (ms).
   * @defaultValue 1000
   */
  progressIntervalMs?: number
  /**
   * Queue of the partition jobs.
   * @defaultValue 'scan-partitions'
   */
  partitionsName?: string
  /**
   * Lock of a running partition job (ms). Its holder renews it every eighth of it and the stalled
   * check runs every quarter of it, so a dead instance's partitions are queued again at most 1.25
   * times this after it died, and an event loop blocked for less than three quarters of it keeps them.
   * @defaultValue 4000
   */
  partitionLockMs?: number
  /**
   * Times a partition may be lost (its instance died) before the scan fails.
   * @defaultValue 3
   */
  partitionMaxStalled?: number
  /**
   * Name of this instance's workers: jobs record it as processedBy.
   * @defaultValue ''
   */
  instance?: string
  /**
   * Where the errors it survives are reported.
   * @defaultValue SILENT_LOG (nothing is written)
   */
  log?: ServiceLog
}
