export type SchedulerName = 'work_stealing' | 'thread_pool' | 'sequential'

export interface ParallelConfigOptions {
  /**
   * Worker threads. Env: PROTO_PARALLEL_MAX_WORKERS.
   * @defaultValue min(available cores, 8)
   */
  max_workers?: number
  /**
   * Env: PROTO_PARALLEL_SCHEDULER.
   * @defaultValue 'work_stealing'
   */
  scheduler?: SchedulerName
  /**
   * First chunk size of every worker. Env: PROTO_PARALLEL_INITIAL_CHUNK.
   * @defaultValue 1000
   */
  initial_chunk_size?: number
  /**
   * Env: PROTO_PARALLEL_MIN_CHUNK.
   * @defaultValue 128
   */
  min_chunk_size?: number
  /**
   * Env: PROTO_PARALLEL_MAX_CHUNK.
   * @defaultValue 8192
   */
  max_chunk_size?: number
  /**
   * Chunks faster than this grow. Env: PROTO_PARALLEL_TARGET_MS_LOW.
   * @defaultValue 0.5 (ms)
   */
  target_ms_low?: number
  /**
   * Chunks slower than this shrink. Env: PROTO_PARALLEL_TARGET_MS_HIGH.
   * @defaultValue 2.0 (ms)
   */
  target_ms_high?: number
  /**
   * EMA weight of the newest chunk, in (0, 1]. Env: PROTO_PARALLEL_EMA_ALPHA.
   * @defaultValue 0.2
   */
  chunk_ema_alpha?: number
  /**
   * Ranges a worker keeps split off in its deque for thieves. Env: PROTO_PARALLEL_MAX_INFLIGHT.
   * @defaultValue 2
   */
  max_inflight_chunks_per_worker?: number
}

export type ErrorPolicy = 'fail' | 'skip'

/**
 * The module that a scan runs inside every worker thread (and in the calling
 * thread for the sequential scheduler). It is imported once per thread.
 */
export interface TaskModule<R = unknown, P = unknown> {
  /** Returns exactly `count` records starting at `offset`; fewer is an error. */
  fetch(offset: number, count: number, params: P): R[] | Promise<R[]>
  /** Returns the result for one record; null or undefined drops it. */
  process(record: R, params: P, offset: number): unknown
  /**
   * Optional, for a module whose fetch already runs each record (its process only hands a
   * result over): hands over records[from, records.length) in one call instead of a process
   * call per record. Pushes onto `out`, in order, what process would return for each record,
   * leaving out null and undefined; returns records.length, or the index of the first record
   * whose process would throw or return a promise (the engine then calls process for that one
   * and collect again from the next). Not called when the module aggregates.
   */
  collect?(records: R[], params: P, from: number, out: unknown[]): number
  /** Called once per scan in each thread before the first fetch. */
  init?(params: P): void | Promise<void>
  /** Called once per scan in each thread after its last chunk, also on failure. */
  teardown?(params: P): void | Promise<void>
  /** When present, results are folded into partial states per batch instead of being returned. */
  aggregate?: Aggregator<unknown, P>
}

/** Partial aggregation: states must be JSON values, since they travel between threads as JSON. */
export interface Aggregator<S = unknown, P = unknown> {
  create(params: P): S
  add(state: S, value: unknown, params: P): S
  merge(a: S, b: S, params: P): S
  /** The final rows of the scan. */
  finish(state: S, params: P): unknown[]
}

export interface ScanTask<P = unknown> {
  /** File URL or absolute path of a module that implements TaskModule. */
  module: string | URL
  /** Sent once per scan to every thread; must be structured-cloneable. */
  params?: P
}

export type MetricsEvent = 'progress' | 'final_worker' | 'final_global' | 'worker_histograms'

export type MetricsCallback = (event: MetricsEvent, data: ProgressEvent | WorkerMetrics | GlobalMetrics | WorkerHistograms) => void

