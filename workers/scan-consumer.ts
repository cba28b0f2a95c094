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
import { ScanPlanCache } from './scan-plan-cache.js'
import { partitionCount } from '../src/partitions/plan-partitions.js'
import { SERVICE_DEFAULTS } from '../src/config/service-config.js'
import type { ScanConsumerOptions } from './scan-consumer-options.js'
import type { BeginResult } from '../src/store/scan-store.js'
import type { ScanRequest } from '../schemas/scan-request.js'
import type { ScanPlan } from '../src/pipeline/plan-scan.js'
import { cancelledError, ScanCancelledSignal } from './scan-cancelled-signal.js'

export type { ScanConsumerOptions } from './scan-consumer-options.js'

/** One attempt of a scan job on this instance. */
interface AttemptRun {
  id: string
  attempt: string
  tenant: string | undefined
  state: AttemptState
  /** Aborted by a cancel, a limit, or the attempt being superseded. */
  controller: AbortController
  /** Aborted when the instance shuts down. */
  shutdown: AbortSignal
  flow: ScanJobFlow
}

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
  readonly #plans: ScanPlanCache

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
    this.#plans = new ScanPlanCache(Math.max(4, this.#options.concurrency))
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
      plans: this.#plans,
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
      const outcome = record === undefined ? 'skipped' : await this.#finisher.step(record, flow)
      if (outcome !== 'waiting') this.#plans.forget(id)
      return outcome
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
    const attempt = randomUUID()
    const startedAt = new Date()
    const began = await this.#options.store.begin(id, attempt, startedAt.toISOString(), this.#options.maxRunningPerTenant)
    if (began === undefined) return 'skipped'
    if (began === 'busy') return 'deferred'
    // Partitioned on an earlier run that ended before it could say so to the queue.
    if (began.record.partitions !== undefined) return await this.#finisher.step(began.record, flow)
    if (began.previousAttempt === null) {
      this.#options.metrics.scanQueueWait.observe(Math.max(0, startedAt.getTime() - Date.parse(began.record.created_at)) / 1000)
    }
    const run: AttemptRun = {
      id, attempt, controller, shutdown, flow, tenant: began.record.tenant, state: new AttemptState(began.record.progress.total, startedAt.getTime())
    }
    return await this.#endBeforeRunning(run, began) ?? await this.#runAttempt(run, began.previousAttempt !== null, reportProgress)
  }

  /** Ends an attempt that must not run: its scan was cancelled while queued, or crashed its instances too often. */
  async #endBeforeRunning (run: AttemptRun, began: BeginResult): Promise<ScanJobOutcome | undefined> {
    if (began.cancelRequested) return await this.#end(run, 'cancelled', cancelledError(), null)
    if (began.crashedAttempts >= this.#options.maxCrashedAttempts) {
      const times = began.crashedAttempts === 1 ? 'once' : `${began.crashedAttempts} times`
      return await this.#end(run, 'failed', scanError(new InstanceCrashedError(times, 'PARASCAN_MAX_CRASHED_ATTEMPTS')), null)
    }
    return undefined
  }

  async #runAttempt (run: AttemptRun, rerun: boolean, reportProgress: (progress: ScanJobProgress) => void): Promise<ScanJobOutcome> {
    const { store, metrics } = this.#options
    const { id, controller, state } = run
    // A new attempt: what the one before it stored is gone.
    if (rerun) await store.chargeStorage(run.tenant, id, run.attempt, 0, 0)
    const writer = this.#pageWriter(run)
    const timer = this.#progressTimer(run, reportProgress)
    const engine = new EngineRun(state, metrics.scanFeed())
    let deadline: NodeJS.Timeout | undefined
    metrics.activeScans.inc()
    try {
      const request = await store.getRequest(id)
      if (request === undefined) return 'skipped'
      deadline = attemptDeadline(controller, this.#options.scanTimeoutMs, request, state.startedAt)
      const plan = await this.#plans.fresh(id, async () => await this.#options.planner.planScan(request, this.#options.contextFor(run.tenant)))
      const partitions = partitionCount(plan.total, request, this.#options.partitionPolicy)
      if (partitions > 1) return await this.#partition(run, request, plan, partitions)
      this.#plans.forget(id)
      const summary = await this.#stream(run, request, plan, engine, writer)
      if (summary.aggregate !== undefined) await this.#storeAggregate(run, request, summary.aggregate, writer)
      controller.signal.throwIfAborted()
      await writer.flush()
      state.finish(summary)
      reportProgress(jobProgress(state.snapshot().progress))
      return await this.#end(run, 'succeeded', null, { workers: engine.workers, global: engine.global }, summary)
    } catch (error) {
      return await this.#endAfterError(run, error, engine, writer)
    } finally {
      clearTimeout(deadline)
      clearInterval(timer)
      metrics.activeScans.dec()
    }
  }

  /** Where the attempt's result pages go, charged to its tenant's storage; a refused charge aborts it. */
  #pageWriter (run: AttemptRun): PageWriter {
    const { store } = this.#options
    const { id, attempt, controller } = run
    const append = chargedAppend({
      store,
      tenant: run.tenant,
      unit: id,
      attempt,
      quota: this.#options.storageQuota(run.tenant),
      append: async (pages) => await store.appendPages(id, attempt, pages),
      refused: (error) => controller.abort(error)
    })
    return new PageWriter(id, append, () => controller.abort(new AttemptSupersededError(id)), (items) => run.state.written(items))
  }

  /** Writes the attempt's progress to the store and the job; a write that finds the attempt superseded aborts it. */
  #progressTimer (run: AttemptRun, reportProgress: (progress: ScanJobProgress) => void): NodeJS.Timeout {
    const { id, attempt, controller } = run
    return setInterval(() => {
      const snapshot = run.state.snapshot()
      reportProgress(jobProgress(snapshot.progress))
      void this.#options.store.update(id, attempt, snapshot).then((current) => {
        if (!current) controller.abort(new AttemptSupersededError(id))
      }, (cause: unknown) => { this.#options.log.debug({ err: cause, scan: id }, 'progress not written; the next write carries it') })
    }, this.#options.progressIntervalMs)
  }

  /** Splits the scan into `partitions` partition jobs and parks its own job until they are done. */
  async #partition (run: AttemptRun, request: ScanRequest, plan: ScanPlan, partitions: number): Promise<ScanJobOutcome> {
    const { store } = this.#options
    const mode = request.aggregate !== undefined ? 'aggregate' : plan.ordered ? 'ordered' : 'unordered'
    const layout = { partitions, mode, cap: request.max_results ?? Number.MAX_SAFE_INTEGER, total: plan.total } as const
    if (!await store.planPartitions(run.id, run.attempt, layout)) return 'skipped'
    const planned = await store.get(run.id)
    return planned === undefined ? 'skipped' : await this.#finisher.step(planned, run.flow)
  }

  /** Runs the scan on the pool, its result batches going to pages up to the request's cap and the byte limit. */
  async #stream (run: AttemptRun, request: ScanRequest, plan: ScanPlan, engine: EngineRun, writer: PageWriter): Promise<ScanSummary> {
    const { controller, state } = run
    const maxResults = request.max_results ?? Infinity
    return await this.#options.pool.stream(plan.total, plan.task, {
      ...engine.options(this.#options, request, plan, AbortSignal.any([controller.signal, run.shutdown]), run.tenant),
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
  }

  /** Stores an aggregating scan's rows as pages of `aggregatePageSize` rows. */
  async #storeAggregate (run: AttemptRun, request: ScanRequest, rows: NonNullable<ScanSummary['aggregate']>, writer: PageWriter): Promise<void> {
    const { state } = run
    const maxResults = request.max_results ?? Infinity
    const size = this.#options.aggregatePageSize
    for (let i = 0; i < rows.length; i += size) {
      const slice = rows.slice(i, i + size)
      const before = state.stored
      const page = state.admit({ json: JSON.stringify(slice), items: slice.length }, maxResults)
      if (page !== undefined && state.bytes > this.#options.maxScanResultBytes) throw new ResultsTooLargeError(this.#options.maxScanResultBytes)
      if (page !== undefined) await writer.push(page, state.stored - before)
    }
  }

  /**
   * Ends an attempt that threw: skipped when superseded, handed back when the instance shuts down
   * (unless a cancel or a limit stopped it), else cancelled or failed with what is stored so far.
   */
  async #endAfterError (run: AttemptRun, error: unknown, engine: EngineRun, writer: PageWriter): Promise<ScanJobOutcome> {
    const { id, controller } = run
    const reason: unknown = controller.signal.aborted ? controller.signal.reason : undefined
    if (reason instanceof AttemptSupersededError) {
      await writer.settle()
      return 'skipped'
    }
    const limit = reason instanceof ScanTimeoutError || reason instanceof ResultsTooLargeError || reason instanceof StorageQuotaExceededError
    const stopped = limit || reason instanceof ScanCancelledSignal
    if (run.shutdown.aborted && !stopped) {
      await writer.settle()
      await this.#options.store.release(id, run.attempt)
        .catch((cause: unknown) => { this.#options.log.warn({ err: cause, scan: id }, 'could not hand the scan back at shutdown; another instance takes it over when its lock expires') })
      return 'handed_back'
    }
    await writer.flush()
      .catch((cause: unknown) => { this.#options.log.warn({ err: cause, scan: id }, 'the last results of a failing scan could not be stored; its partial results end earlier') })
    const ran = engine.workers.length > 0 ? { workers: engine.workers, global: engine.global } : null
    if (reason instanceof ScanCancelledSignal) return await this.#end(run, 'cancelled', cancelledError(), ran)
    if (limit) return await this.#end(run, 'failed', describeScanError(reason), ran)
    return await this.#end(run, 'failed', describeScanError(error), ran)
  }

  async #end ({ id, attempt, state }: AttemptRun, status: ScanOutcome['status'], error: ScanErrorInfo | null,
    scanMetrics: ScanOutcome['metrics'], summary?: ScanSummary): Promise<ScanJobOutcome> {
    const outcome: ScanOutcome = { ...state.snapshot(), status, error, errors: summary?.errors ?? state.errors, metrics: scanMetrics }
    const finished = await this.#options.store.finish(id, attempt, outcome, new Date().toISOString())
    if (!finished) return 'skipped'
    this.#options.metrics.scans.inc({ outcome: status })
    this.#options.metrics.scanDuration.observe({ outcome: status }, (Date.now() - state.startedAt) / 1000)
    return status
  }
}
