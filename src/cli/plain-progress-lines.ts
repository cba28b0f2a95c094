import type { ScanStatusDocument } from '../../schemas/scan-status.js'
import { formatEta, formatRate, type ProgressDisplay } from './progress-display.js'

export interface PlainProgressLinesOptions {
  /**
   * Longest silence while a scan runs and progresses (ms).
   * @defaultValue 30000
   */
  everyMs?: number
  /**
   * Shortest gap between two lines of the same status, also at a 10 % step (ms).
   * @defaultValue 1000
   */
  minGapMs?: number
  /**
   * Clock (ms).
   * @defaultValue performance.now
   */
  now?: () => number
}

/**
 * Progress as plain lines, for logs and pipes: a line when the status changes, when the scan
 * passes a 10 % step, and otherwise at most every `everyMs` while it progresses (an hour-long
 * scan writes about 130 lines, not one per poll).
 */
export class PlainProgressLines implements ProgressDisplay {
  readonly #stream: NodeJS.WritableStream
  readonly #everyMs: number
  readonly #minGapMs: number
  readonly #now: () => number
  #status: string | undefined
  #processed = -1
  #step = -1
  #at = -Infinity

  constructor (stream: NodeJS.WritableStream, options: PlainProgressLinesOptions = {}) {
    this.#stream = stream
    this.#everyMs = options.everyMs ?? 30_000
    this.#minGapMs = options.minGapMs ?? 1000
    this.#now = options.now ?? (() => performance.now())
  }

  update (status: ScanStatusDocument): void {
    const { total, processed, skipped, fraction, records_per_second: rate, eta_seconds: eta } = status.progress
    const now = this.#now()
    const step = Math.floor(fraction * 10)
    const changed = status.status !== this.#status
    const progressed = processed !== this.#processed
    const since = now - this.#at
    if (!changed && !(progressed && (since >= this.#everyMs || (step > this.#step && since >= this.#minGapMs)))) return
    this.#status = status.status
    this.#processed = processed
    this.#step = step
    this.#at = now
    const line = status.status === 'queued'
      ? `scan ${status.id} queued`
      : `scan ${status.id} ${status.status} ${processed}/${total} records (${(fraction * 100).toFixed(1)}%)${skipped > 0 ? ` ${skipped} skipped` : ''} ${formatRate(rate)} rec/s ETA ${formatEta(eta)}`
    this.#stream.write(line + '\n')
  }

  stop (): void {}
}
