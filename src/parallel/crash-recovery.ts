import type { CommitLedger } from './commit-ledger.js'
import { describeRanges } from './commit-ledger.js'
import { WorkerCrashedError } from './errors.js'
import { intersectRanges, rangeSize } from './interval-set.js'
import type { SharedScanState } from './shared-scan-state.js'
import { STAT_MATCHED, STAT_PARKED, STAT_POSTED, STAT_PROCESSED, STAT_RECORD, STAT_SKIPPED } from './shared-scan-state.js'
import type { SlotTable, ThreadSlot } from './slot-table.js'

/** Thread exits a scan survives, per thread it runs on. */
export const RESTARTS_PER_THREAD = 3

export interface CrashRecoveryOptions {
  total: number
  state: SharedScanState
  slots: SlotTable
  ledger: CommitLedger
  /** Starts a new thread in `slot`. */
  restart: (slot: ThreadSlot) => void
  fail: (error: unknown) => void
}

/** What the dead thread of a slot had started and never committed: these records run a second time. */
export interface LostWork {
  started: Array<[number, number]>
}

/**
 * Replaces a thread that died during a scan while the others keep going:
 * the records the dead thread started and never committed (each thread keeps
 * them on its held line in shared memory) go back into its deque, where the
 * live threads can steal them and its replacement pops them. Its records not
 * yet started stay where they are, in its current range and deque, for thieves
 * and the replacement. A crash costs the dead thread's uncommitted work only,
 * however long the scan.
 */
export class CrashRecovery {
  readonly #options: CrashRecoveryOptions
  readonly #limit: number
  #exits = 0

  constructor (options: CrashRecoveryOptions) {
    this.#options = options
    this.#limit = RESTARTS_PER_THREAD * options.slots.size
  }

  /** A thread exited on its own while the scan ran: its work is handed over, or the scan fails past the limit. */
  threadDied (slot: ThreadSlot, reason: string): void {
    const { ledger, total } = this.#options
    if (++this.#exits > this.#limit) {
      slot.finish()
      this.#options.fail(new WorkerCrashedError(`${describeRanges(ledger.missing(total))} (last: ${reason})`, this.#exits, this.#limit, RESTARTS_PER_THREAD))
      return
    }
    const lost = this.lostWork(slot)
    if (lost !== undefined) this.handOver(slot, lost)
  }

  /**
   * Reads and clears what the dead thread of `slot` held; undefined (and the
   * scan failed) when some of its commits never arrived.
   */
  lostWork (slot: ThreadSlot): LostWork | undefined {
    const { state, ledger, total } = this.#options
    if (state.read(slot.id, STAT_POSTED) > slot.receivedRecords) {
      slot.finish()
      this.#options.fail(new WorkerCrashedError(`${describeRanges(ledger.missing(total))} (results the thread posted before it exited were lost)`, this.#exits, this.#limit, RESTARTS_PER_THREAD))
      return undefined
    }
    return { started: intersectRanges(state.takeHeld(slot.id), ledger.missing(total)) }
  }

  /** Puts `lost` in the slot's deque and starts a new thread there. */
  handOver (slot: ThreadSlot, lost: LostWork): void {
    const { state, ledger } = this.#options
    const rerun = rangeSize(lost.started)
    state.addStarted(-rerun)
    ledger.rerun += rerun
    state.queued(slot.id)
    for (const [from, to] of lost.started) state.push(slot.id, from, to - from)
    for (const field of [STAT_PROCESSED, STAT_MATCHED, STAT_SKIPPED, STAT_POSTED, STAT_PARKED, STAT_RECORD]) state.write(slot.id, field, 0)
    slot.processedBase = slot.committedRecords
    slot.receivedRecords = 0
    try {
      this.#options.restart(slot)
    } catch (error) {
      slot.finish()
      this.#options.fail(error)
      return
    }
    state.wakeAll()
  }
}
