import { CommitLedger } from './commit-ledger.js'
import { CrashRecovery } from './crash-recovery.js'
import { abortError } from './errors.js'
import type { ParallelConfig } from './parallel-config.js'
import { ProgressReporter } from './progress-reporter.js'
import { ResultSink } from './result-sink.js'
import { completedScan, emitFinalMetrics, type SessionResult, type SettlementInput } from './scan-settlement.js'
import type { SharedScanState } from './shared-scan-state.js'
import { SlotTable, type ThreadSlot } from './slot-table.js'
import { StallWatchdog } from './stall-watchdog.js'
import { toScanError } from './thread-failure.js'
import type { ErrorPolicy, MetricsCallback, OrderedWindow, ResultBatch, TaskModule } from './types.js'
import type { ScanSpec, WorkerMessage } from './worker-protocol.js'

export type { SessionResult } from './scan-settlement.js'

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
  /** With `ordered`: the reorder window. Default: none (every result may be held). */
  window?: OrderedWindow
  onError: ErrorPolicy
  maxErrorSamples: number
  progressIntervalMs: number
  /** How long threads get to finish their chunk after an abort or a failure before they are ended. */
  stopGraceMs: number
  metrics?: MetricsCallback
  signal?: AbortSignal
  onBatch?: (batch: ResultBatch) => void | Promise<void>
}

/**
 * One scan as seen from the main thread: seeds the deques, starts the
 * threads, books their commits and settles once every thread has reported
 * back. Crash recovery, the stall watchdog, progress events and the final
 * outcome live in parts of their own.
 */
