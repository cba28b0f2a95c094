import {
  FetchFailedError, IncompleteScanError, RecordFailedError, ResultEncodingError, ScanAbortedError, ScanStalledError, ShortFetchError,
  TaskModuleError, WorkerCrashedError, withCause, withOffset
} from './errors.js'
import { IntervalSet, subtractRanges } from './interval-set.js'
import type { ParallelConfig } from './parallel-config.js'
import { ResultSink } from './result-sink.js'
import { SharedScanState, STAT_MATCHED, STAT_PARKED, STAT_POSTED, STAT_PROCESSED, STAT_SKIPPED } from './shared-scan-state.js'
import type {
  ErrorPolicy, MetricsCallback, ProgressEvent, RecordErrorSample, ResultBatch, ScanSummary, TaskModule, WorkerHistograms, WorkerMetrics
} from './types.js'
import type { DoneMessage, FailureData, ScanSpec, WorkerMessage } from './worker-protocol.js'

/** Worker restarts within one scan before it fails. */
const MAX_RESTARTS = 3
/** Poll period while waiting for the live workers to go quiet after a crash. */
const RECOVERY_POLL_MS = 2
/** Longest wait for the live workers to go quiet after a crash before the scan fails. */
const RECOVERY_TIMEOUT_MS = 10_000
/** How often the main thread looks for a stalled scan. */
const STALL_POLL_MS = 250
/** No record started or committed for this long while every live thread sleeps: the scan is stalled. */
const STALL_MS = 2_000
/** Missing ranges named in a stall or crash error. */
const RANGES_NAMED = 10

/** Where the threads of a scan run: worker threads of a pool, or the calling thread. */
export interface ThreadHost {
  /** Starts slot `slot` on `spec`; its messages come back through ScanSession#onMessage. */
  start (slot: number, spec: ScanSpec): void
  /** Replaces the dead thread of `slot` with a new one. */
  respawn (slot: number): void
  /** Ends the thread of `slot` wherever it is; its exit comes back through ScanSession#onExit. */
  stop (slot: number): void
}

export interface ScanSessionOptions {
  scanId: number
  total: number
  moduleUrl: string
  params: unknown
  task: TaskModule
  config: ParallelConfig
  state: SharedScanState
  host: ThreadHost
  ordered: boolean
  onError: ErrorPolicy
  maxErrorSamples: number
  progressIntervalMs: number
  /** How long threads get to finish their chunk after an abort or a failure before they are ended. */
  stopGraceMs: number
  metrics?: MetricsCallback
  signal?: AbortSignal
  onBatch?: (batch: ResultBatch) => void | Promise<void>
}

export interface SessionResult {
  summary: ScanSummary
  results: unknown[]
}

/**
 * One scan as seen from the main thread: seeds the deques, starts the
 * threads, takes their commits, reports progress, recovers from a thread
 * that died, and settles once every thread has reported back.
 */
