import { abortError, InvalidScanOptionError, PoolClosedError, TaskModuleError, withCause } from './errors.js'
import { ParallelConfig } from './parallel-config.js'
import { batchToWire, toWire } from './params-wire.js'
import { PoolThreads } from './pool-threads.js'
import { ScanSession, type SessionResult, type ThreadHost } from './scan-session.js'
import { prepareScan, type PreparedScan } from './scan-options.js'
import { SharedScanState } from './shared-scan-state.js'
import { ThreadLeases, type ElasticScan, type ThreadLease } from './thread-leases.js'
import { loadTaskModule } from './task-module-loader.js'
import { runThreadScan } from './thread-scan.js'
import type { ParallelConfigOptions, ScanOptions, ScanSummary, ScanTask, StreamOptions, TaskModule } from './types.js'
import type { ScanSpec } from './worker-protocol.js'

export interface WorkStealingPoolOptions {
  /**
   * Pool settings; per-scan `config` overrides them (never above max_workers).
   * @defaultValue new ParallelConfig() (defaults and PROTO_PARALLEL_* env)
   */
  config?: ParallelConfig | ParallelConfigOptions
  /**
   * Heap limit of each worker thread in MB (resourceLimits.maxOldGenerationSizeMb).
   * A thread that reaches it fails its scan with PARASCAN_WORKER_OUT_OF_MEMORY
   * and is replaced; the process and the pool go on.
   * @defaultValue 512
   */
  max_old_generation_mb?: number
  /**
   * Let scans run at once on disjoint sets of threads, shared equally between
   * the scans' share groups (ScanOptions.share_group) and inside a group
   * between its scans; threads move at chunk boundaries, so a long scan does
   * not hold a pool shared by several tenants for itself. Off: scans run one
   * after the other.
   * @defaultValue false
   */
  concurrent_scans?: boolean
}

/** Default of WorkStealingPoolOptions.max_old_generation_mb. */
export const DEFAULT_MAX_OLD_GENERATION_MB = 512
/** Default of ScanOptions.stop_grace_ms. */
export const DEFAULT_STOP_GRACE_MS = 2000
/** Period of 'progress' events (ms). */
export const DEFAULT_PROGRESS_INTERVAL_MS = 250
/** Default of ScanOptions.module_load_timeout_ms. */
export const DEFAULT_MODULE_LOAD_TIMEOUT_MS = 30_000
const ORDERED_WINDOW_RECORDS = 65_536
const ORDERED_WINDOW_BYTES = 64 * 1024 * 1024
const UNORDERED_WINDOW_BYTES = 64 * 1024 * 1024

