import { randomUUID } from 'node:crypto'
import type { ParallelConfig } from '../src/parallel/parallel-config.js'
import type { ResultBatch, ScanSummary } from '../src/parallel/types.js'
import type { ScanContext, ScanPlanner, ScanPool } from '../src/http/scan-planner.js'
import type { ScanStore } from '../src/store/scan-store.js'
import type { PartitionJob, ScanJobOutcome } from '../src/queue/scan-queue.js'
import type { ServiceMetrics } from '../src/metrics/service-metrics.js'
import type { ScanErrorInfo, ScanMetrics } from '../schemas/scan-status.js'
import type { ScanParams } from '../src/pipeline/scan-params.js'
import type { ScanPlan } from '../src/pipeline/plan-scan.js'
import { AttemptSupersededError, InstanceCrashedError, ResultsTooLargeError, ScanTimeoutError, scanError, StorageQuotaExceededError } from '../src/errors.js'
import { IsolatedProcessExitError } from '../src/parallel/isolated-pool.js'
import { chargedAppend } from './charged-append.js'
import { partitionUnit } from '../src/store/storage-charge.js'
import { AttemptState } from './attempt-state.js'
import { SILENT_LOG, type ServiceLog } from '../src/service-log.js'
import { PageWriter } from './page-writer.js'
import { describeScanError } from './describe-scan-error.js'
import { attemptDeadline, EngineRun } from './engine-run.js'
import { SERVICE_DEFAULTS } from '../src/config/service-config.js'
import { DEFAULT_JOB_PROGRESS_INTERVAL_MS } from '../src/queue/job-progress-throttle.js'
import { ScanCancelledSignal } from './scan-cancelled-signal.js'
import { ScanPlanCache } from './scan-plan-cache.js'

export interface PartitionRunnerOptions {
  /** Required. */
  pool: ScanPool
  /** Required. */
  config: ParallelConfig
  /** Required. */
  store: ScanStore
  /** Required. */
  planner: ScanPlanner
  /** Required. */
  metrics: ServiceMetrics
  /** The scan context of a tenant. Required. */
  contextFor: (tenant: string | undefined) => ScanContext
  /** Names this instance in per-worker metrics. Required. */
  instance: string
  /**
   * Period of progress writes to the store (ms).
   * @defaultValue 250
   */
  progressIntervalMs?: number
  /**
   * Period of progress updates of the partition's job, for the queue dashboard (ms).
   * @defaultValue 1000
   */
  jobProgressIntervalMs?: number
  /**
   * Longest run of a scan from its start (ms); a scan's `timeout_seconds` may lower it.
   * @defaultValue 1 h
   */
  scanTimeoutMs?: number
  /**
   * Bytes of results one partition may store; past them the scan fails with PARASCAN_RESULTS_TOO_LARGE.
   * @defaultValue 64 MiB
   */
  maxScanResultBytes?: number
  /**
   * Longest time one record may spend in the pipeline (ms); 0 is no limit.
   * @defaultValue 0
   */
  recordTimeLimitMs?: number
  /** Bytes of results a tenant may keep stored; past them the scan fails with PARASCAN_STORAGE_QUOTA_EXCEEDED. Default: no quota. */
  storageQuota?: (tenant: string | undefined) => number
  /**
   * Runs a partition whose attempt before neither committed nor was handed back (its instance
   * died or lost its lock) in a process of its own, so that a partition that kills its process
   * cannot kill this instance.
   * @defaultValue none (such partitions run on `pool`)
   */
  isolatedPool?: ScanPool
  /**
   * Isolated runs of one partition that may end with their process dead; at that many the scan fails with PARASCAN_INSTANCE_CRASHED.
   * @defaultValue 1
   */
  maxCrashedAttempts?: number
  /**
   * Plans of the scans whose partitions run here, shared with the scan jobs that split them.
   * @defaultValue a cache of its own
   */
  plans?: ScanPlanCache
  /**
   * Where the errors it survives are reported.
   * @defaultValue SILENT_LOG (nothing is written)
   */
  log?: ServiceLog
}

/**
 * Runs one partition of a scan on this instance's pool: its results go to pages of its attempt and
 * become visible when the attempt commits; a failing record fails the whole scan, with its offset
 * in the source.
 */