export interface ScanOptions {
  config?: ParallelConfigOptions
  metrics?: MetricsCallback
  signal?: AbortSignal
  /**
   * On a pool with concurrent_scans: the scan's share group (a tenant). The pool's threads are
   * split equally between the groups with scans, and a group's share between its scans. A
   * non-empty string.
   * @defaultValue a group of its own
   */
  share_group?: string
  /**
   * Results in source order.
   * @defaultValue false
   */
  ordered?: boolean
  /**
   * With `ordered`: threads start no record this far or farther past the
   * first record whose results have not been handed over yet (by `onBatch`
   * resolving, or into the results of `scan()`); a thread that would waits.
   * So at most this many records' results are held out of order.
   * @defaultValue 65536
   */
  ordered_window_records?: number
  /**
   * With `ordered`: when the JSON of results posted by the threads and not
   * yet handed over reaches this many bytes (UTF-16 code units of the JSON
   * text: bytes for ASCII), threads wait before their next chunk, except the
   * one at the first record not handed over. Results held stay within this
   * plus one chunk's results per thread.
   * @defaultValue 67108864 (64 MiB)
   */
  ordered_window_bytes?: number
  /**
   * Without `ordered`: when the JSON of results posted by the threads and
   * not yet handed over (by `onBatch` resolving, or into the results of
   * `scan()`) reaches this many bytes (UTF-16 code units of the JSON text),
   * threads post what they hold and wait before their next chunk, so a
   * consumer slower than the threads bounds the results waiting in memory:
   * at most this plus one batch per thread. Not with the `sequential`
   * scheduler, which runs in the calling thread.
   * @defaultValue 67108864 (64 MiB)
   */
  unordered_window_bytes?: number
  /**
   * What an exception in fetch or process does.
   * @defaultValue 'fail'
   */
  on_error?: ErrorPolicy
  /**
   * With on_error 'skip': how many errors are kept with their offsets.
   * @defaultValue 10
   */
  max_error_samples?: number
  /**
   * Period of 'progress' events.
   * @defaultValue 250 (ms)
   */
  progress_interval_ms?: number
  /**
   * After an abort or a failure, how long worker threads get to finish the
   * chunk they are in before they are terminated (and replaced for the next
   * scan).
   * @defaultValue 2000 (ms)
   */
  stop_grace_ms?: number
  /**
   * Longest time one record may spend in process(); a thread still inside
   * the record after it is ended and replaced, and the record fails with
   * PARASCAN_RECORD_TIME_LIMIT (skipped with on_error 'skip'). Not enforced
   * by the sequential scheduler, which runs on the calling thread.
   * @defaultValue 0 (no limit)
   */
  record_time_limit_ms?: number
  /**
   * Longest time the task module may take to import, in the calling thread
   * and in each worker thread (a top-level await that never settles fails
   * the scan with PARASCAN_TASK_MODULE instead of hanging it).
   * @defaultValue 30000 (ms)
   */
  module_load_timeout_ms?: number
}

/** The ordered reorder window: most records past the handed-over front, most JSON bytes held. */
export interface OrderedWindow {
  records: number
  bytes: number
}

/** A page of results as JSON text: `json` is a JSON array of `items` values. */
export interface ResultBatch {
  json: string
  items: number
}

export interface StreamOptions extends ScanOptions {
  /** Receives result pages as they come (in source order with `ordered`); awaited one at a time. */
  onBatch(batch: ResultBatch): void | Promise<void>
}

export interface ProgressEvent {
  /** Ranges waiting in each worker's deque at the time of the event, by worker_id. */
  queue_depths: number[]
  /** Live per-worker figures, by worker_id: cumulative over the scan, read from shared memory. */
  workers: WorkerProgress[]
  total: number
  processed: number
  matched: number
  skipped: number
  /** Records run a second time because the thread that started them died (they count once in `processed`). */
  rerun: number
  elapsed_ms: number
}

export interface WorkerMetrics {
  worker_id: number
  chunks_processed: number
  records_processed: number
  avg_ms: number
  p50_ms: number
  p95_ms: number
  p99_ms: number
  steals_attempted: number
  steals_successful: number
  max_local_queue_depth: number
  avg_local_queue_depth: number
  lock_contention_events: number
  time_waiting_on_lock_ms: number
}

/**
 * A histogram as its threads keep it in shared memory: exact count and sum,
 * and counts in logarithmic buckets (8 per power of two) as [upper bound, count]
 * pairs, ascending, non-empty buckets only. A bucket holds the values v with
 * previous bound < v <= upper bound, so every power of two is a bound.
 */
export interface LiveHistogram {
  count: number
  sum: number
  buckets: Array<[number, number]>
}

/** One worker slot's figures so far in a running scan; every field only grows during a scan. */
export interface WorkerProgress {
  worker_id: number
  chunks_processed: number
  /** Records the slot's threads processed (a record re-run after a crash counts again). */
  records_processed: number
  steals_attempted: number
  steals_successful: number
  lock_contention_events: number
  time_waiting_on_lock_ms: number
  /** Chunk service time (fetch + process), ms; the sum is exact to the nanosecond. */
  chunk_ms: LiveHistogram
  /** Records per chunk; the sum is exact (it equals records_processed). */
  chunk_size: LiveHistogram
}

export interface GlobalMetrics {
  global_feeder_depth_max: number
}

/** Chunk service times (ms) and chunk sizes (records) of one worker, as [value, count] pairs. */
export interface WorkerHistograms {
  worker_id: number
  chunk_ms: Array<[number, number]>
  chunk_size: Array<[number, number]>
}

export interface RecordErrorSample {
  offset: number
  message: string
  /** The error's own `code` when it has one (e.g. PARASCAN_VALUE_TOO_LARGE), else PARASCAN_RECORD_FAILED. */
  code: string
}

export interface ScanSummary {
  total: number
  processed: number
  matched: number
  skipped: number
  /** Records run a second time because the thread that started them died. */
  rerun: number
  errors: RecordErrorSample[]
  duration_ms: number
  /** Final rows when the task module aggregates. */
  aggregate?: unknown[]
  workers: WorkerMetrics[]
  global: GlobalMetrics
}
