import { Worker } from 'node:worker_threads'
import { abortError, ConfigError, InvalidScanOptionError, InvalidTotalError, PoolClosedError, withCause } from './errors.js'
import { ParallelConfig } from './parallel-config.js'
import { ScanSession, type SessionResult, type ThreadHost } from './scan-session.js'
import { SharedScanState } from './shared-scan-state.js'
import { loadTaskModule, taskModuleUrl } from './task-module-loader.js'
import { runThreadScan } from './thread-scan.js'
import type { ParallelConfigOptions, ScanOptions, ScanSummary, ScanTask, StreamOptions } from './types.js'
import type { ScanSpec, WorkerMessage } from './worker-protocol.js'

export interface WorkStealingPoolOptions {
  /** Pool settings; per-scan `config` overrides them (never above max_workers). Default: new ParallelConfig() (defaults and PROTO_PARALLEL_* env). */
  config?: ParallelConfig | ParallelConfigOptions
}

interface PoolThread {
  worker: Worker
  exited: boolean
  error?: Error
}

interface PreparedScan {
  total: number
  moduleUrl: string
  params: unknown
  config: ParallelConfig
  options: ScanOptions
  onBatch?: StreamOptions['onBatch']
}

const MAX_TOTAL = 2 ** 31 - 1
const ORDERED_WINDOW_RECORDS = 65_536
const ORDERED_WINDOW_BYTES = 64 * 1024 * 1024

/**
 * Worker threads that run scans by work stealing (or the thread_pool and
 * sequential schedulers). Threads start on first use and stay for later
 * scans; scans on one pool run one after the other; close() ends them.
 */
export class WorkStealingPool {
  readonly config: ParallelConfig
  readonly #threads: Array<PoolThread | undefined> = []
  readonly #buffer: SharedArrayBuffer
  #tail: Promise<unknown> = Promise.resolve()
  #session: ScanSession | undefined
  #closed = false
  #scanIds = 0

  constructor (options: WorkStealingPoolOptions = {}) {
    this.config = options.config instanceof ParallelConfig ? options.config : new ParallelConfig(options.config)
    this.#buffer = new SharedArrayBuffer(SharedScanState.bytesFor(this.config.max_workers))
  }

  /** Runs a scan and resolves to its results (the aggregate rows when the module aggregates). */
  async scan (total: number, task: ScanTask, options: ScanOptions = {}): Promise<unknown[]> {
    const { results } = await this.#enqueue(this.#prepare(total, task, options))
    return results
  }

  /** Runs a scan, handing result pages to `onBatch` as they come; resolves to the summary. */
  async stream (total: number, task: ScanTask, options: StreamOptions): Promise<ScanSummary> {
    if (typeof options?.onBatch !== 'function') throw new InvalidScanOptionError('onBatch must be a function')
    const prepared = this.#prepare(total, task, options)
    prepared.onBatch = options.onBatch
    const { summary } = await this.#enqueue(prepared)
    return summary
  }

  /** Fails the running and queued scans with PARASCAN_POOL_CLOSED and ends every thread. */
  async close (): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    this.#session?.fail(new PoolClosedError())
    await this.#tail.catch(() => {})
    await Promise.all(this.#threads.map(async (thread) => await thread?.worker.terminate()))
    this.#threads.length = 0
  }