export class PartitionRunner {
  readonly #options: Required<Omit<PartitionRunnerOptions, 'isolatedPool' | 'plans'>> & Pick<PartitionRunnerOptions, 'isolatedPool'>
  readonly #plans: ScanPlanCache
  readonly #running = new Map<string, Set<AbortController>>()

  constructor (options: PartitionRunnerOptions) {
    this.#options = {
      progressIntervalMs: SERVICE_DEFAULTS.progressIntervalMs,
      jobProgressIntervalMs: DEFAULT_JOB_PROGRESS_INTERVAL_MS,
      scanTimeoutMs: SERVICE_DEFAULTS.scanTimeoutMs,
      maxScanResultBytes: SERVICE_DEFAULTS.maxScanResultBytes,
      recordTimeLimitMs: 0,
      maxCrashedAttempts: SERVICE_DEFAULTS.maxCrashedAttempts,
      storageQuota: () => 0,
      log: SILENT_LOG,
      ...options
    }
    this.#plans = options.plans ?? new ScanPlanCache()
    options.store.onCancelRequest((id) => {
      for (const controller of this.#running.get(id) ?? []) controller.abort(new ScanCancelledSignal())
    })
  }

  /** The queue's partition job processor. */
  readonly process = async (job: PartitionJob, shutdown: AbortSignal, reportProgress: (fraction: number) => Promise<void>): Promise<ScanJobOutcome> => {
    const controller = new AbortController()
    let running = this.#running.get(job.id)
    if (running === undefined) this.#running.set(job.id, running = new Set())
    running.add(controller)
    try {
      for (let crashed = 1; ; crashed++) {
        const outcome = await this.#run(job, controller, shutdown, reportProgress)
        if (!(outcome instanceof IsolatedProcessExitError)) return outcome
        if (crashed >= this.#options.maxCrashedAttempts) {
          const range = `${job.part + 1}/${job.partitions} (records ${job.start} to ${job.end - 1})`
          const processes = crashed === 1 ? 'the process of its own it ran in next' : `the ${crashed} processes of its own it ran in next`
          const error = new InstanceCrashedError(`in partition ${range}, and so did ${processes} (last: ${outcome.exit}),`, 'PARASCAN_MAX_CRASHED_ATTEMPTS')
          return await this.#failScan(job.id, scanError(error))
        }
      }
    } finally {
      running.delete(controller)
      if (running.size === 0) this.#running.delete(job.id)
    }
  }

  /** One attempt of the partition; an IsolatedProcessExitError when it ran in a process of its own and that process died. */
  async #run (job: PartitionJob, controller: AbortController, shutdown: AbortSignal, reportProgress: (fraction: number) => Promise<void>): Promise<ScanJobOutcome | IsolatedProcessExitError> {
    const { store, metrics } = this.#options
    const { id, part, start, end } = job
    const attempt = randomUUID()
    const began = await store.beginPartition(id, part, attempt)
    if (began.outcome === 'cancelled') return 'cancelled'
    if (began.outcome !== 'began') return 'skipped'
    const [record, request] = await Promise.all([store.get(id), store.getRequest(id)])
    if (record === undefined || request === undefined) return 'skipped'
    const pool = began.unsettled ? this.#options.isolatedPool ?? this.#options.pool : this.#options.pool

