import type { ProgressEvent, ResultBatch, ScanSummary } from '../src/parallel/types.js'
import type { Progress } from '../schemas/scan-status.js'

/** Counters of one attempt: progress from the engine, results admitted under max_results. */
export class AttemptState {
  readonly startedAt: number
  readonly errors: ScanSummary['errors'] = []
  #total: number
  #processed = 0
  #matched = 0
  #skipped = 0
  #stored = 0
  #written = 0
  #bytes = 0
  #truncated = false

  constructor (total: number, startedAt: number) {
    this.#total = total
    this.startedAt = startedAt
  }

  progress (event: ProgressEvent): void {
    this.#total = event.total
    this.#processed = event.processed
    this.#matched = event.matched
    this.#skipped = event.skipped
  }

  finish (summary: ScanSummary): void {
    this.#total = summary.total
    this.#processed = summary.processed
    this.#matched = summary.matched
    this.#skipped = summary.skipped
  }

  get processed (): number { return this.#processed }
  get matched (): number { return this.#matched }
  get skipped (): number { return this.#skipped }
  /** Results admitted so far. */
  get stored (): number { return this.#stored }
  get truncated (): boolean { return this.#truncated }

  /** Results that reached the store: the count that status documents show. */
  written (items: number): void {
    this.#written += items
  }

  /** Bytes of the pages admitted so far. */
  get bytes (): number { return this.#bytes }

  /** The part of `batch` that fits under `maxResults`, or undefined. */
  admit (batch: ResultBatch, maxResults: number): string | undefined {
    if (batch.items === 0) return undefined
    const room = maxResults - this.#stored
    if (room <= 0) {
      this.#truncated = true
      return undefined
    }
    let page = batch.json
    if (batch.items <= room) {
      this.#stored += batch.items
    } else {
      this.#truncated = true
      this.#stored += room
      page = JSON.stringify((JSON.parse(batch.json) as unknown[]).slice(0, room))
    }
    this.#bytes += Buffer.byteLength(page)
    return page
  }

  /**
   * Progress and the stored results. Progress events come at intervals and results as they are
   * made, so between two events more results can be stored than the last event counted: each
   * result stands for a processed record, so processed and matched are at least the results.
   */
  snapshot (): { progress: Progress, result: { count: number, truncated: boolean } } {
    const elapsed = Math.max(1, Date.now() - this.startedAt) / 1000
    const processed = Math.max(this.#processed, this.#written)
    const rate = processed / elapsed
    const remaining = this.#total - processed
    return {
      progress: {
        total: this.#total,
        processed,
        matched: Math.max(this.#matched, this.#written),
        skipped: this.#skipped,
        fraction: this.#total === 0 ? 1 : Math.min(1, processed / this.#total),
        records_per_second: Math.round(rate),
        eta_seconds: remaining <= 0 ? 0 : rate > 0 ? remaining / rate : null
      },
      result: { count: this.#written, truncated: this.#truncated }
    }
  }
}