export class ScanSession {
  readonly #options: ScanSessionOptions
  readonly #state: SharedScanState
  readonly #slots: SlotTable
  readonly #ledger = new CommitLedger()
  readonly #sink: ResultSink
  readonly #progress: ProgressReporter
  readonly #recovery: CrashRecovery
  readonly #watchdog: StallWatchdog
  #failure: unknown
  #aborted = false
  #settled = false
  #seededDepth = 0
  #stopTimer: NodeJS.Timeout | undefined
  #resolve!: (result: SessionResult) => void
  #reject!: (error: unknown) => void
  readonly #onAbort = (): void => {
    this.#aborted = true
    this.#stop()
  }

  constructor (options: ScanSessionOptions) {
    this.#options = options
    this.#state = options.state
    this.#slots = new SlotTable(options.config.scheduler === 'sequential' ? 1 : options.config.max_workers)
    this.#sink = new ResultSink({
      ordered: options.ordered,
      release: (front, bytes) => this.#state.release(front, bytes),
      onBatch: options.onBatch,
      aggregate: options.task.aggregate,
      params: options.params,
      onError: (error) => this.fail(error)
    })
    const parts = { total: options.total, state: this.#state, slots: this.#slots, ledger: this.#ledger }
    this.#progress = new ProgressReporter({ ...parts, intervalMs: options.progressIntervalMs, metrics: options.metrics })
    this.#recovery = new CrashRecovery({
      ...parts,
      scheduler: options.config.scheduler,
      active: () => this.#running,
      restart: (slot, seeds) => this.#restart(slot, seeds),
      fail: (error) => this.fail(error),
      settled: () => this.#maybeSettle()
    })
    this.#watchdog = new StallWatchdog({
      ...parts,
      watching: () => this.#running && !this.#recovery.recovering,
      fail: (error) => this.fail(error)
    })
  }

  get workers (): number {
    return this.#slots.size
  }

  /** Neither failed, aborted nor settled. */
  get #running (): boolean {
    return this.#failure === undefined && !this.#aborted && !this.#settled
  }

  run (): Promise<SessionResult> {
    const promise = new Promise<SessionResult>((resolve, reject) => {
      this.#resolve = resolve
      this.#reject = reject
    })
    const { total, config, signal } = this.#options
    const state = this.#state
    const workers = this.#slots.size
    state.reset()
    state.setRemaining(total)
    if (config.scheduler === 'thread_pool') {
      this.#seededDepth = total > 0 ? 1 : 0
    } else {
      for (let i = 0; i < workers; i++) {
        const lo = Math.floor(i * total / workers)
        const hi = Math.floor((i + 1) * total / workers)
        if (hi > lo) {
          state.push(i, lo, hi - lo)
          this.#seededDepth++
        }
      }
    }
    this.#progress.start()
    if (signal !== undefined) {
      signal.addEventListener('abort', this.#onAbort, { once: true })
      if (signal.aborted) this.#onAbort()
    }
    if (config.scheduler !== 'sequential') this.#watchdog.start()
    for (const slot of this.#slots.slots) {
      try {
        this.#options.host.start(slot.id, this.#spec(slot.id, []))
      } catch (error) {
        this.fail(error)
        for (const never of this.#slots.slots) if (never.id >= slot.id) never.finish()
        this.#maybeSettle()
        break
      }
    }
    return promise
  }

  onMessage (slotId: number, message: WorkerMessage): void {
    if (message.scanId !== this.#options.scanId || this.#settled) return
    const slot = this.#slots.get(slotId)
    try {
      if (message.type === 'commit') {
        this.#ledger.add(message)
        slot.committedRecords += message.records
        slot.receivedRecords += message.records
        if (message.partial !== undefined) this.#sink.addPartial(message.partial)
        else if (this.#options.ordered) this.#sink.addRanges(message.ranges, message.parts)
        else if (message.json !== undefined) this.#sink.addPage(message.json, message.items)
      } else if (message.type === 'failed') {
        this.fail(toScanError(message.failure, this.#options.moduleUrl))
      } else {
        slot.finish(message)
        this.#maybeSettle()
      }
    } catch (error) {
      this.fail(error)
    }
  }

  onExit (slotId: number, reason: string): void {
    if (this.#settled || slotId >= this.#slots.size) return
    const slot = this.#slots.get(slotId)
    if (slot.finished) return
    if (!this.#running) {
      slot.finish()
      this.#maybeSettle()
      return
    }
    this.#recovery.threadDied(slot, reason)
  }

  /** Stops the scan; it rejects with `error` (the first one given) once every thread has stopped. */
  fail (error: unknown): void {
    if (this.#failure === undefined) this.#failure = error
    this.#stop()
  }

  #restart (slot: ThreadSlot, seeds: Array<[number, number]>): void {
    this.#options.host.respawn(slot.id)
    this.#options.host.start(slot.id, this.#spec(slot.id, seeds))
  }

  #spec (slot: number, seeds: Array<[number, number]>): ScanSpec {
    const o = this.#options
    return {
      scanId: o.scanId,
      moduleUrl: o.moduleUrl,
      params: o.params,
      buffer: this.#state.buffer,
      workers: this.#slots.size,
      workerId: slot,
      total: o.total,
      scheduler: o.config.scheduler,
      config: o.config.toJSON(),
      ordered: o.ordered,
      window: o.window ?? { records: 2 ** 31 - 1, bytes: Number.MAX_SAFE_INTEGER },
      onError: o.onError,
      maxErrorSamples: o.maxErrorSamples,
      seeds
    }
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
      for (const slot of this.#slots.slots) {
        if (slot.running) this.#options.host.stop(slot.id)
      }
    }, this.#options.stopGraceMs)
    this.#stopTimer.unref()
  }

  #maybeSettle (): void {
    if (this.#settled || this.#recovery.recovering || !this.#slots.allFinished) return
    this.#settled = true
    this.#progress.stop()
    this.#watchdog.stop()
    if (this.#stopTimer !== undefined) clearTimeout(this.#stopTimer)
    this.#options.signal?.removeEventListener('abort', this.#onAbort)
    this.#sink.drained().then(() => this.#settle(), (error: unknown) => this.#reject(error))
  }

  #settle (): void {
    const o = this.#options
    const input: SettlementInput = {
      total: o.total,
      moduleUrl: o.moduleUrl,
      task: o.task,
      maxErrorSamples: o.maxErrorSamples,
      slots: this.#slots,
      ledger: this.#ledger,
      sink: this.#sink,
      progress: this.#progress,
      seededDepth: this.#seededDepth
    }
    const metrics = emitFinalMetrics(input)
    if (this.#failure !== undefined) return this.#reject(this.#failure)
    if (this.#aborted) return this.#reject(abortError(o.signal?.reason))
    try {
      this.#resolve(completedScan(input, metrics))
    } catch (error) {
      this.#reject(error)
    }
  }
}
