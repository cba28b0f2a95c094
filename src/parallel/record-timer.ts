import type { SharedScanState } from './shared-scan-state.js'
import { STAT_RECORD } from './shared-scan-state.js'
import type { SlotTable, ThreadSlot } from './slot-table.js'

export interface RecordTimerOptions {
  state: SharedScanState
  slots: SlotTable
  /** Longest time one record may spend in process(). */
  limitMs: number
  /** False once the scan stops: nothing is timed then. */
  timing: () => boolean
  /** The record at `offset` of `slot` ran past the limit. */
  expired: (slot: ThreadSlot, offset: number) => void
}

/**
 * Times the record each thread is in: every thread keeps 1 + the offset of
 * the record inside process() on its stats line; a mark that stays the same
 * for limitMs means that record ran too long. A record is never cut short;
 * it is caught at most a quarter of the limit (250 ms at most) late.
 */
export class RecordTimer {
  readonly #options: RecordTimerOptions
  readonly #marks: number[]
  readonly #since: number[]
  #timer: NodeJS.Timeout | undefined

  constructor (options: RecordTimerOptions) {
    this.#options = options
    this.#marks = new Array<number>(options.slots.size).fill(0)
    this.#since = new Array<number>(options.slots.size).fill(0)
  }

  start (): void {
    const period = Math.min(250, Math.max(5, this.#options.limitMs / 4))
    this.#timer = setInterval(() => this.#look(), period)
    this.#timer.unref()
  }

  stop (): void {
    if (this.#timer !== undefined) clearInterval(this.#timer)
  }

  #look (): void {
    const { state, slots, limitMs } = this.#options
    if (!this.#options.timing()) return
    const now = performance.now()
    for (const slot of slots.slots) {
      const mark = slot.running && slot.endedAtRecord === undefined ? state.read(slot.id, STAT_RECORD) : 0
      if (mark !== this.#marks[slot.id]) {
        this.#marks[slot.id] = mark
        this.#since[slot.id] = now
      } else if (mark !== 0 && now - this.#since[slot.id] >= limitMs) {
        this.#marks[slot.id] = 0
        this.#options.expired(slot, mark - 1)
      }
    }
  }
}
