import { abortError, InvalidScanOptionError, PoolClosedError, TaskModuleError, withCause } from './errors.js'
import { ParallelConfig } from './parallel-config.js'
import { PoolThreads } from './pool-threads.js'
import { ScanSession, type SessionResult, type ThreadHost } from './scan-session.js'
import { prepareScan, type PreparedScan } from './scan-options.js'
import { SharedScanState } from './shared-scan-state.js'
import { loadTaskModule } from './task-module-loader.js'
import { runThreadScan } from './thread-scan.js'
import type { ParallelConfigOptions, ScanOptions, ScanSummary, ScanTask, StreamOptions, TaskModule } from './types.js'
import type { ScanSpec } from './worker-protocol.js'

export interface WorkStealingPoolOptions {
  /** Pool settings; per-scan `config` overrides them (never above max_workers). Default: new ParallelConfig() (defaults and PROTO_PARALLEL_* env). */
  config?: ParallelConfig | ParallelConfigOptions
  /**
   * Heap limit of each worker thread in MB (resourceLimits.maxOldGenerationSizeMb).
   * A thread that reaches it fails its scan with PARASCAN_WORKER_OUT_OF_MEMORY
   * and is replaced; the process and the pool go on.
   * @defaultValue 512
   */
  max_old_generation_mb?: number
}

/** Default of WorkStealingPoolOptions.max_old_generation_mb. */
export const DEFAULT_MAX_OLD_GENERATION_MB = 512
const DEFAULT_STOP_GRACE_MS = 2000
const DEFAULT_MODULE_LOAD_TIMEOUT_MS = 30_000
const ORDERED_WINDOW_RECORDS = 65_536
const ORDERED_WINDOW_BYTES = 64 * 1024 * 1024

/**
 * Worker threads that run scans by work stealing (or the thread_pool and
 * sequential schedulers). Threads start on first use and stay for later
 * scans; scans on one pool run one after the other (a scan waiting for its
 * turn still answers its signal and close()); close() ends them.
 */
export class WorkStealingPool {
  readonly config: ParallelConfig
  readonly #threads: PoolThreads
  readonly #maxOldGenerationMb: number
  readonly #buffer: SharedArrayBuffer
  readonly #closing = new AbortController()
  #tail: Promise<unknown> = Promise.resolve()
  /** The running scan. */
  #session: ScanSession | undefined
  /** The running scan when it runs on the pool's threads (not the sequential scheduler's calling thread). */
  #threadSession: ScanSession | undefined
  #scanIds = 0

