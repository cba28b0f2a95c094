import type { CommitLedger } from './commit-ledger.js'
import type { CrashRecovery } from './crash-recovery.js'
import { RecordTimeLimitError, withOffset } from './errors.js'
import { subtractRanges } from './interval-set.js'
import type { ResultSink } from './result-sink.js'
import type { SharedScanState } from './shared-scan-state.js'
import type { ThreadSlot } from './slot-table.js'
import type { ErrorPolicy } from './types.js'
import type { ThreadHost } from './scan-session-options.js'

export interface SlowRecordEndingOptions {
  state: SharedScanState
  ledger: CommitLedger
  sink: ResultSink
  recovery: CrashRecovery
  host: ThreadHost
  ordered: boolean
  onError: ErrorPolicy
  /** The record time limit (ms), named in the error. */
  limitMs: number
  /** Fails the scan. */
  fail: (error: unknown) => void
}

/** Ends the thread of a record that ran past the record time limit, and books what follows once it has exited. */
export class SlowRecordEnding {
  readonly #o: SlowRecordEndingOptions

  constructor (options: SlowRecordEndingOptions) {
    this.#o = options
  }

  /** The record at `offset` of the thread of `slot` is past the limit: its thread is ended, and its exit comes to `ended`. */
  expired (slot: ThreadSlot, offset: number): void {
    slot.endedAtRecord = offset
    this.#o.host.stop(slot.id)
  }

  /**
   * The thread of `slot` was ended inside the record at `offset`: the record
   * fails as if process() had thrown. With on_error 'skip' it is booked as
   * skipped and the thread's other uncommitted records are run again.
   */
  ended (slot: ThreadSlot, offset: number): void {
    const o = this.#o
    const error = withOffset(new RecordTimeLimitError(offset, o.limitMs), offset)
    if (o.onError !== 'skip') {
      slot.finish()
      o.fail(error)
      return
    }
    const lost = o.recovery.lostWork(slot)
    if (lost === undefined) return
    if (lost.started.some(([from, to]) => from <= offset && offset < to)) {
      lost.started = subtractRanges(lost.started, [[offset, offset + 1]])
      o.ledger.addSkipped(offset, error.message, error.code)
      slot.committedRecords++
      o.state.commit(1)
      if (o.ordered) {
        o.state.addHeldBytes(2)
        o.sink.addRanges([offset, offset + 1, 0], ['[]'])
      }
    }
    o.recovery.handOver(slot, lost)
  }
}
