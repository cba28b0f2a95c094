import { randomUUID } from 'node:crypto'
import type { ParallelConfig } from '../src/parallel/parallel-config.js'
import type { GlobalMetrics, ProgressEvent, ResultBatch, ScanSummary, WorkerHistograms, WorkerMetrics } from '../src/parallel/types.js'
import type { ScanContext, ScanPlanner, ScanPool } from '../src/http/scan-planner.js'
import type { ScanStore } from '../src/store/scan-store.js'
import type { ScanOutcome } from '../src/store/scan-record.js'
import type { ScanJobOutcome } from '../src/queue/scan-queue.js'
import type { ServiceMetrics } from '../src/metrics/service-metrics.js'
import type { Progress, ScanErrorInfo } from '../schemas/scan-status.js'
import { AttemptSupersededError, ResultsTooLargeError, ScanTimeoutError } from '../src/errors.js'

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
  /** Period of progress writes to the store (ms). Default: 250. */
  progressIntervalMs?: number
  /** Rows per stored page of an aggregate scan. Default: 1000. */
  aggregatePageSize?: number
  /** Longest run of one attempt (ms); a scan's `timeout_seconds` may lower it. Default: 1 h. */
  scanTimeoutMs?: number
  /** The scan context of a tenant (e.g. its own data directory). Default: `context` for everyone. */
  contextFor?: (tenant: string | undefined) => ScanContext
  /** Bytes of results one scan may store; past them it fails with PARASCAN_RESULTS_TOO_LARGE. Default: 64 MiB. */
  maxScanResultBytes?: number
}

class ScanCancelledSignal extends Error {
  constructor () { super('Cancelled by request') }
}

const MAX_PENDING_BYTES = 8 * 1024 * 1024

/** Runs queued scans on the pool and writes their progress, results and outcome to the store. */
export class ScanConsumer {
  readonly #options: Required<ScanConsumerOptions>
  readonly #running = new Map<string, AbortController>()

  constructor (options: ScanConsumerOptions) {
    this.#options = {
      ...options,
      progressIntervalMs: options.progressIntervalMs ?? 250,
      aggregatePageSize: options.aggregatePageSize ?? 1000,
      scanTimeoutMs: options.scanTimeoutMs ?? 3_600_000,
      contextFor: options.contextFor ?? (() => options.context),
      maxScanResultBytes: options.maxScanResultBytes ?? 64 * 1024 * 1024
    }
    options.store.onCancelRequest((id) => this.#running.get(id)?.abort(new ScanCancelledSignal()))
  }

