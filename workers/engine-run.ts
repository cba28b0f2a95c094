import type { ScanRequest } from '../schemas/scan-request.js'
import { ScanTimeoutError } from '../src/errors.js'
import type { ScanMetricsFeed } from '../src/metrics/scan-metrics-feed.js'
import type { ParallelConfig } from '../src/parallel/parallel-config.js'
import type { GlobalMetrics, ProgressEvent, ScanOptions, WorkerMetrics } from '../src/parallel/types.js'
import { DEFAULT_PROGRESS_INTERVAL_MS } from '../src/parallel/work-stealing-pool.js'
import type { ScanPlan } from '../src/pipeline/plan-scan.js'
import type { AttemptState } from './attempt-state.js'

/** The settings of an instance that every attempt it runs passes to the engine. */
export interface EngineSettings {
  config: ParallelConfig
  recordTimeLimitMs: number
  /** Period of progress writes to the store (ms): the engine reports at least this often. */
  progressIntervalMs: number
}

/** The engine's side of one scan or partition attempt: the options it runs with and the metrics it reports at the end. */
export class EngineRun {
  readonly workers: WorkerMetrics[] = []
  global: GlobalMetrics = { global_feeder_depth_max: 0 }
  readonly #state: AttemptState
  readonly #feed: ScanMetricsFeed

  constructor (state: AttemptState, feed: ScanMetricsFeed) {
    this.#state = state
    this.#feed = feed
  }

  /**
   * The options of `request` as planned; progress goes to the attempt's state and to the live metrics.
   * The scan's tenant is its share group of the pool's threads.
   */
  options (settings: EngineSettings, request: ScanRequest, plan: Pick<ScanPlan, 'ordered' | 'on_error'>, signal: AbortSignal, tenant: string | undefined): ScanOptions {
    return {
      config: settings.config.with(request.parallel ?? {}),
      ...(tenant === undefined ? {} : { share_group: tenant }),
      signal,
      ordered: plan.ordered,
      on_error: plan.on_error,
      record_time_limit_ms: settings.recordTimeLimitMs,
      progress_interval_ms: Math.min(DEFAULT_PROGRESS_INTERVAL_MS, settings.progressIntervalMs),
      metrics: (event, data) => {
        if (event === 'progress') {
          this.#state.progress(data as ProgressEvent)
          this.#feed.progress(data as ProgressEvent)
        } else if (event === 'final_worker') {
          this.workers.push(data as WorkerMetrics)
        } else if (event === 'final_global') {
          this.global = data as GlobalMetrics
        }
      }
    }
  }
}

/**
 * Aborts `controller` with a ScanTimeoutError once the scan has run for the shorter of `scanTimeoutMs`
 * and its own `timeout_seconds`, counted from `startedAtMs`.
 */
export function attemptDeadline (controller: AbortController, scanTimeoutMs: number, request: ScanRequest, startedAtMs: number): NodeJS.Timeout {
  const timeoutMs = Math.min(scanTimeoutMs, request.timeout_seconds === undefined ? Infinity : request.timeout_seconds * 1000)
  return setTimeout(() => controller.abort(new ScanTimeoutError(`${timeoutMs / 1000} s`)),
    Math.max(0, Math.min(timeoutMs - (Date.now() - startedAtMs), 2 ** 31 - 1)))
}
