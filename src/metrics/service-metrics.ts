import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'
import type { ProgressEvent } from '../parallel/types.js'
import type { QueueJobState } from '../queue/scan-queue.js'
import { BucketedHistogram } from './bucketed-histogram.js'
import { ScanMetricsFeed } from './scan-metrics-feed.js'
import { SERVICE_DEFAULTS } from '../config/service-config.js'

export type ScanOutcomeLabel = 'succeeded' | 'failed' | 'cancelled'

export interface ServiceMetricsOptions {
  /**
   * Longest run of a scan (ms): the last bucket of the scan duration.
   * @defaultValue 3600000 (PARASCAN_SCAN_TIMEOUT's default)
   */
  scanTimeoutMs?: number
}

const DURATION_BUCKETS = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400, 43200, 86400]

/** Buckets of a duration up to `limitSeconds`, which is the last one. */
export function durationBuckets (limitSeconds: number): number[] {
  return [...DURATION_BUCKETS.filter((bucket) => bucket < limitSeconds), limitSeconds]
}

/** The Prometheus metrics of one service instance, in a Registry of its own. */
export class ServiceMetrics {
  readonly registry = new Registry()
  readonly chunkDuration = new BucketedHistogram({
    name: 'parascan_chunk_duration_seconds',
    help: 'Service time of a chunk (fetch + process) in a worker thread; updated while scans run.',
    buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.004, 0.008, 0.016, 0.05, 0.1, 0.5, 1],
    registers: [this.registry]
  })

  readonly chunkSize = new BucketedHistogram({
    name: 'parascan_chunk_size_records',
    help: 'Records per chunk; updated while scans run, the sum is exact.',
    buckets: [1, 16, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384],
    registers: [this.registry]
  })

  readonly recordsProcessed = new Counter({ name: 'parascan_records_processed_total', help: 'Records processed by each worker thread.', labelNames: ['worker_id'], registers: [this.registry] })
  readonly stealsAttempted = new Counter({ name: 'parascan_steals_attempted_total', help: 'Steal attempts of each worker thread.', labelNames: ['worker_id'], registers: [this.registry] })
  readonly stealsSuccessful = new Counter({ name: 'parascan_steals_successful_total', help: 'Successful steals of each worker thread.', labelNames: ['worker_id'], registers: [this.registry] })
  readonly lockContention = new Counter({ name: 'parascan_lock_contention_events_total', help: 'Lost compare-and-swap races on a deque.', labelNames: ['worker_id'], registers: [this.registry] })
  readonly localQueueDepth = new Gauge({ name: 'parascan_local_queue_depth', help: 'Ranges waiting in each worker\'s deque (last progress event).', labelNames: ['worker_id'], registers: [this.registry] })
  readonly scans = new Counter({ name: 'parascan_scans_total', help: 'Scans finished by this instance, by outcome.', labelNames: ['outcome'], registers: [this.registry] })
  readonly scanDuration: Histogram<'outcome'>

  readonly scanQueueWait = new Histogram({
    name: 'parascan_scan_queue_wait_seconds',
    help: 'Time a scan waited in the queue before it started.',
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300],
    registers: [this.registry]
  })

  readonly activeScans = new Gauge({ name: 'parascan_active_scans', help: 'Scans running on this instance.', registers: [this.registry] })
  readonly queueJobs = new Gauge({ name: 'parascan_queue_jobs', help: 'Jobs in the scan queue, by state.', labelNames: ['state'], registers: [this.registry] })
  readonly httpRequestDuration = new Histogram({
    name: 'parascan_http_request_duration_seconds',
    help: 'HTTP request duration by method, route pattern and status code.',
    labelNames: ['method', 'route', 'status_code'],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry]
  })

  constructor (options: ServiceMetricsOptions = {}) {
    this.scanDuration = new Histogram({
      name: 'parascan_scan_duration_seconds',
      help: 'Time from start to end of a scan on this instance, by outcome; the last bucket is the scan timeout.',
      labelNames: ['outcome'],
      buckets: durationBuckets((options.scanTimeoutMs ?? SERVICE_DEFAULTS.scanTimeoutMs) / 1000),
      registers: [this.registry]
    })
    collectDefaultMetrics({ register: this.registry })
  }

  /** Queue depths of a progress event. */
  progress (event: ProgressEvent): void {
    event.queue_depths.forEach((depth, workerId) => this.localQueueDepth.set({ worker_id: String(workerId) }, depth))
  }

  /** The feed of one scan's per-worker metrics: give it every progress event of that scan. */
  scanFeed (): ScanMetricsFeed {
    return new ScanMetricsFeed(this)
  }

  queueCounts (counts: Record<QueueJobState, number>): void {
    for (const [state, count] of Object.entries(counts)) this.queueJobs.set({ state }, count)
  }
}