/** How the threads a scan starts at once get their spec: while set, they share one decision on how params travel. */
interface WireBatch { toWire?: (spec: ScanSpec) => ScanSpec }

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
  readonly #leases: ThreadLeases
  readonly #concurrent: boolean
  readonly #closing = new AbortController()
  /** The scans running now, with their outcome (which never rejects). */
  readonly #running = new Map<ScanSession, Promise<unknown>>()
  /** Which scan, and which of its slots, each pool thread serves now. */
  readonly #owners: Array<{ session: ScanSession, slot: number } | undefined> = []
  #scanIds = 0

  constructor (options: WorkStealingPoolOptions = {}) {
    this.config = options.config instanceof ParallelConfig ? options.config : new ParallelConfig(options.config)
    const mb = options.max_old_generation_mb ?? DEFAULT_MAX_OLD_GENERATION_MB
    if (typeof mb !== 'number' || !Number.isInteger(mb) || mb < 16) {
      throw new InvalidScanOptionError(`max_old_generation_mb must be an integer >= 16, got ${String(mb)}`)
    }
    this.#maxOldGenerationMb = mb
    if (options.concurrent_scans !== undefined && typeof options.concurrent_scans !== 'boolean') {
      throw new InvalidScanOptionError(`concurrent_scans must be a boolean, got ${String(options.concurrent_scans)}`)
    }
    this.#concurrent = options.concurrent_scans ?? false
    this.#leases = new ThreadLeases(this.config.max_workers, this.#concurrent)
    this.#threads = new PoolThreads({
      maxOldGenerationMb: mb,
      onMessage: (thread, message) => {
        const owner = this.#owners[thread]
        owner?.session.onMessage(owner.slot, message)
      },
      // Exits of threads a scan does not use are not its business.
      onExit: (thread, exit) => {
        const owner = this.#owners[thread]
        owner?.session.onExit(owner.slot, exit)
      }
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
   * every thread; resolves within the running scans' stop_grace_ms and a
   * little more, whatever their tasks or their onBatch do.
   */
  async close (): Promise<void> {
    if (this.#closing.signal.aborted) return
    this.#closing.abort()
    for (const session of this.#running.keys()) session.fail(new PoolClosedError())
    await Promise.all(this.#running.values())
    await this.#threads.terminateAll()
  }

  async #enqueue (prepared: PreparedScan): Promise<SessionResult> {
    const sequential = prepared.config.scheduler === 'sequential'
    const elastic: Partial<ElasticScan> | undefined = this.#concurrent && !sequential ? {} : undefined
    const lease = await this.#leases.acquire(sequential ? 0 : prepared.config.max_workers, prepared.options.signal, this.#closing.signal,
      elastic === undefined ? undefined : { grow: (thread) => elastic.grow?.(thread) ?? false, shrink: (count) => elastic.shrink?.(count) ?? 0 },
      prepared.options.share_group)
    try {
      return await this.#run(prepared, lease, elastic)
    } finally {
      lease.release()
    }
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

  /**
   * `elastic`: the scan has a slot for each of its max_workers and starts with the lease's threads in
   * the first ones; the pool fills in grow and shrink, which move threads in and out of its slots.
   */
  async #run (prepared: PreparedScan, lease: ThreadLease, elastic: Partial<ElasticScan> | undefined): Promise<SessionResult> {
    const { options } = prepared
    const task = await this.#load(prepared)
    if (this.#closing.signal.aborted) throw new PoolClosedError()
    const threads: Array<number | undefined> = [...lease.threads]
    const sequential = prepared.config.scheduler === 'sequential'
    const fewer = !sequential && elastic === undefined && threads.length < prepared.config.max_workers
    const config = fewer ? prepared.config.with({ max_workers: threads.length }) : prepared.config
    const workers = sequential ? 1 : config.max_workers
    const local: { session?: ScanSession } = {}
    const starting: WireBatch = { toWire: batchToWire() }
    const host: ThreadHost = sequential ? this.#localHost(local) : this.#threadHost(threads, lease, starting)
    const session = local.session = new ScanSession({
      scanId: ++this.#scanIds,
      total: prepared.total,
      moduleUrl: prepared.moduleUrl,
      params: prepared.params,
      task,
      config,
      state: new SharedScanState(new SharedArrayBuffer(SharedScanState.bytesFor(workers)), workers),
      host,
      threads: sequential ? 1 : lease.threads.length,
      ordered: options.ordered ?? false,
      window: {
        records: options.ordered_window_records ?? ORDERED_WINDOW_RECORDS,
        bytes: (options.ordered ?? false) ? options.ordered_window_bytes ?? ORDERED_WINDOW_BYTES : options.unordered_window_bytes ?? UNORDERED_WINDOW_BYTES
      },
      onError: options.on_error ?? 'fail',
      maxErrorSamples: options.max_error_samples ?? 10,
      progressIntervalMs: options.progress_interval_ms ?? DEFAULT_PROGRESS_INTERVAL_MS,
      stopGraceMs: options.stop_grace_ms ?? DEFAULT_STOP_GRACE_MS,
      recordTimeLimitMs: options.record_time_limit_ms ?? 0,
      moduleLoadTimeoutMs: options.module_load_timeout_ms ?? DEFAULT_MODULE_LOAD_TIMEOUT_MS,
      maxOldGenerationMb: this.#maxOldGenerationMb,
      metrics: options.metrics,
      signal: options.signal,
      onBatch: prepared.onBatch
    })
    const own = (thread: number, slot: number): void => {
      threads[slot] = thread
      this.#owners[thread] = { session, slot }
      this.#threads.get(thread).ref()
    }
    lease.threads.forEach(own)
    const outcome = session.run()
    // Threads started later (respawned, or given to an elastic scan) see params as they are then.
    starting.toWire = undefined
    // The caller gets the outcome's error below; close() only waits for the session to end.
    this.#running.set(session, outcome.catch(() => {}))
    if (elastic !== undefined) {
      elastic.shrink = (count) => session.yieldThreads(count)
      elastic.grow = (thread) => {
        const slot = session.idleSlot()
        if (slot === undefined) return false
        own(thread, slot)
        session.resume(slot)
        return true
      }
      lease.ready()
    }
    try {
      return await outcome
    } finally {
      if (elastic !== undefined) elastic.grow = elastic.shrink = undefined
      this.#running.delete(session)
      for (const thread of threads) {
        if (thread === undefined) continue
        this.#owners[thread] = undefined
        this.#threads.unref(thread)
      }
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

  #threadHost (threads: Array<number | undefined>, lease: ThreadLease, starting: WireBatch): ThreadHost {
    return {
      start: (slot: number, spec: ScanSpec) => {
        const worker = this.#threads.get(threads[slot]!)
        worker.ref()
        try {
          worker.postMessage({ type: 'scan', spec: (starting.toWire ?? toWire)(spec) })
        } catch (error) {
          throw withCause(new InvalidScanOptionError(`params cannot be sent to a worker thread: ${error instanceof Error ? error.message : String(error)}`), error)
        }
      },
      respawn: (slot: number) => {
        this.#threads.get(threads[slot]!)
      },
      stop: (slot: number) => {
        const thread = threads[slot]
        if (thread !== undefined) this.#threads.stop(thread)
      },
      release: (slot: number) => {
        const thread = threads[slot]
        if (thread === undefined) return
        threads[slot] = undefined
        this.#owners[thread] = undefined
        this.#threads.unref(thread)
        lease.giveBack(thread)
      }
    }
  }
}

function yieldToEventLoop (): Promise<void> {
  return new Promise(resolve => setImmediate(resolve))
}
