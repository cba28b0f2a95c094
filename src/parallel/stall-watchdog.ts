import type { CommitLedger } from './commit-ledger.js'
import { describeRanges } from './commit-ledger.js'
import { ScanStalledError } from './errors.js'
import type { SharedScanState } from './shared-scan-state.js'
import type { SlotTable } from './slot-table.js'

/** How often the main thread looks for a stalled scan. */
const STALL_POLL_MS = 250
/** No record started or committed for this long while every live thread sleeps: the scan is stalled. */
const STALL_MS = 2_000

export interface StallWatchdogOptions {
  total: number
  state: SharedScanState
  slots: SlotTable
  ledger: CommitLedger
  /** False while recovering, after a failure or abort, and once settled: nothing is looked at then. */
  watching: () => boolean
  fail: (error: unknown) => void
}

/**
 * The safety net against a scan that would wait forever: no record started
 * or committed for STALL_MS and every live thread asleep on two looks in a
 * row. If every record was committed exactly once, only the shared count of
 * remaining records is wrong: it is set to zero and the scan ends. Otherwise
 * the scan fails with PARASCAN_STALLED naming the records never committed.
 */
export class StallWatchdog {
  readonly #options: StallWatchdogOptions
  #timer: NodeJS.Timeout | undefined
  #lastStarted = -1
  #lastCommitted = -1
  #lastFinished = -1
  #lastProgress = 0
  #idleLooks = 0

  constructor (options: StallWatchdogOptions) {
    this.#options = options
  }

  start (): void {
    this.#lastProgress = performance.now()
    this.#timer = setInterval(() => this.#look(), STALL_POLL_MS)
    this.#timer.unref()
  }

  stop (): void {
    if (this.#timer !== undefined) clearInterval(this.#timer)
  }

  #look (): void {
    const { state, slots, ledger, total } = this.#options
    if (!this.#options.watching()) return
    const started = state.started
    const committed = ledger.size
    const finished = slots.finishedCount
    const now = performance.now()
    if (started !== this.#lastStarted || committed !== this.#lastCommitted || finished !== this.#lastFinished) {
      this.#lastStarted = started
      this.#lastCommitted = committed
      this.#lastFinished = finished
      this.#lastProgress = now
      this.#idleLooks = 0
      return
    }
    if (now - this.#lastProgress < STALL_MS || !slots.allAsleep(state)) {
      this.#idleLooks = 0
      return
    }
    if (++this.#idleLooks < 2) return
    const missing = ledger.missing(total)
    if (missing.length === 0 && committed === total) {
      state.setRemaining(0)
      state.wakeAll()
      return
    }
    this.#options.fail(new ScanStalledError(describeRanges(missing)))
  }
}