  constructor (options: WorkStealingPoolOptions = {}) {
    this.config = options.config instanceof ParallelConfig ? options.config : new ParallelConfig(options.config)
    const mb = options.max_old_generation_mb ?? DEFAULT_MAX_OLD_GENERATION_MB
    if (typeof mb !== 'number' || !Number.isInteger(mb) || mb < 16) {
      throw new InvalidScanOptionError(`max_old_generation_mb must be an integer >= 16, got ${String(mb)}`)
    }
    this.#maxOldGenerationMb = mb
    this.#buffer = new SharedArrayBuffer(SharedScanState.bytesFor(this.config.max_workers))
    this.#threads = new PoolThreads({
      maxOldGenerationMb: mb,
      onMessage: (slot, message) => this.#threadSession?.onMessage(slot, message),
      // Exits of threads the running scan does not use are not its business.
      onExit: (slot, exit) => this.#threadSession?.onExit(slot, exit)
    })
  }

  /** Runs a scan and resolves to its results (the aggregate rows when the module aggregates). */
  async scan (total: number, task: ScanTask, options: ScanOptions = {}): Promise<unknown[]> {
    const { results } = await this.#enqueue(prepareScan(this.config, total, task, options))
    return results
  }

  /** Runs a scan, handing result pages to `onBatch` as they come; resolves to the summary. */
  async stream (total: number, task: ScanTask, options: StreamOptions): Promise<ScanSummary> {
    if (typeof options?.onBatch !== 'function') throw new InvalidScanOptionError('onBatch must be a function')
    const prepared = prepareScan(this.config, total, task, options)
    prepared.onBatch = options.onBatch
    const { summary } = await this.#enqueue(prepared)
    return summary
  }

  /**
   * Fails the running and queued scans with PARASCAN_POOL_CLOSED and ends
   * every thread; resolves within the running scan's stop_grace_ms and a
   * little more, whatever its task or its onBatch does.
   */
  async close (): Promise<void> {
    if (this.#closing.signal.aborted) return
    this.#closing.abort()
    this.#session?.fail(new PoolClosedError())
    await this.#tail.catch(() => {})
    await this.#threads.terminateAll()
  }

  #enqueue (prepared: PreparedScan): Promise<SessionResult> {
    const previous = this.#tail
    const run = this.#runAfter(previous, prepared)
    this.#tail = previous.then(async () => await run).catch(() => {})
    return run
  }

  async #runAfter (previous: Promise<unknown>, prepared: PreparedScan): Promise<SessionResult> {
    await this.#untilStopped(previous, prepared.options.signal)
    return await this.#run(prepared)
  }

  /** `promise`, or a rejection as soon as the scan's signal aborts or the pool closes. */
  #untilStopped<T> (promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
    const closing = this.#closing.signal
    if (closing.aborted) return Promise.reject(new PoolClosedError())
    if (signal?.aborted === true) return Promise.reject(abortError(signal.reason))
    return new Promise<T>((resolve, reject) => {
      const onStop = (): void => {
        done()
        reject(closing.aborted ? new PoolClosedError() : abortError(signal?.reason))
      }
      const done = (): void => {
        closing.removeEventListener('abort', onStop)
        signal?.removeEventListener('abort', onStop)
      }
      closing.addEventListener('abort', onStop, { once: true })
      signal?.addEventListener('abort', onStop, { once: true })
      promise.then((value) => { done(); resolve(value) }, (error: unknown) => { done(); reject(error) })
    })
  }

  async #load (prepared: PreparedScan): Promise<TaskModule> {
    const ms = prepared.options.module_load_timeout_ms ?? DEFAULT_MODULE_LOAD_TIMEOUT_MS
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<never>((resolve, reject) => {
      timer = setTimeout(() => reject(new TaskModuleError(prepared.moduleUrl, `did not finish loading within module_load_timeout_ms = ${ms} (a top-level await that never settles?)`)), ms)
    })
    try {
      return await this.#untilStopped(Promise.race([loadTaskModule(prepared.moduleUrl), timeout]), prepared.options.signal)
    } finally {
      clearTimeout(timer)
    }
  }

  async #run (prepared: PreparedScan): Promise<SessionResult> {
    const { options, config } = prepared
    const task = await this.#load(prepared)
    const sequential = config.scheduler === 'sequential'
    const local: { session?: ScanSession } = {}
    const host: ThreadHost = sequential ? this.#localHost(local) : this.#threadHost()
    const session = local.session = new ScanSession({
      scanId: ++this.#scanIds,
      total: prepared.total,
      moduleUrl: prepared.moduleUrl,
      params: prepared.params,
      task,
      config,
      state: new SharedScanState(this.#buffer, sequential ? 1 : config.max_workers),
      host,
      ordered: options.ordered ?? false,
      window: { records: options.ordered_window_records ?? ORDERED_WINDOW_RECORDS, bytes: options.ordered_window_bytes ?? ORDERED_WINDOW_BYTES },
      onError: options.on_error ?? 'fail',
      maxErrorSamples: options.max_error_samples ?? 10,
      progressIntervalMs: options.progress_interval_ms ?? 250,
      stopGraceMs: options.stop_grace_ms ?? DEFAULT_STOP_GRACE_MS,
      recordTimeLimitMs: options.record_time_limit_ms ?? 0,
      moduleLoadTimeoutMs: options.module_load_timeout_ms ?? DEFAULT_MODULE_LOAD_TIMEOUT_MS,
      maxOldGenerationMb: this.#maxOldGenerationMb,
      metrics: options.metrics,
      signal: options.signal,
      onBatch: prepared.onBatch
    })
    if (!sequential) for (let slot = 0; slot < session.workers; slot++) this.#threads.get(slot).ref()
    this.#session = session
    if (!sequential) this.#threadSession = session
    try {
      return await session.run()
    } finally {
      this.#session = undefined
      this.#threadSession = undefined
      this.#threads.unrefAll()
    }
  }

  #localHost (local: { session?: ScanSession }): ThreadHost {
    return {
      start: (slot: number, spec: ScanSpec) => {
        void runThreadScan(spec, (message) => local.session?.onMessage(slot, message), yieldToEventLoop)
      },
      respawn: () => {},
      stop: () => {}
    }
  }

  #threadHost (): ThreadHost {
    return {
      start: (slot: number, spec: ScanSpec) => {
        const worker = this.#threads.get(slot)
        worker.ref()
        try {
          worker.postMessage({ type: 'scan', spec })
        } catch (error) {
          throw withCause(new InvalidScanOptionError(`params cannot be sent to a worker thread: ${error instanceof Error ? error.message : String(error)}`), error)
        }
      },
      respawn: (slot: number) => {
        this.#threads.get(slot)
      },
      stop: (slot: number) => this.#threads.stop(slot)
    }
  }
}

function yieldToEventLoop (): Promise<void> {
  return new Promise(resolve => setImmediate(resolve))
}
