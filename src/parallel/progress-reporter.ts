import type { CommitLedger } from './commit-ledger.js'
import type { SharedScanState } from './shared-scan-state.js'
import { STAT_MATCHED, STAT_PROCESSED, STAT_SKIPPED } from './shared-scan-state.js'
import type { SlotTable } from './slot-table.js'
import type { MetricsCallback, ProgressEvent } from './types.js'

export interface ProgressReporterOptions {
  total: number
  state: SharedScanState
  slots: SlotTable
  ledger: CommitLedger
  intervalMs: number
  metrics?: MetricsCallback
}

/** Emits metric events: `progress` on a timer from the shared counters, and whatever the scan hands it. */
export class ProgressReporter {
  readonly #options: ProgressReporterOptions
  #started = performance.now()
  #timer: NodeJS.Timeout | undefined

  constructor (options: ProgressReporterOptions) {
    this.#options = options
  }

  get enabled (): boolean {
    return this.#options.metrics !== undefined
  }

  /** Milliseconds since the scan started. */
  get elapsedMs (): number {
    return performance.now() - this.#started
  }

  start (): void {
    this.#started = performance.now()
    if (!this.enabled) return
    this.#timer = setInterval(() => this.emit('progress', this.snapshot()), this.#options.intervalMs)
    this.#timer.unref()
  }

  stop (): void {
    if (this.#timer !== undefined) clearInterval(this.#timer)
  }

  snapshot (): ProgressEvent {
    const { state, slots, ledger, total } = this.#options
    let processed = 0
    let matched = 0
    let skipped = 0
    const depths: number[] = []
    for (const slot of slots.slots) {
      processed += slot.processedBase + state.read(slot.id, STAT_PROCESSED)
      matched += state.read(slot.id, STAT_MATCHED)
      skipped += state.read(slot.id, STAT_SKIPPED)
      depths.push(state.depth(slot.id))
    }
    return {
      queue_depths: depths,
      workers: slots.slots.map((slot) => state.liveMetrics(slot.id)),
      total,
      processed: Math.min(processed, total),
      matched: Math.max(matched, ledger.matched),
      skipped: Math.max(skipped, ledger.skipped),
      rerun: ledger.rerun,
      elapsed_ms: this.elapsedMs
    }
  }

  /** A failing metrics callback must not stop or fail the scan. */
  emit (event: Parameters<MetricsCallback>[0], data: Parameters<MetricsCallback>[1]): void {
    try {
      this.#options.metrics?.(event, data)
    } catch {
      // ignored on purpose
    }
  }
}
