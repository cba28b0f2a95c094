import { randomUUID } from 'node:crypto'
import type { ResultBatch, ScanSummary } from '../src/parallel/types.js'
import type { ScanOutcome } from '../src/store/scan-record.js'
import type { PartitionJob, ScanJobFlow, ScanJobOutcome, ScanJobProcessor, ScanJobProgress } from '../src/queue/scan-queue.js'
import type { Progress, ScanErrorInfo } from '../schemas/scan-status.js'
import { AttemptSupersededError, InstanceCrashedError, ResultsTooLargeError, scanError, ScanTimeoutError, StorageQuotaExceededError } from '../src/errors.js'
import { chargedAppend } from './charged-append.js'
import { AttemptState } from './attempt-state.js'
import { SILENT_LOG } from '../src/service-log.js'
import { PageWriter } from './page-writer.js'
import { describeScanError } from './describe-scan-error.js'
import { attemptDeadline, EngineRun } from './engine-run.js'
import { PartitionRunner } from './partition-runner.js'
import { LocalTenantSlots } from './local-tenant-slots.js'
import { ScanFinisher } from './scan-finisher.js'
import { partitionCount } from '../src/partitions/plan-partitions.js'
import { SERVICE_DEFAULTS } from '../src/config/service-config.js'
import type { ScanConsumerOptions } from './scan-consumer-options.js'
import { cancelledError, ScanCancelledSignal } from './scan-cancelled-signal.js'

export type { ScanConsumerOptions } from './scan-consumer-options.js'

function jobProgress (progress: Progress): ScanJobProgress {
  const { fraction, ...counts } = progress
  return { progress: Math.floor(fraction * 1000) / 10, ...counts }
}

/** Runs queued scans on the pool and writes their progress, results and outcome to the store. */
export class ScanConsumer {
  readonly #options: Required<Omit<ScanConsumerOptions, 'isolatedPool'>>
  readonly #running = new Map<string, AbortController>()
  readonly #finisher: ScanFinisher
  readonly #partitions: PartitionRunner
  /** Scan jobs and partition jobs have slots of their own, as the queue takes them. */
  readonly #localScans: LocalTenantSlots