export class ScanSession {
  readonly #o: ScanSessionOptions
  readonly #n: number
  readonly #state: SharedScanState
  readonly #sink: ResultSink
  readonly #committed = new IntervalSet()
  readonly #committedBySlot: number[]
  readonly #receivedBySlot: number[]
  readonly #baseBySlot: number[]
  readonly #done = new Map<number, DoneMessage | null>()
  readonly #dead = new Set<number>()
  readonly #errors: RecordErrorSample[] = []
  #matched = 0
  #skipped = 0
  #restarts = 0
  #recovering = false
  #recoveryStarted = 0
  #failure: unknown
  #aborted = false
  #settled = false
  #seededDepth = 0
  #started = 0
  #timer: NodeJS.Timeout | undefined
  #stopTimer: NodeJS.Timeout | undefined
  #watchdog: NodeJS.Timeout | undefined
  #lastStarted = -1
  #lastCommitted = -1
  #lastDone = -1
  #lastProgress = 0
  #idleLooks = 0
  #resolve!: (result: SessionResult) => void
  #reject!: (error: unknown) => void
  readonly #onAbort = (): void => {
    this.#aborted = true
    this.#stop()
  }

  constructor (options: ScanSessionOptions) {
    this.#o = options
    this.#n = options.config.scheduler === 'sequential' ? 1 : options.config.max_workers
    this.#state = options.state
    this.#committedBySlot = new Array<number>(this.#n).fill(0)
    this.#receivedBySlot = new Array<number>(this.#n).fill(0)
    this.#baseBySlot = new Array<number>(this.#n).fill(0)
    this.#sink = new ResultSink({
      ordered: options.ordered,
      onBatch: options.onBatch,
      aggregate: options.task.aggregate,
      params: options.params,
      onError: (error) => this.#fail(error)
    })
  }

  get workers (): number {
    return this.#n
  }

  run (): Promise<SessionResult> {
    const promise = new Promise<SessionResult>((resolve, reject) => {
      this.#resolve = resolve
      this.#reject = reject
    })
    const { total, config, signal } = this.#o
    const state = this.#state
    state.reset()
    state.setRemaining(total)
    if (config.scheduler === 'thread_pool') {
      this.#seededDepth = total > 0 ? 1 : 0
    } else {
      for (let i = 0; i < this.#n; i++) {
        const lo = Math.floor(i * total / this.#n)
        const hi = Math.floor((i + 1) * total / this.#n)
        if (hi > lo) {
          state.push(i, lo, hi - lo)
          this.#seededDepth++
        }
      }
    }
    this.#started = performance.now()
    if (signal !== undefined) {
      signal.addEventListener('abort', this.#onAbort, { once: true })
      if (signal.aborted) this.#onAbort()
    }
    if (this.#o.metrics !== undefined) {
      this.#timer = setInterval(() => this.#emit('progress', this.#progress()), this.#o.progressIntervalMs)
      this.#timer.unref()
    }
    if (config.scheduler !== 'sequential') {
      this.#lastProgress = this.#started
      this.#watchdog = setInterval(() => this.#checkStall(), STALL_POLL_MS)
      this.#watchdog.unref()
    }
    for (let slot = 0; slot < this.#n; slot++) {
      try {
        this.#o.host.start(slot, this.#spec(slot, []))
      } catch (error) {
        this.#fail(error)
        for (let never = slot; never < this.#n; never++) this.#done.set(never, null)
        this.#maybeFinish()
        break
      }
    }
    return promise
  }

  onMessage (slot: number, message: WorkerMessage): void {
    if (message.scanId !== this.#o.scanId || this.#settled) return
    try {
      if (message.type === 'commit') {
        const ranges = message.ranges
        let matched = 0
        for (let r = 0; r < ranges.length; r += 3) {
          this.#committed.add(ranges[r], ranges[r + 1])
          matched += ranges[r + 2]
        }
        this.#committedBySlot[slot] += message.records
        this.#receivedBySlot[slot] += message.records
        this.#matched += matched
        this.#skipped += message.skipped
        for (const sample of message.errors) this.#errors.push(sample)
        if (message.partial !== undefined) this.#sink.addPartial(message.partial)
        else if (this.#o.ordered) this.#sink.addRanges(ranges, message.parts)
        else if (message.json !== undefined) this.#sink.addPage(message.json, message.items)
      } else if (message.type === 'failed') {
        this.#fail(toScanError(message.failure, this.#o.moduleUrl))
      } else {
        this.#done.set(slot, message)
        this.#maybeFinish()
      }
    } catch (error) {
      this.#fail(error)
    }
  }

  onExit (slot: number, reason: string): void {
    if (this.#settled || slot >= this.#n || this.#done.has(slot)) return
    if (this.#failure !== undefined || this.#aborted) {
      this.#done.set(slot, null)
      this.#maybeFinish()
      return
    }
    this.#restarts++
    this.#dead.add(slot)
    if (this.#restarts > MAX_RESTARTS) {
      const lost = this.#committed.complement(this.#o.total).map(([s, e]) => `[${s}, ${e})`).join(', ')
      this.#fail(new WorkerCrashedError(`${lost} (last: ${reason})`, MAX_RESTARTS))
      for (const d of this.#dead) this.#done.set(d, null)
      this.#dead.clear()
      this.#maybeFinish()
      return
    }
    if (!this.#recovering) {
      this.#recovering = true
      this.#recoveryStarted = performance.now()
      setTimeout(() => this.#recover(), RECOVERY_POLL_MS)
    }
  }

  #recover (): void {
    const state = this.#state
    if (this.#failure !== undefined || this.#aborted || this.#settled) {
      for (const d of this.#dead) this.#done.set(d, null)
      this.#dead.clear()
      this.#recovering = false
      this.#maybeFinish()
      return
    }
    if (!this.#quiet()) {
      if (performance.now() - this.#recoveryStarted > RECOVERY_TIMEOUT_MS) {
        const lost = this.#committed.complement(this.#o.total).map(([s, e]) => `[${s}, ${e})`).join(', ')
        this.#fail(new WorkerCrashedError(`${lost} (the other threads did not go idle)`, this.#restarts))
      }
      setTimeout(() => this.#recover(), RECOVERY_POLL_MS)
      return
    }
    // Records past the thread_pool cursor were never claimed; the cursor still hands them out.
    const claimed = this.#o.config.scheduler === 'thread_pool' ? Math.min(state.cursor, this.#o.total) : this.#o.total
    const dead = [...this.#dead]
    // Ranges still in a dead thread's deque stay there: a thread that wakes right now may be stealing one.
    const lost = subtractRanges(this.#committed.complement(claimed), dead.flatMap(slot => state.queued(slot)))
    state.setRemaining(this.#o.total - this.#committed.size)
    this.#dead.clear()
    this.#recovering = false
    const seeds: Array<Array<[number, number]>> = dead.map(() => [])
    lost.forEach((range, i) => seeds[i % dead.length].push(range))
    dead.forEach((slot, i) => {
      for (const field of [STAT_PROCESSED, STAT_MATCHED, STAT_SKIPPED, STAT_POSTED, STAT_PARKED]) state.write(slot, field, 0)
      this.#baseBySlot[slot] = this.#committedBySlot[slot]
      this.#receivedBySlot[slot] = 0
      this.#o.host.respawn(slot)
      this.#o.host.start(slot, this.#spec(slot, seeds[i]))
    })
    state.wakeAll()
  }

  /** Every live thread sleeps, stayed asleep while looked at, and all it posted has arrived. */
  #quiet (): boolean {
    const state = this.#state
    const wakes = state.wakes
    if (!this.#idle()) return false
    for (let slot = 0; slot < this.#n; slot++) {
      if (!this.#dead.has(slot) && !this.#done.has(slot) && state.read(slot, STAT_PARKED) !== 1) return false
    }
    return state.wakes === wakes
  }

  /** Every live thread sleeps now and all it posted has arrived. */
  #idle (): boolean {
    const state = this.#state
    for (let slot = 0; slot < this.#n; slot++) {
      if (this.#dead.has(slot) || this.#done.has(slot)) continue
      if (state.read(slot, STAT_PARKED) !== 1) return false
      if (state.read(slot, STAT_POSTED) !== this.#receivedBySlot[slot]) return false
    }
    return true
  }

  /**
   * The safety net against a scan that would wait forever: no record started
   * or committed for STALL_MS and every live thread asleep on two looks in a
   * row. If every record was committed exactly once, only the shared count of
   * remaining records is wrong: it is set to zero and the scan ends. Otherwise
   * the scan fails with PARASCAN_STALLED naming the records never committed.
   */
  #checkStall (): void {
    if (this.#settled || this.#recovering || this.#failure !== undefined || this.#aborted) return
    const state = this.#state
    const started = state.started
    const committed = this.#committed.size
    const now = performance.now()
    if (started !== this.#lastStarted || committed !== this.#lastCommitted || this.#done.size !== this.#lastDone) {
      this.#lastStarted = started
      this.#lastCommitted = committed
      this.#lastDone = this.#done.size
      this.#lastProgress = now
      this.#idleLooks = 0
      return
    }
    if (now - this.#lastProgress < STALL_MS || !this.#idle()) {
      this.#idleLooks = 0
      return
    }
    if (++this.#idleLooks < 2) return
    const missing = this.#committed.complement(this.#o.total)
    if (missing.length === 0 && committed === this.#o.total) {
      state.setRemaining(0)
      state.wakeAll()
      return
    }
    this.#fail(new ScanStalledError(describeRanges(missing)))
  }

  #spec (slot: number, seeds: Array<[number, number]>): ScanSpec {
    const o = this.#o
    return {
      scanId: o.scanId,
      moduleUrl: o.moduleUrl,
      params: o.params,
      buffer: this.#state.buffer,
      workers: this.#n,
      workerId: slot,
      total: o.total,
      scheduler: o.config.scheduler,
      config: o.config.toJSON(),
      ordered: o.ordered,
      onError: o.onError,
      maxErrorSamples: o.maxErrorSamples,
      seeds
    }
  }

  /** Stops the scan; it rejects with `error` once every thread has stopped. */
  close (error: unknown): void {
    this.#fail(error)
  }

  #fail (error: unknown): void {
    if (this.#failure === undefined) this.#failure = error
    this.#stop()
  }

  /**
   * Tells every thread to stop after its chunk; a thread still busy after the
   * grace period (a process() that never returns) is ended, so a stopped scan
   * always settles.
   */
  #stop (): void {
    this.#state.abort()
    if (this.#stopTimer !== undefined || this.#settled) return
    this.#stopTimer = setTimeout(() => {
      for (let slot = 0; slot < this.#n; slot++) {
        if (!this.#done.has(slot) && !this.#dead.has(slot)) this.#o.host.stop(slot)
      }
    }, this.#o.stopGraceMs)
    this.#stopTimer.unref()
  }

  #progress (): ProgressEvent {
    const state = this.#state
    let processed = 0
    let matched = 0
    let skipped = 0
    const depths: number[] = []
    for (let slot = 0; slot < this.#n; slot++) {
      processed += this.#baseBySlot[slot] + state.read(slot, STAT_PROCESSED)
      matched += state.read(slot, STAT_MATCHED)
      skipped += state.read(slot, STAT_SKIPPED)
      depths.push(state.depth(slot))
    }
    return {
      queue_depths: depths,
      total: this.#o.total,
      processed: Math.min(processed, this.#o.total),
      matched: Math.max(matched, this.#matched),
      skipped: Math.max(skipped, this.#skipped),
      elapsed_ms: performance.now() - this.#started
    }
  }

  #emit (event: Parameters<MetricsCallback>[0], data: Parameters<MetricsCallback>[1]): void {
    try {
      this.#o.metrics?.(event, data)
    } catch {
      // A failing metrics callback must not stop or fail the scan.
    }
  }

  #maybeFinish (): void {
    if (this.#settled || this.#recovering || this.#done.size < this.#n) return
    this.#settled = true
    if (this.#timer !== undefined) clearInterval(this.#timer)
    if (this.#stopTimer !== undefined) clearTimeout(this.#stopTimer)
    if (this.#watchdog !== undefined) clearInterval(this.#watchdog)
    this.#o.signal?.removeEventListener('abort', this.#onAbort)
    this.#sink.drained().then(() => this.#finish(), (error: unknown) => this.#reject(error))
  }

  #finish (): void {
    const o = this.#o
    const workers: WorkerMetrics[] = []
    const histograms: WorkerHistograms[] = []
    let feeder = this.#seededDepth
    for (let slot = 0; slot < this.#n; slot++) {
      const done = this.#done.get(slot)
      workers.push({ ...(done?.metrics ?? emptyMetrics(slot)), records_processed: this.#committedBySlot[slot] })
      histograms.push(done?.histograms ?? { worker_id: slot, chunk_ms: [], chunk_size: [] })
      if (done != null && done.feederDepthMax > feeder) feeder = done.feederDepthMax
    }
    const global = { global_feeder_depth_max: feeder }
    if (o.metrics !== undefined) {
      this.#emit('progress', this.#progress())
      for (const w of workers) this.#emit('final_worker', w)
      for (const h of histograms) this.#emit('worker_histograms', h)
      this.#emit('final_global', global)
    }
    if (this.#failure !== undefined) return this.#reject(this.#failure)
    if (this.#aborted) return this.#reject(abortError(o.signal?.reason))
    const missing = this.#committed.complement(o.total)
    if (this.#committed.size !== o.total || missing.length > 0) {
      const detail = missing.length > 0 ? `${describeRanges(missing)} never committed` : 'some records committed twice'
      return this.#reject(new IncompleteScanError(this.#committed.size, o.total, detail))
    }
    let aggregate: unknown[] | undefined
    try {
      aggregate = o.task.aggregate !== undefined ? this.#sink.finish() : undefined
    } catch (error) {
      return this.#reject(withCause(new TaskModuleError(o.moduleUrl, `aggregate.finish failed: ${String(error)}`), error))
    }
    const errors = this.#errors.sort((a, b) => a.offset - b.offset).slice(0, o.maxErrorSamples)
    const summary: ScanSummary = {
      total: o.total,
      processed: this.#committed.size,
      matched: this.#matched,
      skipped: this.#skipped,
      errors,
      duration_ms: performance.now() - this.#started,
      workers,
      global
    }
    if (aggregate !== undefined) summary.aggregate = aggregate
    this.#resolve({ summary, results: aggregate ?? this.#sink.results })
  }
}

function describeRanges (ranges: Array<[number, number]>): string {
  const named = ranges.slice(0, RANGES_NAMED).map(([s, e]) => `[${s}, ${e})`).join(', ')
  return ranges.length > RANGES_NAMED ? `${named} and ${ranges.length - RANGES_NAMED} more ranges` : named
}

export function abortError (reason?: unknown): Error {
  const text = reason instanceof Error ? reason.message : reason === undefined ? 'the signal was aborted' : String(reason)
  const error = withCause(new ScanAbortedError(text), reason)
  error.name = 'AbortError'
  return error
}

function emptyMetrics (slot: number): WorkerMetrics {
  return {
    worker_id: slot,
    chunks_processed: 0,
    records_processed: 0,
    avg_ms: 0,
    p50_ms: 0,
    p95_ms: 0,
    p99_ms: 0,
    steals_attempted: 0,
    steals_successful: 0,
    max_local_queue_depth: 0,
    avg_local_queue_depth: 0,
    lock_contention_events: 0,
    time_waiting_on_lock_ms: 0
  }
}

/** The catalogue error for a failure a thread reported. */
export function toScanError (failure: FailureData, moduleUrl: string): Error {
  const cause = failure.cause
  switch (failure.kind) {
    case 'fetch':
      return withOffset(withCause(new FetchFailedError(failure.offset, failure.count, failure.detail), cause), failure.offset)
    case 'short':
      return withOffset(new ShortFetchError(failure.offset, failure.count, failure.detail), failure.offset)
    case 'record':
      return withOffset(withCause(new RecordFailedError(failure.offset, failure.detail), cause), failure.offset)
    case 'json':
      return withOffset(withCause(new ResultEncodingError(failure.offset, failure.offset + failure.count, failure.detail), cause), failure.offset)
    default:
      return withCause(new TaskModuleError(moduleUrl, failure.detail), cause)
  }
}
