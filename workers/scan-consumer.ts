import { randomUUID } from 'node:crypto'
import type { ParallelConfig } from '../src/parallel/parallel-config.js'
import type { GlobalMetrics, ProgressEvent, ResultBatch, ScanSummary, WorkerHistograms, WorkerMetrics } from '../src/parallel/types.js'
import type { ScanContext, ScanPlanner, ScanPool } from '../src/http/scan-planner.js'
import type { ScanStore } from '../src/store/scan-store.js'
import type { ScanOutcome } from '../src/store/scan-record.js'
import type { ScanJobOutcome } from '../src/queue/scan-queue.js'
import type { ServiceMetrics } from '../src/metrics/service-metrics.js'
import type { Progress, ScanErrorInfo } from '../schemas/scan-status.js'
import { AttemptSupersededError, ScanTimeoutError } from '../src/errors.js'

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
      contextFor: options.contextFor ?? (() => options.context)
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
    const writer = new PageWriter(store, id, attempt, () => controller.abort(new AttemptSupersededError(id)), (items) => state.written(items))
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
          if (page !== undefined) await writer.push(page.json, page.items)
        }
      })
      if (summary.aggregate !== undefined) {
        for (let i = 0; i < summary.aggregate.length; i += this.#options.aggregatePageSize) {
          const rows = summary.aggregate.slice(i, i + this.#options.aggregatePageSize)
          const page = state.admit({ json: JSON.stringify(rows), items: rows.length }, maxResults)
          if (page !== undefined) await writer.push(page.json, page.items)
        }
      }
      await writer.flush()
      state.finish(summary)
      return await this.#end(id, attempt, state, 'succeeded', null, { workers, global }, summary)
    } catch (error) {
      const reason: unknown = controller.signal.aborted ? controller.signal.reason : undefined
      if (reason instanceof AttemptSupersededError) return 'skipped'
      if (shutdown.aborted && !(reason instanceof ScanCancelledSignal) && !(reason instanceof ScanTimeoutError)) return 'handed_back'
      await writer.flush().catch(() => {})
      const ran = workers.length > 0 ? { workers, global } : null
      if (reason instanceof ScanCancelledSignal) return await this.#end(id, attempt, state, 'cancelled', cancelledError(), ran)
      if (reason instanceof ScanTimeoutError) return await this.#end(id, attempt, state, 'failed', describeError(reason), ran)
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
  #admitted = 0
  #written = 0
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

  /** The part of `batch` that fits under `maxResults`, or undefined. */
  admit (batch: ResultBatch, maxResults: number): ResultBatch | undefined {
    if (batch.items === 0) return undefined
    const room = maxResults - this.#admitted
    if (room <= 0) {
      this.#truncated = true
      return undefined
    }
    if (batch.items <= room) {
      this.#admitted += batch.items
      return batch
    }
    this.#truncated = true
    this.#admitted += room
    return { json: JSON.stringify((JSON.parse(batch.json) as unknown[]).slice(0, room)), items: room }
  }

  /** Results that reached the store: the count that status documents show. */
  written (items: number): void {
    this.#written += items
  }

  /**
   * Progress and the stored results. Progress events come at intervals and results as they are
   * made, so between two events more results can be stored than the last event counted: each
   * result stands for a processed record, so processed and matched are at least the results.
   */
  snapshot (): { progress: Progress, result: { count: number, truncated: boolean } } {
    const elapsed = Math.max(1, Date.now() - this.startedAt) / 1000
    const processed = Math.max(this.#processed, this.#written)
    const rate = processed / elapsed
    const remaining = this.#total - processed
    return {
      progress: {
        total: this.#total,
        processed,
        matched: Math.max(this.#matched, this.#written),
        skipped: this.#skipped,
        fraction: this.#total === 0 ? 1 : Math.min(1, processed / this.#total),
        records_per_second: Math.round(rate),
        eta_seconds: remaining <= 0 ? 0 : rate > 0 ? remaining / rate : null
      },
      result: { count: this.#written, truncated: this.#truncated }
    }
  }
}

/** Writes result pages in order, several per store call, without making the engine wait on each write. */
class PageWriter {
  readonly #store: ScanStore
  readonly #id: string
  readonly #attempt: string
  readonly #onSuperseded: () => void
  readonly #onWritten: (items: number) => void
  #pending: string[] = []
  #pendingItems = 0
  #pendingBytes = 0
  #writing: Promise<void> = Promise.resolve()
  #failure: unknown

  constructor (store: ScanStore, id: string, attempt: string, onSuperseded: () => void, onWritten: (items: number) => void) {
    this.#store = store
    this.#id = id
    this.#attempt = attempt
    this.#onSuperseded = onSuperseded
    this.#onWritten = onWritten
  }

  /** Queues a page of `items` results; waits while more than MAX_PENDING_BYTES wait to be written. */
  async push (page: string, items: number): Promise<void> {
    if (this.#failure !== undefined) throw this.#failure
    this.#pending.push(page)
    this.#pendingItems += items
    this.#pendingBytes += page.length
    if (this.#pending.length === 1) this.#writing = this.#writing.then(() => this.#write())
    if (this.#pendingBytes > MAX_PENDING_BYTES) await this.#writing
  }

  async flush (): Promise<void> {
    if (this.#pending.length > 0) this.#writing = this.#writing.then(() => this.#write())
    await this.#writing
    if (this.#failure !== undefined) throw this.#failure
  }

  async #write (): Promise<void> {
    if (this.#pending.length === 0 || this.#failure !== undefined) return
    const pages = this.#pending
    const items = this.#pendingItems
    this.#pending = []
    this.#pendingItems = 0
    this.#pendingBytes = 0
    try {
      if (await this.#store.appendPages(this.#id, this.#attempt, pages)) {
        this.#onWritten(items)
      } else {
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
  const e = error as { code?: unknown, message?: unknown, offset?: unknown }
  const info: ScanErrorInfo = {
    code: typeof e?.code === 'string' ? e.code : 'PARASCAN_SCAN_FAILED',
    message: typeof e?.message === 'string' ? e.message : String(error)
  }
  if (typeof e?.offset === 'number' && Number.isSafeInteger(e.offset)) info.offset = e.offset
  return info
}