  constructor (options: ScanConsumerOptions) {
    this.#options = {
      ...options,
      progressIntervalMs: options.progressIntervalMs ?? SERVICE_DEFAULTS.progressIntervalMs,
      aggregatePageSize: options.aggregatePageSize ?? 1000,
      scanTimeoutMs: options.scanTimeoutMs ?? SERVICE_DEFAULTS.scanTimeoutMs,
      contextFor: options.contextFor ?? (() => options.context),
      maxScanResultBytes: options.maxScanResultBytes ?? SERVICE_DEFAULTS.maxScanResultBytes,
      recordTimeLimitMs: options.recordTimeLimitMs ?? 0,
      maxCrashedAttempts: options.maxCrashedAttempts ?? SERVICE_DEFAULTS.maxCrashedAttempts,
      maxRunningPerTenant: options.maxRunningPerTenant ?? SERVICE_DEFAULTS.maxRunningScansPerTenant,
      storageQuota: options.storageQuota ?? (() => 0),
      concurrency: options.concurrency ?? SERVICE_DEFAULTS.concurrency,
      partitionPolicy: options.partitionPolicy ?? { partitionRecords: Infinity, maxPartitions: 1 },
      instance: options.instance ?? 'local',
      log: options.log ?? SILENT_LOG
    }
    options.store.onCancelRequest((id) => this.#running.get(id)?.abort(new ScanCancelledSignal()))
    this.#localScans = new LocalTenantSlots(this.#options.concurrency)
    this.#finisher = new ScanFinisher({ store: options.store, metrics: options.metrics, aggregatePageSize: this.#options.aggregatePageSize })
    this.#partitions = new PartitionRunner({
      pool: options.pool,
      config: options.config,
      store: options.store,
      planner: options.planner,
      metrics: options.metrics,
      contextFor: this.#options.contextFor,
      instance: this.#options.instance,
      progressIntervalMs: this.#options.progressIntervalMs,
      scanTimeoutMs: this.#options.scanTimeoutMs,
      maxScanResultBytes: this.#options.maxScanResultBytes,
      storageQuota: this.#options.storageQuota,
      recordTimeLimitMs: this.#options.recordTimeLimitMs,
      maxCrashedAttempts: this.#options.maxCrashedAttempts,
      ...(options.isolatedPool === undefined ? {} : { isolatedPool: options.isolatedPool }),
      log: this.#options.log
    })
  }

  get active (): number { return this.#running.size }

  /** The queue's partition job processor. */
  readonly processPartition = async (job: PartitionJob, shutdown: AbortSignal, reportProgress: (fraction: number) => Promise<void>): Promise<ScanJobOutcome> => {
    return await this.#partitions.process(job, shutdown, reportProgress)
  }

  /** Fails a scan whose job the queue gave up on; false when it had finished already. */
  async abandon (id: string, error: ScanErrorInfo): Promise<boolean> {
    const { store } = this.#options
    const record = await store.get(id)
    if (record?.partitions === undefined) return await store.abandon(id, error, new Date().toISOString())
    return await store.finishPartitioned(id, { status: 'failed', progress: record.progress, result: record.result, error, errors: [], metrics: null }, new Date().toISOString(), [])
  }

  /** The queue's job processor. */
  readonly process: ScanJobProcessor = async (id, shutdown, flow, reportProgress = () => {}) => {
    if (flow.partitioned) {
      const record = await this.#options.store.get(id)
      return record === undefined ? 'skipped' : await this.#finisher.step(record, flow)
    }
    const release = this.#localScans.take(flow.tenant)
    if (release === undefined) return 'deferred'
    const controller = new AbortController()
    this.#running.set(id, controller)
    try {
      return await this.#run(id, controller, shutdown, flow, reportProgress)
    } finally {
      this.#running.delete(id)
      release()
    }
  }

  async #run (id: string, controller: AbortController, shutdown: AbortSignal, flow: ScanJobFlow, reportProgress: (progress: ScanJobProgress) => void): Promise<ScanJobOutcome> {
    const { store, metrics } = this.#options
    const attempt = randomUUID()
    const startedAt = new Date()
    const began = await store.begin(id, attempt, startedAt.toISOString(), this.#options.maxRunningPerTenant)
    if (began === undefined) return 'skipped'
    if (began === 'busy') return 'deferred'
    // Partitioned on an earlier run that ended before it could say so to the queue.
    if (began.record.partitions !== undefined) return await this.#finisher.step(began.record, flow)
    if (began.previousAttempt === null) {
      metrics.scanQueueWait.observe(Math.max(0, startedAt.getTime() - Date.parse(began.record.created_at)) / 1000)
    }
    const total = began.record.progress.total
    const state = new AttemptState(total, startedAt.getTime())
    if (began.cancelRequested) return await this.#end(id, attempt, state, 'cancelled', cancelledError(), null)
    if (began.crashedAttempts >= this.#options.maxCrashedAttempts) {
      const times = began.crashedAttempts === 1 ? 'once' : `${began.crashedAttempts} times`
      return await this.#end(id, attempt, state, 'failed', scanError(new InstanceCrashedError(times, 'PARASCAN_MAX_CRASHED_ATTEMPTS')), null)
    }

    metrics.activeScans.inc()
    const tenant = began.record.tenant
    // A new attempt: what the one before it stored is gone.
    if (began.previousAttempt !== null) await store.chargeStorage(tenant, id, attempt, 0, 0)
    const append = chargedAppend({
      store,
      tenant,
      unit: id,
      attempt,
      quota: this.#options.storageQuota(tenant),
      append: async (pages) => await store.appendPages(id, attempt, pages),
      refused: (error) => controller.abort(error)
    })
    const writer = new PageWriter(id, append, () => controller.abort(new AttemptSupersededError(id)),
      (items) => state.written(items))
    let deadline: NodeJS.Timeout | undefined
    const timer = setInterval(() => {
      const snapshot = state.snapshot()
      reportProgress(jobProgress(snapshot.progress))
      void store.update(id, attempt, snapshot).then((current) => {
        if (!current) controller.abort(new AttemptSupersededError(id))
      }, (cause: unknown) => { this.#options.log.debug({ err: cause, scan: id }, 'progress not written; the next write carries it') })
    }, this.#options.progressIntervalMs)
    const engine = new EngineRun(state, metrics.scanFeed())
    try {
      const request = await store.getRequest(id)
      if (request === undefined) return 'skipped'
      deadline = attemptDeadline(controller, this.#options.scanTimeoutMs, request, startedAt.getTime())
      const plan = await this.#options.planner.planScan(request, this.#options.contextFor(began.record.tenant))
      const partitions = partitionCount(plan.total, request, this.#options.partitionPolicy)
      if (partitions > 1) {
        const mode = request.aggregate !== undefined ? 'aggregate' : plan.ordered ? 'ordered' : 'unordered'
        const layout = { partitions, mode, cap: request.max_results ?? Number.MAX_SAFE_INTEGER, total: plan.total } as const
        if (!await store.planPartitions(id, attempt, layout)) return 'skipped'
        const planned = await store.get(id)
        return planned === undefined ? 'skipped' : await this.#finisher.step(planned, flow)
      }
      const maxResults = request.max_results ?? Infinity
      const summary: ScanSummary = await this.#options.pool.stream(plan.total, plan.task, {
        ...engine.options(this.#options, request, plan, AbortSignal.any([controller.signal, shutdown]), tenant),
        onBatch: async (batch: ResultBatch) => {
          const before = state.stored
          const page = state.admit(batch, maxResults)
          if (page === undefined) return
          if (state.bytes > this.#options.maxScanResultBytes) {
            controller.abort(new ResultsTooLargeError(this.#options.maxScanResultBytes))
            return
          }
          await writer.push(page, state.stored - before)
        }
      })
      if (summary.aggregate !== undefined) {
        for (let i = 0; i < summary.aggregate.length; i += this.#options.aggregatePageSize) {
          const rows = summary.aggregate.slice(i, i + this.#options.aggregatePageSize)
          const before = state.stored
          const page = state.admit({ json: JSON.stringify(rows), items: rows.length }, maxResults)
          if (page !== undefined && state.bytes > this.#options.maxScanResultBytes) throw new ResultsTooLargeError(this.#options.maxScanResultBytes)
          if (page !== undefined) await writer.push(page, state.stored - before)
        }
      }
      controller.signal.throwIfAborted()
      await writer.flush()
      state.finish(summary)
      reportProgress(jobProgress(state.snapshot().progress))
      return await this.#end(id, attempt, state, 'succeeded', null, { workers: engine.workers, global: engine.global }, summary)
    } catch (error) {
      const reason: unknown = controller.signal.aborted ? controller.signal.reason : undefined
      if (reason instanceof AttemptSupersededError) {
        await writer.settle()
        return 'skipped'
      }
      const limit = reason instanceof ScanTimeoutError || reason instanceof ResultsTooLargeError || reason instanceof StorageQuotaExceededError
      const stopped = limit || reason instanceof ScanCancelledSignal
      if (shutdown.aborted && !stopped) {
        await writer.settle()
        await store.release(id, attempt)
          .catch((cause: unknown) => { this.#options.log.warn({ err: cause, scan: id }, 'could not hand the scan back at shutdown; another instance takes it over when its lock expires') })
        return 'handed_back'
      }
      await writer.flush()
        .catch((cause: unknown) => { this.#options.log.warn({ err: cause, scan: id }, 'the last results of a failing scan could not be stored; its partial results end earlier') })
      const ran = engine.workers.length > 0 ? { workers: engine.workers, global: engine.global } : null
      if (reason instanceof ScanCancelledSignal) return await this.#end(id, attempt, state, 'cancelled', cancelledError(), ran)
      if (limit) return await this.#end(id, attempt, state, 'failed', describeScanError(reason), ran)
      return await this.#end(id, attempt, state, 'failed', describeScanError(error), ran)
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
    this.#options.metrics.scanDuration.observe({ outcome: status }, (Date.now() - state.startedAt) / 1000)
    return status
  }
}
