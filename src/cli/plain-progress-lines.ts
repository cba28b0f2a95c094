import type { ScanStatusDocument } from '../../schemas/scan-status.js'
import { formatEta, formatRate, type ProgressDisplay } from './progress-display.js'

/** One line per change of progress, for logs and pipes. */
export class PlainProgressLines implements ProgressDisplay {
  readonly #stream: NodeJS.WritableStream
  #last = ''

  constructor (stream: NodeJS.WritableStream) {
    this.#stream = stream
  }

  update (status: ScanStatusDocument): void {
    const { total, processed, fraction, records_per_second: rate, eta_seconds: eta } = status.progress
    const line = status.status === 'queued'
      ? `scan ${status.id} queued`
      : `scan ${status.id} ${status.status} ${processed}/${total} records (${(fraction * 100).toFixed(1)}%) ${formatRate(rate)} rec/s ETA ${formatEta(eta)}`
    if (line === this.#last) return
    this.#last = line
    this.#stream.write(line + '\n')
  }

  stop (): void {}
}