  get active (): number { return this.#running.size }

  /** The queue's job processor. */
  readonly process = async (id: string, shutdown: AbortSignal): Promise<ScanJobOutcome> => {
    const controller = new AbortController()
    this.#running.set(id, controller)
    try {
      return await this.#run(id, controller, shutdown)
    } finally {
      this.#running.delete(id)
    }
  }

  async #run (id: string, controller: AbortController, shutdown: AbortSignal): Promise<ScanJobOutcome> {
    const { store, metrics } = this.#options
    const attempt = randomUUID()
    const startedAt = new Date()
    const began = await store.begin(id, attempt, startedAt.toISOString())
    if (began === undefined) return 'skipped'
    if (began.previousAttempt === null) {
      metrics.scanQueueWait.observe(Math.max(0, startedAt.getTime() - Date.parse(began.record.created_at)) / 1000)
    }
    const total = began.record.progress.total
    const state = new AttemptState(total, startedAt.getTime())
    if (began.cancelRequested) return await this.#end(id, attempt, state, 'cancelled', cancelledError(), null)

    metrics.activeScans.inc()
    const writer = new PageWriter(store, id, attempt, () => controller.abort(new AttemptSupersededError(id)))
    let deadline: NodeJS.Timeout | undefined
    const timer = setInterval(() => {
      void store.update(id, attempt, state.snapshot()).then((current) => {
        if (!current) controller.abort(new AttemptSupersededError(id))
      }, () => {})
    }, this.#options.progressIntervalMs)
    const workers: WorkerMetrics[] = []
    let global: GlobalMetrics = { global_feeder_depth_max: 0 }
    try {
      const request = await store.getRequest(id)
      if (request === undefined) return 'skipped'
      const timeoutMs = Math.min(this.#options.scanTimeoutMs, request.timeout_seconds === undefined ? Infinity : request.timeout_seconds * 1000)
      deadline = setTimeout(() => controller.abort(new ScanTimeoutError(`${timeoutMs / 1000} s`)), Math.max(0, Math.min(timeoutMs - (Date.now() - startedAt.getTime()), 2 ** 31 - 1)))
      const plan = await this.#options.planner.planScan(request, this.#options.contextFor(began.record.tenant))
      const maxResults = request.max_results ?? Infinity
      const summary: ScanSummary = await this.#options.pool.stream(plan.total, plan.task, {
        config: this.#options.config.with(request.parallel ?? {}),
        signal: AbortSignal.any([controller.signal, shutdown]),
        ordered: plan.ordered,
        on_error: plan.on_error,
        progress_interval_ms: Math.min(250, this.#options.progressIntervalMs),
        metrics: (event, data) => {
          if (event === 'progress') {
            state.progress(data as ProgressEvent)
            metrics.progress(data as ProgressEvent)
          } else if (event === 'final_worker') {
            workers.push(data as WorkerMetrics)
            metrics.worker(data as WorkerMetrics)
          } else if (event === 'worker_histograms') {
            metrics.histograms(data as WorkerHistograms)
          } else if (event === 'final_global') {
            global = data as GlobalMetrics
          }
        },
        onBatch: async (batch: ResultBatch) => {
          const page = state.admit(batch, maxResults)
          if (page === undefined) return
          if (state.bytes > this.#options.maxScanResultBytes) {
            controller.abort(new ResultsTooLargeError(this.#options.maxScanResultBytes))
            return
          }
          await writer.push(page)
        }
      })
      if (summary.aggregate !== undefined) {
        for (let i = 0; i < summary.aggregate.length; i += this.#options.aggregatePageSize) {
          const rows = summary.aggregate.slice(i, i + this.#options.aggregatePageSize)
          const page = state.admit({ json: JSON.stringify(rows), items: rows.length }, maxResults)
          if (page !== undefined && state.bytes > this.#options.maxScanResultBytes) throw new ResultsTooLargeError(this.#options.maxScanResultBytes)
          if (page !== undefined) await writer.push(page)
        }
      }
      controller.signal.throwIfAborted()
      await writer.flush()
      state.finish(summary)
      return await this.#end(id, attempt, state, 'succeeded', null, { workers, global }, summary)
    } catch (error) {
      await writer.settle()
      const reason: unknown = controller.signal.aborted ? controller.signal.reason : undefined
      if (reason instanceof AttemptSupersededError) return 'skipped'
      const ran = workers.length > 0 ? { workers, global } : null
      if (reason instanceof ScanCancelledSignal) return await this.#end(id, attempt, state, 'cancelled', cancelledError(), ran)
      if (reason instanceof ScanTimeoutError || reason instanceof ResultsTooLargeError) return await this.#end(id, attempt, state, 'failed', describeError(reason), ran)
      if (shutdown.aborted) return 'handed_back'
      return await this.#end(id, attempt, state, 'failed', describeError(error), ran)
    } finally {
      clearTimeout(deadline)
      clearInterval(timer)
      metrics.activeScans.dec()
    }
  }

  async #end (id: string, attempt: string, state: AttemptState, status: ScanOutcome['status'], error: ScanErrorInfo | null,
    scanMetrics: ScanOutcome['metrics'], summary?: ScanSummary): Promise<ScanJobOutcome> {
    const outcome: ScanOutcome = { ...state.snapshot(), status, error, errors: summary?.errors ?? state.errors, metrics: scanMetrics }
    const finished = await this.#options.store.finish(id, attempt, outcome, new Date().toISOString())
    if (!finished) return 'skipped'
    this.#options.metrics.scans.inc({ outcome: status })
    this.#options.metrics.scanDuration.observe((Date.now() - state.startedAt) / 1000)
    return status
  }
}

/** Counters of one attempt: progress from the engine, results admitted under max_results. */
class AttemptState {
  readonly startedAt: number
  readonly errors: ScanSummary['errors'] = []
  #total: number
  #processed = 0
  #matched = 0
  #skipped = 0
  #stored = 0
  #bytes = 0
  #truncated = false

  constructor (total: number, startedAt: number) {
    this.#total = total
    this.startedAt = startedAt
  }

  progress (event: ProgressEvent): void {
    this.#total = event.total
    this.#processed = event.processed
    this.#matched = event.matched
    this.#skipped = event.skipped
  }

  finish (summary: ScanSummary): void {
    this.#total = summary.total
    this.#processed = summary.processed
    this.#matched = summary.matched
    this.#skipped = summary.skipped
  }

  /** Bytes of the pages admitted so far. */
  get bytes (): number { return this.#bytes }

  /** The part of `batch` that fits under `maxResults`, or undefined. */
  admit (batch: ResultBatch, maxResults: number): string | undefined {
    if (batch.items === 0) return undefined
    const room = maxResults - this.#stored
    if (room <= 0) {
      this.#truncated = true
      return undefined
    }
    let page = batch.json
    if (batch.items <= room) {
      this.#stored += batch.items
    } else {
      this.#truncated = true
      this.#stored += room
      page = JSON.stringify((JSON.parse(batch.json) as unknown[]).slice(0, room))
    }
    this.#bytes += Buffer.byteLength(page)
    return page
  }

  snapshot (): { progress: Progress, result: { count: number, truncated: boolean } } {
    const elapsed = Math.max(1, Date.now() - this.startedAt) / 1000
    const rate = this.#processed / elapsed
    const remaining = this.#total - this.#processed
    return {
      progress: {
        total: this.#total,
        processed: this.#processed,
        matched: this.#matched,
        skipped: this.#skipped,
        fraction: this.#total === 0 ? 1 : Math.min(1, this.#processed / this.#total),
        records_per_second: Math.round(rate),
        eta_seconds: remaining <= 0 ? 0 : rate > 0 ? remaining / rate : null
      },
      result: { count: this.#stored, truncated: this.#truncated }
    }
  }
}

/** Writes result pages in order, several per store call, without making the engine wait on each write. */
class PageWriter {
  readonly #store: ScanStore
  readonly #id: string
  readonly #attempt: string
  readonly #onSuperseded: () => void
  #pending: string[] = []
  #pendingBytes = 0
  #writing: Promise<void> = Promise.resolve()
  #failure: unknown

  constructor (store: ScanStore, id: string, attempt: string, onSuperseded: () => void) {
    this.#store = store
    this.#id = id
    this.#attempt = attempt
    this.#onSuperseded = onSuperseded
  }

  async push (page: string): Promise<void> {
    if (this.#failure !== undefined) throw this.#failure
    this.#pending.push(page)
    this.#pendingBytes += page.length
    if (this.#pending.length === 1) this.#writing = this.#writing.then(() => this.#write())
    if (this.#pendingBytes > MAX_PENDING_BYTES) await this.#writing
  }

  async flush (): Promise<void> {
    if (this.#pending.length > 0) this.#writing = this.#writing.then(() => this.#write())
    await this.#writing
    if (this.#failure !== undefined) throw this.#failure
  }

  async settle (): Promise<void> {
    await this.#writing.catch(() => {})
  }

  async #write (): Promise<void> {
    if (this.#pending.length === 0 || this.#failure !== undefined) return
    const pages = this.#pending
    this.#pending = []
    this.#pendingBytes = 0
    try {
      if (!await this.#store.appendPages(this.#id, this.#attempt, pages)) {
        this.#failure = new AttemptSupersededError(this.#id)
        this.#onSuperseded()
      }
    } catch (error) {
      this.#failure = error
    }
  }
}

function cancelledError (): ScanErrorInfo {
  return { code: 'PARASCAN_SCAN_CANCELLED', message: 'Cancelled by request' }
}

function describeError (error: unknown): ScanErrorInfo {
  const e = error as { code?: unknown, message?: unknown, offset?: unknown, cause?: { code?: unknown } }
  // A record that failed on a limit (e.g. PARASCAN_VALUE_TOO_LARGE) fails the scan with that limit's code.
  const causeCode = e?.code === 'PARASCAN_RECORD_FAILED' && typeof e.cause?.code === 'string' && e.cause.code.startsWith('PARASCAN_') ? e.cause.code : undefined
  const info: ScanErrorInfo = {
    code: causeCode ?? (typeof e?.code === 'string' ? e.code : 'PARASCAN_SCAN_FAILED'),
    message: typeof e?.message === 'string' ? e.message : String(error)
  }
  if (typeof e?.offset === 'number' && Number.isSafeInteger(e.offset)) info.offset = e.offset
  return info
}