  #prepare (total: number, task: ScanTask, options: ScanOptions): PreparedScan {
    if (typeof total !== 'number' || !Number.isInteger(total) || total < 0 || total > MAX_TOTAL) {
      throw new InvalidTotalError(typeof total === 'number' ? String(total) : typeof total)
    }
    if (task === null || typeof task !== 'object') throw new InvalidScanOptionError('task must be { module, params }')
    if (options === null || typeof options !== 'object') throw new InvalidScanOptionError('options must be an object')
    const config = this.config.with(options.config)
    if (config.max_workers > this.config.max_workers) {
      throw new ConfigError(`max_workers = ${config.max_workers} is more than the pool's max_workers = ${this.config.max_workers}`)
    }
    if (options.ordered !== undefined && typeof options.ordered !== 'boolean') throw new InvalidScanOptionError(`ordered must be a boolean, got ${String(options.ordered)}`)
    if (options.on_error !== undefined && options.on_error !== 'fail' && options.on_error !== 'skip') {
      throw new InvalidScanOptionError(`on_error must be 'fail' or 'skip', got ${String(options.on_error)}`)
    }
    const samples = options.max_error_samples
    if (samples !== undefined && (!Number.isInteger(samples) || samples < 0)) {
      throw new InvalidScanOptionError(`max_error_samples must be a non-negative integer, got ${String(samples)}`)
    }
    for (const key of ['progress_interval_ms', 'stop_grace_ms'] as const) {
      const ms = options[key]
      if (ms !== undefined && (typeof ms !== 'number' || !(ms >= 1) || !Number.isFinite(ms))) {
        throw new InvalidScanOptionError(`${key} must be a number >= 1, got ${String(ms)}`)
      }
    }
    for (const key of ['ordered_window_records', 'ordered_window_bytes'] as const) {
      const value = options[key]
      if (value !== undefined && (!Number.isSafeInteger(value) || value < 1 || (key === 'ordered_window_records' && value > MAX_TOTAL))) {
        throw new InvalidScanOptionError(`${key} must be an integer in [1, ${key === 'ordered_window_records' ? MAX_TOTAL : Number.MAX_SAFE_INTEGER}], got ${String(value)}`)
      }
    }
    if (options.metrics !== undefined && typeof options.metrics !== 'function') throw new InvalidScanOptionError('metrics must be a function')
    if (options.signal !== undefined && !(options.signal instanceof AbortSignal)) throw new InvalidScanOptionError('signal must be an AbortSignal')
    return { total, moduleUrl: taskModuleUrl(task.module), params: task.params, config, options }
  }

  #enqueue (prepared: PreparedScan): Promise<SessionResult> {
    const run = this.#tail.then(async () => await this.#run(prepared))
    this.#tail = run.catch(() => {})
    return run
  }

  async #run (prepared: PreparedScan): Promise<SessionResult> {
    if (this.#closed) throw new PoolClosedError()
    const { options, config } = prepared
    if (isAborted(options.signal)) throw abortError(options.signal?.reason)
    const task = await loadTaskModule(prepared.moduleUrl)
    if (this.#closed) throw new PoolClosedError()
    if (isAborted(options.signal)) throw abortError(options.signal?.reason)
    const sequential = config.scheduler === 'sequential'
    const host: ThreadHost = sequential ? this.#localHost() : this.#threadHost()
    const session = new ScanSession({
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
      stopGraceMs: options.stop_grace_ms ?? 2000,
      metrics: options.metrics,
      signal: options.signal,
      onBatch: prepared.onBatch
    })
    const used = sequential ? 0 : session.workers
    for (let slot = 0; slot < used; slot++) this.#thread(slot).worker.ref()
    this.#session = session
    try {
      return await session.run()
    } finally {
      this.#session = undefined
      for (const thread of this.#threads) thread?.worker.unref()
    }
  }

  #localHost (): ThreadHost {
    return {
      start: (slot: number, spec: ScanSpec) => {
        void runThreadScan(spec, (message) => this.#session?.onMessage(slot, message), yieldToEventLoop)
      },
      respawn: () => {},
      stop: () => {}
    }
  }

  #threadHost (): ThreadHost {
    return {
      start: (slot: number, spec: ScanSpec) => {
        const thread = this.#thread(slot)
        thread.worker.ref()
        try {
          thread.worker.postMessage({ type: 'scan', spec })
        } catch (error) {
          throw withCause(new InvalidScanOptionError(`params cannot be sent to a worker thread: ${error instanceof Error ? error.message : String(error)}`), error)
        }
      },
      respawn: (slot: number) => {
        this.#thread(slot)
      },
      stop: (slot: number) => {
        void this.#threads[slot]?.worker.terminate()
      }
    }
  }

  #thread (slot: number): PoolThread {
    const existing = this.#threads[slot]
    if (existing !== undefined && !existing.exited) return existing
    const thread: PoolThread = { worker: createWorker(), exited: false }
    this.#threads[slot] = thread
    thread.worker.unref()
    thread.worker.on('message', (message: WorkerMessage) => {
      if (!thread.exited) this.#session?.onMessage(slot, message)
    })
    thread.worker.on('error', (error: Error) => {
      thread.error = error
    })
    thread.worker.on('exit', (code: number) => {
      thread.exited = true
      if (this.#threads[slot] !== thread) return
      this.#threads[slot] = undefined
      this.#session?.onExit(slot, `thread exited with code ${code}${thread.error !== undefined ? `: ${thread.error.message}` : ''}`)
    })
    return thread
  }
}

function isAborted (signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true
}

function yieldToEventLoop (): Promise<void> {
  return new Promise(resolve => setImmediate(resolve))
}

function createWorker (): Worker {
  const here = import.meta.url
  if (here.endsWith('.ts')) {
    const entry = new URL('../../workers/pool-worker.ts', here).href
    const tsx = import.meta.resolve('tsx/esm/api')
    const code = `import(${JSON.stringify(tsx)}).then((api) => { api.register(); return import(${JSON.stringify(entry)}) })`
    return new Worker(code, { eval: true })
  }
  return new Worker(new URL('../../workers/pool-worker.js', here))
}
