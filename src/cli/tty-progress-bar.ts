import { SingleBar } from 'cli-progress'
import type { ScanStatusDocument } from '../../schemas/scan-status.js'
import { formatEta, formatRate, type ProgressDisplay } from './progress-display.js'

/** A live progress bar for a terminal: records done/total, rate and ETA. */
export class TtyProgressBar implements ProgressDisplay {
  readonly #bar: SingleBar
  #started = false

  constructor (stream: NodeJS.WriteStream) {
    this.#bar = new SingleBar({
      stream,
      format: '{status} [{bar}] {percentage}% | {value}/{total} records | {rate} rec/s | ETA {eta_text}',
      barCompleteChar: '#',
      barIncompleteChar: '-',
      hideCursor: true,
      clearOnComplete: false,
      etaBuffer: 1
    })
  }

  update (status: ScanStatusDocument): void {
    const { total, processed, records_per_second: rate, eta_seconds: eta } = status.progress
    const payload = { status: status.status.padEnd(9), rate: formatRate(rate), eta_text: formatEta(eta) }
    if (!this.#started) {
      this.#bar.start(Math.max(total, 1), processed, payload)
      this.#started = true
      return
    }
    this.#bar.setTotal(Math.max(total, 1))
    this.#bar.update(processed, payload)
  }

  stop (): void {
    if (this.#started) this.#bar.stop()
  }
}
