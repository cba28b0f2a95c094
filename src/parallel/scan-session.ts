import { CommitLedger } from './commit-ledger.js'
import { CrashRecovery } from './crash-recovery.js'
import { abortError, WorkerOutOfMemoryError } from './errors.js'
import { ProgressReporter } from './progress-reporter.js'
import { RecordTimer } from './record-timer.js'
import { ResultSink } from './result-sink.js'
import { completedScan, emitFinalMetrics, type SessionResult, type SettlementInput } from './scan-settlement.js'
import type { ScanSessionOptions, ThreadExit } from './scan-session-options.js'
import { STAT_RECORD, STAT_YIELD, type SharedScanState } from './shared-scan-state.js'
import { SlotTable, type ThreadSlot } from './slot-table.js'
import { StallWatchdog } from './stall-watchdog.js'
import { toScanError } from './thread-failure.js'
import { boundsTransit, boundsUnorderedPages, type WorkerMessage } from './worker-protocol.js'
import { seedDeques } from './seed-deques.js'
import { SlowRecordEnding } from './slow-record-ending.js'
import { threadSpec } from './thread-spec.js'

export type { SessionResult } from './scan-settlement.js'
export type { ScanSessionOptions, ThreadExit, ThreadHost } from './scan-session-options.js'

/**
 * One scan as seen from the main thread: seeds the deques, starts the
 * threads, books their commits and settles once every thread has reported
 * back. Crash recovery, the stall watchdog, the record timer and what ends
 * a slow record, the first ranges, the specs of the threads, progress
 * events and the final outcome live in parts of their own.
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
  readonly #recordTimer: RecordTimer | undefined
  readonly #slowRecords: SlowRecordEnding
  #failure: unknown
  #aborted = false
  #threadsDone = false
  #settled = false
  #seededDepth = 0
  #stopTimer: NodeJS.Timeout | undefined
  #graceOver: () => void = () => {}
  readonly #graceOverPromise = new Promise<void>(resolve => { this.#graceOver = resolve })
  #resolve!: (result: SessionResult) => void
  #reject!: (error: unknown) => void
  readonly #onAbort = (): void => {
    if (this.#settled) return
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
      releaseBytes: boundsUnorderedPages(options.ordered, options.config.scheduler) ? (bytes) => this.#state.releaseBytes(bytes) : undefined,
      transit: boundsTransit(options.config.scheduler) ? this.#state : undefined,
      onBatch: options.onBatch,
      aggregate: options.task.aggregate,
      params: options.params,
      onError: (error) => this.fail(error)
    })
    const parts = { total: options.total, state: this.#state, slots: this.#slots, ledger: this.#ledger }
    this.#progress = new ProgressReporter({ ...parts, intervalMs: options.progressIntervalMs, metrics: options.metrics })
    this.#recovery = new CrashRecovery({
      ...parts,
      restart: (slot) => this.#restart(slot),
      fail: (error) => this.fail(error)
    })
    this.#watchdog = new StallWatchdog({
      ...parts,
      watching: () => this.#running,
      fail: (error) => this.fail(error)
    })
    this.#slowRecords = new SlowRecordEnding({
      state: this.#state,
      ledger: this.#ledger,
      sink: this.#sink,
      recovery: this.#recovery,
      host: options.host,
      ordered: options.ordered,
      onError: options.onError,
      limitMs: options.recordTimeLimitMs,
      fail: (error) => this.fail(error)
    })
    if (options.recordTimeLimitMs > 0 && options.config.scheduler !== 'sequential') {
      this.#recordTimer = new RecordTimer({
        state: this.#state,
        slots: this.#slots,
        limitMs: options.recordTimeLimitMs,
        timing: () => this.#running,
        expired: (slot, offset) => this.#slowRecords.expired(slot, offset)
      })
    }
  }

  get workers (): number {
    return this.#slots.size
  }

  /** Neither failed, aborted nor done. */
  get #running (): boolean {
    return this.#failure === undefined && !this.#aborted && !this.#threadsDone
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
    this.#seededDepth = seedDeques(state, config.scheduler, total, workers)
    this.#progress.start()
    if (signal !== undefined) {
      signal.addEventListener('abort', this.#onAbort, { once: true })
      if (signal.aborted) this.#onAbort()
    }
    if (config.scheduler !== 'sequential') this.#watchdog.start()
    this.#recordTimer?.start()
    const threads = this.#options.threads ?? workers
    for (const slot of this.#slots.slots) slot.idle = slot.id >= threads
    for (let id = threads; id < workers; id++) state.setIdle(id, true)
    for (const slot of this.#slots.slots) {
      if (slot.idle) continue
      try {
        this.#options.host.start(slot.id, threadSpec(this.#options, this.#slots.size, slot.id, false))
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
    if (message.scanId !== this.#options.scanId || this.#threadsDone) return
    const slot = this.#slots.get(slotId)
    try {
      if (message.type === 'commit') {
        this.#ledger.add(message)
        slot.committedRecords += message.records
        slot.receivedRecords += message.records
        this.#sink.addCommit(message)
      } else if (message.type === 'failed') {
        this.fail(toScanError(message.failure, this.#options.moduleUrl))
      } else if (slot.yielding && this.#running && this.#state.remaining > 0) {
        slot.yielding = false
        slot.idle = true
        slot.earlier.push(message)
        this.#state.setIdle(slotId, true)
        this.#options.host.release?.(slotId)
      } else {
        slot.finish(message)
        this.#maybeSettle()
      }
    } catch (error) {
      this.fail(error)
    }
  }

  onExit (slotId: number, exit: ThreadExit): void {
    if (this.#threadsDone || slotId >= this.#slots.size) return
    this.#state.dropTransit(slotId)
    const slot = this.#slots.get(slotId)
    if (slot.finished) return
    const endedAt = slot.endedAtRecord
    slot.endedAtRecord = undefined
    if (!this.#running) {
      slot.finish()
    } else if (exit.outOfMemory) {
      const mark = this.#state.read(slotId, STAT_RECORD)
      slot.finish()
      this.fail(new WorkerOutOfMemoryError(this.#options.maxOldGenerationMb, mark > 0 ? `in the record at offset ${mark - 1}` : 'outside any record'))
    } else if (endedAt !== undefined) {
      this.#slowRecords.ended(slot, endedAt)
    } else {
      this.#recovery.threadDied(slot, exit.reason)
    }
    this.#maybeSettle()
  }

  /**
   * Asks up to `count` threads to give their thread back after their chunk (host.release tells when
   * each has); one thread always stays. Returns how many were asked.
   */
  yieldThreads (count: number): number {
    if (!this.#running) return 0
    const staying = this.#slots.slots.filter((slot) => slot.running && !slot.yielding)
    let asked = 0
    for (let i = staying.length - 1; i > 0 && asked < count; i--, asked++) {
      staying[i].yielding = true
      this.#state.write(staying[i].id, STAT_YIELD, 1)
    }
    if (asked > 0) this.#state.wakeAll()
    return asked
  }

  /** A slot without a thread that a new thread can take, or undefined (none, or the scan is ending). */
  idleSlot (): number | undefined {
    if (!this.#running) return undefined
    return this.#slots.slots.find((slot) => slot.idle)?.id
  }

  /** Starts a new thread in the idle slot `slotId` (the host has given it one), which goes on with the ranges the slot holds. */
  resume (slotId: number): void {
    const slot = this.#slots.get(slotId)
    if (!slot.idle) return
    this.#state.write(slotId, STAT_YIELD, 0)
    this.#state.setIdle(slotId, false)
    const lost = this.#recovery.lostWork(slot)
    if (lost === undefined) return
    slot.idle = false
    this.#recovery.handOver(slot, lost)
  }

  /** Stops the scan; it rejects with `error` (the first one given) once every thread has stopped. */
  fail (error: unknown): void {
    if (this.#settled) return
    if (this.#failure === undefined) this.#failure = error
    this.#stop()
  }

  #restart (slot: ThreadSlot): void {
    this.#options.host.respawn(slot.id)
    this.#options.host.start(slot.id, threadSpec(this.#options, this.#slots.size, slot.id, true))
  }

  /**
   * Tells every thread to stop after its chunk. Once the grace period is
   * over, threads still busy (a process() that never returns) are ended and
   * an onBatch still pending is no longer waited for, so a stopped scan
   * always settles. The timer keeps the process alive for that long: the
   * scan's promise must settle even when nothing else is left running.
   */
  #stop (): void {
    this.#state.abort()
    this.#sink.discardResults()
    if (this.#stopTimer !== undefined || this.#settled) return
    this.#stopTimer = setTimeout(() => {
      for (const slot of this.#slots.slots) {
        if (slot.running) this.#options.host.stop(slot.id)
      }
      this.#graceOver()
    }, this.#options.stopGraceMs)
  }

  #maybeSettle (): void {
    if (this.#threadsDone || !this.#slots.allFinished) return
    this.#threadsDone = true
    for (const slot of this.#slots.slots) if (slot.idle) slot.finish()
    this.#progress.stop()
    this.#watchdog.stop()
    this.#recordTimer?.stop()
    const settle = (): void => {
      if (this.#settled) return
      this.#settled = true
      if (this.#stopTimer !== undefined) clearTimeout(this.#stopTimer)
      this.#options.signal?.removeEventListener('abort', this.#onAbort)
      this.#sink.close()
      this.#settle()
    }
    this.#sink.drained().then(settle, settle)
    void this.#graceOverPromise.then(settle)
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
