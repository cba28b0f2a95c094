import type { CommitLedger } from './commit-ledger.js'
import { describeRanges } from './commit-ledger.js'
import { WorkerCrashedError } from './errors.js'
import { subtractRanges } from './interval-set.js'
import type { SharedScanState } from './shared-scan-state.js'
import { STAT_MATCHED, STAT_PARKED, STAT_POSTED, STAT_PROCESSED, STAT_SKIPPED } from './shared-scan-state.js'
import type { SlotTable, ThreadSlot } from './slot-table.js'
import type { SchedulerName } from './types.js'

/** Worker restarts within one scan before it fails. */
const MAX_RESTARTS = 3
/** Poll period while waiting for the live workers to go quiet after a crash. */
const RECOVERY_POLL_MS = 2
/** Longest wait for the live workers to go quiet after a crash before the scan fails. */
const RECOVERY_TIMEOUT_MS = 10_000

export interface CrashRecoveryOptions {
  total: number
  scheduler: SchedulerName
  state: SharedScanState
  slots: SlotTable
  ledger: CommitLedger
  /** False once the scan failed, was aborted or settled: dead threads are then not replaced. */
  active: () => boolean
  /** Starts a new thread in `slot` that runs `seeds` first. */
  restart: (slot: ThreadSlot, seeds: Array<[number, number]>) => void
  fail: (error: unknown) => void
  /** Called when recovery ends, replaced or not. */
  settled: () => void
}

/**
 * Replaces threads that died during a scan: waits until every live thread
 * sleeps and everything posted has arrived, then hands the records that no
 * commit and no deque holds to the replacements.
 */
export class CrashRecovery {
  readonly #options: CrashRecoveryOptions
  #restarts = 0
  #since = 0
  #recovering = false

  constructor (options: CrashRecoveryOptions) {
    this.#options = options
  }

  get recovering (): boolean {
    return this.#recovering
  }

  /** A thread of `slot` exited while the scan ran. */
  threadDied (slot: ThreadSlot, reason: string): void {
    const { slots, ledger, total } = this.#options
    this.#restarts++
    slot.dead = true
    if (this.#restarts > MAX_RESTARTS) {
      this.#options.fail(new WorkerCrashedError(`${describeRanges(ledger.missing(total))} (last: ${reason})`, MAX_RESTARTS))
      this.#giveUp(slots.dead)
      return
    }
    if (!this.#recovering) {
      this.#recovering = true
      // Threads waiting at the ordered window would never go idle: the window opens until the replacement starts.
      this.#options.state.liftWindow(true)
      this.#since = performance.now()
      setTimeout(() => this.#recover(), RECOVERY_POLL_MS)
    }
  }

  #giveUp (dead: ThreadSlot[]): void {
    for (const slot of dead) {
      slot.dead = false
      slot.finish()
    }
    this.#recovering = false
    this.#options.state.liftWindow(false)
    this.#options.settled()
  }

  #recover (): void {
    const { state, slots, ledger, total } = this.#options
    if (!this.#options.active()) return this.#giveUp(slots.dead)
    if (!this.#quiet()) {
      if (performance.now() - this.#since > RECOVERY_TIMEOUT_MS) {
        this.#options.fail(new WorkerCrashedError(`${describeRanges(ledger.missing(total))} (the other threads did not go idle)`, this.#restarts))
      }
      setTimeout(() => this.#recover(), RECOVERY_POLL_MS)
      return
    }
    // Records past the thread_pool cursor were never claimed; the cursor still hands them out.
    const claimed = this.#options.scheduler === 'thread_pool' ? Math.min(state.cursor, total) : total
    const dead = slots.dead
    // Ranges still in a dead thread's deque stay there: a thread that wakes right now may be stealing one.
    const lost = subtractRanges(ledger.missing(claimed), dead.flatMap(slot => state.queued(slot.id)))
    state.setRemaining(total - ledger.size)
    this.#recovering = false
    this.#options.state.liftWindow(false)
    const seeds: Array<Array<[number, number]>> = dead.map(() => [])
    lost.forEach((range, i) => seeds[i % dead.length].push(range))
    dead.forEach((slot, i) => {
      for (const field of [STAT_PROCESSED, STAT_MATCHED, STAT_SKIPPED, STAT_POSTED, STAT_PARKED]) state.write(slot.id, field, 0)
      slot.dead = false
      slot.processedBase = slot.committedRecords
      slot.receivedRecords = 0
      this.#options.restart(slot, seeds[i])
    })
    state.wakeAll()
  }

  /** Every live thread sleeps, stayed asleep while looked at, and all it posted has arrived. */
  #quiet (): boolean {
    const { state, slots } = this.#options
    const wakes = state.wakes
    if (!slots.allAsleep(state)) return false
    for (const slot of slots.slots) {
      if (slot.running && state.read(slot.id, STAT_PARKED) !== 1) return false
    }
    return state.wakes === wakes
  }
}
