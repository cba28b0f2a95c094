import type { SharedScanState } from './shared-scan-state.js'
import { STAT_PARKED, STAT_POSTED } from './shared-scan-state.js'
import type { DoneMessage } from './worker-protocol.js'
import { mergeReports } from './worker-reports.js'

/** What the main thread knows about one thread of a scan (piscina keeps the same in its WorkerInfo). */
export class ThreadSlot {
  readonly id: number
  /** Records committed through this slot over the whole scan, by every thread that held it. */
  committedRecords = 0
  /** Records received from the slot's current thread, compared with the count it says it posted. */
  receivedRecords = 0
  /** Records committed by the slot's earlier threads; progress adds the live thread's count to it. */
  processedBase = 0
  /** The thread stopped for good: `report` is its final report, or undefined when it ended without one. */
  finished = false
  report: DoneMessage | undefined
  /** No thread holds the slot now (it gave its thread back, or never had one); its ranges wait for thieves. */
  idle = false
  /** Its thread was asked to give the thread back after its chunk. */
  yielding = false
  /** Final reports of the slot's earlier threads that gave their thread back. */
  readonly earlier: DoneMessage[] = []
  /** The main thread is ending this slot's thread because the record at this offset ran too long. */
  endedAtRecord: number | undefined

  constructor (id: number) {
    this.id = id
  }

  get running (): boolean {
    return !this.finished && !this.idle
  }

  finish (report?: DoneMessage): void {
    this.finished = true
    this.idle = false
    const reports = report === undefined ? this.earlier : [...this.earlier, report]
    this.report = reports.length === 0 ? undefined : mergeReports(reports)
  }
}

/** The slots of one scan, by thread index. */
export class SlotTable {
  readonly slots: ThreadSlot[]

  constructor (workers: number) {
    this.slots = Array.from({ length: workers }, (_, id) => new ThreadSlot(id))
  }

  get size (): number {
    return this.slots.length
  }

  get (id: number): ThreadSlot {
    return this.slots[id]
  }

  get finishedCount (): number {
    let n = 0
    for (const slot of this.slots) if (slot.finished) n++
    return n
  }

  /** No slot has a thread at work: each is finished or idle. */
  get allFinished (): boolean {
    return this.slots.every(slot => slot.finished || slot.idle)
  }

  /** Every running thread sleeps now and everything it posted has arrived. */
  allAsleep (state: SharedScanState): boolean {
    for (const slot of this.slots) {
      if (!slot.running) continue
      if (state.read(slot.id, STAT_PARKED) !== 1) return false
      if (state.read(slot.id, STAT_POSTED) !== slot.receivedRecords) return false
    }
    return true
  }
}