    const total = end - start
    const state = new AttemptState(total, Date.now())
    const superseded = (): void => controller.abort(new AttemptSupersededError(id))
    const progressLost = (cause: unknown): void => { this.#options.log.debug({ err: cause, scan: id, partition: part }, 'partition progress not written; the next write carries it') }
    const unit = partitionUnit(id, part)
    // A new attempt of the partition: what the one before it stored is gone.
    if (began.runs > 1) await store.chargeStorage(record.tenant, unit, attempt, 0, 0)
    const append = chargedAppend({
      store,
      tenant: record.tenant,
      unit,
      attempt,
      quota: this.#options.storageQuota(record.tenant),
      append: async (pages) => await store.appendPartitionPages(id, part, attempt, pages),
      refused: (error) => controller.abort(error)
    })
    const writer = new PageWriter(id, append, superseded)
    const engine = new EngineRun(state, metrics.scanFeed())
    let lastJobProgress = 0
    const timer = setInterval(() => {
      const counts = { processed: state.processed, matched: state.matched, skipped: state.skipped }
      void store.updatePartition(id, part, attempt, counts).then((current) => { if (!current) superseded() }, progressLost)
      if (Date.now() - lastJobProgress >= this.#options.jobProgressIntervalMs) {
        lastJobProgress = Date.now()
        void reportProgress(total === 0 ? 1 : state.processed / total).catch(progressLost)
      }
    }, this.#options.progressIntervalMs)
    const deadline = attemptDeadline(controller, this.#options.scanTimeoutMs, request, Date.parse(record.started_at ?? new Date().toISOString()))
    metrics.activeScans.inc()
    try {
      const planScan = async (): Promise<ScanPlan> => await this.#options.planner.planScan(request, this.#options.contextFor(record.tenant))
      const plan = began.runs > 1 ? await this.#plans.fresh(id, planScan) : await this.#plans.get(id, planScan)
      const aggregating = request.aggregate !== undefined
      // Threads keep a scan's state by its id until its run ends: each partition run has an id of its own.
      const params: ScanParams = { ...(plan.task.params as ScanParams), id: randomUUID(), base: start, ...(aggregating ? { partial: true } : {}) }
      const maxResults = request.max_results ?? Infinity
      const summary: ScanSummary = await pool.stream(total, { module: plan.task.module, params }, {
        ...engine.options(this.#options, request, plan, AbortSignal.any([controller.signal, shutdown]), record.tenant),
        onBatch: async (batch: ResultBatch) => {
          if (aggregating) return
          const page = state.admit(batch, maxResults)
          if (page === undefined) return
          if (state.bytes > this.#options.maxScanResultBytes) {
            controller.abort(new ResultsTooLargeError(this.#options.maxScanResultBytes))
            return
          }
          await writer.push(page)
        }
      })
      controller.signal.throwIfAborted()
      await writer.flush()
      state.finish(summary)
      const scanMetrics: ScanMetrics = { workers: engine.workers.map((w) => ({ instance: this.#options.instance, ...w })), global: engine.global }
      const committed = await store.commitPartition(id, part, attempt, {
        processed: summary.processed,
        matched: summary.matched,
        skipped: summary.skipped,
        count: state.stored,
        truncated: state.truncated,
        errors: summary.errors.map((e) => ({ ...e, offset: e.offset + start })),
        ...(aggregating ? { partial: summary.aggregate?.[0] ?? {} } : {}),
        metrics: scanMetrics
      })
      if (committed) void reportProgress(1).catch(progressLost)
      return committed ? 'succeeded' : 'skipped'
    } catch (error) {
      await writer.settle()
      const reason: unknown = controller.signal.aborted ? controller.signal.reason : undefined
      if (reason instanceof AttemptSupersededError) return 'skipped'
      if (reason instanceof ScanCancelledSignal) return 'cancelled'
      if (reason instanceof ScanTimeoutError || reason instanceof ResultsTooLargeError || reason instanceof StorageQuotaExceededError) return await this.#failScan(id, describeScanError(reason))
      if (shutdown.aborted) {
        await store.releasePartition(id, part, attempt).catch(() => {})
        return 'handed_back'
      }
      if (error instanceof IsolatedProcessExitError) return error
      return await this.#failScan(id, describeScanError(error, start))
    } finally {
      clearTimeout(deadline)
      clearInterval(timer)
      metrics.activeScans.dec()
    }
  }

  /** Ends the whole scan as failed; the other partitions' next progress write sees it and they stop. */
  async #failScan (id: string, error: ScanErrorInfo): Promise<ScanJobOutcome> {
    const record = await this.#options.store.get(id)
    if (record === undefined) return 'skipped'
    const finished = await this.#options.store.finishPartitioned(id, {
      status: 'failed', progress: record.progress, result: record.result, error, errors: [], metrics: null
    }, new Date().toISOString(), [])
    if (!finished) return 'skipped'
    this.#options.metrics.scans.inc({ outcome: 'failed' })
    return 'failed'
  }
}
